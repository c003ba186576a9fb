#!/usr/bin/env bash
# Build the Armadillo peer for the headline benchmark: bench/peers/armadillo/headline.
#
# Usage: bench/peers/armadillo/build.sh
# Environment:
#   CXX=g++              compiler (needs OpenMP: -fopenmp)
#   ARMA_LIBS="..."      link flags for BLAS/LAPACK (default: -llapack -lblas, which on Debian
#                        resolve through update-alternatives, i.e. to OpenBLAS if installed)
#   NO_APT=1             never run apt-get; fail if Armadillo's headers are missing
#
# Installs libarmadillo-dev with apt-get if /usr/include/armadillo is missing (Debian 12 ships
# Armadillo 11.4.2; it pulls in reference BLAS/LAPACK). Compiles header-only
# (-DARMA_DONT_USE_WRAPPER: no libarmadillo, BLAS/LAPACK linked directly) with -O3
# -march=native -fopenmp, so build on the machine that runs the benchmark.
# Exits non-zero if anything fails; compare_headline.sh then skips the Armadillo rows.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CXX="${CXX:-g++}"
ARMA_LIBS="${ARMA_LIBS:--llapack -lblas}"

if [[ ! -f /usr/include/armadillo ]]; then
  if [[ "${NO_APT:-0}" == 1 ]]; then
    echo "armadillo: /usr/include/armadillo missing and NO_APT=1" >&2
    exit 1
  fi
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "armadillo: need root (or sudo) for apt-get" >&2; exit 1; }
    SUDO=(sudo)
  fi
  echo "armadillo: installing libarmadillo-dev with apt-get" >&2
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq libarmadillo-dev >&2
fi

command -v "$CXX" >/dev/null || { echo "armadillo: no C++ compiler ($CXX)" >&2; exit 1; }

set -x
# shellcheck disable=SC2086  # ARMA_LIBS is a list of flags
"$CXX" -std=c++17 -O3 -march=native -fopenmp -DARMA_DONT_USE_WRAPPER -DARMA_NO_DEBUG \
  "$HERE/headline.cpp" -o "$HERE/headline" $ARMA_LIBS
