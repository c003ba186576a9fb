"""Synthetic MFCC-like frames for the memory case of docs/PERFORMANCE.md (a developer tool).

Writes N x D float32 (C order) drawn from a random 64-component diagonal mixture
(means ~ N(0, 3^2), variances ~ U(0.5, 2), weights ~ Dirichlet(1)), numpy seed 20261126.
Usage: python make_frames.py OUT.npy [N=2000000] [D=39]
"""
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
d = int(sys.argv[3]) if len(sys.argv) > 3 else 39
k = 64
rng = np.random.default_rng(20261126)
weights = rng.dirichlet(np.ones(k))
means = rng.normal(0.0, 3.0, size=(k, d))
sds = np.sqrt(rng.uniform(0.5, 2.0, size=(k, d)))
labels = rng.choice(k, size=n, p=weights)
x = np.empty((n, d), dtype=np.float32)
step = 200_000
for start in range(0, n, step):
    lab = labels[start:start + step]
    x[start:start + step] = means[lab] + sds[lab] * rng.standard_normal((len(lab), d))
np.save(out, x)
print(f"wrote {out}: {n} x {d} float32, {x.nbytes / 1e6:.0f} MB")
