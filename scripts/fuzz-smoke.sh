#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each one briefly; exits non-zero if any
# target crashes, panics, leaks past the memory limit or hangs on one input.
#
#   scripts/fuzz-smoke.sh [seconds per target, default 5]
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address. `none` still catches every panic and failed
#                   assertion (the targets are safe Rust); `address` adds ASan for unsafe
#                   code in dependencies at the cost of a slower build and ~2x slower runs.
#   FUZZ_JOBS       targets run at once (default 1).
#   FUZZ_TARGETS    space-separated subset of targets (default: all).
#   FUZZ_TARGET_DIR cargo target directory of the fuzz build (default fuzz/target).
#   FUZZ_BUILD_ONLY 1: install cargo-fuzz if needed, build the targets and stop (the test
#                   command does this in the background while the main tests run).
#   FUZZ_PROFILE    release (default) or dev. dev builds about a third faster from cold
#                   but runs several times fewer inputs per second.
#
# cargo-fuzz needs a nightly compiler feature (-Z flags); on the stable toolchain this
# script sets RUSTC_BOOTSTRAP=1 for the fuzz build only. The main workspace never sees it.
#
# Inputs that libFuzzer finds interesting go to fuzz/target/corpus/<target>/ (not committed;
# it persists, so later runs start from it); seeds are read from fuzz/corpus/<target>/.
# A crashing input is written to fuzz/artifacts/<target>/ and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-5}
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}
target_dir=${FUZZ_TARGET_DIR:-fuzz/target}
profile=${FUZZ_PROFILE:-release}
case "$profile" in
    release) profile_flag=(); profile_dir=release ;;
    dev) profile_flag=(--dev); profile_dir=debug ;;
    *) echo "FUZZ_PROFILE must be release or dev" >&2; exit 64 ;;
esac
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 64 ;; esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
start=$(date +%s)
cargo fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer" --target-dir "$target_dir" "${profile_flag[@]}"
echo "fuzz-smoke: built in $(( $(date +%s) - start ))s (sanitizer $sanitizer, $profile)" >&2
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
    exit 0
fi

targets=${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir fuzz)}
bin_dir=$target_dir/$(rustc -vV | sed -n 's/^host: //p')/$profile_dir
log_dir=fuzz/target/smoke-logs
mkdir -p "$log_dir"

# The real lockfiles of public projects ($QUORUM_LOCKFILE_DATA: scripts/test.sh fetches them
# with scripts/real-lockfiles.sh; read only) seed every lockfile target besides its own small
# seeds: libFuzzer reads extra corpus directories, recursively, and writes only to the first.
# They are up to 860 KB; -max_len keeps their first 64 KiB, so executions stay fast (without it
# libFuzzer sizes every input to the largest seed).
real_lockfiles=${QUORUM_LOCKFILE_DATA:-${QUORUM_LOCKFILE_CACHE:-$HOME/.cache/quorum/real-lockfiles}}
extra_seeds() {
    case $1 in
        lockfile_*) if [ -d "$real_lockfiles" ]; then echo "-max_len=65536 $real_lockfiles"; fi ;;
    esac
}

# A target's committed seeds, if it has any: libFuzzer exits at once on a corpus directory
# that does not exist (targets whose input is binary state, such as evidence_page and
# trust_graph_cache, start from nothing).
seeds_of() {
    if [ -d "fuzz/corpus/$1" ]; then echo "fuzz/corpus/$1"; fi
}

run_one() {
    local target=$1
    mkdir -p "fuzz/target/corpus/$target" "fuzz/artifacts/$target"
    # -timeout: one input taking over 10 s is a hang (a crash); -rss_limit_mb: so is 2 GiB.
    # shellcheck disable=SC2046 # an option and a directory, or nothing
    if "$bin_dir/$target" "fuzz/target/corpus/$target" $(seeds_of "$target") $(extra_seeds "$target") \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" \
        >"$log_dir/$target.log" 2>&1; then
        echo "ok    $target  $(grep -o 'number_of_executed_units: *[0-9]*' "$log_dir/$target.log" | grep -o '[0-9]*$') executions"
    else
        echo "FAIL  $target  (log: $log_dir/$target.log)"
        grep -E '^(==[0-9]+==|thread |SUMMARY|artifact_prefix|Test unit written)' "$log_dir/$target.log" | head -20 || true
        return 1
    fi
}

failed=0
running=0
for target in $targets; do
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done

echo "fuzz-smoke: done in $(( $(date +%s) - start ))s" >&2
exit "$failed"
