#!/usr/bin/env bash
# Installs the Debian packages M4SC's tests, examples and tools use, when they are missing. Idempotent.
# Needs root (or sudo). Used by ./quickstart and by .ci/run, so CI and newcomers install the same things.
#   ffmpeg             y4m/camera sources and the tests that pipe ffmpeg's testsrc
#   chromium           the browser receiver's end-to-end tests (driven by playwright-core, never downloaded)
#   nftables iproute2  the network lab (namespaces, loss rules)
#   visp-images-data   grey video sequences used by the source tests
#   python3-torch libopenblas0-openmp libjemalloc2 python3-numpy python3-pil python3-onnx  `npm run train:smoke`
#   janus              the relay (m4sc-send --relay; tests/janus, bench scale): Janus Gateway with VideoRoom
#   coturn             the TURN server of the lab's turn-relay scenario (tests/net, docs/NAT.md)
set -euo pipefail
PKGS=(ffmpeg chromium nftables iproute2 visp-images-data python3-torch libopenblas0-openmp libjemalloc2 python3-numpy python3-pil python3-onnx janus coturn)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  bash "$(dirname "$0")/openblas-openmp.sh"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
bash "$(dirname "$0")/openblas-openmp.sh"  # torch's pthread OpenBLAS outranks the OpenMP one (see there)
