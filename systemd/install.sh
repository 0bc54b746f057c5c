#!/usr/bin/env bash
# Installs Kakou on Raspberry Pi OS bookworm / Debian 12, or upgrades an installed one in place.
#
#   sudo bash systemd/install.sh            # from a clone or an unpacked release of this repository
#
# What it does (docs/operations.md explains each step): system packages; a "kakou" system user in
# the dialout, gpio, video and audio groups (created if missing, as on a machine that is not a
# Pi); /etc/kakou/kakou.toml from config/kakou.example.toml (mode 0640, group kakou; an existing
# one is never overwritten) and /etc/kakou/kakou.env (the service's environment);
# /etc/kakou/credentials for secrets (root only, files 0600); state in /var/lib/kakou (0750); a
# release /opt/kakou/releases/<version>-<time>/venv holding this package and the locked
# dependencies for this machine (requirements/gate[-camera]-<machine>.txt, checked by hash; the
# camera stack only when a lane in kakou.toml has a camera); the database migrated to this
# version's schema; the systemd units installed and enabled.
#
# Upgrades cannot leave a dead gate: the new release is built and checked (its command runs, the
# configuration validates, a copy of the database migrates) beside the running one, which keeps
# serving meanwhile. Only then is kakou-edge stopped, the database migrated, /opt/kakou/current
# switched to the new release in one rename, and the gate started: a few seconds down. Any
# failure before the switch leaves the running gate as it was; a new release that does not start
# is switched back. The previous release is kept for --rollback.
#
# Options:
#   --root DIR       install into DIR instead of / (also DESTDIR=DIR): for staging and tests. No
#                    system packages are installed; the account goes into DIR/etc (useradd
#                    --prefix); units are enabled with systemctl --root. The virtual environment
#                    works only at DIR/opt/kakou/venv, where it was built.
#   --no-systemctl   install the unit files but do not enable, start or restart anything
#   --no-packages    do not install system packages (they are already there)
#   --server         also enable kakou-server.service (the community receiver)
#   --python PY      interpreter for the virtual environment (default: /usr/bin/python3)
#   --source DIR     the Kakou source tree (default: the one holding this script)
#   --rollback       switch back to the previous release and restart the gate (needs nothing
#                    but this script and the kept release; no network, no kakou command)
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="${DESTDIR:-}"
# Debian's own interpreter: its python3-lgpio is what --system-site-packages makes visible.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
USE_SYSTEMCTL=1
INSTALL_PACKAGES=1
ENABLE_SERVER=0
ROLLBACK=0

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while (($#)); do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --root=*) ROOT="${1#*=}"; shift ;;
    --no-systemctl) USE_SYSTEMCTL=0; shift ;;
    --no-packages) INSTALL_PACKAGES=0; shift ;;
    --server) ENABLE_SERVER=1; shift ;;
    --python) PYTHON="${2:?--python needs an interpreter}"; shift 2 ;;
    --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
    --rollback) ROLLBACK=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "kakou-install: $*"; }
die() { echo "kakou-install: $*" >&2; exit 1; }

if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
  [ "$ROOT" != / ] || ROOT=""
fi
[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash $0)"
if [ ! -f "$SOURCE/pyproject.toml" ] || [ ! -d "$SOURCE/edge" ]; then
  die "$SOURCE is not a Kakou source tree"
fi

OPT=/opt/kakou
RELEASES=$OPT/releases
# /opt/kakou/venv → current/venv: the units' and older docs' path always means the current release.
VENV=$OPT/venv
ETC=/etc/kakou
CREDENTIALS=$ETC/credentials
STATE=/var/lib/kakou
UNIT_DIR=/etc/systemd/system
UNITS=(kakou-edge.service kakou-server.service)
SERVICE_GROUPS=(dialout gpio video audio)
MACHINE="$(uname -m)"

gate_is_managed() { # systemctl may start and stop the gate on this machine
  ((USE_SYSTEMCTL)) && [ -z "$ROOT" ] && [ -d /run/systemd/system ]
}

# switch LINK TARGET: point ROOT/OPT/LINK at TARGET in one rename (rename(2) replaces the old
# link atomically: there is never a moment without one).
switch() {
  ln -sfn "$2" "$ROOT$OPT/.$1.new"
  mv -T "$ROOT$OPT/.$1.new" "$ROOT$OPT/$1"
}

# --- rollback -----------------------------------------------------------------------------------
if ((ROLLBACK)); then
  previous="$(readlink "$ROOT$OPT/previous" 2>/dev/null)" || die "no previous release to go back to"
  current="$(readlink "$ROOT$OPT/current")" || die "no current release"
  [ -x "$ROOT$OPT/$previous/venv/bin/kakou" ] || die "the previous release $previous is incomplete"
  say "rolling back from $current to $previous"
  switch current "$previous"
  switch previous "$current"
  if gate_is_managed && systemctl is-enabled --quiet kakou-edge.service; then
    systemctl restart kakou-edge.service
  fi
  say "done: $OPT/current is $previous (the database keeps its schema: an older release refuses" \
    "a newer one, see docs/operations.md)"
  exit 0
fi

# --- what this gate needs -----------------------------------------------------------------------
# Reading the configuration needs Python (tomllib): a minimal Debian may not have it yet.
if ! command -v "$PYTHON" >/dev/null && [ -z "$ROOT" ] && ((INSTALL_PACKAGES)); then
  say "installing python3"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3
  PYTHON=/usr/bin/python3
fi
# A lane with a camera needs the camera extra (OpenCV, numpy, zxing-cpp, pyzbar: ~160 MB); the
# configuration decides, the example one if none is installed yet.
CONFIG_FILE="$ROOT$ETC/kakou.toml"
[ -f "$CONFIG_FILE" ] || CONFIG_FILE="$SOURCE/config/kakou.example.toml"
has_camera="$("$PYTHON" - "$CONFIG_FILE" <<'PY'
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        lanes = tomllib.load(f).get("lanes", [])
except (OSError, tomllib.TOMLDecodeError):
    lanes = []  # kakou config check reports it below
print(int(any(isinstance(l, dict) and (l.get("camera") or {}).get("kind") == "camera" for l in lanes)))
PY
)"
SET=gate
((has_camera)) && SET=gate-camera
LOCK="$SOURCE/requirements/$SET-$MACHINE.txt"
SERVER_LOCK="$SOURCE/requirements/server-$MACHINE.txt"
if [ "$MACHINE" = armv7l ] || [ "$MACHINE" = armv6l ]; then
  # 32-bit Raspberry Pi OS: PyPI has no armv7l wheel of OpenCV or a numpy this needs, and
  # bookworm's python3-opencv and python3-numpy are older than the camera code supports.
  ((has_camera)) && die "a camera lane needs 64-bit Raspberry Pi OS (arm64): 32-bit (armhf) has" \
    "no OpenCV and numpy the camera code supports; use a serial QR scanner, or install arm64"
  [ "$MACHINE" = armv7l ] || die "$MACHINE (Pi 1 / Zero) is not supported: use a Pi 3 or later"
fi

# --- system packages ----------------------------------------------------------------------------
# python3-venv: the virtual environment; sqlite3: online backups (docs/operations.md);
# fonts-wqy-microhei: printed passes; libzbar0: pyzbar, for a camera lane. On armhf,
# python3-pil, python3-cffi and python3-nacl are the versions requirements/gate-armv7l.txt pins
# (PyPI has no armv7l wheel of them; the venv sees them through --system-site-packages). lgpio
# (gpiozero's pin factory) comes from PyPI's wheel in the lock: plain Debian has no python3-lgpio.
install_packages() {
  local packages=(python3 python3-venv sqlite3 fonts-wqy-microhei)
  local missing=() package
  ((has_camera)) && packages+=(libzbar0)
  [ "$MACHINE" = armv7l ] && packages+=(python3-pil python3-cffi python3-nacl)
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  if ((${#missing[@]})); then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

if [ -n "$ROOT" ]; then
  say "installing into $ROOT (no system packages)"
elif ((INSTALL_PACKAGES)); then
  install_packages
fi
# --- account ------------------------------------------------------------------------------------
# useradd/groupadd --prefix edit ROOT/etc/{passwd,group,shadow,gshadow} without chroot, so a
# throw-away root needs nothing but those files.
ACCOUNT_ARGS=()
if [ -n "$ROOT" ]; then
  ACCOUNT_ARGS=(--prefix "$ROOT")
  mkdir -p "$ROOT/etc"
  for file in passwd group shadow gshadow; do
    [ -e "$ROOT/etc/$file" ] || install -m "$([[ $file == *shadow ]] && echo 0640 || echo 0644)" \
      /dev/null "$ROOT/etc/$file"
  done
fi

has_group() { grep -q "^$1:" "$ROOT/etc/group"; }
has_user() { grep -q "^$1:" "$ROOT/etc/passwd"; }

for group in kakou "${SERVICE_GROUPS[@]}"; do
  if ! has_group "$group"; then
    say "creating group $group"
    groupadd "${ACCOUNT_ARGS[@]}" --system "$group"
  fi
done
supplementary="$(IFS=,; echo "${SERVICE_GROUPS[*]}")"
if has_user kakou; then
  usermod "${ACCOUNT_ARGS[@]}" --append --groups "$supplementary" kakou
else
  say "creating system user kakou"
  useradd "${ACCOUNT_ARGS[@]}" --system --gid kakou --groups "$supplementary" \
    --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin \
    --comment "Kakou checkpoint gate" kakou
fi
# Numeric ids from the root's own account files: in a throw-away root they mean nothing to the host.
KAKOU_UID="$(awk -F: '$1 == "kakou" { print $3 }' "$ROOT/etc/passwd")"
KAKOU_GID="$(awk -F: '$1 == "kakou" { print $3 }' "$ROOT/etc/group")"
if [ -z "$KAKOU_UID" ] || [ -z "$KAKOU_GID" ]; then
  die "could not find the kakou user and group"
fi

# --- directories --------------------------------------------------------------------------------
dir() { # dir MODE OWNER:GROUP PATH: create it, or put an existing one right
  mkdir -p "$ROOT$3"
  chown "$2" "$ROOT$3"
  chmod "$1" "$ROOT$3"
}
dir 0755 0:0 "$OPT"
dir 0750 "0:$KAKOU_GID" "$ETC"
dir 0700 0:0 "$CREDENTIALS"
dir 0750 "$KAKOU_UID:$KAKOU_GID" "$STATE"
dir 0750 "$KAKOU_UID:$KAKOU_GID" "$STATE/keys"

# Secrets stay private whatever they were copied in with: credentials belong to root (systemd
# reads them for the service), issuer or TLS private keys in the state directory to kakou.
find "$ROOT$CREDENTIALS" -type f -exec chown 0:0 {} + -exec chmod 0600 {} +
find "$ROOT$STATE" -type f -name '*.key' -exec chown "$KAKOU_UID:$KAKOU_GID" {} + \
  -exec chmod 0600 {} +

dir 0755 0:0 "$RELEASES"

# --- configuration ------------------------------------------------------------------------------
install_config() { # install_config EXAMPLE NAME: the example always, the live file only once
  local example="$SOURCE/config/$1" live="$ROOT$ETC/$2"
  [ -f "$example" ] || return 0
  install -m 0644 -o 0 -g 0 "$example" "$live.example"
  if [ -e "$live" ]; then
    say "keeping $ETC/$2 (the new example is $ETC/$2.example)"
  else
    say "creating $ETC/$2 from config/$1: edit it, then kakou config check"
    install -m 0640 -o 0 -g "$KAKOU_GID" "$example" "$live"
  fi
  chown "0:$KAKOU_GID" "$live"
  chmod 0640 "$live"
}
install_config kakou.example.toml kakou.toml
install_config server.example.toml server.toml
# The service's environment (systemd EnvironmentFile=), kept across upgrades like kakou.toml.
if [ ! -e "$ROOT$ETC/kakou.env" ]; then
  say "creating $ETC/kakou.env"
  install -m 0640 -o 0 -g "$KAKOU_GID" /dev/null "$ROOT$ETC/kakou.env"
  cat >"$ROOT$ETC/kakou.env" <<'ENV'
# kakou-edge's environment (EnvironmentFile= in kakou-edge.service); upgrades keep this file.
# gpiozero's default pin factory, for anything not given one; the gate's own relays and LEDs use
# [gpio] pin_factory in kakou.toml. lgpio comes with Kakou (PyPI's wheel), on Raspberry Pi OS and
# plain Debian alike; "native" needs nothing at all but drives fewer pins (no PWM).
GPIOZERO_PIN_FACTORY=lgpio
ENV
fi

# --- the new release ----------------------------------------------------------------------------
# Built beside the running one: nothing the gate uses is touched until the switch below, so a
# failure here (no network, a broken package, a database that will not migrate) leaves it as it
# was. A wheel from a clean copy of the source: nothing is written into the source tree.
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$SOURCE/pyproject.toml" | head -1)"
RELEASE="releases/${VERSION:-unknown}-$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$ROOT$OPT/$RELEASE" ]; do RELEASE="$RELEASE-$RANDOM"; done
NEW="$OPT/$RELEASE"
STAGING="$(mktemp -d)"
switched=0
stopped=0
finish() {
  local status=$?
  rm -rf "$STAGING"
  if ((status != 0)) && ! ((switched)); then
    rm -rf "${ROOT:?}$NEW" "$ROOT$OPT/.current.new" "$ROOT$OPT/.previous.new"
    say "FAILED before the switch: the running release is unchanged ($OPT/current)"
  fi
  # Never leave a gate down that was running: whatever failed, start it again (should it fail
  # to start, systemd keeps retrying, forcing the relays off each time).
  if ((stopped)); then
    say "starting kakou-edge again"
    systemctl start kakou-edge.service || true
  fi
}
trap finish EXIT
tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./kakou-data --exclude=./build \
  --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.mypy_cache \
  --exclude=.ruff_cache -cf - . | (mkdir "$STAGING/src" && tar -C "$STAGING/src" -xf -)

say "building release $RELEASE"
# --system-site-packages on armhf only: Debian's python3-pil, -cffi and -nacl (compiled for this
# board) are visible; the venv's own packages still come first on the path. Elsewhere the venv
# stands alone: Debian's packages (Raspberry Pi OS has python3-numpy, which sqlite-utils imports
# whenever it can) would load into every gate, and their .pth files run at every start.
VENV_ARGS=()
[ "$MACHINE" = armv7l ] && VENV_ARGS+=(--system-site-packages)
"$PYTHON" -m venv "${VENV_ARGS[@]}" "$ROOT$NEW/venv"
PIP=("$ROOT$NEW/venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" wheel --no-deps --wheel-dir "$STAGING/dist" "$STAGING/src"
WHEELS=("$STAGING"/dist/kakou-*.whl)
[ -f "${WHEELS[0]}" ] || die "no wheel was built"
# --no-compile: pip would byte-compile every module of every package (numpy's tests, f2py...:
# 30-45 MB no gate loads); systemd/compile_used.py below compiles what the gate imports.
if [ -f "$LOCK" ]; then
  locks=(-r "$LOCK")
  # The receiver's set (psycopg) pins what it shares with the gate's alike: one install.
  ((ENABLE_SERVER)) && [ -f "$SERVER_LOCK" ] && locks+=(-r "$SERVER_LOCK")
  say "installing the locked dependencies: ${locks[*]//$SOURCE\//}"
  "${PIP[@]}" install --no-compile --require-hashes "${locks[@]}"
  "${PIP[@]}" install --no-compile --no-deps "${WHEELS[0]}"
else
  say "WARNING: no requirements/$(basename "$LOCK"): installing the ranges in pyproject.toml"
  extras=""
  ((has_camera)) && extras="[camera]"
  "${PIP[@]}" install --no-compile "${WHEELS[0]}$extras"
fi
if ((ENABLE_SERVER)) && { [ ! -f "$LOCK" ] || [ ! -f "$SERVER_LOCK" ]; }; then
  say "WARNING: no requirements/$(basename "$SERVER_LOCK"): the server extra from pyproject's ranges"
  "${PIP[@]}" install --no-compile "${WHEELS[0]}[server]"
fi
say "compiling what the gate imports"
"$ROOT$NEW/venv/bin/python" "$SOURCE/systemd/compile_used.py"
# pip check also sees Debian's own packages through --system-site-packages (python3-gi without
# pycairo, say); only a broken requirement of a package in the venv itself fails the install.
# (Not --quiet: pip check says what is broken only at its normal verbosity.)
if ! problems=$("$ROOT$NEW/venv/bin/python" -m pip --disable-pip-version-check check 2>&1); then
  ours=$("${PIP[@]}" list --local --format=freeze | cut -d= -f1 | tr 'A-Z_.' 'a-z--')
  broken=""
  while read -r name rest; do
    [ -n "$name" ] || continue
    if grep -qxF "$(printf '%s' "$name" | tr 'A-Z_.' 'a-z--')" <<<"$ours"; then
      broken+="$name $rest"$'\n'
    fi
  done <<<"$problems"
  [ -z "$broken" ] || die "broken dependencies in $NEW/venv: $broken"
  say "ignoring requirements of system packages outside the venv: ${problems//$'\n'/; }"
fi
# The command must at least start, and understand this gate's configuration: a missing
# dependency or an incompatible setting fails the upgrade here, not at boot.
"$ROOT$NEW/venv/bin/kakou" --version
mkdir -p "$ROOT$NEW/docs"
install -m 0644 "$SOURCE"/docs/*.md "$ROOT$NEW/docs/"

# --- the console's HTTPS certificate (made once, kept across upgrades) ----------------------------
# For guards' phones on the LAN (docs/console.md, "Reaching the console from a phone"): the host
# name, host.local and this machine's IPv4 addresses; the key readable by root and the service's
# group only. kakou.toml serves it only once [console] names tls_cert, tls_key and the networks.
TLS=$ETC/tls
if [ ! -f "$ROOT$TLS/console.crt" ]; then
  say "making the console's HTTPS certificate in $TLS"
  host="$(hostname)"
  cert_args=(--out "$ROOT$TLS" --name "$host" --name "$host.local")
  if [ -z "$ROOT" ]; then
    for address in $(hostname -I 2>/dev/null); do
      [[ $address == *:* ]] || cert_args+=(--ip "$address")
    done
  fi
  "$ROOT$NEW/venv/bin/kakou" console cert "${cert_args[@]}"
  chown "0:$KAKOU_GID" "$ROOT$TLS" "$ROOT$TLS/console.key"
  chmod 0750 "$ROOT$TLS"
  chmod 0640 "$ROOT$TLS/console.key"
fi

# --- the database, on a copy --------------------------------------------------------------------
# Store.open migrates at every start too; migrating a copy now shows a damaged or too-new file
# while the old release still serves. The configuration names the gate the file belongs to.
DB="$STATE/kakou.db"
migrate() { # migrate FILE: with the new release, bound to the configured gate
  "$ROOT$NEW/venv/bin/kakou" db migrate --config "$ROOT$ETC/kakou.toml" --db "$1"
}
if [ -f "$ROOT$DB" ]; then
  say "checking that $DB migrates (on a copy)"
  "$ROOT$NEW/venv/bin/python" - "$ROOT$DB" "$STAGING/kakou.db" <<'PY'
import sqlite3, sys
source, copy = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
source.backup(copy)  # a consistent copy even while the gate writes (SQLite's online backup)
PY
  migrate "$STAGING/kakou.db" >/dev/null || die "the database would not migrate (above: why)"
fi

# --- systemd units ------------------------------------------------------------------------------
mkdir -p "$ROOT$UNIT_DIR"
for unit in "${UNITS[@]}"; do
  install -m 0644 -o 0 -g 0 "$SOURCE/systemd/$unit" "$ROOT$UNIT_DIR/$unit"
done
gate_is_managed && systemctl daemon-reload

# --- the switch ---------------------------------------------------------------------------------
was_active=0
if gate_is_managed && systemctl is-active --quiet kakou-edge.service; then
  was_active=1
  down_since="$(date +%s.%N)"
  say "stopping kakou-edge for the switch (its relays are forced off on stop)"
  stopped=1
  systemctl stop kakou-edge.service
fi
if [ -f "$ROOT$DB" ] && ! migrate "$ROOT$DB"; then
  die "the database did not migrate (above: why); the previous release is started again"
fi
[ -f "$ROOT$DB" ] && find "$ROOT$STATE" -maxdepth 1 -name 'kakou.db*' \
  -exec chown "$KAKOU_UID:$KAKOU_GID" {} +
old="$(readlink "$ROOT$OPT/current" 2>/dev/null || true)"
if [ -z "$old" ] && [ -d "$ROOT$VENV" ] && [ ! -L "$ROOT$VENV" ]; then
  # An install from before releases: keep its venv as the previous release.
  old="releases/legacy"
  rm -rf "${ROOT:?}$OPT/$old"
  mkdir -p "$ROOT$OPT/$old"
  mv "$ROOT$VENV" "$ROOT$OPT/$old/venv"
fi
switch current "$RELEASE"
switched=1
switch venv current/venv
[ -n "$old" ] && switch previous "$old"
if [ -z "$ROOT" ]; then
  mkdir -p /usr/local/bin
  ln -sfn "$VENV/bin/kakou" /usr/local/bin/kakou
fi
[ -L "$ROOT$OPT/docs" ] || rm -rf "$ROOT$OPT/docs"  # a folder before releases
switch docs current/docs

if ((was_active)); then
  say "starting kakou-edge on $RELEASE"
  stopped=0
  if systemctl start kakou-edge.service; then
    say "kakou-edge was down $(awk -v a="$down_since" -v b="$(date +%s.%N)" \
      'BEGIN { printf "%.1f", b - a }') s (stop, migrate, switch, start until ready)"
  elif [ -n "$old" ]; then
    say "kakou-edge did not start on $RELEASE: switching back to $old"
    switch current "$old"
    rm -f "$ROOT$OPT/previous"
    systemctl start kakou-edge.service || true
    die "the new release did not start (journalctl -u kakou-edge); $old is running again"
  fi
fi

# Keep the current and the previous release; older ones only take disk.
keep_current="$(readlink "$ROOT$OPT/current")"
keep_previous="$(readlink "$ROOT$OPT/previous" 2>/dev/null || true)"
for release in "$ROOT$RELEASES"/*; do
  [ -e "$release" ] || continue
  name="releases/$(basename "$release")"
  if [ "$name" != "$keep_current" ] && [ "$name" != "$keep_previous" ]; then
    say "removing the old release $name"
    rm -rf "$release"
  fi
done

# --- enable -------------------------------------------------------------------------------------
enabled=(kakou-edge.service)
if ((ENABLE_SERVER)); then enabled+=(kakou-server.service); fi

if ! ((USE_SYSTEMCTL)); then
  say "units installed in $UNIT_DIR; not enabled (--no-systemctl)"
elif [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" enable "${enabled[@]}"
elif [ -d /run/systemd/system ]; then
  systemctl enable "${enabled[@]}"
  ((was_active)) || say "enabled; start it once the configuration is right: systemctl start kakou-edge"
else
  # Not booted with systemd (a container, an image being built): enabling works offline.
  systemctl enable "${enabled[@]}"
fi

if [ -z "$ROOT" ] && [ -f /boot/firmware/config.txt ] \
  && ! grep -q '^dtparam=strict_gpiod' /boot/firmware/config.txt; then
  say "WARNING: add dtparam=strict_gpiod to /boot/firmware/config.txt and reboot, so a relay" \
    "line returns to its pull-down when the service dies (docs/operations.md, Wiring)"
fi

"$ROOT$VENV/bin/kakou" config check --config "$ROOT$ETC/kakou.toml" \
  || say "WARNING: $ETC/kakou.toml does not validate yet; fix it before starting the gate"
say "done: $OPT/current is $RELEASE${old:+ (previous: $old, for --rollback)}"
