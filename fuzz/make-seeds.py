#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from public test vectors.

Sources (see fuzz/README.md): the repository's test-vectors/quorum/*.json, and the
public vectors collected in /work/shared/vectors (C2SP spec examples, golang.org/x/mod
sumdb, transparency-dev formats/tessera/witness, FiloSottile torchwood/sunlight, sigsum
policies). Seeds are data only; run it again to regenerate (it overwrites seed-*.bin).
"""
import base64, hashlib, json, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("QUORUM_SHARED_VECTORS", "/work/shared/vectors"))
OUT = ROOT / "fuzz" / "corpus"
MAX_SEED = 64 * 1024

def load(p):
    return json.loads(Path(p).read_text())

seeds = {}
def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    seeds.setdefault(target, set()).add(bytes(data))

c2sp = load(SHARED / "C2SP-C2SP/spec-examples.json")
gomod = load(SHARED / "golang-mod/sumdb-vectors.json")
formats = load(SHARED / "transparency-dev-formats/formats-vectors.json")
torch = load(SHARED / "FiloSottile-torchwood/litewitness-add-checkpoint-sequence.json")
mldsa = load(SHARED / "FiloSottile-torchwood/mldsa44-log-checkpoint.json")
pixel = load(SHARED / "transparency-dev-witness/pixel-checkpoint-armoredwitness-cosigned.json")

# --- notes, checkpoints, keys -------------------------------------------------------
notes = [c2sp["signed_note_example"]["note"], c2sp["checkpoint_example"]["note"],
         gomod["note"]["signed_note_peter"], pixel["checkpoint"]]
notes += [c["note"] for c in formats["ecdsa_checkpoints_type_0x02"]]
notes += [v for k, v in mldsa.items() if isinstance(v, str) and "\n\n" in v]
for f in sorted((SHARED / "transparency-dev-tessera/testdata/log").glob("checkpoint*")):
    notes.append(f.read_text())
sun = SHARED / "FiloSottile-sunlight/cmd/skylight/testdata/tree/checkpoint"
if sun.exists():
    notes.append(sun.read_text())
for f in sorted((SHARED / "transparency-dev-armored-witness/devices/prod").glob("*.witness.0"))[:4]:
    notes.append(f.read_text())
for m in gomod["note"]["malformed_notes"]:
    add("note", m)
for n in notes:
    add("note", n)
    add("checkpoint", n)
    add("cosignature", n)
    add("checkpoint", n.split("\n\n")[0] + "\n")
add("checkpoint", gomod["tlog_note_formats"]["tree_note"]["golden"])

vkeys = ["example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         gomod["sum_golang_org_vkey"], formats["ed25519_keys"][0]["vkey"],
         formats["ed25519_keys"][0]["skey"], torch["log"]["vkey"]]
vkeys += list(gomod["note"]["verifier_keys"].values())
vkeys += [k["vkey"] for k in formats["bad_ecdsa_vkeys"]]
vkeys += [k["vkey"] for k in formats["rfc6962_sth_vkeys_type_0x05"]]
vkeys += [c["vkey"] for c in formats["ecdsa_checkpoints_type_0x02"]]
vkeys += pixel["witness_vkeys_as_published"]
vkeys += [v for k, v in mldsa.items() if isinstance(v, str) and k.endswith("vkey")]
vkeys += [line for line in gomod["note"]["signature_lines"].values()]
vkeys.append(c2sp["cosignature_example"]["line"])
for k in vkeys:
    add("note_key", k)

# Principal keys in the one key grammar: 64 hex digits, ed25519:<hex>, a signed-note
# verifier key; and near misses (case, length, prefix).
for k in vkeys:
    add("principal_key", k)
for hexkey in ["00" * 32, "77aa" + "00" * 30, "ca1f" + "0" * 58 + "e0"]:
    add("principal_key", hexkey)
    add("principal_key", "ed25519:" + hexkey)
    add("principal_key", hexkey.upper())
    add("principal_key", hexkey[:-2])
    add("principal_key", "ed25519:" + hexkey + "00")

# A checkpoint cosigned by the fuzz crate's fixed cosigner (all-zero seed), so the
# cosignature target starts from a note whose cosignature verifies.
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    sk = Ed25519PrivateKey.from_private_bytes(bytes(32))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    name = "witness.example/w1"
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + pk).digest()[:4]
    text = "example.com/log\n5\n" + base64.b64encode(hashlib.sha256(b"root").digest()).decode() + "\n"
    ts = 1700000000
    sig = sk.sign(f"cosignature/v1\ntime {ts}\n".encode() + text.encode())
    line = "— %s %s\n" % (name, base64.b64encode(key_id + ts.to_bytes(8, "big") + sig).decode())
    add("cosignature", text + "\n" + line)
    add("note", text + "\n" + line)
    add("cosignature", ts.to_bytes(8, "big") + sig)
    add("note_key", "%s+%s+%s" % (name, key_id.hex(), base64.b64encode(b"\x04" + pk).decode()))
except ImportError:
    print("python cryptography missing: no cosigned seed", file=sys.stderr)
line = c2sp["cosignature_example"]["line"]
add("cosignature", base64.b64decode(line.split(" ")[-1])[4:])

# --- tlog-proof, tlog-policy, witness requests -------------------------------------
add("tlog_proof", c2sp["tlog_proof_example"])
for case in formats["tlog_proof_marshal"]:
    hashes = [base64.b64encode(hashlib.sha256(h.encode()).digest()).decode() for h in case.get("hashes_of", [])]
    body = "c2sp.org/tlog-proof@v1\n"
    if case.get("extra"):
        body += "extra " + base64.b64encode(case["extra"].encode()).decode() + "\n"
    body += "index %d\n" % case["index"] + "".join(h + "\n" for h in hashes) + "\n" + case["checkpoint"]
    add("tlog_proof", body)
wv = [pixel["witness_vkeys_as_published"][0], pixel["witness_vkeys_as_published"][1],
      formats["ed25519_keys"][0]["vkey"]]
pol = c2sp["tlog_policy_example"].replace("log <vkey>", "log " + gomod["sum_golang_org_vkey"])
for v in wv:
    pol = pol.replace("<vkey>", v, 1)
add("tlog_policy", pol)
add("tlog_policy", c2sp["tlog_policy_example"])
for f in sorted((SHARED / "sigsum-sigsum-go/pkg/policy/builtin").glob("*")):
    add("tlog_policy", f.read_bytes())
add("witness_request", c2sp["witness_add_checkpoint_request_example"])
for step in torch["sequence_single_witness_state"]:
    add("witness_request", step["request_body"])
add("witness_request", torch["sumdb_case"]["request_body"])

# --- Quorum's own statements, envelopes, predicates, log entries ---------------------
tv = ROOT / "test-vectors/quorum"
types = ["https://quorum.dev/attestation/adoption/v1", "https://quorum.dev/attestation/audit/v1",
         "https://quorum.dev/attestation/trust/v1", "https://quorum.dev/attestation/revocation/v1",
         "https://quorum.dev/attestation/ownership-change/v1", "https://openvex.dev/ns/v0.2.0"]
st = load(tv / "statements.json")
for group in ("valid", "invalid"):
    for case in st[group]:
        s = case["statement"]
        add("statement", s)
        try:
            v = json.loads(s)
            t = v.get("predicateType")
            if t in types and isinstance(v.get("predicate"), dict):
                add("predicate", bytes([types.index(t)]) + json.dumps(v["predicate"]).encode())
        except Exception:
            pass
env = load(tv / "envelopes.json")
for group in ("valid", "invalid"):
    for case in env[group]:
        if "envelope" in case:
            add("dsse_envelope", case["envelope"])
le = load(tv / "log-entries.json")
for group in ("valid", "invalid"):
    for case in le[group]:
        if "entry" in case:
            raw = bytes.fromhex(case["entry"])
            add("log_entry", raw)
            add("dsse_envelope", raw)

# --- verifier policy files -----------------------------------------------------------
pk_hex = "11" * 32
add("policy", """[log]
origin = "example.com/log"
key = "%s"
url = "http://127.0.0.1:1"

[witnesses]
policy = \"\"\"
witness w1 %s
witness w2 %s
group both all w1 w2
quorum both
\"\"\"

[trust]
roots = ["me"]
mode = "trust"

[aliases]
me = "%s"

[[rule]]
packages = "pkg:cargo/*"
min_adoption = 0.6
min_adopters = 2
required_criteria = ["safe-to-deploy"]
""" % (vkeys[0], wv[0], wv[1], pk_hex))
add("policy", b"pkg:cargo/*-sys\x00pkg:cargo/openssl-sys")
add("policy", b"*a*a*a*a*a*a*a*b\x00" + b"a" * 60)

# --- lockfiles (small hand-written ones of each format, plus the head of ours) -------
cargo_lock = (ROOT / "Cargo.lock").read_text().split("\n[[package]]")
add("lockfile_cargo", "\n[[package]]".join(cargo_lock[:12]))
add("lockfile_cargo", """# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"

[[package]]
name = "local"
version = "0.2.0"
source = "git+https://example.invalid/x#abc"
""")
add("lockfile_npm", """{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"},
"node_modules/left-pad":{"version":"1.3.0","integrity":"sha512-AAAA","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"},
"node_modules/@types/node":{"version":"20.1.0"},"node_modules/a/node_modules/left-pad":{"version":"1.1.0"},
"node_modules/linked":{"link":true}}}""")
add("lockfile_npm", '{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}}}}')
add("lockfile_requirements", "# comment\n--index-url https://pypi.org/simple\nRequests[socks]==2.31.0 \\\n    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f\nZope.Interface==6.0 ; python_version >= \"3.8\"\n-e ./local\n")
add("lockfile_uv", """version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "Typing_Extensions"
version = "4.12.2"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://x.invalid/t.tar.gz", hash = "sha256:1a7ead55c7e559dd4dee8856e3a88b41225abfe1ce8df57b7c13915fe121ffb8" }
wheels = [{ url = "https://x.invalid/t.whl", hash = "sha256:04ead55c7e559dd4dee8856e3a88b41225abfe1ce8df57b7c13915fe121ffb8" }]
""")
add("lockfile_poetry", """# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "click"
version = "8.1.7"
description = "Composable command line interface toolkit"
optional = false
python-versions = ">=3.7"
files = [
    {file = "click-8.1.7-py3-none-any.whl", hash = "sha256:ae74fb96c20a0277a1d615f1e4d73c8414f5a98db8b799a7931d1582f3390c28"},
]

[metadata]
lock-version = "2.0"
""")

add("lockfile_pnpm", """lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      left-pad:
        specifier: ^1.3.0
        version: 1.3.0

packages:

  '@types/node@20.1.0':
    resolution: {integrity: sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEK7j+0o7Z3YUQ/r6rQHJ0tS70kK7hRthYVdmVXUbW4xBPA==}

  gitdep@https://codeload.github.com/x/gitdep/tar.gz/0123abc:
    resolution: {tarball: https://codeload.github.com/x/gitdep/tar.gz/0123abc}
    version: 1.0.0

snapshots:

  '@types/node@20.1.0': {}
""")
add("lockfile_pnpm", """lockfileVersion: '6.0'

packages:

  /@babel/core@7.23.9(supports-color@8.1.1):
    resolution: {integrity: sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEK7j+0o7Z3YUQ/r6rQHJ0tS70kK7hRthYVdmVXUbW4xBPA==}
    dev: true

  github.com/x/y/0123abc:
    resolution: {type: git, repo: https://github.com/x/y, commit: 0123abc}
    name: y
    version: 0.1.0
""")
add("lockfile_pnpm", "---\nlockfileVersion: 5.4\npackages:\n  /left-pad/1.3.0_peer@1.0.0:\n    resolution: {integrity: sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=}\n---\nlockfileVersion: '9.0'\n")
add("lockfile_yarn", """# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  integrity sha512-HV1Cm0Q3ZrpCR93tkWOYiuYIgLxZXZFVG2VgK+MBWjUqZTundupbfx2aXarXuw5Ko5aMcjtJgbSs4vUGBS5v6g==
  dependencies:
    "@babel/highlight" "^7.12.13"

yargs@^9.0.0:
  version "9.0.1"
  resolved "https://registry.yarnpkg.com/yargs/-/yargs-9.0.1.tgz#52acc23feecac34042078ee78c0c007f5085db4c"
  integrity sha1-UqzCP+7Kw0BCB47njAwAf1CF20w=
""")
add("lockfile_yarn", """# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"left-pad@npm:^1.3.0":
  version: 1.3.0
  resolution: "left-pad@npm:1.3.0"
  checksum: 10c0/%s
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  languageName: unknown
  linkType: soft

"typescript@patch:typescript@npm%%3A5.0.0#~builtin<compat/typescript>":
  version: 5.0.0
  resolution: "typescript@patch:typescript@npm%%3A5.0.0#~builtin<compat/typescript>::version=5.0.0&hash=1f5320"
  checksum: 10c0/%s
  languageName: node
  linkType: hard
""" % ("ab" * 64, "cd" * 64))

# --- tiles ---------------------------------------------------------------------------
for p in ["tile/0/000", "tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1",
          "tile/entries/x001/x234/067.p/8", "tile/entries/000", "tile/63/x018/x446/x744/x073/x709/551/615"]:
    add("tile_path", p)
for e in c2sp["tile_index_encoding"]:
    add("tile_path", "tile/0/" + e["path"])
for e in gomod["tile_paths_height_in_path"]:
    add("tile_path", e["path"])
tess = SHARED / "transparency-dev-tessera/testdata/log/tile"
for f in sorted(tess.rglob("*")):
    if f.is_file():
        rel = f.relative_to(tess.parent).as_posix()
        add("tile_path", rel)
        data = f.read_bytes()
        width = int(rel.rsplit("/", 1)[1]) if ".p/" in rel else 256
        add("tile_data", data)
        add("tile_data", bytes([width - 1, 0, 0]) + data)

for target, items in sorted(seeds.items()):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    for data in sorted(items):
        (d / ("seed-" + hashlib.sha256(data).hexdigest()[:16])).write_bytes(data)
    print(f"{target}: {len(items)} seeds")
