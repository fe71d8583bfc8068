#!/bin/sh
# The execution environment's base image, built on this machine from Debian's archive alone
# (nothing pulled): Debian 12 with its Python 3.11 (ansible-core 2.19 needs 3.11+), pip and
# bash, and vpbx-apt, the package-manager interface ansible-builder uses (execution-environment.yml
# options.package_manager_path). debootstrap takes its mirror from its own default; the machine's
# apt proxy settings apply.
# Usage: execution-environment/base/build.sh [IMAGE]   (default localhost/vpbx-ee-base:1)
set -eu
image=${1:-localhost/vpbx-ee-base:1}
here=$(cd "$(dirname "$0")" && pwd)
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
root=$(mktemp -d /tmp/vpbx-ee-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "==> debootstrap bookworm (about a minute)"
debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,python3-wheel,ca-certificates,bash \
  bookworm "$root" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
install -m 0755 "$here/vpbx-apt" "$root/usr/local/bin/vpbx-apt"
# Debian marks its Python as externally managed; the image is the EE's own, pip installs into it.
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
# python3 as "python3" and as the builder's default path.
apt_clean="$root/var/lib/apt/lists"
rm -rf "$apt_clean"/* "$root"/var/cache/apt/archives/*.deb
echo "==> docker import $image"
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base image: $image"
