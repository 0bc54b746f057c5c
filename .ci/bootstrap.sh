#!/usr/bin/env bash
# Sets up everything Kakou needs on Debian 12 / Raspberry Pi OS bookworm, then installs the
# package into ./.venv. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: libzbar0 (QR decoding), socat (serial debugging), mosquitto (MQTT broker the
# tests start on free ports), a CJK font embedded in printed passes, python venv support; and for
# the tests: zbar-tools (reads printed QR codes back), poppler-utils (renders PDF pages),
# postgresql (the receiver's tests start their own server), chromium (console browser tests),
# shellcheck and systemd (systemd-analyze verify on the install script and units), espeak-ng
# (the resident's spoken prompts, synthesised for real in the voice tests).
SYSTEM_PACKAGES=(python3 python3-venv python3-dev libzbar0 socat mosquitto fonts-wqy-microhei
  zbar-tools poppler-utils postgresql chromium shellcheck systemd espeak-ng)

missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "kakou: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A broker installed from Debian starts as a system service; the tests start their own on free
# ports and never need it, so it is left as the system set it up.

PYTHON="${KAKOU_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "kakou: ready (.venv/bin/kakou)"
