//! in-toto statements and their validation against Quorum's predicate types.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::model::predicates::validate_statement;
use quorum_verifier::model::statement::Statement;

fuzz_target!(|data: &[u8]| {
    let Ok(statement) = Statement::from_json(data) else {
        return;
    };
    // Serialization is deterministic and parses back to the same statement.
    let json = statement.to_json();
    let reparsed = Statement::from_json(&json).expect("a serialized statement parses");
    assert_eq!(reparsed, statement);
    assert_eq!(reparsed.to_json(), json);
    let valid = validate_statement(&statement);
    assert_eq!(valid.is_ok(), validate_statement(&reparsed).is_ok());
    if let Ok(valid) = valid {
        for package in valid.packages() {
            let _ = package;
        }
    }
    for subject in &statement.subject {
        let _ = subject.kind();
        let _ = subject.package_version_parts();
    }
});
