#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the local systemd test images that Molecule uses (no container registry is reachable):
#   debootstrap --variant=minbase SUITE -> tar -> docker import
# then, from the systemd images, the "asterisk" images: the distribution's asterisk package already
# unpacked (exactly what the asterisk role installs, service disabled and never started), for the
# scenarios that do not test installation.
# An image that already exists is skipped. The image names/tags are the ones in
# .config/molecule/config.yml; bump the tag there and here together when the recipe changes.
# Debootstrap uses its default mirror (or VPBX_DEBOOTSTRAP_MIRROR when set).
# Usage: scripts/build-images.sh [IMAGE...]   (no argument: every image; make demo names its two)
set -euo pipefail
wanted=" $* "
want() { [ "$wanted" = "  " ] || [[ "$wanted" == *" $1 "* ]]; }

# name:tag  suite  kind (systemd: a Molecule platform; sipclient: SIP test peer, no init)
images=(
  "vpbx-test/debian:11-r1 bullseye systemd"
  "vpbx-test/debian:testing-r1 testing systemd"
  "vpbx-test/debian:12-r1 bookworm systemd"  # no asterisk package: the unsupported-platform test
  "vpbx-test/sipclient:12-r1 bookworm sipclient"  # sipp, sipvicious, sipsak, nmap
)
# name:tag  base image  apt cache (the Molecule platforms' cache of that suite)
asterisk_images=(
  "vpbx-test/asterisk:11-r2 vpbx-test/debian:11-r1 bullseye"
  "vpbx-test/asterisk:testing-r2 vpbx-test/debian:testing-r1 testing"
)
# What the asterisk role installs (no recommends), plus what Ansible's apt and the firewall role
# would install on every converge. Nothing a role under test installs on request
# (asterisk-voicemail, fail2ban...) belongs here.
asterisk_packages="asterisk python3-apt ufw"
cache=${VPBX_CACHE_DIR:-/var/cache/vpbx}
include_systemd=systemd,systemd-sysv,python3,ca-certificates,iproute2,procps,dbus
include_sipclient=python3,iproute2,procps,sip-tester,sipvicious,sipsak,nmap,ca-certificates

step() { printf '\n==> [images] %s\n' "$*"; }

command -v debootstrap >/dev/null 2>&1 || {
  step "apt-get install debootstrap"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}

build() {
  local ref=$1 suite=$2 kind=$3 root log include debs
  # Separate .deb caches per kind: two parallel debootstraps of one suite must not share one.
  case $kind in
    systemd) include=$include_systemd debs="$cache/debootstrap/$suite" ;;
    sipclient) include=$include_sipclient debs="$cache/debootstrap/$suite-$kind" ;;
    *) echo "images: unknown image kind $kind" >&2; return 1 ;;
  esac
  root=$(mktemp -d "/tmp/vpbx-rootfs-${suite}-${kind}.XXXXXX")
  log="$cache/logs/debootstrap-$suite-$kind.log"
  mkdir -p "$debs" "$cache/logs"
  step "$ref: debootstrap $suite (about a minute; log: $log)"
  # shellcheck disable=SC2086
  if ! debootstrap --variant=minbase --include="$include" --cache-dir="$debs" \
      "$suite" "$root" ${VPBX_DEBOOTSTRAP_MIRROR:-} >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "images: debootstrap of $suite failed (full log: $log)" >&2
    rm -rf "$root"
    return 1
  fi
  # Test-image properties (not the roles' business):
  # - the archive's Release files of testing can be past Valid-Until on a snapshot mirror
  # - no docs/man pages, keeps the image small
  cat >"$root/etc/apt/apt.conf.d/99vpbx-test-image" <<'APT'
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
APT
  cat >"$root/etc/dpkg/dpkg.cfg.d/99vpbx-test-image" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/locale/*
DPKG
  local -a changes
  if [[ $kind == systemd ]]; then
    # Units that cannot work in an unprivileged container.
    for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
                getty@tty1.service systemd-remount-fs.service sys-kernel-debug.mount; do
      ln -sf /dev/null "$root/etc/systemd/system/$unit"
    done
    : >"$root/etc/machine-id"
    changes=(--change 'CMD ["/lib/systemd/systemd"]' --change 'ENV container=docker')
  else
    changes=(--change 'CMD ["sleep", "infinity"]')
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
  step "$ref: docker import"
  tar -C "$root" -c . | docker import "${changes[@]}" - "$ref" >/dev/null
  rm -rf "$root"
  step "$ref: built"
}

# The asterisk images: a container of the base image (no init), apt-get install with service starts
# denied, the unit disabled (the role enables it once its configuration is in place), then
# docker commit with the base image's systemd command.
build_asterisk() {
  local ref=$1 base=$2 suite=$3 name log debs
  name="vpbx-build-${ref//[:\/]/-}"
  log="$cache/logs/image-${ref//[:\/]/-}.log"
  debs="${VPBX_APT_CACHE:-$cache/apt}/$suite"
  mkdir -p "$debs/partial" "$cache/logs"
  step "$ref: apt-get install $asterisk_packages on $base (a few minutes; log: $log)"
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" -v "$debs:/var/cache/apt/archives" "$base" sleep infinity >/dev/null
  if ! docker exec -e DEBIAN_FRONTEND=noninteractive "$name" sh -ec "
      printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
      apt-get update -q
      apt-get install -y -q --no-install-recommends $asterisk_packages
      rm -f /usr/sbin/policy-rc.d
      systemctl disable asterisk.service ufw.service
      # No package lists: apt must see a stale cache (an image built minutes ago would otherwise
      # look fresh to cache_valid_time and find no packages).
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/lib/apt/periodic/update-success-stamp /tmp/* \\
        /var/log/asterisk/*
      mkdir -p /var/lib/apt/lists/partial && touch -d @0 /var/lib/apt/lists
      " >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "images: installing $asterisk_packages on $base failed (full log: $log)" >&2
    docker rm -f "$name" >/dev/null 2>&1
    return 1
  fi
  step "$ref: docker commit"
  docker stop -t 1 "$name" >/dev/null
  docker commit --change 'CMD ["/lib/systemd/systemd"]' "$name" "$ref" >/dev/null
  docker rm -f "$name" >/dev/null
  step "$ref: built"
}

# An asterisk image needs its systemd base image.
for spec in "${asterisk_images[@]}"; do
  read -r ref base suite <<<"$spec"
  if [ "$wanted" != "  " ] && want "$ref"; then wanted="$wanted$base "; fi
done

pids=()
for spec in "${images[@]}"; do
  read -r ref suite kind <<<"$spec"
  want "$ref" || continue
  if docker image inspect "$ref" >/dev/null 2>&1; then
    step "$ref already built (skipped)"
    continue
  fi
  build "$ref" "$suite" "$kind" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
[ $rc = 0 ] || exit $rc

pids=()
for spec in "${asterisk_images[@]}"; do
  read -r ref base suite <<<"$spec"
  want "$ref" || continue
  if docker image inspect "$ref" >/dev/null 2>&1; then
    step "$ref already built (skipped)"
    continue
  fi
  build_asterisk "$ref" "$base" "$suite" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
exit $rc
