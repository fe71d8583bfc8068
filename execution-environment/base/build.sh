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
# The EE's Python: a virtual environment of Debian's Python 3.11 at /opt/vpbx-ee. ansible-builder
# runs `python -m ensurepip`, which Debian disables for its system Python but not in a venv.
chroot "$root" python3 -m venv /opt/vpbx-ee
# The machine's own pip settings: the certificate bundle it trusts (PIP_CERT or pip's `cert`), so
# that pip in the image reaches the package index the way the machine does.
cert=${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}
cert_env="PIP_CERT="
if [ -n "$cert" ] && [ -f "$cert" ]; then
  install -m 0644 "$cert" "$root/etc/ssl/certs/vpbx-pip-ca.pem"
  cert_env="PIP_CERT=/etc/ssl/certs/vpbx-pip-ca.pem"
fi
apt_clean="$root/var/lib/apt/lists"
rm -rf "$apt_clean"/* "$root"/var/cache/apt/archives/*.deb
echo "==> docker import $image"
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' \
  --change 'ENV PATH=/opt/vpbx-ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV $cert_env" - "$image" >/dev/null
echo "base image: $image"
