//! The one key grammar for principals: any text either fails or gives a key whose canonical
//! name parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::model::principal::{key_name, parse_key, parse_key_name};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = parse_key(text) {
        assert_eq!(parse_key(&key_name(&key)), Ok(key));
        assert_eq!(parse_key_name(&key_name(&key)), Some(key));
    }
});
