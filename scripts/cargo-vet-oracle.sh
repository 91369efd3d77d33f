#!/usr/bin/env bash
# Regenerates cargo-vet's own conclusion for wasmtime's Cargo.lock, the oracle that
# Quorum's cargo-vet semantics are compared with (verifier/tests/data/cargo-vet/).
#
# Needs network once (cargo fetch of wasmtime's dependencies, `cargo install cargo-vet`),
# so it is run by hand, not by the test command; its output is committed.
#
#   scripts/cargo-vet-oracle.sh <wasmtime checkout at e6b33de5139d915a48127fc78b790e2d306cf896>
#
# What it asks cargo-vet: which packages of the lockfile are audited for safe-to-deploy
# by audits alone (wasmtime's own audits.toml, its imports.lock, wildcard audits and trusted
# entries), with every exemption removed and every package required to meet safe-to-deploy
# (also those wasmtime only needs safe-to-run for, as dev-dependencies). cargo-vet runs
# with --locked --frozen: it reads the imports from imports.lock, never from the network.
set -euo pipefail
checkout=$(cd "${1:?usage: $0 <wasmtime checkout>}" && pwd)
out_dir=$(cd "$(dirname "$0")/.." && pwd)/verifier/tests/data/cargo-vet
expected=e6b33de5139d915a48127fc78b790e2d306cf896
commit=$(git -C "$checkout" rev-parse HEAD)
[ "$commit" = "$expected" ] || { echo "the checkout is at $commit, not $expected" >&2; exit 1; }
command -v cargo-vet >/dev/null || cargo install cargo-vet --version 0.10.3 --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$checkout/." "$work/"
cd "$work"
cargo fetch --locked >/dev/null
# As configured (exemptions and per-crate criteria as wasmtime wrote them).
cargo vet --locked --frozen --output-format=json >"$out_dir/wasmtime-as-configured.json" || true
# safe-to-deploy for every package, no exemptions.
python3 - <<'PY'
import json, re, subprocess, tomllib
path = "supply-chain/config.toml"
text = open(path).read()
config = tomllib.loads(text)
cut = text.find("[[exemptions.")
if cut >= 0:
    text = text[:cut]
blocks = []
for block in re.split(r"(?m)^(?=\[)", text):
    if re.match(r'\[policy\.', block):
        lines = [l for l in block.split("\n") if not l.startswith(("criteria", "dev-criteria"))]
        lines.insert(1, 'criteria = "safe-to-deploy"\ndev-criteria = "safe-to-deploy"')
        block = "\n".join(lines)
    blocks.append(block)
text = "".join(blocks)
meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--locked", "--frozen", "--no-deps"]))
policies = config.get("policy", {})
for name in sorted({p["name"] for p in meta["packages"]}):
    if name not in policies:
        text += f'\n[policy.{name}]\ncriteria = "safe-to-deploy"\ndev-criteria = "safe-to-deploy"\n'
open(path, "w").write(text)
PY
cargo vet fmt
cargo vet --locked --frozen --output-format=json >"$out_dir/wasmtime-safe-to-deploy-no-exemptions.json" || true
echo "cargo-vet $(cargo vet --version) conclusions written to $out_dir" >&2
