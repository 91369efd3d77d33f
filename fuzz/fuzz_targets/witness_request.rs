//! The tlog-witness add-checkpoint request body (quorum-c2sp's witness_request).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::witness_request::parse_add_checkpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse_add_checkpoint(data) else {
        return;
    };
    // The framing is canonical: the writer gives back the very body that was parsed.
    assert_eq!(request.to_body().as_bytes(), data);
});
