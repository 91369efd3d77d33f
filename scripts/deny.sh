#!/usr/bin/env bash
# Dependency policy check: licenses, bans and sources (configuration in deny.toml).
#
#   scripts/deny.sh
#
# Runs offline against Cargo.lock and the crate sources already in ~/.cargo/registry
# (it runs `cargo fetch` first, which downloads the crates of every platform). Advisories are not checked here: that needs
# a RustSec database snapshot CI cannot download; with network access run
# `cargo deny check advisories` by hand.
#
# Installs cargo-deny if it is missing (DENY_INSTALL_ONLY=1: install and stop) (cargo-deny 0.20 has no cargo features, so
# `--no-default-features` would build exactly the same thing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deny --version >/dev/null 2>&1; then
    echo "deny.sh: installing cargo-deny" >&2
    cargo install cargo-deny --locked
fi
cargo deny --version >&2
if [ "${DENY_INSTALL_ONLY:-0}" = 1 ]; then
    exit 0
fi
# cargo-deny reads every platform's dependencies (windows-sys too), which a Linux build never
# downloads: fetch them all first, then check offline.
cargo fetch --locked
exec cargo deny --offline --all-features check licenses bans sources
