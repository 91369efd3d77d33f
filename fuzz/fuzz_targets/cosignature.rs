//! Cosignatures (C2SP tlog-cosignature): the signature bytes and cosigned notes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::cosignature::{split_cosignature, verify_cosignatures};
use quorum_c2sp::note::Note;

fuzz_target!(|data: &[u8]| {
    if let Ok((timestamp, signature)) = split_cosignature(data) {
        // The split is exact: 8-byte big-endian timestamp, then the signature.
        assert_eq!(&data[..8], &timestamp.to_be_bytes());
        assert_eq!(&data[8..], &signature);
    }
    if let Ok(note) = Note::parse(data) {
        quorum_fuzz::with_cosigner(|cosigner| {
            if let Ok(verified) = verify_cosignatures(&note, std::slice::from_ref(cosigner)) {
                assert!(verified.len() <= 1, "one cosigner verifies at most once");
            }
        });
    }
});
