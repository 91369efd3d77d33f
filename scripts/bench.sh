#!/usr/bin/env bash
# Quorum's benchmark suite in one run: the machine's ceilings (SHA-256, memory copy,
# Ed25519), the Merkle core against tlog_tiles, ct-merkle, rs_merkle and Go's
# golang.org/x/mod/sumdb/tlog, the log server and the witness on SQLite and PostgreSQL,
# and the verifier's criterion benches. Writes DIR/results.md and DIR/results.json
# (medians with min and max, ratios against the other implementations and the ceilings),
# with every raw output under DIR/raw.
#
#   scripts/bench.sh [--quick] [--profile P] [--out DIR]   (DIR defaults to bench-results)
#
# --quick uses small sizes (100,000 leaves, a few thousand statements) so that CI can run
# it in well under two minutes once the release binaries are built. It skips only what
# the machine lacks (Go, PostgreSQL) and says so in the report. Without --quick: 1M and
# 10M leaves, 100,000 statements, three repetitions of everything; it installs Go from
# Debian's packages and starts a throw-away PostgreSQL when they are missing.
#
# --profile dev builds with the dev profile (dependencies at opt-level 2, the workspace at 0),
# which the test build has already compiled: the CI test command runs `--quick --profile dev`
# so the suite cannot rot without paying for a release build. Its figures say nothing about
# performance; the report names the profile.
#
# PostgreSQL: QUORUM_TEST_DATABASE_URL if set (a fresh database is created in it for every
# run and dropped after), else (full mode only) one started with scripts/pg-start.sh.
#
# Exits non-zero if any bench fails or any two implementations disagree on a root or proof.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
profile=release
out=bench-results
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --profile) profile=${2:?--profile needs a cargo profile}; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--profile P] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
raw="$out/raw"
rm -rf "$raw"
mkdir -p "$raw"
work=$(mktemp -d /tmp/quorum-bench.XXXXXX)
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/pg-stop.sh "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
say() { echo "== bench [$(( $(date +%s) - started )) s]: $*" >&2; }

if [ $quick = 1 ]; then
  mode=quick
  ceiling_args=(--quick --reps 3)
  merkle_args=(--sizes 100000 --reps 3 --proofs 2000)
  go_args=(-sizes 100000 -reps 3 -proofs 2000)
  log_args=(--statements 2000 --batch 200 --clients 2 --tile-gets 5000)
  witness_args=(--logs 8 --per-log 25)
  server_reps=1
  criterion_args=(--quick --warm-up-time 1 --noplot)
  mirror_entries=20000
  export QUORUM_BENCH_TRUST_PRINCIPALS=100000 QUORUM_BENCH_TRUST_EDGES=1000000
else
  mode=full
  ceiling_args=(--reps 5)
  merkle_args=(--sizes 1000000,10000000 --reps 3 --proofs 20000)
  go_args=(-sizes 1000000,10000000 -reps 3 -proofs 20000)
  log_args=(--statements 100000 --batch 500 --clients 4 --tile-gets 200000)
  witness_args=(--logs 64 --per-log 100)
  server_reps=3
  criterion_args=(--noplot)
  mirror_entries=1000000
fi
echo "$mode" >"$raw/mode.txt"
echo "scripts/bench.sh$([ $quick = 1 ] && echo ' --quick')$([ "$profile" != release ] && echo " --profile $profile")" >"$raw/command.txt"

{
  echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|L2 cache|L3 cache|Hypervisor vendor):' || true
  echo "sha_ni:   $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no)"
  echo "memory:   $(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel:   $(uname -r)"
  echo "rustc:    $(rustc --version)"
  echo "profile:  $profile$([ "$profile" = dev ] && echo ' (unoptimised workspace code: a smoke run, not a measurement)')"
  echo "go:       $(command -v go >/dev/null && go version || echo 'not installed')"
  echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) at start (other work on the machine skews every figure)"
} >"$raw/machine.txt"

say "building the binaries ($profile profile)"
# A dev build (CI's smoke run) builds every target of the workspace: features are then
# resolved as for `cargo test --workspace` (dev-dependencies included), so it reuses every
# dependency the test build compiled, and the bench targets are built here too. With
# `-p` or `--bins` the features differ (curve25519-dalek without `default`, regex-automata
# without `meta`, …) and a cold CI run compiled sqlx, ed25519-dalek and the rest again.
if [ "$profile" = dev ]; then
  cargo build --profile dev --workspace --all-targets >&2
else
  cargo build --profile "$profile" --workspace --bins >&2
fi
case "$profile" in
  dev) bin=${CARGO_TARGET_DIR:-target}/debug ;;
  *) bin=${CARGO_TARGET_DIR:-target}/$profile ;;
esac

say "ceilings"
$bin/quorum-bench ceilings "${ceiling_args[@]}" --out "$raw/ceilings.json"

say "Merkle core: quorum, tlog_tiles, ct-merkle, rs_merkle"
$bin/quorum-bench merkle "${merkle_args[@]}" --out "$raw/merkle.json"

say "Merkle core: Go golang.org/x/mod/sumdb/tlog"
gocode=/usr/share/gocode
tlog_src="$gocode/src/golang.org/x/mod/sumdb/tlog"
if { ! command -v go >/dev/null || [ ! -d "$tlog_src" ]; } && [ $quick = 0 ] && [ "$(id -u)" = 0 ]; then
  say "installing Go and golang.org/x/mod from Debian's packages"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq golang-go golang-golang-x-mod-dev) >&2 || true
fi
if command -v go >/dev/null && [ -d "$tlog_src" ]; then
  # GOPATH mode against Debian's source package: no module download, no network.
  GO111MODULE=off GOPATH="$gocode" GOCACHE="$work/go-cache" GOFLAGS= \
    go build -o "$work/tlogbench" bench/go/main.go
  "$work/tlogbench" "${go_args[@]}" >"$raw/go-tlog.json"
else
  echo "Go or golang.org/x/mod is not installed (apt-get install golang-go golang-golang-x-mod-dev)" >"$raw/go-tlog.skipped"
  say "skipping Go: not installed"
fi

# PostgreSQL: an existing server, or (full mode) a throw-away one.
pg_url=${QUORUM_TEST_DATABASE_URL:-}
if [ -z "$pg_url" ] && [ $quick = 0 ]; then
  say "starting a throw-away PostgreSQL"
  pg_dir=$(mktemp -d /tmp/quorum-pg.XXXXXX)
  pg_url=$(PG_TMP="$pg_dir" PG_PORT="${PG_PORT:-55438}" scripts/pg-start.sh) || { pg_url=""; }
fi
if [ -n "$pg_url" ] && ! command -v psql >/dev/null; then
  echo "psql is not installed: cannot create a fresh database in $pg_url" >"$raw/postgres.skipped"
  pg_url=""
fi
if [ -z "$pg_url" ]; then
  [ -f "$raw/postgres.skipped" ] ||
    echo "no PostgreSQL: set QUORUM_TEST_DATABASE_URL (quick mode starts none)" >"$raw/postgres.skipped"
fi
pg_base=${pg_url%/*}
fresh_db() { # creates and prints a fresh database URL
  local name="quorum_bench_$$_$1"
  psql -q "$pg_url" -c "create database $name" >/dev/null
  echo "$pg_base/$name"
}
drop_db() { psql -q "$pg_url" -c "drop database if exists quorum_bench_$$_$1" >/dev/null || true; }
db_size() { psql -qAt "$pg_url" -c "select pg_database_size('quorum_bench_$$_$1')"; }

for rep in $(seq 1 $server_reps); do
  say "log server on SQLite ($rep/$server_reps)"
  $bin/quorum-log-bench "${log_args[@]}" >"$raw/log-sqlite-$rep.txt" 2>"$work/log-sqlite-$rep.err" ||
    { cat "$work/log-sqlite-$rep.err" >&2; exit 1; }
  if [ -n "$pg_url" ]; then
    say "log server on PostgreSQL ($rep/$server_reps)"
    url=$(fresh_db "log$rep")
    empty=$(db_size "log$rep")
    $bin/quorum-log-bench "${log_args[@]}" --database-url "$url" >"$raw/log-postgres-$rep.txt" \
      2>"$work/log-postgres-$rep.err" || { cat "$work/log-postgres-$rep.err" >&2; drop_db "log$rep"; exit 1; }
    # quorum-log-bench reports storage only for SQLite files: measure the database's growth.
    full=$(db_size "log$rep")
    entries=$(awk '/^statements acknowledged:/ {print $3 + 200}' "$raw/log-postgres-$rep.txt")
    if [ -n "$entries" ] && [ "$entries" -gt 0 ]; then
      echo "storage: $((full - empty)) bytes, $(( (full - empty) / entries )) bytes/entry (PostgreSQL database growth, tables and indexes, measured by scripts/bench.sh)" \
        >>"$raw/log-postgres-$rep.txt"
    fi
    drop_db "log$rep"
  fi

  say "witness on SQLite ($rep/$server_reps)"
  $bin/quorum-witness-bench "${witness_args[@]}" >"$raw/witness-sqlite-$rep.txt" 2>"$work/witness-sqlite-$rep.err" ||
    { cat "$work/witness-sqlite-$rep.err" >&2; exit 1; }
  if [ -n "$pg_url" ]; then
    say "witness on PostgreSQL ($rep/$server_reps)"
    url=$(fresh_db "witness$rep")
    $bin/quorum-witness-bench "${witness_args[@]}" --database-url "$url" >"$raw/witness-postgres-$rep.txt" \
      2>"$work/witness-postgres-$rep.err" || { cat "$work/witness-postgres-$rep.err" >&2; drop_db "witness$rep"; exit 1; }
    drop_db "witness$rep"
  fi
done

say "verifier: trust ranking (criterion)"
CRITERION_HOME="$raw/criterion-trust" \
  cargo bench --profile "$profile" --workspace --bench trust -- "${criterion_args[@]}" >"$work/trust.txt" 2>&1 ||
  { cat "$work/trust.txt" >&2; exit 1; }

if [ -f verifier/benches/mirror.rs ]; then
  say "verifier: mirror of $mirror_entries entries (criterion)"
  QUORUM_BENCH_MIRROR_ENTRIES=$mirror_entries CRITERION_HOME="$raw/criterion-mirror" \
    cargo bench --profile "$profile" --workspace --bench mirror -- "${criterion_args[@]}" >"$raw/mirror-output.log" 2>&1 ||
    { cat "$raw/mirror-output.log" >&2; exit 1; }
else
  echo "lockfile decisions against a mirror and mirror sync speed: verifier/benches/mirror.rs does not exist yet" \
    >"$raw/mirror.skipped"
fi

say "report"
$bin/quorum-bench report --raw "$raw" --out "$out"
say "done in $(( $(date +%s) - started )) s: $out/results.md"
