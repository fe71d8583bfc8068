# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Recordings that cannot fill the disk: the one place for everything that goes into the pruning
script, its systemd service and its timer (asterisk_dialplan_recording_retention*).

The timer runs the script as the Asterisk user: recordings older than the retention go first,
then the oldest ones until the directory is under its size cap. A recording written in the last
minutes (a call still being recorded) is never removed by the cap."""

from __future__ import annotations

import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vpbx.hardened.plugins.module_utils.checks import whole_number

# MixMonitor's and ConfBridge's recordings (a relative file name lands in astspooldir/monitor).
MONITOR_DIR = "/var/spool/asterisk/monitor"
SCRIPT = "/usr/local/sbin/vpbx-prune-recordings"
UNIT = "vpbx-prune-recordings"
SERVICE = "/etc/systemd/system/%s.service" % UNIT
TIMER = "/etc/systemd/system/%s.timer" % UNIT
# Files modified this recently are kept whatever the cap: a call may still be writing them.
GUARD_MINUTES = 15
PREFIX = "asterisk_dialplan_recording_"
KEYS = ("retention", "retention_days", "max_size_mb", "retention_schedule")

SCRIPT_TEXT = r"""#!/bin/bash
# %(marker)s: rendered by the vpbx.hardened.asterisk_dialplan role; local changes are overwritten.
# Prunes call recordings: older than MAX_AGE_DAYS first, then the oldest until DIR holds at most
# MAX_SIZE_MB. 0 switches either limit off. Files modified in the last GUARD_MINUTES are never
# removed by the size cap (a call may still be writing them).
# Usage: vpbx-prune-recordings DIR MAX_AGE_DAYS MAX_SIZE_MB [GUARD_MINUTES]
set -euo pipefail
dir=$1 days=$2 cap_mb=$3 guard=${4:-%(guard)d}
if [ ! -d "$dir" ]; then
  echo "$dir does not exist: nothing to prune"
  exit 0
fi
removed=0 freed=0
if [ "$days" -gt 0 ]; then
  while IFS= read -r -d '' entry; do
    size=${entry%%%% *} path=${entry#* }
    rm -f -- "$path"
    removed=$((removed + 1)) freed=$((freed + size))
    echo "removed $path: older than $days day(s)"
  done < <(find "$dir" -xdev -type f -mmin +$((days * 1440)) -printf '%%s %%p\0')
fi
total=$(find "$dir" -xdev -type f -printf '%%s\n' | awk '{ s += $1 } END { printf "%%d", s }')
if [ "$cap_mb" -gt 0 ] && [ "$total" -gt $((cap_mb * 1048576)) ]; then
  cap=$((cap_mb * 1048576))
  while IFS= read -r -d '' entry; do
    [ "$total" -le "$cap" ] && break
    rest=${entry#* }
    size=${rest%%%% *} path=${rest#* }
    rm -f -- "$path"
    removed=$((removed + 1)) freed=$((freed + size)) total=$((total - size))
    echo "removed $path: the directory was over its cap of $cap_mb MiB"
  done < <(find "$dir" -xdev -type f -mmin +"$guard" -printf '%%T@ %%s %%p\0' | sort -z -n)
  if [ "$total" -gt "$cap" ]; then
    echo "warning: $dir still holds $((total / 1048576)) MiB, over its cap of $cap_mb MiB: the rest was" \
      "written in the last $guard minutes. Raise asterisk_dialplan_recording_max_size_mb or free the disk." >&2
  fi
fi
echo "pruned $removed file(s), $((freed / 1048576)) MiB; $dir holds $((total / 1048576)) MiB" \
  "(age limit: $days day(s), cap: $cap_mb MiB, 0 = none)"
"""

SERVICE_TEXT = """%(header)s
# %(marker)s: rendered by the vpbx.hardened.asterisk_dialplan role.
[Unit]
Description=Prune call recordings in %(dir)s (older than %(days)s day(s), over %(cap)s MiB; 0 = no limit)
ConditionPathIsDirectory=%(dir)s

[Service]
Type=oneshot
User=%(user)s
Group=%(group)s
ExecStart=%(script)s %(dir)s %(days)d %(cap)d %(guard)d
Nice=10
IOSchedulingClass=idle
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=%(dir)s
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX
"""

TIMER_TEXT = """%(header)s
# %(marker)s: rendered by the vpbx.hardened.asterisk_dialplan role.
[Unit]
Description=Prune call recordings (%(schedule)s)

[Timer]
OnCalendar=%(schedule)s
RandomizedDelaySec=300
Persistent=true

[Install]
WantedBy=timers.target
"""


def settings(v):
    """The retention settings from the role's variables (asterisk_dialplan_recording_*), with the
    Asterisk user that owns the recordings."""
    out = {key: v.get(PREFIX + key) for key in KEYS}
    out.update(user=v.get("asterisk_user", "asterisk"), group=v.get("asterisk_group", "asterisk"))
    return out


def errors(s):
    """Every problem of the retention settings, each naming the variable and the fix."""
    problems = []
    if not isinstance(s["retention"], bool) and str(s["retention"]).lower() not in ("true", "false", "yes", "no",
                                                                                    "1", "0", "on", "off"):
        problems.append("%sretention: %r is not a boolean - give true (prune old recordings) or false"
                        % (PREFIX, s["retention"]))
    for key, what in (("retention_days", "days a recording is kept"), ("max_size_mb", "MiB the recordings may use")):
        value = whole_number(s[key])
        if value is None or value < 0:
            problems.append("%s%s: %r is not a whole number of %s - give 0 (no limit) or more"
                            % (PREFIX, key, s[key], what))
    schedule = s["retention_schedule"]
    if not isinstance(schedule, str) or not schedule.strip() or not re.match(r"^[A-Za-z0-9 *:,./~-]+$", schedule):
        problems.append("%sretention_schedule: %r is not a systemd calendar event - give e.g. hourly, daily or "
                        "'*-*-* 03:00:00' (man systemd.time)" % (PREFIX, schedule))
    return problems


def enabled(s):
    """Whether the timer runs: switched on, with at least one limit."""
    return boolean(s["retention"], strict=False) and bool(whole_number(s["retention_days"])
                                                          or whole_number(s["max_size_mb"]))


def host_files(s, header, marker="vpbx.hardened"):
    """What asterisk_apply writes outside /etc/asterisk for the retention: {path: {content, mode}}
    (empty when it is off), the paths to remove (when it is off) and the timer's wanted state."""
    if not enabled(s):
        return {"host_files": {}, "host_files_absent": [TIMER, SERVICE, SCRIPT], "timers": {UNIT + ".timer": False}}
    values = {"header": header.rstrip("\n"), "marker": marker, "dir": MONITOR_DIR,
              "days": whole_number(s["retention_days"]), "cap": whole_number(s["max_size_mb"]),
              "guard": GUARD_MINUTES,
              "user": s["user"], "group": s["group"], "script": SCRIPT, "schedule": s["retention_schedule"].strip()}
    return {"host_files": {SCRIPT: {"content": SCRIPT_TEXT % values, "mode": "0755"},
                           SERVICE: {"content": SERVICE_TEXT % values, "mode": "0644"},
                           TIMER: {"content": TIMER_TEXT % values, "mode": "0644"}},
            "host_files_absent": [], "timers": {UNIT + ".timer": True}}
