#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run Molecule scenarios in two lanes at once: most of a scenario's time is spent waiting (SIP
# timeouts, scanners, package downloads), not computing.
#   - scenarios on the shared platforms of .config/molecule/config.yml (same container names)
#     run one after the other in the first lane;
#   - scenarios with their own platforms and network run in the second lane.
# Every line is prefixed with its scenario; a summary with each scenario's time and result ends
# the run. Exit status: 0 only when every scenario passed.
# Usage: scripts/molecule-lanes.sh [scenario ...]   (default: every scenario)
# VPBX_MOLECULE_LANES=1 runs everything in one lane (sequentially).
set -uo pipefail
cd "$(dirname "$0")/.."

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  for f in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$f")")"); done
fi

shared=() own=()
for s in "${scenarios[@]}"; do
  if grep -q '^platforms:' "molecule/$s/molecule.yml"; then own+=("$s"); else shared+=("$s"); fi
done
if [ "${VPBX_MOLECULE_LANES:-2}" = 1 ]; then
  shared=("${shared[@]}" "${own[@]}") own=()
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

lane() {
  local s start rc
  for s in "$@"; do
    start=$(date +%s)
    echo "==> molecule test -s $s (started $(date -u +%H:%M:%S))"
    molecule test -s "$s" 2>&1 | sed -u "s/^/[$s] /"
    rc=${PIPESTATUS[0]}
    echo "$s $rc $(( $(date +%s) - start ))" > "$results/$s"
    echo "==> molecule test -s $s: $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(( $(date +%s) - start )) s"
  done
}

pids=()
[ ${#shared[@]} -gt 0 ] && { lane "${shared[@]}" & pids+=($!); }
[ ${#own[@]} -gt 0 ] && { lane "${own[@]}" & pids+=($!); }
for pid in "${pids[@]}"; do wait "$pid"; done

echo
echo "==> Molecule summary"
status=0
for s in "${scenarios[@]}"; do
  if [ -f "$results/$s" ]; then
    read -r name rc seconds < "$results/$s"
    printf '    %-12s %-7s %5s s\n' "$name" "$([ "$rc" = 0 ] && echo passed || echo FAILED)" "$seconds"
    [ "$rc" = 0 ] || status=1
  else
    printf '    %-12s %s\n' "$s" "did not run"
    status=1
  fi
done
exit $status
