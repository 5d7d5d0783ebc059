#!/usr/bin/env bash
# Points the BLAS, LAPACK and OpenBLAS alternatives at Debian's OpenMP OpenBLAS where it is installed
# (libopenblas0-openmp). Installing python3-torch also brings the pthread build, which outranks it; that
# build's worker thread spins beside torch's threads and slows training about 4x (training/setup). Idempotent.
set -euo pipefail
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
for alt in /usr/lib/*/openblas-openmp/{libblas.so.3,liblapack.so.3,libopenblas.so.0}; do
  [[ -e $alt ]] || continue
  multiarch=$(basename "$(dirname "$(dirname "$alt")")")
  name="$(basename "$alt")-$multiarch"
  if [[ $(update-alternatives --query "$name" 2>/dev/null | sed -n 's/^Value: //p') != "$alt" ]]; then
    $SUDO update-alternatives --set "$name" "$alt"
  fi
done
