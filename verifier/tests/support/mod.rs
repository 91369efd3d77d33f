//! Shared helpers for the verifier's integration tests that drive the other workspace
//! binaries (`quorum-log`, `quorum-witness`) as real processes.

#![allow(dead_code)]

use std::path::PathBuf;

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
