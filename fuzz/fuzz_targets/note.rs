//! Signed notes (C2SP signed-note): parse, re-encode, verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::note::{self, Note};

fuzz_target!(|data: &[u8]| quorum_fuzz::with_note_verifiers(|verifiers| {
    let opened = note::open(data, verifiers);
    let Ok(parsed) = Note::parse(data) else {
        assert!(opened.is_err(), "a note that does not parse must not open");
        return;
    };
    // Re-encoding is canonical and parses back to the same note.
    let encoded = parsed.to_bytes();
    let reparsed = Note::parse(&encoded).expect("a re-encoded note parses");
    assert_eq!(reparsed, parsed);
    assert_eq!(reparsed.to_bytes(), encoded);
    // Whether a note verifies depends on its text and signature bytes, not on how the
    // signatures' base64 was written.
    let reopened = note::open(&encoded, verifiers);
    assert_eq!(opened.is_ok(), reopened.is_ok());
    if let (Ok(a), Ok(b)) = (opened, reopened) {
        assert_eq!(a.text, b.text);
    }
}));
