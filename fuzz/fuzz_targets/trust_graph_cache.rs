//! The trust-graph cache file (local state, read back on every online run): damaged bytes
//! are an error or ignored, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::client::trust_graph::TrustGraph;

fuzz_target!(|data: &[u8]| {
    let _ = TrustGraph::decode(data, "fuzz.test/log", "key");
});
