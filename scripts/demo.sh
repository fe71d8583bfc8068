#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make demo`: the reference how-to's office on throwaway containers, then a real call.
#  - a docker network of its own, 172.30.96.0/24;
#  - the PBX: a systemd container (Debian 11 -> Asterisk 16 by default, like the how-to;
#    VPBX_DEMO_IMAGE=vpbx-test/debian:testing-r1 for Asterisk 22) at .10, converged by the site
#    playbook through inventories/demo: two phones with voicemail, a trunk to a fake provider;
#  - the phones (sipp) at .50, the fake provider at .60: one container of the SIP client image;
#  - then phone 1001 calls phone 1002 through the PBX, 1002 answers, and the result is printed.
# Output: one line per role (the vpbx.hardened.concise callback); VPBX_DEMO_TIMINGS=1 adds the
# per-task timings. Only the images the demo needs are built.
# `scripts/demo.sh --clean` removes the containers and the network.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pbx=vpbx-demo
phones=vpbx-demo-phones
network=vpbx-demo
subnet=172.30.96
image=${VPBX_DEMO_IMAGE:-vpbx-test/debian:11-r1}
client_image=vpbx-test/sipclient:12-r1
vault_password="$here/inventories/demo/vault-password.demo.txt"
step() { printf '==> [demo] %s\n' "$*"; }

if [ "${1:-}" = "--clean" ]; then
  docker rm -f "$pbx" "$phones" >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
  step "containers $pbx, $phones and network $network removed"
  exit 0
fi

step "images: $image, $client_image (built when missing)"
"$here/scripts/build-images.sh" "$image" "$client_image" >/tmp/vpbx-demo-images.log 2>&1 \
  || { tail -20 /tmp/vpbx-demo-images.log >&2; exit 1; }

case "$image" in
  *testing*) cgroup=/sys/fs/cgroup/unified; cache=/var/cache/vpbx/apt/testing ;;
  *) cgroup=/sys/fs/cgroup; cache=/var/cache/vpbx/apt/bullseye ;;
esac

docker network inspect "$network" >/dev/null 2>&1 \
  || docker network create --subnet "$subnet.0/24" "$network" >/dev/null

if docker inspect -f '{{.State.Running}}' "$pbx" 2>/dev/null | grep -q true; then
  step "reusing the running PBX container $pbx (make demo-clean removes it)"
else
  docker rm -f "$pbx" >/dev/null 2>&1 || true
  step "starting the PBX: container $pbx ($image) at $subnet.10"
  mkdir -p "$cache"
  docker run -d --name "$pbx" --hostname pbx-demo --network "$network" --ip "$subnet.10" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host \
    -v "$cgroup:/sys/fs/cgroup:rw" -v "$cache:/var/cache/apt/archives:rw" \
    --stop-signal SIGRTMIN+3 "$image" >/dev/null
  for _attempt in $(seq 1 30); do
    state=$(docker exec "$pbx" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
  done
fi
if ! docker inspect -f '{{.State.Running}}' "$phones" 2>/dev/null | grep -q true; then
  docker rm -f "$phones" >/dev/null 2>&1 || true
  step "starting the phones ($subnet.50) and the fake provider ($subnet.60): container $phones"
  docker run -d --name "$phones" --hostname phones --network "$network" --ip "$subnet.50" \
    --cap-add NET_ADMIN "$client_image" sleep infinity >/dev/null
  docker exec "$phones" ip addr add "$subnet.60/24" dev eth0
fi
docker exec "$phones" mkdir -p /opt/vpbx-sip
docker cp "$here/tests/molecule/sip/." "$phones:/opt/vpbx-sip/" >/dev/null

cd "$here"
export ANSIBLE_CONFIG="$here/ansible.cfg"
export ANSIBLE_STDOUT_CALLBACK=vpbx.hardened.concise
if [ "${VPBX_DEMO_TIMINGS:-0}" = 1 ]; then
  export ANSIBLE_CALLBACKS_ENABLED=vpbx.hardened.preload,ansible.posix.profile_tasks
else
  export ANSIBLE_CALLBACKS_ENABLED=vpbx.hardened.preload
fi
step "converging the site playbook (the first run installs Asterisk: a few minutes)"
ansible-playbook -i inventories/demo --vault-password-file "$vault_password" vpbx.hardened.site

step "a call: phone 1001 calls phone 1002 through the PBX"
secret() {
  ansible-vault view --vault-password-file "$vault_password" inventories/demo/group_vars/pbx/vault.yml \
    | python3 -c "import sys, yaml; print(yaml.safe_load(sys.stdin)['vault_demo_secrets']['$1'])"
}
s1001=$(secret 1001)
s1002=$(secret 1002)
sipp_base="timeout 60 sipp -m 1 -nostdin -timeout 30s -timeout_error -i $subnet.50"
# 1002 registers from port 5072, then waits there for one call (answers it, 200 OK to the BYE).
docker exec "$phones" sh -c "$sipp_base -sf /opt/vpbx-sip/register_auth_ok.xml -s 1002 -au 1002 -ap '$s1002' \
  -p 5072 $subnet.10:5060 >/tmp/demo-register.out 2>&1" \
  || { step "1002 could not register:"; docker exec "$phones" tail -5 /tmp/demo-register.out; exit 1; }
# (No -m: the PBX's voicemail NOTIFY to 1002 would count as the one call; timeout bounds it.)
docker exec "$phones" sh -c "rm -f /tmp/demo-answer.msg; nohup timeout 60 sipp -sf /opt/vpbx-sip/answer.xml \
  -i $subnet.50 -p 5072 -nostdin -trace_msg -message_file /tmp/demo-answer.msg >/dev/null 2>&1 &"
sleep 1
started=$(date +%s.%N)
rc=0
docker exec "$phones" sh -c "rm -f /tmp/demo-call.log; $sipp_base -sf /opt/vpbx-sip/invite.xml -s 1002 -au 1001 \
  -ap '$s1001' -inf /opt/vpbx-sip/caller_1001.csv -p 5071 -d 3000 -trace_logs -log_file /tmp/demo-call.log \
  $subnet.10:5060 >/tmp/demo-call.out 2>&1" || rc=$?
# invite.xml logs the final answer it got: "VPBX-FINAL SIP/2.0 200 answered".
final=$(docker exec "$phones" sh -c "sed -n 's/^VPBX-FINAL //p' /tmp/demo-call.log 2>/dev/null | tail -n1")
seconds=$(python3 -c "import time; print('%.1f' % (time.time() - $started))")
answered=$(docker exec "$phones" sh -c "grep -c '^INVITE sip:1002' /tmp/demo-answer.msg 2>/dev/null || true")
hung_up=$(docker exec "$phones" sh -c "grep -c '^BYE ' /tmp/demo-answer.msg 2>/dev/null || true")
if [ "$rc" = 0 ] && [ "$final" = "SIP/2.0 200 answered" ] && [ "${answered:-0}" -ge 1 ] && [ "${hung_up:-0}" -ge 1 ]; then
  step "call 1001 -> 1002: 1002's phone rang and answered (200 OK), 3 s of audio, 1001 hung up - $seconds s end to end"
else
  step "call 1001 -> 1002 FAILED (sipp exit $rc, final answer: ${final:-none}, INVITEs at 1002: ${answered:-0}, BYEs at 1002: ${hung_up:-0}):"
  docker exec "$phones" tail -15 /tmp/demo-call.out
  exit 1
fi

step "the PBX (read-only summary)"
ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
  ansible-playbook -i inventories/demo --vault-password-file "$vault_password" vpbx.hardened.status \
  | sed -n '/Show the summary/,/PLAY RECAP/p' | grep -v "PLAY RECAP"
step "done: docker exec -it $pbx asterisk -r opens the CLI; make demo-clean removes the containers"
