#!/usr/bin/env bash
# The memory case of issue 3: a 512-component diagonal model on 2,000,000 x 39 float32 frames
# (312 MB), peak resident memory from /usr/bin/time -v. A developer tool, not CI.
# Usage: bench/memory/run.sh [ITERATIONS=2]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ITER="${1:-2}"
FRAMES="${FRAMES:-/tmp/gmm-frames-2M-39.npy}"
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -c 'import numpy' 2>/dev/null || .venv/bin/pip install --quiet numpy
[[ -f "$FRAMES" ]] || .venv/bin/python bench/memory/make_frames.py "$FRAMES"
cargo build --release -p gmm-cli
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
/usr/bin/time -v target/release/gmm fit "$FRAMES" -k 512 --covariance diag --init random \
  --max-iter "$ITER" --tol 0 --threads 2 -o /tmp/gmm-memory-model.json \
  --report /tmp/gmm-memory-report.json 2>&1 | grep -E "gmm fit|Maximum resident|Elapsed"
python3 -c "import json; r = json.load(open('/tmp/gmm-memory-report.json')); print('fit_seconds', r['fit_seconds'], 'per iteration', r['fit_seconds'] / r['n_iter'])"
