#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One bootstrap path for a fresh Debian/Ubuntu machine, run as root. Idempotent: every step is
# skipped when its result is already there.
#   1. Python virtualenv with the pinned tool-chain (requirements.txt)
#   2. Docker engine (Debian's docker.io), started when not running
#   3. Local test images (debootstrap -> docker import), see scripts/build-images.sh
# Usage: scripts/bootstrap.sh [--no-images]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
venv=${VPBX_VENV:-$here/.venv}
build_images=1
[ "${1:-}" = "--no-images" ] && build_images=0

step() { printf '\n==> [bootstrap] %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

if [ "$(id -u)" != 0 ]; then
  echo "bootstrap: run as root (it installs Debian packages and starts the Docker engine)." >&2
  exit 1
fi

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "apt-get install ${missing[*]}"
  if [ $apt_updated = 0 ]; then
    apt-get update -q
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- 1. Python tool-chain -------------------------------------------------------------------
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  step "virtualenv $venv is up to date (skipped)"
else
  step "virtualenv $venv: installing the pinned requirements (about a minute)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off -q -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

# --- 2. Docker engine -----------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  step "Docker engine is running (skipped)"
else
  have dockerd || apt_install docker.io
  have docker || apt_install docker.io
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
    step "starting the Docker engine (systemctl)"
    systemctl start docker
  else
    step "starting the Docker engine in the background (no systemd on this machine; log: /var/log/vpbx-dockerd.log)"
    # Containers inherit the engine's open-file limit: the asterisk role gives Asterisk 16384
    # (asterisk_maxfiles) and verifies it got them.
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    nohup dockerd >/var/log/vpbx-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "bootstrap: the Docker engine did not start within 60 s; see /var/log/vpbx-dockerd.log" >&2; exit 1; }
fi

# --- 3. Test images -------------------------------------------------------------------------
if [ $build_images = 1 ]; then
  "$here/scripts/build-images.sh"
fi
step "done"
