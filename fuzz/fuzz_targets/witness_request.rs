//! The tlog-witness add-checkpoint request body (witness/src/request.rs).
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use quorum_fuzz::witness_request::parse_add_checkpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse_add_checkpoint(data) else {
        return;
    };
    // The framing is canonical: writing the parsed request back gives the same body.
    let mut body = format!("old {}\n", request.old_size);
    for hash in &request.proof {
        body.push_str(&base64::engine::general_purpose::STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&request.note);
    assert_eq!(body.as_bytes(), data);
});
