#!/usr/bin/env bash
# The main job: an end-to-end run of Quorum on the embedded SQLite default, on loopback.
#
# Builds the three binaries, starts a log and two witnesses, and plays a scenario through the
# real binaries and HTTP APIs: an auditor publishes an audit, users vouch and adopt versions,
# a farm of fresh keys pushes a compromised release, a trusted security team reports it and
# names the fix, a package changes owner. Then it verifies a Cargo.lock against a policy and
# prints the decisions, the cosigned checkpoint they rest on, and where to look next. Last, a
# real project: wasmtime's cargo-vet supply-chain/ folder becomes a Quorum policy and signed
# statements (`quorum init --from-cargo-vet`), RustSec's advisory database is imported, and
# wasmtime's real Cargo.lock is verified against them.
#
#   scripts/demo.sh           run and shut everything down
#   scripts/demo.sh --keep    leave the log and witnesses running for exploring
#
# Every decision is checked against what the scenario must produce; a mismatch fails the run
# (exit 1), so the test suite runs this same script (cli/tests/scenario.rs) with
# QUORUM_BIN_DIR pointing at the test build and free ports in LOG_PORT, W1_PORT, W2_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false
[ "${1:-}" = "--keep" ] && keep=true

LOG_PORT=${LOG_PORT:-18080}
W1_PORT=${W1_PORT:-18081}
W2_PORT=${W2_PORT:-18082}
LOG_URL="http://127.0.0.1:$LOG_PORT"
ORIGIN="quorum.demo/log"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -n "${QUORUM_BIN_DIR:-}" ]; then
  BIN=$QUORUM_BIN_DIR
else
  say "building (release)"
  cargo build --release --locked -q --bin quorum --bin quorum-log --bin quorum-witness
  BIN=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
fi
export PATH="$BIN:$PATH"

work=$(mktemp -d /tmp/quorum-demo.XXXXXX)
pids=()
cleanup() {
  if ! $keep; then
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
  fi
}
trap cleanup EXIT

wait_http() {
  for _ in $(seq 1 100); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "demo: $1 did not come up; see the logs in $work" >&2
  return 1
}

say "starting two witnesses and a log on loopback (SQLite in $work)"
declare -A wkey
for w in 1 2; do
  port_var="W${w}_PORT"
  port=${!port_var}
  wkey[$w]=$(quorum-witness keygen --name "w$w.demo" --out "$work/w$w.key" --data-dir "$work/w$w" 2>/dev/null | head -n1)
done
log_vkey=$(quorum-log keygen --origin "$ORIGIN" --out "$work/log.key" 2>/dev/null | head -n1)
for w in 1 2; do
  port_var="W${w}_PORT"
  port=${!port_var}
  quorum-witness add-log --data-dir "$work/w$w" --origin "$ORIGIN" --key "$log_vkey" >/dev/null
  quorum-witness serve --data-dir "$work/w$w" --key-file "$work/w$w.key" --listen "127.0.0.1:$port" \
    >"$work/w$w.log" 2>&1 &
  pids+=($!)
done
cat >"$work/log.toml" <<EOF
listen = "127.0.0.1:$LOG_PORT"
data_dir = "$work/log"
key_file = "$work/log.key"
checkpoint_interval_ms = 500
required_cosignatures = 2

[[witnesses]]
url = "http://127.0.0.1:$W1_PORT"
vkey = "${wkey[1]}"

[[witnesses]]
url = "http://127.0.0.1:$W2_PORT"
vkey = "${wkey[2]}"
EOF
wait_http "http://127.0.0.1:$W1_PORT/healthz"
wait_http "http://127.0.0.1:$W2_PORT/healthz"
quorum-log serve --config "$work/log.toml" >"$work/log.log" 2>&1 &
pids+=($!)
wait_http "$LOG_URL/healthz"
echo "log     $LOG_URL  ($log_vkey)"
echo "witness http://127.0.0.1:$W1_PORT  (${wkey[1]})"
echo "witness http://127.0.0.1:$W2_PORT  (${wkey[2]})"

# Evidence rests on the published checkpoint, which waits for both witnesses: wait until it
# covers every entry the log has sequenced.
wait_cosigned() {
  local want
  want=$(curl -fsS "$LOG_URL/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
  for _ in $(seq 1 100); do
    [ "$(curl -fsS "$LOG_URL/checkpoint" | sed -n 2p)" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "demo: the witnesses did not cosign size $want in time; see $work/*.log" >&2
  return 1
}

# Runs `quorum verify --lockfile` as the developer, shows the table, then checks each
# package's decision against the expected one ("name=decision" arguments).
failures=0
verify_expecting() { # lockfile, expected exit code, name=decision...
  local lockfile=$1 want_code=$2 code
  shift 2
  set +e
  quorum --state-dir "$work/people/me" verify --lockfile "$lockfile"
  code=$?
  set -e
  echo "exit code $code"
  quorum --state-dir "$work/people/me" verify --lockfile "$lockfile" --json >"$work/decisions.json" || true
  if ! python3 - "$work/decisions.json" "$want_code" "$code" "$@" <<'PY'
import json, sys
path, want_code, code, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
record = json.load(open(path))
got = {}
for d in record["decisions"]:
    got[d["package"].split("/")[-1]] = d["verdict"]
bad = [f"{e}: got {got.get(e.split('=')[0], 'nothing')}" for e in expected
       if got.get(e.split("=")[0]) != e.split("=")[1]]
if code != want_code:
    bad.append(f"exit code {code}, expected {want_code}")
if bad:
    print("demo: UNEXPECTED DECISIONS: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
print("checked: " + ", ".join(expected) + f", exit code {code}")
PY
  then
    failures=$((failures + 1))
  fi
}

# --- people -------------------------------------------------------------------------------
# What every client believes about the log: its key and the witnesses that must cosign.
# With it, each publishing command verifies the receipt the log hands back (signature,
# both cosignatures, inclusion of the entry) before saving it.
log_and_witnesses() {
  cat <<EOF
[log]
origin = "$ORIGIN"
key = "$log_vkey"
url = "$LOG_URL"

[witnesses]
policy = """
witness w1 ${wkey[1]}
witness w2 ${wkey[2]}
group both all w1 w2
quorum both
"""
EOF
}
declare -A pub
person() { # name
  pub[$1]=$(quorum --state-dir "$work/people/$1" keygen --name "$1" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
  { log_and_witnesses; printf '\n[trust]\nroots = ["%s"]\n' "${pub[$1]}"; } >"$work/people/$1/policy.toml"
}
as() { # name, command...
  local who=$1
  shift
  quorum --state-dir "$work/people/$who" --log "$LOG_URL" "$@" >/dev/null
}
for p in me alice secteam bob carol dave erin; do person "$p"; done

# Artifact digests stand in for the registry's .crate checksums.
sum() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
SERDE=$(sum serde-1.0.200)
PAD=$(sum left-pad-rs-2.0.0-compromised)
PAD_FIX=$(sum left-pad-rs-2.0.1)
TOKIO=$(sum tokio-1.40.0)
RAND=$(sum rand-0.9.0)

lock() { # file, then "name version digest" lines
  local file=$1
  shift
  {
    echo '# This file is automatically @generated by Cargo.'
    echo 'version = 4'
    for spec in "$@"; do
      read -r name version digest <<<"$spec"
      printf '\n[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "%s"\n' \
        "$name" "$version" "$digest"
    done
  } >"$file"
}

say "the developer vouches for colleagues, an auditor and a security team"
for p in alice secteam bob carol dave; do as me trust "${pub[$p]}" --level high; done

say "colleagues adopt what they run (each from their own Cargo.lock)"
lock "$work/bob.lock" "serde 1.0.200 $SERDE" "left-pad-rs 1.9.0 $(sum left-pad-rs-1.9.0)" "tokio 1.39.0 $(sum tokio-1.39.0)"
lock "$work/carol.lock" "serde 1.0.200 $SERDE" "left-pad-rs 1.9.0 $(sum left-pad-rs-1.9.0)" "rand 0.9.0 $RAND"
lock "$work/dave.lock" "serde 1.0.200 $SERDE" "tokio 1.39.0 $(sum tokio-1.39.0)"
for p in bob carol dave; do as "$p" adopt --lockfile "$work/$p.lock"; done

say "bob vouches for erin, whom the developer does not know; erin adopts serde (counted through bob)"
as bob trust "${pub[erin]}" --level medium
as erin adopt "pkg:cargo/serde@1.0.200" --digest "$SERDE"

say "alice audits serde 1.0.200: safe-to-deploy, no network"
as alice attest "pkg:cargo/serde@1.0.200" --digest "$SERDE" --verdict pass --criteria safe-to-deploy --capabilities filesystem

say "alice keeps an offline-verifiable receipt of her audit (quorum receipt verify)"
receipt=$(ls "$work/people/alice/receipts/"*.json | head -n1)
quorum --state-dir "$work/people/alice" receipt verify "$receipt"

say "a farm of 25 fresh keys pushes left-pad-rs 2.0.0 (compromised)"
for i in $(seq 1 25); do
  person "sybil$i"
  as "sybil$i" adopt "pkg:cargo/left-pad-rs@2.0.0" --digest "$PAD"
done

say "tokio changes owner with 1.40.0; carol starts using it"
as carol ownership-change "pkg:cargo/tokio" --previous tokio-team --new new-maintainer
as carol adopt "pkg:cargo/tokio@1.40.0" --digest "$TOKIO"

say "the developer's policy and lockfile"
{ log_and_witnesses; cat <<EOF; } >"$work/people/me/policy.toml"

[trust]
roots = ["me"]
mode = "trust"

[aliases]
me = "${pub[me]}"
alice = "${pub[alice]}"
secteam = "${pub[secteam]}"

# Packages no rule below matches are never installed on no evidence.
[fallback]
verdict = "insufficient-evidence"

[[rule]]
packages = "pkg:cargo/*"
min_adoption = 0.6
min_adopters = 2
required_criteria = ["safe-to-deploy"]
EOF
lock "$work/app.lock" "serde 1.0.200 $SERDE" "left-pad-rs 2.0.0 $PAD" "tokio 1.40.0 $TOKIO" "rand 0.9.0 $RAND"
sed -n '/^# Packages no rule/,$p' "$work/people/me/policy.toml"

wait_cosigned
say "verify, before the compromise is reported"
verify_expecting "$work/app.lock" 2 \
  serde=allow left-pad-rs=insufficient-evidence tokio=insufficient-evidence rand=insufficient-evidence

say "the security team reports left-pad-rs 2.0.0 malicious, fixed in 2.0.1"
as secteam advise "pkg:cargo/left-pad-rs" MAL-2026-0001 --malicious --affected 2.0.0 --fixed 2.0.1
wait_cosigned
lock "$work/app-fixed.lock" "serde 1.0.200 $SERDE" "left-pad-rs 2.0.1 $PAD_FIX" "tokio 1.40.0 $TOKIO" "rand 0.9.0 $RAND"

say "verify again: the compromised version is denied"
verify_expecting "$work/app.lock" 1 \
  serde=allow left-pad-rs=deny tokio=insufficient-evidence rand=insufficient-evidence
say "with the fix version pinned instead (allowed at once by the advisory)"
verify_expecting "$work/app-fixed.lock" 2 \
  serde=allow left-pad-rs=allow tokio=insufficient-evidence rand=insufficient-evidence

say "why: every statement about left-pad-rs 2.0.0, counted or not (quorum explain)"
quorum --state-dir "$work/people/me" explain "pkg:cargo/left-pad-rs@2.0.0" >"$work/explain.txt" || true
head -n 12 "$work/explain.txt"
echo "  ... ($(wc -l <"$work/explain.txt") lines in all)"

say "the cosigned checkpoint the decisions rest on ($LOG_URL/checkpoint)"
curl -fsS "$LOG_URL/checkpoint"

# --- a real project ----------------------------------------------------------------------
# wasmtime's real supply-chain/ folder and Cargo.lock, and RustSec's real advisory database
# (../shared/realdata, REALDATA to override): skipped, and said so, where they are absent.
real=${REALDATA:-../shared/realdata}
WASMTIME_REV=e6b33de5139d915a48127fc78b790e2d306cf896
if [ -d "$real/cargo-vet/wasmtime" ] && [ -d "$real/rustsec-advisory-db/crates" ]; then
  say "a real project moves from cargo-vet: quorum init --from-cargo-vet on wasmtime's supply-chain/"
  dev="$work/people/wasmtime-dev"
  quorum --state-dir "$dev" --log "$LOG_URL" init --origin "$ORIGIN" --log-key "$log_vkey" \
    --witness "${wkey[1]}" --witness "${wkey[2]}" \
    --from-cargo-vet "$real/cargo-vet/wasmtime" --project wasmtime --revision "$WASMTIME_REV" \
    --cargo-vet-source "https://raw.githubusercontent.com/bytecodealliance/wasmtime/$WASMTIME_REV/supply-chain" \
    >"$work/init.txt" 2>"$work/init.err"
  grep -v '^  pkg:' "$work/init.txt" | grep -v '^not allowed' || true
  echo "($(grep -c '^skipped' "$work/init.err") entries of imports.lock skipped: wasmtime's own unpublished crates)"
  echo "not allowed, the first of $(grep -c '^  pkg:' "$work/init.txt"):"
  awk '/^  pkg:/ && !/exempted by/ && n++ < 3' "$work/init.txt"
  awk '/^  pkg:/ && /exempted by/ && m++ < 3' "$work/init.txt"

  say "RustSec's advisory database, restated by a RustSec importer the developer names"
  person rustsec
  as rustsec import rustsec "$real/rustsec-advisory-db" \
    --source https://github.com/rustsec/advisory-db --revision bf5c0d245a92671908518d7e765914d437954ed6
  printf '\n[powers.advisory_veto]\nholders = ["%s"]\n' "${pub[rustsec]}" >>"$dev/policy.toml"
  sed -n '/^# From cargo-vet/,$p' "$dev/policy.toml"
  wait_cosigned

  say "verify wasmtime's real Cargo.lock: $(grep -c '^\[\[package\]\]' "$real/cargo-vet/wasmtime/Cargo.lock") packages"
  set +e
  quorum --state-dir "$dev" verify --lockfile "$real/cargo-vet/wasmtime/Cargo.lock" --json >"$work/real.json"
  code=$?
  set -e
  echo "why gimli 0.32.3 is allowed: a full audit, then delta audits, every link safe-to-deploy"
  quorum --state-dir "$dev" explain "pkg:cargo/gimli@0.32.3" >"$work/explain-real.txt" || true
  sed -n '1,/^rejected/p' "$work/explain-real.txt" | head -n 16
  if ! python3 - "$work/real.json" "$code" <<'PY'
import json, sys
record, code = json.load(open(sys.argv[1])), int(sys.argv[2])
got = {f'{d["package"].split("/")[-1]}@{d["version"]}': d for d in record["decisions"]}
counts = {v: sum(d["verdict"] == v for d in got.values()) for v in ("allow", "deny", "insufficient-evidence")}
print(f"{len(got)} registry packages decided: {counts['allow']} allow, {counts['deny']} deny, "
      f"{counts['insufficient-evidence']} insufficient-evidence (cargo-vet without exemptions: 345 vetted, 140 not)")
expected = {
    "adler2@2.0.0": "allow",          # a full audit by wasmtime
    "gimli@0.32.3": "allow",          # a full audit, then a chain of delta audits
    "arbitrary@1.4.2": "allow",       # a wildcard audit over a crates.io publisher record
    "aho-corasick@1.0.2": "allow",    # a trusted entry over a publisher record
    "aes@0.8.4": "insufficient-evidence",  # exempted in config.toml: not an audit
}
bad = [f"{p}: got {got.get(p, {}).get('verdict', 'nothing')}" for p, v in expected.items()
       if got.get(p, {}).get("verdict") != v]
for p in expected:
    d = got.get(p)
    if d:
        print(f"  {p}: {d['verdict']}: {'; '.join(d['reasons'])}")
if (len(got), counts["allow"], counts["deny"], counts["insufficient-evidence"], code) != (485, 345, 0, 140, 2):
    bad.append(f"counts {counts}, exit code {code}")
if bad:
    print("demo: UNEXPECTED REAL DECISIONS: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
print("checked real: 485 packages, 345 allow, 0 deny, 140 insufficient-evidence, exit code 2; "
      + ", ".join(f"{p}={v}" for p, v in expected.items()))
PY
  then
    failures=$((failures + 1))
  fi
else
  say "the real-project part is SKIPPED: $real/cargo-vet/wasmtime or $real/rustsec-advisory-db is absent"
fi

say "where to look next"
cat <<EOF
  the log's tiles:      $LOG_URL/tile/0/000.p/<N>   (C2SP tlog-tiles)
  explain a decision:   quorum --state-dir $work/people/me explain pkg:cargo/left-pad-rs@2.0.0
  verify as JSON:       quorum --state-dir $work/people/me verify --lockfile $work/app.lock --json
EOF
if $keep; then
  echo "  running; stop with: kill ${pids[*]}"
fi
if [ "$failures" -ne 0 ]; then
  echo "demo: $failures verification(s) did not give the expected decisions" >&2
  exit 1
fi
echo
echo "demo: every decision as expected"
