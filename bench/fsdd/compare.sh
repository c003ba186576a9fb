#!/usr/bin/env bash
# FSDD speaker identification: gmm (examples/fsdd_speakers.rs) and the scikit-learn baseline,
# one after the other in the same run, so their training times are comparable.
# Usage: bench/fsdd/compare.sh [PYTHON]   (default /work/main/.venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${1:-/work/main/.venv/bin/python}"
cargo build --release --quiet --example fsdd_speakers
echo "== gmm"
./target/release/examples/fsdd_speakers
echo
echo "== scikit-learn $("$PYTHON" -c 'import sklearn; print(sklearn.__version__)')"
"$PYTHON" bench/fsdd/sklearn_baseline.py
