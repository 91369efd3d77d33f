//! Writes Quorum's own known-answer vectors into `test-vectors/quorum/`.
//!
//! Usage: `cargo run -p quorum-test-vectors --bin gen-vectors [-- --check]`. With `--check`
//! nothing is written; the exit status is 1 if a committed file differs from the generated
//! one.

use std::process::ExitCode;

use quorum_test_vectors::quorum_vectors::{generate, vectors_dir};

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let dir = vectors_dir();
    if !check && let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut stale = 0;
    for file in generate() {
        let path = dir.join(file.name);
        let text = file.render();
        if check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current != text {
                eprintln!("stale: {}", path.display());
                stale += 1;
            }
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        } else {
            println!("wrote {}", path.display());
        }
    }
    if stale > 0 {
        eprintln!(
            "{stale} file(s) out of date: run `cargo run -p quorum-test-vectors --bin gen-vectors`"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
