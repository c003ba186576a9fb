#!/usr/bin/env bash
# Compare `gmm fit` with scikit-learn (and Armadillo's gmm_diag / gmm_full when its peer binary
# builds) on the headline fixture (10 EM iterations, 100000 x 15, 30 components, diag and full),
# interleaved rounds, and print a Markdown table.
#
# Usage (from anywhere):  bench/peers/compare_headline.sh [ROUNDS] [BENCH_DIR]
#   ROUNDS     default 5
#   BENCH_DIR  default tests/data/headline (a copy of shared/bench)
# Environment:
#   THREADS=2        --threads passed to gmm, and OMP_NUM_THREADS for Armadillo
#   GMM_BIN=path     use this binary instead of target/release/gmm
#   SKIP_BUILD=1     do not run cargo build, nor rebuild the Armadillo peer if its binary exists
#   ARMADILLO=0      leave Armadillo out (default 1: build it with bench/peers/armadillo/build.sh,
#                    which may apt-get libarmadillo-dev; if that fails, its rows are skipped)
#   ARMA_BIN=path    use this Armadillo peer binary instead of bench/peers/armadillo/headline
#   LINES_OUT=path   also keep the raw JSON lines there
#
# A developer tool, not part of CI. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the
# timed commands only (see bench/peers/README.md); which BLAS kernel numpy uses is printed
# on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-5}"
BENCH="${2:-$ROOT/tests/data/headline}"
THREADS="${THREADS:-2}"
GMM_BIN="${GMM_BIN:-$ROOT/target/release/gmm}"
PY="$ROOT/.venv/bin/python"
PEERS="$ROOT/bench/peers"

for f in headline.npy headline_init_diag.json headline_init_full.json; do
  [[ -f "$BENCH/$f" ]] || { echo "missing $BENCH/$f" >&2; exit 1; }
done

# (a) Python environment
if [[ ! -x "$PY" ]]; then
  python3 -m venv "$ROOT/.venv"
fi
if ! "$PY" -c 'import numpy, sklearn, threadpoolctl' 2>/dev/null; then
  "$ROOT/.venv/bin/pip" install --quiet numpy scikit-learn threadpoolctl
fi

# (b) the gmm binary
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cargo build --release -p gmm-cli
fi
[[ -x "$GMM_BIN" ]] || { echo "no gmm binary at $GMM_BIN" >&2; exit 1; }

# (b2) the Armadillo peer (optional: skipped with a message if it does not build)
ARMA_BIN="${ARMA_BIN:-$PEERS/armadillo/headline}"
USE_ARMA=0
if [[ "${ARMADILLO:-1}" == 1 ]]; then
  if [[ "${SKIP_BUILD:-0}" == 1 && -x "$ARMA_BIN" ]]; then
    USE_ARMA=1
  elif [[ "$ARMA_BIN" != "$PEERS/armadillo/headline" ]]; then
    if [[ -x "$ARMA_BIN" ]]; then
      USE_ARMA=1
    else
      echo "armadillo: no binary at $ARMA_BIN; skipping Armadillo" >&2
    fi
  elif "$PEERS/armadillo/build.sh" >/dev/null 2>"${TMPDIR:-/tmp}/gmm-armadillo-build.err"; then
    USE_ARMA=1
  else
    echo "armadillo: peer did not build (see ${TMPDIR:-/tmp}/gmm-armadillo-build.err); skipping Armadillo" >&2
  fi
else
  echo "armadillo: ARMADILLO=0; skipping Armadillo" >&2
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
LINES="$TMP/lines.jsonl"
: >"$LINES"

# (c) interleaved rounds: gmm diag, gmm full, sklearn diag + full, Armadillo diag + full
for ((r = 0; r < ROUNDS; r++)); do
  for c in diag full; do
    rm -f "$TMP/r.json" "$TMP/m.json"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      "$GMM_BIN" fit "$BENCH/headline.npy" --init "$BENCH/headline_init_$c.json" \
      --max-iter 10 --tol 0 --threads "$THREADS" --report "$TMP/r.json" -o "$TMP/m.json" \
      >"$TMP/gmm.out" 2>&1 || { cat "$TMP/gmm.out" >&2; echo "gmm fit ($c) failed" >&2; exit 1; }
    "$PY" "$PEERS/summarise.py" gmm-line "$c" "$r" "$TMP/r.json" | tee -a "$LINES" >&2
  done
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    "$PY" "$PEERS/sklearn_headline.py" "$BENCH" 1 --first-run "$r" \
    2>"$TMP/sklearn.err" | tee -a "$LINES" >&2 \
    || { cat "$TMP/sklearn.err" >&2; echo "sklearn run failed" >&2; exit 1; }
  if ((r == 0)); then
    cat "$TMP/sklearn.err" >&2   # versions and the BLAS kernel threadpoolctl reports
  fi
  if ((USE_ARMA)); then
    # a failure drops Armadillo from the remaining rounds instead of stopping the comparison
    if env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$THREADS" \
        "$ARMA_BIN" "$BENCH" 1 both "$r" >"$TMP/arma.out" 2>"$TMP/arma.err"; then
      tee -a "$LINES" <"$TMP/arma.out" >&2
      if ((r == 0)); then
        cat "$TMP/arma.err" >&2   # Armadillo version and OpenMP threads
      fi
    else
      cat "$TMP/arma.out" "$TMP/arma.err" >&2
      echo "armadillo run failed in round $r; skipping Armadillo from now on" >&2
      USE_ARMA=0
    fi
  fi
done

[[ -n "${LINES_OUT:-}" ]] && cp "$LINES" "$LINES_OUT"

# (d) the table
echo
ref=()
[[ -f "$BENCH/headline_reference.json" ]] && ref=(--reference "$BENCH/headline_reference.json")
"$PY" "$PEERS/summarise.py" "${ref[@]}" "$LINES"
