//! Shared helpers for the verifier's integration tests that drive the other workspace
//! binaries (`quorum-log`, `quorum-witness`) as real processes.

#![allow(dead_code)]

use std::path::PathBuf;

use quorum_verifier::model::predicates::{
    OpenVex, Predicate, VexProduct, VexStatement, VexStatus, VexVulnerability,
};

/// Path of a binary built from another package of this workspace.
///
/// Cargo only exposes `CARGO_BIN_EXE_*` for the package's own binaries, so the others are
/// found beside `quorum` in the same target directory. `cargo test --workspace` builds
/// them; a narrower run must build them first, and this says how instead of failing
/// obscurely.
pub fn workspace_binary(name: &str) -> PathBuf {
    let quorum = PathBuf::from(env!("CARGO_BIN_EXE_quorum"));
    let dir = quorum
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build -p quorum-log -p quorum-witness` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}

/// A free TCP port on loopback, chosen by the kernel.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// A child process killed (and reaped) when dropped, so a failing test leaves no server
/// behind.
pub struct ChildGuard {
    /// The process.
    pub child: std::process::Child,
    /// What it is, for messages.
    pub name: String,
}

impl ChildGuard {
    /// Starts `program` with `args`, its output appended to `log` (kept for diagnosis).
    pub fn spawn(
        name: &str,
        program: &std::path::Path,
        args: &[&str],
        log: &std::path::Path,
    ) -> ChildGuard {
        let out = std::fs::File::create(log).expect("create server log");
        let err = out.try_clone().expect("clone log handle");
        let child = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        ChildGuard {
            child,
            name: name.to_string(),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `url` answers 200, failing after about 20 seconds.
pub fn wait_http(url: &str) {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("http client");
    for _ in 0..200 {
        if client
            .get(url)
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{url} did not answer in time");
}

#[path = "../../../verifier/tests/common/real_lockfiles.rs"]
mod real_lockfiles;

fn real_lockfiles_dir() -> PathBuf {
    real_lockfiles::dir()
}

/// Whether the real lockfiles of public projects are on this machine
/// (`verifier/tests/common/real_lockfiles.rs` says where they come from); without them a test
/// says SKIPPED and returns, or fails under CI.
pub fn real_lockfiles_present(test: &str) -> bool {
    real_lockfiles::present(test)
}

/// A real lockfile of a public project, `relative` to the folder `scripts/real-lockfiles.sh`
/// wrote (`$QUORUM_LOCKFILE_DATA`; its `SOURCES.md` says where each file comes from).
pub fn real_lockfile(relative: &str) -> PathBuf {
    let path = real_lockfiles_dir().join(relative);
    assert!(
        path.is_file(),
        "real lockfile {} not found: run `scripts/real-lockfiles.sh {}` (see its SOURCES.md)",
        path.display(),
        real_lockfiles_dir().display()
    );
    path
}

/// Poetry's own `poetry.lock`, where it is on this machine (`$QUORUM_POETRY_LOCKFILE`, or
/// `../shared/realdata/lockfiles/poetry/poetry.lock`): no registry package ships a
/// `poetry.lock`, so `scripts/real-lockfiles.sh` cannot fetch one.
pub fn poetry_lockfile() -> Option<PathBuf> {
    let path = std::env::var_os("QUORUM_POETRY_LOCKFILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/realdata/lockfiles/poetry/poetry.lock")
        });
    path.is_file().then_some(path)
}

/// A file or folder of `../shared/realdata` (the public audit sets, advisory databases and
/// wasmtime's supply chain, on every machine the tests run on, CI's included; its
/// `SOURCES.md` gives the repository and commit of each).
pub fn realdata(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata")
        .join(relative);
    assert!(
        path.exists(),
        "{} not found: ../shared/realdata must be beside the repository",
        path.display()
    );
    path
}

/// wasmtime's `Cargo.lock` (583 packages) from `../shared/realdata/cargo-vet/wasmtime/`, the
/// real lockfile that is on every machine the tests run on.
pub fn wasmtime_cargo_lock() -> PathBuf {
    realdata("cargo-vet/wasmtime/Cargo.lock")
}

/// An OpenVEX advisory reporting `package` (a purl without version) at `version` malicious
/// (`MAL-2025-0001`, affected).
pub fn malicious_advisory(package: &str, version: &str) -> Predicate {
    Predicate::Advisory(OpenVex {
        context: "https://openvex.dev/ns/v0.2.0".into(),
        id: format!("urn:test:{package}@{version}"),
        author: "test".into(),
        role: None,
        timestamp: "2025-01-01T00:00:00Z".into(),
        version: 1,
        statements: vec![VexStatement {
            vulnerability: VexVulnerability {
                id: None,
                name: "MAL-2025-0001".into(),
                description: None,
                aliases: vec![],
            },
            products: vec![VexProduct {
                id: format!("{package}@{version}"),
                identifiers: None,
            }],
            status: VexStatus::Affected,
            justification: None,
            impact_statement: None,
            action_statement: Some("remove it".into()),
            status_notes: None,
        }],
    })
}
