#!/bin/sh
# ansible-test sanity on the collection as git tracks it (plus uncommitted changes), offline-safe:
# ansible-test wants the collection under ansible_collections/NAMESPACE/NAME and, to set up its
# virtual environments, a pip bootstrap script it would download; the machine's own pip stands in
# for it (it installs what ansible-test asks for, with pip's own index settings).
# Usage: scripts/sanity.sh [ansible-test sanity options, e.g. --test pep8]
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
python=$(command -v "${PYTHON:-python3}")
build=${SANITY_BUILD_DIR:-/tmp/vpbx-sanity}
tree="$build/ansible_collections/vpbx/hardened"

# The pip version ansible-test pins for its virtual environments.
pip_version=$("$python" -c 'import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % sys.version_info[:2]))["pip"])')
cache="$HOME/.ansible/test/cache/get_pip_$(echo "$pip_version" | tr . _).py"
if [ ! -f "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  pip_dir=$("$python" -c 'import os, pip; print(os.path.dirname(os.path.dirname(pip.__file__)))')
  cat > "$cache" <<PY
# Written by vpbx.hardened scripts/sanity.sh: the machine's own pip in place of the pip bootstrap
# script ansible-test downloads. get-pip.py's options that pip install does not know are dropped.
import runpy, sys
sys.path.insert(0, "$pip_dir")
sys.argv = ["pip", "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
fi

rm -rf "$tree"
mkdir -p "$tree"
cd "$repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ \
  | tar --null -T - -cf - | tar -xf - -C "$tree"
cd "$tree"
git init -q && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
version=$("$python" -c "import sys; print(\"%d.%d\" % sys.version_info[:2])")
exec ansible-test sanity --python "$version" --venv "$@"
