# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX / Automation Platform pieces (docs/awx.md): survey specs, execution environment and the
project's collection requirements.

The survey rules are AWX's own: the API's survey_spec POST validation
(awx/api/views JobTemplateSurveySpec._validate_spec_data) and the launch-time validation of each
answer, which AWX also applies to a question's default before it sends it
(awx/main/models/mixins.py SurveyJobTemplateMixin._survey_element_validation). Every rule is tested
against broken specs too, so that the checker cannot pass everything."""

from __future__ import annotations

import ast
import configparser
import copy
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parents[3]
SURVEYS = ROOT / "awx" / "surveys"
# Survey file -> the playbook its job template runs.
SURVEY_PLAYBOOKS = {"site.json": "site.yml", "subscribers.json": "subscribers.yml", "audit.json": "audit.yml"}
# Playbook variables (not role options) a survey may set; each must appear in the playbook itself.
PLAYBOOK_VARIABLES = {"vpbx_hosts", "vpbx_audit_fail_on_findings", "vpbx_audit_drift", "vpbx_audit_report_dir"}

# AWX: JobTemplateSurveySpec.ALLOWED_TYPES (question type -> Python type of its default).
ALLOWED_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                 "integer": int, "float": float}
VARIABLE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _choices(item):
    choices = item.get("choices", [])
    if isinstance(choices, str):
        return [c for c in choices.splitlines() if c.strip() != ""]
    return list(choices)


def _default_errors(item, idx):
    """AWX's launch-time validation applied to the default (a default that fails it is dropped)."""
    default, qtype = item["default"], item["type"]
    errors = []
    limits = {k: item.get(k) for k in ("min", "max") if item.get(k) not in ("", None)}
    if qtype in ("text", "textarea", "password"):
        if "min" in limits and len(default) < limits["min"]:
            errors.append(f"question {idx}: default shorter than min")
        if "max" in limits and len(default) > limits["max"]:
            errors.append(f"question {idx}: default longer than max")
    elif qtype in ("integer", "float"):
        if "min" in limits and default < limits["min"]:
            errors.append(f"question {idx}: default below min")
        if "max" in limits and default > limits["max"]:
            errors.append(f"question {idx}: default above max")
    elif qtype == "multiplechoice":
        defaults = default.splitlines()
        if len(defaults) > 1:
            errors.append(f"question {idx}: multiplechoice can only have one default")
        if any(d not in _choices(item) for d in defaults):
            errors.append(f"question {idx}: default not among the choices")
    elif qtype == "multiselect":
        if any(d not in _choices(item) for d in default.splitlines()):
            errors.append(f"question {idx}: default not among the choices")
    return errors


def awx_survey_errors(survey):
    """Every rule AWX applies to a survey spec, plus two of ours (variable names Ansible accepts,
    no stored password default); an empty list means AWX accepts the spec."""
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            errors.append(f"'{field}' missing or not a {kind.__name__}")
    if errors:
        return errors
    if not survey["spec"]:
        return ["'spec' doesn't contain any items"]
    variables = set()
    for idx, item in enumerate(survey["spec"]):
        if not isinstance(item, dict):
            errors.append(f"question {idx} is not an object")
            continue
        missing = [f for f in ("type", "question_name", "question_description", "variable", "required")
                   if f not in item]
        if missing:
            errors.append(f"question {idx}: missing {missing}")
            continue
        for field in ("type", "question_name", "question_description", "variable"):
            if not isinstance(item[field], str):
                errors.append(f"question {idx}: '{field}' must be a string")
        if not isinstance(item["required"], bool):
            errors.append(f"question {idx}: 'required' must be a boolean")
        if errors:
            continue
        if item["variable"] in variables:
            errors.append(f"question {idx}: variable {item['variable']} duplicated")
        variables.add(item["variable"])
        if not VARIABLE_NAME.match(item["variable"]):
            errors.append(f"question {idx}: {item['variable']!r} is not a valid variable name")
        qtype = item["type"]
        if qtype not in ALLOWED_TYPES:
            errors.append(f"question {idx}: type {qtype!r} is not one of {sorted(ALLOWED_TYPES)}")
            continue
        bad_limits = [key for key in ("min", "max") if key in item and item[key] is not None
                      and (not isinstance(item[key], int) or isinstance(item[key], bool))]
        errors += [f"question {idx}: '{key}' must be an integer" for key in bad_limits]
        if bad_limits:
            continue
        if qtype in ("multiplechoice", "multiselect"):
            if "choices" not in item:
                errors.append(f"question {idx}: {qtype} must specify choices")
                continue
            if not _choices(item):
                errors.append(f"question {idx}: no choices")
        default = item.get("default")
        if default not in ("", None):
            if not isinstance(default, ALLOWED_TYPES[qtype]) or isinstance(default, bool):
                errors.append(f"question {idx}: default {default!r} must be a {ALLOWED_TYPES[qtype].__name__}")
                continue
            if qtype == "password":
                errors.append(f"question {idx}: a password question must not carry a default")
            elif isinstance(default, str) and default.startswith("$encrypted$"):
                errors.append(f"question {idx}: $encrypted$ is reserved for password defaults")
            else:
                errors += _default_errors(item, idx)
    return errors


def _load(name):
    return json.loads((SURVEYS / name).read_text())


def _argument_spec_options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = {}
    for entry in specs["argument_specs"].values():
        options.update(entry.get("options") or {})
    return options


def _roles_of(node):
    """vpbx.hardened roles a playbook runs (roles:, include_role, import_role), short names."""
    return {r.split(".")[-1] for r in _role_references(node) if r.startswith("vpbx.hardened.")}


def _role_references(node):
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "role" and isinstance(value, str):
                found.add(value)
            elif key in ("ansible.builtin.include_role", "ansible.builtin.import_role",
                         "include_role", "import_role") and isinstance(value, dict):
                found.add(value.get("name", ""))
            else:
                found |= _role_references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _role_references(value)
    return found


def _playbook_inputs(playbook):
    """(role options, playbook variables) a playbook reads."""
    text = (ROOT / "playbooks" / playbook).read_text()
    options = {}
    for role in _roles_of(yaml.safe_load(text)):
        options.update(_argument_spec_options(role))
    variables = {v for v in PLAYBOOK_VARIABLES if re.search(r"\b%s\b" % v, text)}
    return options, variables, text


SURVEY_FILES = sorted(p.name for p in SURVEYS.glob("*.json"))


def test_every_job_template_has_its_survey():
    assert SURVEY_FILES == sorted(SURVEY_PLAYBOOKS)


@pytest.mark.parametrize("name", SURVEY_FILES)
def test_survey_is_valid_for_awx(name):
    assert awx_survey_errors(_load(name)) == []


@pytest.mark.parametrize("name", SURVEY_FILES)
def test_survey_variables_are_read_by_the_playbook(name):
    options, variables, _text = _playbook_inputs(SURVEY_PLAYBOOKS[name])
    for item in _load(name)["spec"]:
        var = item["variable"]
        assert var in options or var in variables, (
            f"{name}: {var} is neither an option of a role {SURVEY_PLAYBOOKS[name]} runs "
            f"nor a playbook variable it reads")
        if var in options and item["type"] == "multiplechoice" and "choices" in options[var]:
            assert _choices(item) == [str(c) for c in options[var]["choices"]], (
                f"{name}: choices of {var} differ from its argument_specs")
        if var in options:
            # A default is sent as an extra variable on every launch and would override the
            # inventory's value (extra vars win): the example inventory sets chan_sip, a
            # "pjsip" default would switch its driver. Role options are asked without a default.
            assert item.get("default") in ("", None), f"{name}: {var} must not have a default"


@pytest.mark.parametrize("name", SURVEY_FILES)
def test_boolean_answers_convert(name):
    """AWX sends multiplechoice answers as strings; where the playbook reads a variable with
    `| bool`, every choice must convert."""
    _options, _variables, text = _playbook_inputs(SURVEY_PLAYBOOKS[name])
    for item in _load(name)["spec"]:
        var = item["variable"]
        if re.search(r"\b%s\s*(\|\s*default\([^)]*\)\s*)?\|\s*bool\b" % var, text):
            assert item["type"] == "multiplechoice", f"{name}: {var} is a boolean: offer the choices"
            assert sorted(boolean(c, strict=True) for c in _choices(item)) == [False, True]


def test_every_survey_names_the_hosts():
    for name in SURVEY_FILES:
        hosts = [i for i in _load(name)["spec"] if i["variable"] == "vpbx_hosts"]
        assert len(hosts) == 1 and hosts[0]["default"] == "pbx" and hosts[0]["required"], name


def _question(**changes):
    item = {"question_name": "Q", "question_description": "D", "required": True, "type": "text",
            "variable": "vpbx_hosts", "min": 1, "max": 10, "default": "pbx"}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not _DROP}


_DROP = object()
BROKEN = {
    "no name": ({"description": "", "spec": [_question()]}, "name"),
    "spec not a list": ({"name": "", "description": "", "spec": {}}, "spec"),
    "empty spec": ({"name": "", "description": "", "spec": []}, "any items"),
    "unknown type": (_question(type="boolean"), "not one of"),
    "required as string": (_question(required="true"), "boolean"),
    "no variable": (_question(variable=_DROP), "missing"),
    "no description": (_question(question_description=_DROP), "missing"),
    "bad variable name": (_question(variable="vpbx-hosts"), "valid variable name"),
    "min as string": (_question(min="1"), "'min' must be an integer"),
    "text default too long": (_question(default="x" * 11), "longer than max"),
    "empty default is no default": (_question(default="", min=1, required=False, type="integer"), _DROP),
    "integer default as string": (_question(type="integer", default="5"), "must be a int"),
    "integer default above max": (_question(type="integer", default=11), "above max"),
    "choice without choices": (_question(type="multiplechoice", default="a"), "must specify choices"),
    "default not a choice": (_question(type="multiplechoice", choices=["a", "b"], default="c"), "among the choices"),
    "two defaults": (_question(type="multiplechoice", choices="a\nb", default="a\nb"), "only have one"),
    "password default": (_question(type="password", default="secret"), "must not carry a default"),
    "encrypted in text": (_question(default="$encrypted$x", max=None), "reserved"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_checker_refuses_what_awx_refuses(case):
    spec, expected = BROKEN[case]
    survey = spec if "spec" in spec else {"name": "", "description": "", "spec": [spec]}
    errors = awx_survey_errors(survey)
    if expected is _DROP:
        assert errors == [], "an empty default is AWX's 'no default'"
    else:
        assert any(expected in e for e in errors), errors


def test_the_checker_refuses_a_duplicate_variable():
    survey = {"name": "", "description": "", "spec": [_question(), _question()]}
    assert any("duplicated" in e for e in awx_survey_errors(survey))


def test_the_variable_check_catches_an_unknown_variable(monkeypatch):
    survey = copy.deepcopy(_load("subscribers.json"))
    survey["spec"][0]["variable"] = "vpbx_no_such_variable"
    options, variables, _text = _playbook_inputs("subscribers.yml")
    assert survey["spec"][0]["variable"] not in options and survey["spec"][0]["variable"] not in variables
    # A role option of a role the playbook does not run does not count either.
    assert "asterisk_modules_mode" not in _playbook_inputs("audit.yml")[0]
    assert "asterisk_sip_driver" in _playbook_inputs("site.yml")[0]


# --- execution environment and collection requirements ---------------------------------------

EE = ROOT / "execution-environment.yml"


def _ee():
    return yaml.safe_load(EE.read_text())


def _pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).split("[")[0].lower()] = match.group(2)
    return pins


def _galaxy_dependencies():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]


def _minimum(spec):
    versions = [Version(s.version) for s in SpecifierSet(spec) if s.operator in (">=", "==")]
    assert versions, f"{spec!r} has no minimum"
    return max(versions)


def test_ee_is_builder_version_3_with_the_pinned_tool_chain():
    ee = _ee()
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    pins = _pins()
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core==" + pins["ansible-core"]
    assert ee["dependencies"]["ansible_runner"]["package_pip"] == "ansible-runner==" + pins["ansible-runner"]
    assert "ansible-builder" in pins
    for key in ("galaxy", "python", "system"):
        assert (ROOT / ee["dependencies"][key]).is_file(), key


def test_ee_turns_pipelining_on():
    """AWX jobs run with the EE's environment: pipelining on by default (docs/performance.md)."""
    assert "ENV ANSIBLE_PIPELINING=True" in _ee()["additional_build_steps"]["append_final"]


def test_the_preload_callback_is_enabled_where_the_collection_is_installed_not_by_the_ee():
    """The EE does not carry vpbx.hardened (the project does): enabling its callback there would warn
    in every job that runs without the project. The project's ansible.cfg, which AWX runs the job
    with, enables it (plugins/callback/preload.py, docs/performance.md)."""
    assert not any("CALLBACKS" in step for step in _ee()["additional_build_steps"]["append_final"])
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    assert "vpbx.hardened.preload" in config["defaults"]["callbacks_enabled"]


def _bundled_version(name):
    import ansible_collections

    manifests = [pathlib.Path(root).joinpath(*name.split("."), "MANIFEST.json") for root in ansible_collections.__path__]
    return json.loads(next(m for m in manifests if m.is_file()).read_text())["collection_info"]["version"]


def test_ee_collections_are_pinned_to_the_versions_make_test_runs():
    """Exact pins, equal to the collections of the `ansible` package requirements.txt pins (what the
    Molecule scenarios run); make ee installs those very files."""
    for entry in yaml.safe_load((ROOT / "execution-environment/requirements.yml").read_text())["collections"]:
        assert entry["version"].startswith("=="), entry
        assert entry["version"][2:] == _bundled_version(entry["name"]), entry


def test_ee_base_image_recipe_builds_from_debians_archive_with_the_package_manager_the_ee_names():
    recipe = (ROOT / "execution-environment/base/build.sh").read_text()
    assert "debootstrap" in recipe and "docker import" in recipe and "bookworm" in recipe
    assert not HOST_NAME.findall(recipe)
    assert _ee()["options"]["package_manager_path"] == "/usr/local/bin/vpbx-apt"
    assert "$root/usr/local/bin/vpbx-apt" in recipe
    assert _ee()["images"]["base_image"]["name"] in (ROOT / "scripts/ee.sh").read_text() or "localhost/" in recipe


@pytest.mark.parametrize("arguments, apt_calls", [
    # What ansible-builder's assemble and install-from-bindep scripts run (dnf style).
    (["install", "-y", "--nodocs", "--setopt", "install_weak_deps=0", "gcc", "libffi-dev"],
     ["update -qq", "install -y -qq --no-install-recommends gcc libffi-dev"]),
    (["install", "-y", "--enablerepo", "epel", "openssh-client"],
     ["update -qq", "install -y -qq --no-install-recommends openssh-client"]),
    (["install", "-y"], []),
    (["clean", "all"], ["clean"]),
])
def test_the_apt_wrapper_speaks_dnf_to_ansible_builder(tmp_path, arguments, apt_calls):
    log = tmp_path / "apt.log"
    fake = tmp_path / "apt-get"
    fake.write_text('#!/bin/sh\necho "$*" >> %s\n' % log)
    fake.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]))
    subprocess.run(["sh", str(ROOT / "execution-environment/base/vpbx-apt")] + arguments, env=env, check=True,
                   capture_output=True)
    assert (log.read_text().splitlines() if log.exists() else []) == apt_calls


def test_ee_python_requirements_are_what_the_plugins_import():
    """The file lists exactly the third-party libraries the plugins import on the controller, with
    the version requirements.txt pins."""
    listed = [ln.strip() for ln in (ROOT / _ee()["dependencies"]["python"]).read_text().splitlines()
              if ln.strip() and not ln.lstrip().startswith("#")]
    pinned = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
              if ln.strip() and not ln.lstrip().startswith("#")]
    imports = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imports |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imports.add(node.module.split(".")[0])
    # fail2ban: imported on the managed host by fail2ban_query and fail2ban_apply, never on the controller, and optional
    # there (the module falls back to running fail2ban-client).
    host_side = {"fail2ban"}
    third_party = {m for m in imports - {"ansible", "ansible_collections", "__future__"} - host_side
                   if m not in sys.stdlib_module_names}
    assert third_party == {ln.split("==")[0] for ln in listed} == {"phonenumbers", "zxcvbn"}, (third_party, listed)
    assert all("==" in ln and ln in pinned for ln in listed), (listed, pinned)
    assert "except ImportError" in (ROOT / "plugins" / "module_utils" / "fail2ban_client.py").read_text()


@pytest.mark.parametrize("path", ["execution-environment/requirements.yml", "collections/requirements.yml"])
def test_collection_requirements_cover_galaxy_dependencies(path):
    entries = yaml.safe_load((ROOT / path).read_text())["collections"]
    by_name = {e["name"]: e for e in entries}
    for name, spec in _galaxy_dependencies().items():
        assert name in by_name, f"{path} lacks {name}"
        assert _minimum(by_name[name]["version"]) >= _minimum(spec), f"{path}: {name} below galaxy.yml's minimum"


def test_ee_does_not_carry_the_collection_itself_but_the_project_does():
    ee_names = [e["name"] for e in yaml.safe_load((ROOT / "execution-environment/requirements.yml").read_text())["collections"]]
    assert "vpbx.hardened" not in ee_names and "." not in ee_names
    project = yaml.safe_load((ROOT / "collections/requirements.yml").read_text())["collections"]
    assert {"name": ".", "type": "dir"} in project


HOST_NAME = re.compile(r"(?i)\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:io|com|org|net|dev|cloud|app)\b|registry")


def _ee_files():
    ee = _ee()
    return [EE] + [ROOT / ee["dependencies"][k] for k in ("galaxy", "python", "system")]


def test_ee_files_name_no_registry_host():
    for path in _ee_files():
        assert not HOST_NAME.findall(path.read_text()), path


@pytest.mark.parametrize("text", ["name: quay.io/org/ee:1", "base: my.registry.example.com/ee", "registry: x",
                                  "ghcr.io/a/b", "docker.io/library/x"])
def test_the_host_check_catches_host_names(text):
    assert HOST_NAME.findall(text)
