# SPDX-License-Identifier: GPL-3.0-or-later
# Sphinx configuration of the documentation site (make docs-site, scripts/docs-site.sh): the pages
# antsibull-docs renders from the collection's own documentation (modules, filters, the callback,
# the roles' argument specs) and the guides in docs/*.md. Started from `antsibull-docs sphinx-init`.
# The build is offline: no intersphinx inventories are fetched. A reference to Ansible's own
# documentation or to another collection (which this site does not hold) becomes plain text; a
# broken reference inside vpbx.hardened still fails the build (sphinx-build -W).

from __future__ import annotations

import re

from docutils import nodes

project = "vpbx.hardened"
copyright = "vpbx.hardened contributors"  # noqa: A001 - the name Sphinx reads
title = "vpbx.hardened - a hardened Asterisk PBX"
html_short_title = "vpbx.hardened"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
nitpicky = True

# The guides link to files of the repository (roles, plugins, molecule scenarios) that are not
# pages of this site; myst reports each such link, which is not an error here.
suppress_warnings = ["myst.xref_missing"]

# Every label of this collection's pages starts so; others (Ansible's own documentation:
# common_return_values, action_plugins...; other collections' modules) are not on this site.
OWN = re.compile(r"^ansible_collections\.vpbx\.hardened\.")


def _external_reference(app, env, node, contnode):
    """Resolve a reference to documentation this site does not hold to its text."""
    target = node.get("reftarget", "")
    if not OWN.match(target):
        return nodes.inline("", contnode.astext() if contnode is not None else target)
    return None


def setup(app):
    app.connect("missing-reference", _external_reference)
