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

/// Parses `text` as the lockfile `file_name` and checks what every format promises: one
/// entry per (package, version, source), sorted; parsing is deterministic; every package is
/// a canonical purl that the statement validator gives back unchanged; every digest is
/// lowercase hex of its algorithm's length; the registry-only view is the registry part.
pub fn check_lockfile(file_name: &str, text: &str) {
    use quorum_verifier::lockfile::{PinnedDigest, parse_lockfile, read_lockfile};
    let Ok(lock) = read_lockfile(file_name, text) else {
        return;
    };
    let packages = &lock.packages;
    assert!(
        packages.windows(2).all(|pair| pair[0] < pair[1]
            && (
                pair[0].package.as_str(),
                pair[0].version.as_str(),
                &pair[0].source
            ) != (
                pair[1].package.as_str(),
                pair[1].version.as_str(),
                &pair[1].source
            )),
        "sorted, one entry per package, version and source"
    );
    let again = read_lockfile(file_name, text).expect("parses twice");
    assert_eq!(again, lock);
    for package in packages {
        let (canonical, _) =
            quorum_verifier::model::statement::parse_purl(&package.package).expect("a valid purl");
        assert_eq!(canonical, package.package, "canonical");
        assert!(package.digests.windows(2).all(|d| d[0] < d[1]));
        for digest in &package.digests {
            let len = match digest {
                PinnedDigest::Sha1(_) => 40,
                PinnedDigest::Sha256(_) => 64,
                PinnedDigest::Sha384(_) => 96,
                PinnedDigest::Sha512(_) | PinnedDigest::YarnCache { .. } => 128,
            };
            let hex = digest.hex();
            assert!(
                hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{digest:?}"
            );
        }
        let _ = package.purl();
        let _ = package.source.describe();
    }
    let registry = parse_lockfile(file_name, text).expect("parses");
    assert!(registry.iter().all(|p| p.source.is_registry()));
    assert_eq!(registry.len(), lock.registry_packages().count());
    let _ = quorum_verifier::lockfile::distinct_packages(&registry);
}
