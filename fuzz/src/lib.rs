//! Shared fixtures for the fuzz targets in `fuzz_targets/`.
//!
//! The targets fuzz `quorum-c2sp` (the wire formats, the witness's add-checkpoint request
//! among them) and `quorum-verifier` directly, without the servers' database and HTTP
//! dependencies.

use quorum_c2sp::cosignature::CosignatureVerifier;
use quorum_c2sp::note::{VerifierKey, Verifiers};

/// Ed25519 note keys with published example signatures (C2SP signed-note and
/// golang.org/x/mod/sumdb/note), so seeds built from those examples reach the verify path.
pub const NOTE_VKEYS: &[&str] = &[
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
];

/// A cosignature/v1 key (type 0x04) for the cosignature target; its private half is
/// the all-zero seed, so a seed corpus can carry valid cosignatures made with it.
pub fn cosigner() -> CosignatureVerifier {
    quorum_c2sp::cosignature::CosignatureSigner::from_seed("witness.example/w1", &[0u8; 32])
        .expect("a fixed, valid key name")
        .verifier()
}

thread_local! {
    // Built once per thread: parsing keys for every input would dominate the run time.
    static NOTE_VERIFIERS: Verifiers = note_verifiers();
    static COSIGNER: CosignatureVerifier = cosigner();
}

/// Calls `f` with this thread's [`note_verifiers`].
pub fn with_note_verifiers<R>(f: impl FnOnce(&Verifiers) -> R) -> R {
    NOTE_VERIFIERS.with(f)
}

/// Calls `f` with this thread's [`cosigner`].
pub fn with_cosigner<R>(f: impl FnOnce(&CosignatureVerifier) -> R) -> R {
    COSIGNER.with(f)
}

/// Verifiers for [`NOTE_VKEYS`] and [`cosigner`].
pub fn note_verifiers() -> Verifiers {
    let mut verifiers = Verifiers::new();
    for vkey in NOTE_VKEYS {
        let key = VerifierKey::parse(vkey).expect("fixed vkeys parse");
        verifiers.add(key.verifier().expect("fixed vkeys are Ed25519"));
    }
    verifiers.add(Box::new(cosigner()));
    verifiers
}

/// Parses `text` as the lockfile `file_name` and checks what every format promises: the
/// result is sorted without duplicates, parsing is deterministic, and each package has a
/// purl prefix and a version.
pub fn check_lockfile(file_name: &str, text: &str) {
    let Ok(packages) = quorum_verifier::lockfile::parse_lockfile(file_name, text) else {
        return;
    };
    assert!(
        packages.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted, no duplicates"
    );
    let again = quorum_verifier::lockfile::parse_lockfile(file_name, text).expect("parses twice");
    assert_eq!(again, packages);
    for package in &packages {
        assert!(package.package.starts_with("pkg:"), "{package:?}");
        let _ = package.purl();
    }
    let _ = quorum_verifier::lockfile::distinct_packages(&packages);
}
