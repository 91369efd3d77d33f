//! tlog-proof (C2SP tlog-proof): parse, re-encode, and check the inclusion proof it carries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::tlog_proof::TlogProof;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = TlogProof::parse(data) else {
        return;
    };
    let encoded = proof.to_bytes();
    assert_eq!(
        TlogProof::parse(&encoded).expect("a re-encoded proof parses"),
        proof
    );
    // The Merkle check sees attacker-chosen index, size and hash count.
    let leaf = [0u8; 32];
    for size in [proof.index, proof.index.saturating_add(1), u64::MAX] {
        let _ = quorum_c2sp::merkle::verify_inclusion(
            &leaf,
            proof.index,
            size,
            &proof.hashes,
            &leaf,
        );
    }
});
