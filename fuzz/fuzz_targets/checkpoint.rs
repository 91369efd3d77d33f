//! Checkpoints (C2SP tlog-checkpoint), alone and as signed notes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::checkpoint::{self, Checkpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = Checkpoint::parse(text)
    {
        // Only canonical text is accepted, so writing it back gives the same bytes.
        assert_eq!(parsed.to_text(), text);
    }
    // The signed-note path that the witness and the client take.
    quorum_fuzz::with_note_verifiers(|verifiers| {
        if let Ok((parsed, opened)) = checkpoint::open_checkpoint_with(data, verifiers) {
            assert_eq!(parsed.to_text(), opened.text);
        }
    });
    // As a witness opens it: signed by one trusted key (the fixed cosigner key, which
    // signed one of the seeds).
    quorum_fuzz::with_cosigner(|cosigner| {
        if let Ok(signed) = checkpoint::open_checkpoint(data, cosigner) {
            assert_eq!(signed.checkpoint.to_text(), signed.note.text);
        }
    });
});
