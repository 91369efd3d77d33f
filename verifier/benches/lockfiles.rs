//! Reading the real lockfiles of public projects (`../shared/realdata/lockfiles`, or
//! `$QUORUM_LOCKFILE_DATA`): `lockfile::read_lockfile` on each, format told by content.
//!
//! Run: `cargo bench -p quorum-verifier --bench lockfiles`. Files that are not there are
//! skipped with a note (a benchmark measures; the tests in `tests/lockfiles.rs` insist).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use quorum_verifier::lockfile::read_lockfile;

const FILES: [&str; 12] = [
    "ripgrep/Cargo.lock",
    "axum/Cargo.lock",
    "pnpm/Cargo.lock",
    "npm-cli/package-lock.json",
    "pnpm/pnpm-lock.yaml",
    "pnpm-v6/pnpm-lock.yaml",
    "yarn-v1/yarn.lock",
    "prettier/yarn.lock",
    "poetry/poetry.lock",
    "uv/uv.lock",
    "warehouse/requirements-main.txt",
    "flask-celery/requirements.txt",
];

fn lockfiles(c: &mut Criterion) {
    let dir = std::env::var_os("QUORUM_LOCKFILE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata/lockfiles")
        });
    let mut group = c.benchmark_group("read_lockfile");
    for file in FILES {
        let Ok(content) = std::fs::read_to_string(dir.join(file)) else {
            eprintln!("skipped {file}: not found in {}", dir.display());
            continue;
        };
        let packages = read_lockfile("lockfile", &content)
            .map(|l| l.packages.len())
            .unwrap_or(0);
        group.bench_function(
            format!("{file} ({} KB, {packages} entries)", content.len() / 1000),
            |b| b.iter(|| read_lockfile("lockfile", std::hint::black_box(&content))),
        );
    }
    group.finish();
}

criterion_group!(benches, lockfiles);
criterion_main!(benches);
