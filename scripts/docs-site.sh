#!/bin/sh
# The documentation site: antsibull-docs renders the collection's plugin and role documentation to
# reStructuredText, the guides (README.md, docs/*.md) join it, and Sphinx builds the HTML with
# warnings as errors (a broken reference fails). Offline. Output: build/docs-site/html/index.html
# (DOCS_SITE_DIR to put it elsewhere).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${DOCS_SITE_DIR:-$repo/build/docs-site}
rst="$out/rst"
rm -rf "$out"
mkdir -p "$rst"
chmod og-w "$rst"  # antsibull-docs wants its directory writable by itself only
export ANSIBLE_COLLECTIONS_PATH="$repo/.ansible/collections"
antsibull-docs --config-file "$repo/docs/site/antsibull-docs.cfg" collection --cleanup everything --use-current \
  --dest-dir "$rst" vpbx.hardened >"$out/antsibull-docs.log" 2>&1 || { cat "$out/antsibull-docs.log" >&2; exit 1; }

# The guides, and a front page that lists them next to the reference.
mkdir -p "$rst/guides"
cp "$repo"/docs/*.md "$rst/guides/"
cp -r "$repo/docs/images" "$rst/guides/images"
cp "$repo/README.md" "$rst/guides/overview.md"
cat > "$rst/index.rst" <<RST
vpbx.hardened
=============

An Ansible collection that turns a bare Debian or Ubuntu server into a hardened Asterisk PBX.

.. toctree::
   :maxdepth: 1
   :caption: Guides:
   :glob:

   guides/overview
   guides/*

.. toctree::
   :maxdepth: 2
   :caption: Reference:

   collections/vpbx/hardened/index

.. toctree::
   :maxdepth: 1
   :caption: Indexes:
   :glob:

   collections/index_*
   collections/environment_variables
RST
sphinx-build -q -b html -c "$repo/docs/site" -W --keep-going "$rst" "$out/html"
echo "docs site: $out/html/index.html"
