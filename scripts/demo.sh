#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make demo`: a throwaway systemd container (Debian 11 -> Asterisk 16 by default, like the
# reference how-to; VPBX_DEMO_IMAGE=vpbx-test/debian:testing-r1 for Asterisk 22), the site
# playbook converged on it through inventories/demo, then a read-only summary.
# `scripts/demo.sh --clean` removes the container.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
name=vpbx-demo
image=${VPBX_DEMO_IMAGE:-vpbx-test/debian:11-r1}
step() { printf '\n==> [demo] %s\n' "$*"; }

if [ "${1:-}" = "--clean" ]; then
  docker rm -f "$name" >/dev/null 2>&1 && step "container $name removed" || step "no container $name"
  exit 0
fi

case "$image" in
  *testing*) cgroup=/sys/fs/cgroup/unified; cache=/var/cache/vpbx/apt/testing ;;
  *) cgroup=/sys/fs/cgroup; cache=/var/cache/vpbx/apt/bullseye ;;
esac

if docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null | grep -q true; then
  step "reusing the running container $name (make demo-clean removes it)"
else
  docker rm -f "$name" >/dev/null 2>&1 || true
  step "starting the throwaway target: container $name from $image"
  mkdir -p "$cache"
  docker run -d --name "$name" --hostname pbx-demo \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host \
    -v "$cgroup:/sys/fs/cgroup:rw" -v "$cache:/var/cache/apt/archives:rw" \
    --stop-signal SIGRTMIN+3 "$image" >/dev/null
  for _ in $(seq 1 30); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
  done
fi

cd "$here"
export ANSIBLE_CONFIG="$here/ansible.cfg"
step "converging the site playbook (first run installs Asterisk: a few minutes)"
ansible-playbook -i inventories/demo vpbx.hardened.site
step "summary (read-only)"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ansible-playbook -i inventories/demo vpbx.hardened.status | sed -n '/Show the summary/,/PLAY RECAP/p'
step "done: docker exec -it $name asterisk -r  opens the CLI; make demo-clean removes the container"
