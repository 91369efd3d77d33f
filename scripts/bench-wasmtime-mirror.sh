#!/usr/bin/env bash
# Benchmark of issue 15's cold start at scale: wasmtime's real Cargo.lock verified from a
# mirror of a log holding all of ../shared/realdata (Google's, Mozilla's and wasmtime's
# cargo-vet audit sets, wasmtime's imports.lock, the RustSec advisory database, PyPA's OSV
# records: about 9,700 statements, each source under its own importer key), under the policy
# `quorum init --from-cargo-vet` writes (safe-to-deploy by wasmtime's own audits and its
# imports, cargo-vet's semantics). The log runs without witnesses (release `quorum-log`);
# `quorum mirror` downloads it once; then `quorum verify --mirror --lockfile Cargo.lock` runs
# RUNS times (default 7). Prints each run's wall time and the median; checks the decisions
# (345 allow, 140 insufficient-evidence) so a fast wrong answer does not count.
#
#   scripts/bench-wasmtime-mirror.sh            # builds the release binaries first
#   RUNS=11 REALDATA=/path/to/realdata BIN=target/debug scripts/bench-wasmtime-mirror.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/realdata-imports.sh
. scripts/realdata-imports.sh
real=$(cd "${REALDATA:-../shared/realdata}" && pwd)
runs=${RUNS:-7}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p quorum-log -p quorum-cli
  BIN="${CARGO_TARGET_DIR:-target}/release"
fi
bin=$(cd "$BIN" && pwd)
lock="$real/cargo-vet/wasmtime/Cargo.lock"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
tmp=$(mktemp -d /tmp/quorum-bench-wasmtime.XXXXXX)
log_pid=
cleanup() {
  [ -n "$log_pid" ] && kill "$log_pid" 2>/dev/null && wait "$log_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
vkey=$("$bin/quorum-log" keygen --origin bench.wasmtime/log --out "$tmp/log.key" | head -n1)
"$bin/quorum-log" serve --data-dir "$tmp/log" --key-file "$tmp/log.key" \
  --listen "127.0.0.1:$port" >"$tmp/log.out" 2>&1 &
log_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$url/healthz" >/dev/null && break
  sleep 0.1
done

declare -A pub
for who in me google mozilla wasmtime wasmtime-imports rustsec pypa; do
  pub[$who]=$("$bin/quorum" --state-dir "$tmp/$who" --json keygen --name "$who" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
done
q() { local who=$1; shift; "$bin/quorum" --state-dir "$tmp/$who" --log "$url" import "$@" >>"$tmp/import.out" 2>&1; }
echo "importing all of $real ..."
import_realdata "$real" q wasmtime-imports
size=$(curl -sf "$url/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
for _ in $(seq 1 200); do
  [ "$(curl -sf "$url/checkpoint" | sed -n 2p)" -ge "$size" ] && break
  sleep 0.1
done

cat >"$tmp/me/policy.toml" <<POLICY
[log]
origin = "bench.wasmtime/log"
key = "$vkey"
url = "$url"

[witnesses]
policy = "quorum none"

[trust]
roots = ["me"]

[aliases]
me = "${pub[me]}"
wasmtime = "${pub[wasmtime]}"
wasmtime-imports = "${pub[wasmtime-imports]}"
rustsec = "${pub[rustsec]}"

[powers.auditor]
holders = ["wasmtime", "wasmtime-imports"]
max_hops = 0

[powers.failed_audit_veto]
holders = ["wasmtime", "wasmtime-imports"]
max_hops = 0

[powers.advisory_veto]
holders = ["rustsec"]
max_hops = 0

[[rule]]
packages = "pkg:cargo/*"
min_audits = 1
required_criteria = ["safe-to-deploy"]
POLICY
me() { "$bin/quorum" --state-dir "$tmp/me" "$@"; }
start=$(date +%s.%N)
me mirror --quiet >/dev/null
end=$(date +%s.%N)
echo "log of $size statements; quorum mirror: $(python3 -c "print(f'{$end - $start:.2f}')") s"

times=()
for run in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  set +e
  me verify --mirror --lockfile "$lock" --json >"$tmp/decisions.json"
  code=$?
  set -e
  end=$(date +%s.%N)
  python3 - "$tmp/decisions.json" "$code" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["decisions"]
allow = sum(x["verdict"] == "allow" for x in d)
assert (len(d), allow, int(sys.argv[2])) == (485, 345, 2), (len(d), allow, sys.argv[2])
PY
  elapsed=$(python3 -c "print(f'{$end - $start:.3f}')")
  echo "run $run: verify --mirror --lockfile (485 packages, 345 allow) in $elapsed s (load average $(cut -d' ' -f1 /proc/loadavg))"
  times+=("$elapsed")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
echo "median of $runs runs: $median s"
