#!/usr/bin/env bash
# Installs Kakou on Raspberry Pi OS bookworm / Debian 12, or upgrades an installed one in place.
#
#   sudo bash systemd/install.sh            # from a clone or an unpacked release of this repository
#
# What it does (docs/operations.md explains each step): system packages; a "kakou" system user in
# the dialout, gpio, video and audio groups (created if missing, as on a machine that is not a
# Pi); a virtual environment at /opt/kakou/venv holding this package; /etc/kakou/kakou.toml from
# config/kakou.example.toml (mode 0640, group kakou; an existing one is never overwritten);
# /etc/kakou/credentials for secrets (root only, files 0600); state in /var/lib/kakou (0750);
# the database migrated to this version's schema; the systemd units installed and enabled.
#
# Running it again upgrades in place and keeps the configuration, secrets and data. A running
# kakou-edge is stopped only for the swap and started again.
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
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="${DESTDIR:-}"
# Debian's own interpreter: its python3-lgpio is what --system-site-packages makes visible.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
USE_SYSTEMCTL=1
INSTALL_PACKAGES=1
ENABLE_SERVER=0

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
VENV=$OPT/venv
ETC=/etc/kakou
CREDENTIALS=$ETC/credentials
STATE=/var/lib/kakou
UNIT_DIR=/etc/systemd/system
UNITS=(kakou-edge.service kakou-server.service)
SERVICE_GROUPS=(dialout gpio video audio)

# --- system packages ----------------------------------------------------------------------------
# python3-venv: the virtual environment; sqlite3: online backups (docs/operations.md); libzbar0
# and fonts-wqy-microhei: QR decoding and printed passes. On Raspberry Pi OS python3-lgpio brings
# lgpio, which gpiozero's lgpio pin factory needs (the venv sees it: --system-site-packages).
install_packages() {
  local packages=(python3 python3-venv sqlite3 libzbar0 fonts-wqy-microhei)
  local missing=() package
  if grep -qa "Raspberry Pi" /proc/device-tree/model 2>/dev/null \
    || apt-cache show python3-lgpio >/dev/null 2>&1; then
    packages+=(python3-lgpio)
  fi
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

# --- the package --------------------------------------------------------------------------------
# A wheel built from a clean copy of the source: nothing is written into the source tree, and
# the environment gets a normal (not editable) install that an upgrade replaces whole.
STAGING="$(mktemp -d)"
was_active=0
restarted=0
finish() {
  rm -rf "$STAGING"
  # Never leave a gate down that was running: if a later step failed, start it again anyway
  # (should it fail to start, systemd keeps retrying, forcing the relays off each time).
  if ((was_active)) && ! ((restarted)); then
    say "starting kakou-edge again"
    systemctl start kakou-edge.service || true
  fi
}
trap finish EXIT
tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./kakou-data --exclude=./build \
  --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.mypy_cache \
  --exclude=.ruff_cache -cf - . | (mkdir "$STAGING/src" && tar -C "$STAGING/src" -xf -)

if ! "$ROOT$VENV/bin/python" -c "" 2>/dev/null; then
  say "creating the virtual environment $VENV"
  rm -rf "$ROOT$VENV"
  # --system-site-packages: Debian's python3-lgpio (compiled for this board) is visible; the
  # venv's own packages still come first on the path.
  "$PYTHON" -m venv --system-site-packages "$ROOT$VENV"
fi
PIP=("$ROOT$VENV/bin/python" -m pip --disable-pip-version-check --quiet)
say "building the Kakou wheel"
"${PIP[@]}" wheel --no-deps --wheel-dir "$STAGING/dist" "$STAGING/src"
WHEELS=("$STAGING"/dist/kakou-*.whl)
[ -f "${WHEELS[0]}" ] || die "no wheel was built"

if ((USE_SYSTEMCTL)) && [ -z "$ROOT" ] && [ -d /run/systemd/system ] \
  && systemctl is-active --quiet kakou-edge.service; then
  was_active=1
  say "stopping kakou-edge for the upgrade (its relays are forced off on stop)"
  systemctl stop kakou-edge.service
fi

say "installing $(basename "${WHEELS[0]}") into $VENV"
# The same version number may carry new code: replace the package itself, then add whatever
# dependency it now needs.
if "${PIP[@]}" show kakou >/dev/null 2>&1; then
  "${PIP[@]}" install --no-deps --force-reinstall "${WHEELS[0]}"
fi
"${PIP[@]}" install "${WHEELS[0]}"
# pip check also sees Debian's own packages through --system-site-packages (python3-gi without
# pycairo, say); only a broken requirement of a package in the venv itself fails the install.
if ! problems=$("${PIP[@]}" check 2>&1); then
  ours=$("${PIP[@]}" list --local --format=freeze | cut -d= -f1 | tr 'A-Z_.' 'a-z--')
  broken=""
  while read -r name rest; do
    [ -n "$name" ] || continue
    if grep -qxF "$(printf '%s' "$name" | tr 'A-Z_.' 'a-z--')" <<<"$ours"; then
      broken+="$name $rest"$'\n'
    fi
  done <<<"$problems"
  [ -z "$broken" ] || die "broken dependencies in $VENV: $broken"
  say "ignoring requirements of system packages outside the venv: ${problems//$'\n'/; }"
fi
# The command must at least start: a missing dependency fails the install here, not at boot.
"$ROOT$VENV/bin/kakou" --version

mkdir -p "$ROOT$OPT/docs"
install -m 0644 "$SOURCE"/docs/*.md "$ROOT$OPT/docs/"
if [ -z "$ROOT" ]; then
  mkdir -p /usr/local/bin
  ln -sfn "$VENV/bin/kakou" /usr/local/bin/kakou
fi

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

# --- database -----------------------------------------------------------------------------------
# Store.open migrates at every start too; doing it here shows a damaged or too-new file now,
# before the gate is started on it. The configuration names the gate the file belongs to.
DB="$STATE/kakou.db"
if [ -f "$ROOT$DB" ]; then
  say "migrating $DB"
  if ! "$ROOT$VENV/bin/kakou" db migrate --config "$ROOT$ETC/kakou.toml" --db "$ROOT$DB"; then
    die "the database did not migrate (above: why)"
  fi
  find "$ROOT$STATE" -maxdepth 1 -name 'kakou.db*' -exec chown "$KAKOU_UID:$KAKOU_GID" {} +
fi

# --- systemd units ------------------------------------------------------------------------------
mkdir -p "$ROOT$UNIT_DIR"
for unit in "${UNITS[@]}"; do
  install -m 0644 -o 0 -g 0 "$SOURCE/systemd/$unit" "$ROOT$UNIT_DIR/$unit"
done
enabled=(kakou-edge.service)
if ((ENABLE_SERVER)); then enabled+=(kakou-server.service); fi

if ! ((USE_SYSTEMCTL)); then
  say "units installed in $UNIT_DIR; not enabled (--no-systemctl)"
elif [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" enable "${enabled[@]}"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable "${enabled[@]}"
  if ((was_active)); then
    say "starting kakou-edge again"
    restarted=1
    systemctl start kakou-edge.service
  else
    say "enabled; start it once the configuration is right: systemctl start kakou-edge"
  fi
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
say "done"
