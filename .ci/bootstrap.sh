#!/usr/bin/env bash
# Sets up Kakou on Debian 12 / Raspberry Pi OS bookworm in ./.venv. Safe to run again: it
# installs only what is missing.
#
#   bash .ci/bootstrap.sh          what running the gate needs (the README's run command)
#   bash .ci/bootstrap.sh --test   that, plus the test tool-chain (the README's test command, CI)
#
# Python packages come from the locked, hashed sets in requirements/ for this machine (pip
# --require-hashes), so every run installs the same versions; a machine without a lock gets
# the ranges in pyproject.toml instead, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=0
case "${1:-}" in
  --test) TEST=1 ;;
  "") ;;
  *) echo "bootstrap.sh: unknown option $1 (--test or nothing)" >&2; exit 2 ;;
esac

# Running: python3 with venv support, and a CJK font embedded in printed passes.
SYSTEM_PACKAGES=(python3 python3-venv fonts-wqy-microhei)
# Testing adds: libzbar0 and zbar-tools (QR decoding, and reading printed codes back), socat
# (pseudo-terminal serial devices), mosquitto (the broker tests start on free ports),
# poppler-utils (renders PDF pages), postgresql (the receiver's tests start their own server),
# chromium (console browser tests), shellcheck and systemd (systemd-analyze verify on the
# install script and units), espeak-ng (spoken prompts synthesised in the voice tests), and
# python3-dev.
if ((TEST)); then
  SYSTEM_PACKAGES+=(python3-dev libzbar0 zbar-tools socat mosquitto poppler-utils postgresql
    chromium shellcheck systemd espeak-ng)
fi
# Services Debian enables when it installs these; the tests start their own, the gate uses none.
SERVICES=(mosquitto.service postgresql.service)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "kakou: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  was_enabled=()
  for service in "${SERVICES[@]}"; do
    if systemctl is-enabled --quiet "$service" 2>/dev/null; then was_enabled+=("$service"); fi
  done
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Leave no broker or database running at boot that was not there before.
  for service in "${SERVICES[@]}"; do
    [[ " ${was_enabled[*]} " == *" $service "* ]] && continue
    systemctl is-enabled --quiet "$service" 2>/dev/null || continue
    echo "kakou: disabling $service (Debian enabled it on install; nothing here uses it)"
    $SUDO systemctl disable --quiet "$service" || true
    if [ -d /run/systemd/system ]; then $SUDO systemctl stop "$service" || true; fi
  done
fi

PYTHON="${KAKOU_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
if ((TEST)); then set_name=test extra='[test]'; else set_name=gate extra=''; fi
lock="requirements/$set_name-$(uname -m).txt"
if [ -f "$lock" ]; then
  "${PIP[@]}" install --require-hashes -r "$lock"
  "${PIP[@]}" install --no-deps --no-build-isolation -e .
else
  echo "kakou: no $lock for this machine: installing the ranges in pyproject.toml"
  "${PIP[@]}" install -e ".$extra"
fi
echo "kakou: ready (.venv/bin/kakou)"
