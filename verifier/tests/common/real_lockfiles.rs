//! Where the real lockfiles of public projects are, for every test and benchmark that reads
//! them (included by path from `verifier/tests/lockfiles.rs`, `verifier/benches/lockfiles.rs`
//! and `cli/tests/support/mod.rs`, so the rule is written once).
//!
//! They are the lockfiles public projects ship inside their registry packages, which
//! `scripts/real-lockfiles.sh DIR` downloads, checks and extracts (its `SOURCES.md`, written
//! last, names each one's package, path and license): fetched data, never committed here.

use std::path::PathBuf;

/// `$QUORUM_LOCKFILE_DATA`, else the cache `scripts/test.sh` fills (`$QUORUM_LOCKFILE_CACHE`,
/// by default `~/.cache/quorum/real-lockfiles`).
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("QUORUM_LOCKFILE_DATA") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("QUORUM_LOCKFILE_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/quorum/real-lockfiles")
}

/// Whether the real lockfiles are on this machine. Where they are missing a test says
/// SKIPPED on stderr and returns, except under CI (`CI` set), where `scripts/test.sh` always
/// fetches them and their absence fails the test.
pub fn present(test: &str) -> bool {
    let dir = dir();
    if dir.join("SOURCES.md").is_file() {
        return true;
    }
    let how = format!(
        "the real lockfiles are not at {}: run `scripts/real-lockfiles.sh {}` (or point \
         QUORUM_LOCKFILE_DATA at a folder it wrote)",
        dir.display(),
        dir.display()
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test}: {how}; under CI they must be there (scripts/test.sh fetches them)");
    }
    eprintln!("{test}: SKIPPED: {how}");
    false
}
