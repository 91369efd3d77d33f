//! Log entries (leaf data): canonical protobuf decoding and full verification.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::model::log_entry::{LogEntry, verify_log_entry};

fuzz_target!(|data: &[u8]| {
    let verified = verify_log_entry(data);
    let Ok(entry) = LogEntry::decode(data) else {
        assert!(
            verified.is_err(),
            "an entry that does not decode must not verify"
        );
        return;
    };
    // Only the canonical encoding decodes, so encoding gives back the input.
    assert_eq!(entry.encode().expect("a decoded entry encodes"), data);
    if let Ok(verified) = verified {
        assert_eq!(verified.envelope_digest, entry.envelope_digest());
    }
});
