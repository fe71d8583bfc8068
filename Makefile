# vpbx.hardened: developer entry points. Everything runs as root on a Debian/Ubuntu machine.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION_LINK := .ansible/collections/ansible_collections/vpbx/hardened
SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))

.PHONY: help bootstrap collection demo demo-clean test lint yamllint ansible-lint sanity docs-check plugin-docs docs-lint docs-site ee unit molecule integration bench bench-smoke docs clean

help:
	@echo "make demo    - the how-to's office in throwaway local containers, then a real call between its two phones"
	@echo "make test    - yamllint, ansible-lint, ansible-test sanity, unit tests, every Molecule scenario and the benchmarks' smoke run"
	@echo "make bench   - the benchmarks at full size (about an hour; BENCH_ARGS='--only lean,calls'), docs/performance.md"
	@echo "make unit | lint | sanity | docs-site | ee | molecule [SCENARIOS='default'] | bench-smoke | docs | demo-clean"

bootstrap:
	@scripts/bootstrap.sh
	@$(MAKE) --no-print-directory collection

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

# The demo builds only the images it needs (scripts/demo.sh), not every test image.
demo:
	@scripts/bootstrap.sh --no-images
	@$(MAKE) --no-print-directory collection
	@scripts/demo.sh

demo-clean:
	@scripts/demo.sh --clean

test: bootstrap lint unit integration

lint: yamllint ansible-lint docs-check plugin-docs docs-lint docs-site sanity

plugin-docs: collection
	@echo "==> plugin documentation parses (ansible-doc)"
	@set -e; for f in plugins/modules/*.py; do m=$$(basename $$f .py); \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.ansible/collections ansible-doc vpbx.hardened.$$m >/dev/null; done; \
	for f in plugins/filter/*.py; do m=$$(sed -n 's/^name: *//p' $$f | head -n1); \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.ansible/collections ansible-doc -t filter vpbx.hardened.$$m 2>&1 >/dev/null \
	  | grep . && { echo "ansible-doc: $$f ($$m) has no valid documentation" >&2; exit 1; }; done; \
	for f in plugins/callback/*.py; do m=$$(basename $$f .py); \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.ansible/collections ansible-doc -t callback vpbx.hardened.$$m >/dev/null; done; true

# antsibull-docs: the modules', filters', callback's and roles' documentation (markup, references).
docs-lint: collection
	@echo "==> antsibull-docs lint-collection-docs --plugin-docs"
	@cd $(COLLECTION_LINK) && ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.ansible/collections \
	  antsibull-docs lint-collection-docs --plugin-docs .

# The documentation site (build/docs-site/html): plugin and role pages and the guides, warnings fail.
docs-site: collection
	@echo "==> documentation site (scripts/docs-site.sh)"
	@scripts/docs-site.sh

# The execution environment built and checked with docker, offline (scripts/ee.sh; several minutes,
# not part of make test).
ee: bootstrap
	@scripts/ee.sh

docs-check:
	@echo "==> role READMEs up to date with meta/argument_specs.yml"
	python scripts/gen-docs.py --check

yamllint:
	@echo "==> yamllint"
	yamllint --strict .

ansible-lint: collection
	@echo "==> ansible-lint (production profile)"
	ansible-lint --offline

# ansible-test sanity on a copy of the tracked tree (it wants ansible_collections/vpbx/hardened),
# offline: the machine's own pip stands in for the pip bootstrap script ansible-test downloads.
sanity:
	@echo "==> ansible-test sanity (scripts/sanity.sh)"
	@scripts/sanity.sh

unit: collection
	@echo "==> unit tests"
	python -m pytest -q -p no:cacheprovider tests/unit

# Two lanes: the shared-platform scenarios in sequence, next to the ones with their own network
# (scripts/molecule-lanes.sh; VPBX_MOLECULE_LANES=1 for one lane).
molecule: collection
	@scripts/molecule-lanes.sh $(SCENARIOS)

# make test: the scenarios and the benchmarks' smoke run (tiny sizes, so that they cannot rot).
integration: collection
	@scripts/molecule-lanes.sh $(SCENARIOS) bench-smoke

bench-smoke: collection
	python benchmarks/run.py --smoke --out $${TMPDIR:-/tmp}/vpbx-bench-smoke.json

# Full sizes; the figures go to benchmarks/results/latest.json and docs/performance.md.
bench: collection
	python benchmarks/run.py --update-docs $(BENCH_ARGS)

docs:
	python scripts/gen-docs.py

clean:
	rm -rf .ansible $(VENV)
