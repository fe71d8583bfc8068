#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run Molecule scenarios in two lanes at once: most of a scenario's time is spent waiting (SIP
# timeouts, scanners, package downloads), not computing.
#   - scenarios on the shared platforms of .config/molecule/config.yml (same container names)
#     run one after the other in the first lane;
#   - scenarios with their own platforms and network run in the second lane;
#   - a line `# molecule-lane: N` (1, 2 or 3) in a scenario's molecule.yml overrides both (the
#     longest scenarios go to the third lane; a scenario that reuses the shared container names
#     with platforms of its own stays in the first).
# Every line is prefixed with its scenario; a summary with each scenario's time and result ends
# the run. Exit status: 0 only when every scenario passed.
# Usage: scripts/molecule-lanes.sh [scenario ...]   (default: every scenario)
# The name `bench-smoke` runs the benchmarks at tiny sizes (python benchmarks/run.py --smoke, its
# own network and containers) at the end of the first lane, the one with the most time to spare.
# VPBX_MOLECULE_LANES=1 runs everything in one lane (sequentially), =2 in two.
set -uo pipefail
cd "$(dirname "$0")/.."

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  for f in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$f")")"); done
fi

shared=() own=() third=() bench=()
for s in "${scenarios[@]}"; do
  if [ "$s" = bench-smoke ]; then bench=(bench-smoke); continue; fi
  n=$(sed -n 's/^# molecule-lane: *\([123]\) *$/\1/p' "molecule/$s/molecule.yml" | head -n1)
  if [ -z "$n" ]; then
    if grep -q '^platforms:' "molecule/$s/molecule.yml"; then n=2; else n=1; fi
  fi
  case $n in 1) shared+=("$s") ;; 2) own+=("$s") ;; 3) third+=("$s") ;; esac
done
shared+=("${bench[@]}")
case "${VPBX_MOLECULE_LANES:-3}" in
  1) shared=("${shared[@]}" "${own[@]}" "${third[@]}") own=() third=() ;;
  2) own=("${own[@]}" "${third[@]}") third=() ;;
esac

# apt locks its archive directory while it downloads: two containers sharing one cache at the
# same moment fail with "Could not get lock /var/cache/apt/archives/lock". The second lane gets its
# own cache, seeded with hard links to the first lane's packages (no download twice, no copy);
# so does the third.
cache=/var/cache/vpbx/apt
seed_cache() {
  local src dst target=$1
  for src in "$cache"/*/; do
    [ -d "$src" ] || continue
    dst="$target/$(basename "$src")"
    mkdir -p "$dst/partial"
    find "$src" -maxdepth 1 -name '*.deb' -exec sh -c \
      'for f; do [ -e "$0/${f##*/}" ] || ln "$f" "$0/" 2>/dev/null || cp "$f" "$0/"; done' "$dst" {} +
  done
}

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

lane() {
  local s start rc
  for s in "$@"; do
    start=$(date +%s)
    if [ "$s" = bench-smoke ]; then
      echo "==> python benchmarks/run.py --smoke (started $(date -u +%H:%M:%S))"
      python benchmarks/run.py --smoke --out "${TMPDIR:-/tmp}/vpbx-bench-smoke.json" 2>&1 | sed -u "s/^/[$s] /"
    else
      echo "==> molecule test -s $s (started $(date -u +%H:%M:%S))"
      molecule test -s "$s" 2>&1 | sed -u "s/^/[$s] /"
    fi
    rc=${PIPESTATUS[0]}
    echo "$s $rc $(( $(date +%s) - start ))" > "$results/$s"
    echo "==> $s: $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(( $(date +%s) - start )) s"
  done
}

pids=()
[ ${#shared[@]} -gt 0 ] && { lane "${shared[@]}" & pids+=($!); }
for n in 2 3; do
  if [ "$n" = 2 ]; then set -- "${own[@]}"; else set -- "${third[@]}"; fi
  [ $# -gt 0 ] || continue
  seed_cache "/var/cache/vpbx/apt-lane$n"
  (export VPBX_APT_CACHE=/var/cache/vpbx/apt-lane$n; lane "$@") & pids+=($!)
done
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
