#!/usr/bin/env bash
# Regenerates the locked, hashed requirement sets from pyproject.toml (run after changing its
# dependencies; tests/ops/test_locks.py fails until the locks agree). Needs uv (pip install uv)
# and PyPI. One file per set and platform, as systemd/install.sh and .ci/bootstrap.sh pick them:
#   gate-<machine>.txt          what a gate runs      (x86_64, aarch64, armv7l)
#   gate-camera-<machine>.txt   the same plus the "camera" extra (x86_64, aarch64)
#   server-<machine>.txt        the same plus the "server" extra: the community receiver on
#                               PostgreSQL (x86_64: an office server, not a Pi)
#   test-x86_64.txt             the test tool-chain (the README's test command; CI)
#
#   bash requirements/compile.sh                 # every set
#   bash requirements/compile.sh server-x86_64.txt gate-camera-aarch64.txt   # only these
#
# armv7l (32-bit Raspberry Pi OS): PyPI has no armv7l wheel of pillow, cffi or pynacl, so those
# are pinned to bookworm's python3-pil, python3-cffi and python3-nacl (the installer installs
# them with apt; the venv sees them), and cbor2 to its last pure-Python wheel. numpy and OpenCV
# have no armv7l wheel that fits: no camera lock there.
# The camera sets and the test set take requirements/camera-constraints.in (why: in that file),
# so that the tests run the OpenCV that gates install.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"
WANTED=("$@")

compile() { # compile OUTPUT PLATFORM [uv options...]
  local output="$1" platform="$2"
  shift 2
  if ((${#WANTED[@]})) && [[ " ${WANTED[*]} " != *" $output "* ]]; then
    return 0
  fi
  "$UV" pip compile --quiet pyproject.toml --generate-hashes --python-version 3.11 \
    --python-platform "$platform" --index-url https://pypi.org/simple --no-emit-index-url \
    --custom-compile-command "bash requirements/compile.sh" "$@" -o "requirements/$output"
}

# The server set is the gate set plus psycopg: both are installed together (install.sh --server),
# so the packages they share are pinned alike, with the gate lock as its constraints (its
# hashes are ignored there; the file's own name keeps the output the same from run to run).

CAMERA=(--extra camera --constraint requirements/camera-constraints.in)
compile gate-x86_64.txt x86_64-manylinux_2_28
compile gate-aarch64.txt aarch64-manylinux_2_28
compile gate-camera-x86_64.txt x86_64-manylinux_2_28 "${CAMERA[@]}"
compile gate-camera-aarch64.txt aarch64-manylinux_2_28 "${CAMERA[@]}"
compile server-x86_64.txt x86_64-manylinux_2_28 --extra server --constraint requirements/gate-x86_64.txt
compile test-x86_64.txt x86_64-manylinux_2_28 --extra test --constraint requirements/camera-constraints.in
# uv has no armv7 target: resolve for generic Linux under bookworm's pins.
compile gate-armv7l.txt linux --constraint requirements/armv7l-debian.txt
