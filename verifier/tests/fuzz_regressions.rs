//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) through the verifier's parsers in an
//! ordinary `cargo test`, on the stable toolchain, without cargo-fuzz.
//!
//! Every input that once crashed a fuzz target is committed to that target's corpus as
//! `crash-<name>` (see `fuzz/README.md`), so this test is the regression test for all of
//! them, and the seeds keep exercising the round-trip properties the fuzz targets check.
//! Inputs found by fuzzing that exposed a bug also get a named test below.

use std::fs;
use std::path::{Path, PathBuf};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::note::{Note, NoteSignature, VerifierKey};
use quorum_c2sp::tiles::{decode_entry_bundle, encode_entry_bundle, parse_path};
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_c2sp::witness_policy::WitnessPolicy;
use quorum_verifier::lockfile::{parse_lockfile, read_lockfile};
use quorum_verifier::model::dsse::Envelope;
use quorum_verifier::model::log_entry::{LogEntry, verify_log_entry};
use quorum_verifier::model::predicates::{PREDICATE_TYPES, Predicate, validate_statement};
use quorum_verifier::model::statement::Statement;
use quorum_verifier::policy::{Policy, glob_match};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

/// Runs `check` on every input of `target`'s corpus, naming the input on failure.
fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let inputs = corpus(target);
    for (path, bytes) in &inputs {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(bytes)));
        assert!(outcome.is_ok(), "{target}: {} panicked", path.display());
    }
    inputs.len()
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

#[test]
fn notes_and_keys() {
    let parsed = replay("note", |b| {
        if let Ok(note) = Note::parse(b) {
            assert_eq!(Note::parse(&note.to_bytes()).expect("re-encoded"), note);
        }
    });
    assert!(parsed > 10);
    replay("note_key", |b| {
        let Some(t) = text(b) else { return };
        if let Ok(key) = VerifierKey::parse(t) {
            assert_eq!(
                VerifierKey::parse(&key.to_string()).expect("displayed"),
                key
            );
        }
        if let Ok(sig) = NoteSignature::parse_line(t) {
            let line = sig.to_line();
            assert_eq!(
                NoteSignature::parse_line(line.trim_end_matches('\n')).expect("written"),
                sig
            );
        }
    });
}

#[test]
fn checkpoints_proofs_and_policies() {
    replay("checkpoint", |b| {
        if let Some(t) = text(b)
            && let Ok(c) = Checkpoint::parse(t)
        {
            assert_eq!(c.to_text(), t);
        }
        let _ = Note::parse(b).map(|n| Checkpoint::parse(&n.text));
    });
    replay("cosignature", |b| {
        let _ = quorum_c2sp::cosignature::split_cosignature(b);
    });
    replay("tlog_proof", |b| {
        if let Ok(p) = TlogProof::parse(b) {
            assert_eq!(TlogProof::parse(&p.to_bytes()).expect("re-encoded"), p);
        }
    });
    replay("tlog_policy", |b| {
        let _ = WitnessPolicy::parse(b);
    });
}

#[test]
fn envelopes_statements_and_entries() {
    replay("dsse_envelope", |b| {
        if let Ok(e) = Envelope::from_json(b) {
            assert_eq!(
                Envelope::from_json(e.to_json().as_bytes()).expect("re-encoded"),
                e
            );
        }
    });
    replay("statement", |b| {
        if let Ok(s) = Statement::from_json(b) {
            assert_eq!(Statement::from_json(&s.to_json()).expect("re-encoded"), s);
            let _ = validate_statement(&s);
        }
    });
    replay("predicate", |b| {
        let Some((&selector, json)) = b.split_first() else {
            return;
        };
        let Some(ty) = PREDICATE_TYPES.get(usize::from(selector)) else {
            return;
        };
        if let Ok(p) = Predicate::parse(ty, json) {
            assert_eq!(
                Predicate::from_value(ty, &p.to_value()).expect("to_value"),
                p
            );
        }
    });
    replay("log_entry", |b| {
        if let Ok(e) = LogEntry::decode(b) {
            assert_eq!(e.encode().expect("encodes"), b);
        }
        let _ = verify_log_entry(b);
    });
}

#[test]
fn policies_lockfiles_and_tiles() {
    replay("policy", |b| match b.iter().position(|&c| c == 0) {
        Some(split) => {
            if let (Some(p), Some(t)) = (text(&b[..split]), text(&b[split + 1..])) {
                let _ = glob_match(p, t);
            }
        }
        None => {
            let _ = text(b).map(Policy::parse);
        }
    });
    for (target, name) in [
        ("lockfile_cargo", "Cargo.lock"),
        ("lockfile_npm", "package-lock.json"),
        ("lockfile_requirements", "requirements.txt"),
        ("lockfile_uv", "uv.lock"),
        ("lockfile_poetry", "poetry.lock"),
        ("lockfile_pnpm", "pnpm-lock.yaml"),
        ("lockfile_yarn", "yarn.lock"),
    ] {
        replay(target, |b| {
            if let Some(t) = text(b)
                && let Ok(lock) = read_lockfile(name, t)
            {
                assert!(lock.packages.windows(2).all(|w| w[0] < w[1]));
                let registry = parse_lockfile(name, t).expect("parses twice");
                assert_eq!(registry.len(), lock.registry_packages().count());
            }
        });
    }
    replay("tile_path", |b| {
        if let Some(t) = text(b)
            && let Ok(tile) = parse_path(t)
        {
            assert_eq!(tile.path(), t);
        }
    });
    replay("tile_data", |b| {
        if let Ok(entries) = decode_entry_bundle(b) {
            assert_eq!(encode_entry_bundle(&entries).expect("encodes"), b);
        }
    });
}
