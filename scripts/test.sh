#!/usr/bin/env bash
# The project's test command: formatting, lints and every test, against real SQLite and a
# real PostgreSQL server that this script installs (Debian's packages) and starts; then the
# dependency policy (cargo-deny: licenses, bans, sources), a few seconds of every fuzz target,
# and the benchmark suite's quick smoke run, so none of them can rot.
set -euo pipefail
cd "$(dirname "$0")/.."

# The main-job test (verifier/tests/scenario.rs runs scripts/demo.sh) drives the servers with
# curl and reads JSON with python3.
missing=()
for tool in curl python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

pg_dir=$(mktemp -d /tmp/quorum-pg.XXXXXX)
cleanup() { scripts/pg-stop.sh "$pg_dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
QUORUM_TEST_DATABASE_URL=$(PG_TMP="$pg_dir" PG_PORT="${PG_PORT:-55439}" scripts/pg-start.sh)
export QUORUM_TEST_DATABASE_URL

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== cargo deny (licenses, bans, sources)"
scripts/deny.sh
echo "== fuzz smoke (5 s per target)"
FUZZ_JOBS=2 scripts/fuzz-smoke.sh 5
echo "== benchmark suite, quick smoke run"
scripts/bench.sh --quick --profile dev --out "$(mktemp -d /tmp/quorum-bench-smoke.XXXXXX)"
