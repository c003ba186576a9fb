"""Speaker identification on the Free Spoken Digit Dataset with the GMM-UBM recipe.

A 64-component diagonal UBM is trained by splitting on the pooled training frames of the six
speakers, each speaker model is the UBM with MAP-adapted means (relevance 16), and every test
utterance goes to the speaker with the highest log-likelihood ratio, exact and with top-5
Gaussian selection. 13 MFCCs, train = recordings 25-49, test = recordings 0-24
(``data/fsdd_mfcc/README.md``).

    python examples/python/fsdd_speakers.py
"""

import csv
import time
from pathlib import Path

import numpy as np

import gmm_rs

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "fsdd_mfcc"
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]


def load():
    """Per speaker: training utterances and test utterances (float32, 13 MFCCs each)."""
    frames = {s: np.load(DATA / f"{s}.npy")[:, :13] for s in SPEAKERS}
    train = {s: [] for s in SPEAKERS}
    test = []
    with open(DATA / "index.csv") as f:
        for row in csv.DictReader(f):
            s, start, count = row["speaker"], int(row["frame_start"]), int(row["frame_count"])
            utterance = np.ascontiguousarray(frames[s][start : start + count])
            if row["split"] == "train":
                train[s].append(utterance)
            else:
                test.append((s, utterance))
    return train, test


def main():
    train, test = load()
    t = time.perf_counter()
    ubm = gmm_rs.speech.train_ubm([u for s in SPEAKERS for u in train[s]], 64)
    speakers = [gmm_rs.speech.adapt(ubm, train[s], relevance=16) for s in SPEAKERS]
    trained = time.perf_counter() - t
    utterances = [u for _, u in test]
    truth = np.array([SPEAKERS.index(s) for s, _ in test])
    print(f"UBM: {ubm.n_components} components from {ubm.frames_used_} frames; "
          f"training {trained:.2f} s")
    for name, top_c in [("exact", None), ("top-5", 5)]:
        t = time.perf_counter()
        scores = np.column_stack(
            [gmm_rs.speech.llr(spk, ubm, utterances, top_c=top_c) for spk in speakers]
        )
        accuracy = float(np.mean(scores.argmax(axis=1) == truth))
        print(f"{name:>6}: utterance accuracy {accuracy:.3f} over {len(test)} utterances "
              f"({time.perf_counter() - t:.2f} s)")
        assert accuracy > 0.95, accuracy


if __name__ == "__main__":
    main()
