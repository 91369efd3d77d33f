//! Predicates of every Quorum type and OpenVEX. The first byte picks the type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::model::predicates::{PREDICATE_TYPES, Predicate};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    let predicate_type = PREDICATE_TYPES
        .get(usize::from(selector) % (PREDICATE_TYPES.len() + 1))
        .copied()
        .unwrap_or("https://example.com/unknown/v1");
    let Ok(predicate) = Predicate::parse(predicate_type, json) else {
        return;
    };
    assert_eq!(predicate.predicate_type(), predicate_type);
    let _ = predicate.validate();
    // The typed value survives a trip through JSON.
    let value = predicate.to_value();
    assert_eq!(
        Predicate::from_value(predicate_type, &value).expect("to_value parses"),
        predicate
    );
    if let Predicate::Advisory(vex) = &predicate {
        let _ = vex.claims();
    }
});
