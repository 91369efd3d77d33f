//! Verifier keys (vkeys), signer keys (skeys) and single signature lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::cosignature::{CosignatureSigner, CosignatureVerifier};
use quorum_c2sp::note::{Ed25519Signer, Ed25519Verifier, NoteSignature, VerifierKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = VerifierKey::parse(text) {
        // Display writes the canonical form, which parses back to the same key.
        let shown = key.to_string();
        assert_eq!(
            VerifierKey::parse(&shown).expect("a displayed vkey parses"),
            key
        );
        let _ = key.verifier();
    }
    if let Ok(sig) = NoteSignature::parse_line(text) {
        let line = sig.to_line();
        let line = line.strip_suffix('\n').expect("to_line ends in a newline");
        assert_eq!(
            NoteSignature::parse_line(line).expect("a written line parses"),
            sig
        );
    }
    let _ = Ed25519Verifier::from_vkey(text);
    let _ = CosignatureVerifier::from_vkey(text);
    if let Ok(signer) = Ed25519Signer::from_skey(text) {
        assert_eq!(
            Ed25519Signer::from_skey(&signer.skey())
                .expect("skey round trip")
                .vkey(),
            signer.vkey()
        );
    }
    if let Ok(signer) = CosignatureSigner::from_skey(text) {
        assert_eq!(
            CosignatureSigner::from_skey(&signer.skey())
                .expect("skey round trip")
                .vkey(),
            signer.vkey()
        );
    }
});
