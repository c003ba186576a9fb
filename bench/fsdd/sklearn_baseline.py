"""scikit-learn baseline for examples/fsdd_speakers.rs: the same split, features and systems.

Run: /work/main/.venv/bin/python bench/fsdd/sklearn_baseline.py  (or bench/fsdd/compare.sh)

(a) one GaussianMixture(32, 'diag') per speaker (k-means init, defaults otherwise);
(b) a GaussianMixture(64, 'diag') UBM on all training frames, speaker means MAP-adapted at
    r = 16 (Reynolds et al. 2000) with the UBM's predict_proba, scored exactly.
Prints the table the Rust example prints.
"""
import csv
import os
import time

import numpy as np
from sklearn.mixture import GaussianMixture

SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
N_MFCC = 13
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "fsdd_mfcc")


def load():
    rows = list(csv.DictReader(open(os.path.join(DATA, "index.csv"))))
    train, test, utts, labels = [], [], [], []
    n_test = 0
    for s, name in enumerate(SPEAKERS):
        frames = np.load(os.path.join(DATA, name + ".npy"))[:, :N_MFCC].astype(np.float64)
        tr = []
        for r in rows:
            if r["speaker"] != name:
                continue
            a, n = int(r["frame_start"]), int(r["frame_count"])
            if r["split"] == "train":
                tr.append(frames[a:a + n])
            else:
                test.append(frames[a:a + n])
                utts.append((s, n_test, n))
                labels += [s] * n
                n_test += n
        train.append(np.vstack(tr))
    return train, np.vstack(test), utts, np.array(labels)


def accuracies(ll, utts, labels):
    ll = np.array(ll)  # speakers x frames
    frame = float(np.mean(np.argmax(ll, axis=0) == labels))
    utt = np.mean([np.argmax(ll[:, a:a + n].sum(axis=1)) == s for s, a, n in utts])
    return float(utt), frame


def row(name, train_s, score_s, acc):
    print(f"{name:<40} {train_s:>9.3f} {score_s:>9.3f} {acc[0]:>8.3f} {acc[1]:>9.3f}")


def main():
    train, test, utts, labels = load()
    print(f"{'system (scikit-learn)':<40} {'train s':>9} {'score s':>9} {'utt acc':>8} {'frame acc':>9}")
    t = time.perf_counter()
    models = [GaussianMixture(32, covariance_type="diag", random_state=0).fit(x) for x in train]
    train_a = time.perf_counter() - t
    t = time.perf_counter()
    ll = [m.score_samples(test) for m in models]
    row("per-speaker diag K=32", train_a, time.perf_counter() - t, accuracies(ll, utts, labels))

    t = time.perf_counter()
    ubm = GaussianMixture(64, covariance_type="diag", random_state=0).fit(np.vstack(train))
    r = 16.0
    speakers = []
    for x in train:
        post = ubm.predict_proba(x)
        n = post.sum(axis=0)
        ex = (post.T @ x) / np.maximum(n, 1e-300)[:, None]
        alpha = (n / (n + r))[:, None]
        spk = GaussianMixture(64, covariance_type="diag")
        spk.weights_ = ubm.weights_
        spk.means_ = alpha * ex + (1 - alpha) * ubm.means_
        spk.covariances_ = ubm.covariances_
        spk.precisions_cholesky_ = ubm.precisions_cholesky_
        speakers.append(spk)
    train_b = time.perf_counter() - t
    t = time.perf_counter()
    ll = [m.score_samples(test) for m in speakers]
    row("UBM K=64 + MAP means r=16 (exact)", train_b, time.perf_counter() - t,
        accuracies(ll, utts, labels))


if __name__ == "__main__":
    main()
