#!/bin/sh
# make ee: the execution environment built and checked on this machine, nothing pulled, without
# Ansible Galaxy.
#  1. The base image, when missing: execution-environment/base/build.sh (Debian's archive only).
#  2. The pinned collections (execution-environment/requirements.yml) as local tarballs taken from
#     the `ansible` package in the virtualenv - the versions make test runs - when it holds exactly
#     those versions; otherwise ansible-builder fetches them from the configured Galaxy server.
#  3. ansible-builder build (docker), then the image is checked: ansible-core, the collections at
#     their pins, the controller libraries the plan imports, pipelining on.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
version=$(sed -n 's/^version: *//p' "$repo/galaxy.yml")
tag=${VPBX_EE_TAG:-vpbx-ee:$version}
base=$(sed -n 's/^ *name: *\(localhost\/[^ ]*\)$/\1/p' "$repo/execution-environment.yml" | head -n1)
context=$(mktemp -d /tmp/vpbx-ee.XXXXXX)
trap 'rm -rf "$context"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
  "$repo/execution-environment/base/build.sh" "$base"
fi

echo "==> the execution environment's definition, collections from the pinned bundle where it matches"
"$python" - "$repo" "$context" <<'PY'
import hashlib, io, json, os, shutil, sys, tarfile
import yaml
import ansible_collections

repo, context = sys.argv[1:3]
roots = list(ansible_collections.__path__)
ee = yaml.safe_load(open(os.path.join(repo, "execution-environment.yml")))
wanted = yaml.safe_load(open(os.path.join(repo, ee["dependencies"]["galaxy"])))["collections"]
os.makedirs(os.path.join(context, "collections"))
local = []
for entry in wanted:
    namespace, name = entry["name"].split(".")
    pin = entry["version"].lstrip("=")
    path = next(p for p in (os.path.join(root, namespace, name) for root in roots)
                if os.path.isfile(os.path.join(p, "MANIFEST.json")))
    with open(os.path.join(path, "MANIFEST.json"), encoding="utf-8") as handle:
        have = json.load(handle)["collection_info"]["version"]
    if have != pin:
        sys.exit("%s: the pinned %s is not the bundled %s - build with Galaxy (ansible-builder build -f "
                 "execution-environment.yml) or move the pin" % (entry["name"], pin, have))
    tarball = "%s-%s-%s.tar.gz" % (namespace, name, pin)
    # The package ships each collection without its CI files (.azure-pipelines...): its FILES.json
    # lists only what is there, and MANIFEST.json the new FILES.json's digest, as ansible-galaxy checks.
    with open(os.path.join(path, "FILES.json"), encoding="utf-8") as handle:
        files = json.load(handle)
    files["files"] = [f for f in files["files"] if f["name"] == "." or os.path.lexists(os.path.join(path, f["name"]))]
    files_json = json.dumps(files, indent=4).encode()
    with open(os.path.join(path, "MANIFEST.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    manifest_json = json.dumps(manifest, indent=4).encode()
    with tarfile.open(os.path.join(context, "collections", tarball), "w:gz") as archive:
        for item, data in (("MANIFEST.json", manifest_json), ("FILES.json", files_json)):
            info = tarfile.TarInfo(item)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
        for item in sorted(os.listdir(path)):
            if item not in ("__pycache__", "MANIFEST.json", "FILES.json"):
                archive.add(os.path.join(path, item), arcname=item,
                            filter=lambda info: None if "__pycache__" in info.name else info)
    local.append({"name": "/build/collections/" + tarball, "type": "file"})
    print("  %s %s (bundled)" % (entry["name"], pin))
with open(os.path.join(context, "requirements.yml"), "w") as handle:
    yaml.safe_dump({"collections": local}, handle)
for key in ("python", "system"):
    shutil.copy(os.path.join(repo, ee["dependencies"][key]), os.path.join(context, os.path.basename(ee["dependencies"][key])))
    ee["dependencies"][key] = os.path.basename(ee["dependencies"][key])
ee["dependencies"]["galaxy"] = "requirements.yml"
ee.setdefault("additional_build_files", []).append({"src": "collections", "dest": "collections"})
ee.setdefault("additional_build_steps", {}).setdefault("prepend_galaxy", []).append(
    "COPY _build/collections /build/collections")
ee["options"].pop("tags", None)
with open(os.path.join(context, "execution-environment.yml"), "w") as handle:
    yaml.safe_dump(ee, handle, sort_keys=False)
PY

echo "==> ansible-builder build $tag (several minutes)"
cd "$context"
ansible-builder build --container-runtime docker -f execution-environment.yml --context "$context/build" \
  --tag "$tag" --build-arg ANSIBLE_GALAXY_CLI_COLLECTION_OPTS=--offline -v 1 >"$context/build.log" 2>&1 \
  || { tail -40 "$context/build.log" >&2; exit 1; }

echo "==> checking $tag"
docker run --rm "$tag" sh -c '
  set -e
  ansible --version | head -n1
  ansible-galaxy collection list 2>/dev/null | grep -E "^(community\.general|ansible\.posix|community\.mysql) "
  python3 -c "import phonenumbers, zxcvbn; print(\"phonenumbers\", phonenumbers.__version__)"
  test "$ANSIBLE_PIPELINING" = True && echo "pipelining on"
  test -z "${ANSIBLE_CALLBACKS_ENABLED:-}" && echo "no callback enabled by the image"
' >"$context/check.txt" 2>&1 || { cat "$context/check.txt" >&2; echo "the image failed its check" >&2; exit 1; }
cat "$context/check.txt"
# Each collection at its pin, the controller library at requirements.txt's pin.
"$python" - "$repo" "$context/check.txt" <<'PY'
import re, sys
import yaml
repo, check = sys.argv[1:3]
text = open(check).read()
wanted = yaml.safe_load(open(repo + "/execution-environment/requirements.yml"))["collections"]
missing = [e["name"] for e in wanted if not re.search(r"^%s\s+%s\s*$" % (re.escape(e["name"]), re.escape(e["version"].lstrip("="))), text, re.M)]
pin = re.search(r"^phonenumbers==(\S+)", open(repo + "/requirements.txt").read(), re.M).group(1)
if "phonenumbers " + pin not in text:
    missing.append("phonenumbers " + pin)
if missing:
    sys.exit("not in the image as pinned: " + ", ".join(missing))
PY
echo "execution environment: $tag"
