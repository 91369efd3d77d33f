//! Reading the real lockfiles of public projects that `scripts/real-lockfiles.sh` fetches
//! from the registry packages that ship them (`$QUORUM_LOCKFILE_DATA`, by default
//! `~/.cache/quorum/real-lockfiles`): `lockfile::read_lockfile` on each, format told by
//! content.
//!
//! Run: `cargo bench -p quorum-verifier --bench lockfiles`. Files that are not there are
//! skipped with a note (a benchmark measures; the tests in `tests/lockfiles.rs` insist).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use quorum_verifier::lockfile::read_lockfile;

const FILES: [&str; 10] = [
    "ripgrep-14.1.1/Cargo.lock",
    "sqlx-0.9.0/Cargo.lock",
    "salesforce-cli-2.150.6/npm-shrinkwrap.json",
    "anywidget-0.11.0/pnpm-lock.yaml",
    "anywidget-0.9.0/pnpm-lock.yaml",
    "salesforce-cli-2.150.6/oclif.lock",
    "create-redwood-app-8.9.0/templates/ts/yarn.lock",
    "flask-3.1.1/uv.lock",
    "mozilla-version-4.1.0/requirements/docs.txt",
    "flask-3.1.1/examples/celery/requirements.txt",
];

// `present` is for tests; the benchmark reads only where the files are.
#[allow(dead_code)]
#[path = "../tests/common/real_lockfiles.rs"]
mod real_lockfiles;

fn data_dir() -> PathBuf {
    real_lockfiles::dir()
}

fn lockfiles(c: &mut Criterion) {
    let dir = data_dir();
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
