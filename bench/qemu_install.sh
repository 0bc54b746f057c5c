#!/usr/bin/env bash
# Rehearses a Pi install on this x86 machine: systemd/install.sh into a Debian bookworm root of
# the Pi's architecture (debootstrap) run through qemu's user-mode emulation, then the gate
# started there by hand and a simulated crowd sent through it. Prints the figures that
# docs/operations.md quotes: debootstrap and install times, venv size, disk used, RSS idle.
#
#   sudo bash bench/qemu_install.sh [arm64|armhf] [ROOT]     (default: arm64 /var/tmp/kakou-qemu/ARCH)
#
# Slow (emulated: minutes) and needs root, so it is not part of the test run. It proves the
# install path (packages, wheels, locks, units, config check, a crowd); nothing about timing,
# GPIO or the kernel. A root left from an earlier run is reused (debootstrap is skipped).
# Every step is time-bounded.
set -euo pipefail

ARCH="${1:-arm64}"
ROOT="${2:-/var/tmp/kakou-qemu/$ARCH}"
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
MIRROR="${MIRROR:-$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\) bookworm .*/\2/p' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PORT="${PORT:-18099}"
case "$ARCH" in
  arm64) QEMU=qemu-aarch64-static ;;
  armhf) QEMU=qemu-arm-static ;;
  *) echo "qemu_install.sh: arm64 or armhf, not $ARCH" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "qemu_install.sh: run as root" >&2; exit 1; }

say() { echo "qemu[$ARCH]: $*"; }
seconds() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
in_root() { timeout "${STEP_TIMEOUT:-1800}" chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 "$@"; }

for tool in "$QEMU" debootstrap; do
  command -v "$tool" >/dev/null || {
    say "installing qemu-user-static binfmt-support debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support debootstrap
  }
done

# Foreign binaries run through binfmt_misc: mount it and register qemu if the host has not.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable >/dev/null 2>&1 || true

mounted=()
cleanup() {
  [ -n "${GATE_PID:-}" ] && kill "$GATE_PID" 2>/dev/null && wait "$GATE_PID" 2>/dev/null
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ ! -e "$ROOT/.debootstrapped" ]; then
  say "debootstrap bookworm $ARCH from $MIRROR into $ROOT"
  start="$(date +%s.%N)"
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  timeout 1800 debootstrap --arch="$ARCH" --foreign --variant=minbase \
    --include=systemd,systemd-sysv,ca-certificates,sudo,procps,iproute2,dbus,curl \
    bookworm "$ROOT" "$MIRROR"
  cp "/usr/bin/$QEMU" "$ROOT/usr/bin/"
  in_root /debootstrap/debootstrap --second-stage
  touch "$ROOT/.debootstrapped"
  say "FIGURE debootstrap_s=$(seconds "$start")"
else
  say "reusing $ROOT"
fi
cp "/usr/bin/$QEMU" "$ROOT/usr/bin/" 2>/dev/null || true

for fs in proc sys dev dev/pts; do
  mkdir -p "$ROOT/$fs"
  mount --bind "/$fs" "$ROOT/$fs"
  mounted+=("$ROOT/$fs")
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The host's CA bundle, in case its package index is reached through its own certificate.
if cp /etc/ssl/certs/ca-certificates.crt "$ROOT/usr/local/share/ca-certificates/host.crt"; then
  in_root update-ca-certificates >/dev/null 2>&1 || true
fi

say "copying the source to /root/kakou"
rm -rf "$ROOT/root/kakou"
mkdir -p "$ROOT/root/kakou"
# Caches are left out: other tools (mypy, pytest) may be writing them meanwhile.
tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./kakou-data --exclude=./build \
  --exclude='*.egg-info' --exclude=__pycache__ --exclude='.*_cache' --exclude=./.hypothesis \
  -cf - . | tar -C "$ROOT/root/kakou" -xf -

used_before="$(du -sxm "$ROOT" | cut -f1)"
start="$(date +%s.%N)"
say "installing (apt and pip, emulated)"
in_root bash /root/kakou/systemd/install.sh
say "FIGURE install_s=$(seconds "$start")"
say "FIGURE venv_mb=$(du -sm "$ROOT/opt/kakou/current/venv" | cut -f1)"
say "FIGURE disk_added_mb=$(($(du -sxm "$ROOT" | cut -f1) - used_before))"

# The gate by hand (systemd is not PID 1 here): the simulated default on a free port.
in_root /opt/kakou/venv/bin/kakou config default \
  | sed "s/port = 8080/port = $PORT/; s#state_dir = \"kakou-data\"#state_dir = \"/var/tmp/kakou-sim\"#" \
  >"$ROOT/root/sim.toml"
start="$(date +%s.%N)"
chroot "$ROOT" /opt/kakou/venv/bin/kakou run --config /root/sim.toml >"$ROOT/root/gate.log" 2>&1 &
GATE_PID=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/health" 2>/dev/null && break
  sleep 1
done
say "FIGURE ready_s=$(seconds "$start")"
sleep 10
gate="$(pgrep -f "kakou run --config /root/sim.toml" | head -1)"
say "FIGURE rss_idle_mb=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$gate/status") (qemu-user's own memory included)"
start="$(date +%s.%N)"
if ! in_root /opt/kakou/venv/bin/kakou sim --url "http://127.0.0.1:$PORT" crowd 50; then
  say "FAILED: the crowd's decisions were not all as expected; the gate's log ($ROOT/root/gate.log) ends:"
  tail -20 "$ROOT/root/gate.log"
  exit 1
fi
say "FIGURE crowd_50_s=$(seconds "$start")"
say "done; the root stays in $ROOT for another run"
