#!/usr/bin/env bash
# The large-UBM memory case of issue 6: 1,024 diagonal components on 1,000,000 x 39 f32
# synthetic frames (made by the example), peak resident memory from /usr/bin/time -v.
# Usage: bench/memory/ubm.sh [N D K ITERS_PER_SPLIT FINAL_ITERS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release --quiet --example ubm_memory
/usr/bin/time -v target/release/examples/ubm_memory "$@" 2>&1 \
  | grep -E "frames:|UBM:|final size:|Maximum resident|Elapsed \(wall"
