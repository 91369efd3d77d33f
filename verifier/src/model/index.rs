//! Which index keys a statement is found under: the one rule the log server's lookup index
//! and the client's mirror index both apply, so that a client can check a log's claim that
//! it served every entry under a key (`spec/verifier-semantics.md` §2).
//!
//! A statement is found under the package (a purl without version) of each of its package
//! subjects, with that subject's version, and, if it is a trust or revocation statement,
//! under [`TRUST_GRAPH_KEY`]: every decision needs the whole trust graph and every
//! revocation, whatever package it is about.

use std::collections::BTreeSet;

use crate::model::predicates::{Predicate, ValidatedStatement};

/// The index key of trust and revocation statements. It cannot collide with a package: a
/// package key is a purl, which starts with `pkg:`.
pub const TRUST_GRAPH_KEY: &str = "quorum:trust-graph";

/// The separator between [`TRUST_GRAPH_KEY`] and a signer's key in the lookup key of one
/// signer's trust and revocation statements ([`trust_graph_key_of`]).
const SIGNER_SEPARATOR: char = '/';

/// The lookup key of the trust and revocation statements one signer made:
/// `quorum:trust-graph/<64 lowercase hex digits of the Ed25519 key>`. A client that verifies
/// the trust graph outward from its roots asks for these, signer by signer, instead of the
/// whole graph (`spec/log-server.md`, "Evidence"). Entries are not indexed under it: it
/// selects the trust-graph entries whose log entry names that signer.
pub fn trust_graph_key_of(signer: &[u8; 32]) -> String {
    format!("{TRUST_GRAPH_KEY}{SIGNER_SEPARATOR}{}", hex::encode(signer))
}

/// The signer a [`trust_graph_key_of`] key names; `None` for any other key (including a
/// key spelled with uppercase hex, which is not the one spelling).
pub fn trust_graph_signer(key: &str) -> Option<[u8; 32]> {
    let hex_part = key
        .strip_prefix(TRUST_GRAPH_KEY)?
        .strip_prefix(SIGNER_SEPARATOR)?;
    if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut signer = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut signer).ok()?;
    Some(signer)
}

/// Whether a lookup key selects trust-graph entries: [`TRUST_GRAPH_KEY`] or one signer's.
pub fn is_trust_graph_key(key: &str) -> bool {
    key == TRUST_GRAPH_KEY || trust_graph_signer(key).is_some()
}

/// The longest index key accepted in a lookup (a purl without version, or
/// [`TRUST_GRAPH_KEY`]).
pub const MAX_KEY_LEN: usize = 2048;

/// The (key, version) pairs a statement is indexed under, sorted and without repeats. The
/// version is empty for a subject without version and for [`TRUST_GRAPH_KEY`].
pub fn index_subjects(validated: &ValidatedStatement) -> Vec<(String, String)> {
    let mut subjects: BTreeSet<(String, String)> = validated
        .packages()
        .map(|p| (p.package.clone(), p.version.clone().unwrap_or_default()))
        .collect();
    if is_trust_graph(validated) {
        subjects.insert((TRUST_GRAPH_KEY.to_owned(), String::new()));
    }
    subjects.into_iter().collect()
}

/// What a log indexes an entry under: [`index_subjects`], and for a trust-graph statement
/// also its signer's [`trust_graph_key_of`] (version ""), so that one signer's trust
/// statements are found without reading the signer's other entries.
pub fn log_index_subjects(
    validated: &ValidatedStatement,
    signer: &[u8; 32],
) -> Vec<(String, String)> {
    let mut subjects = index_subjects(validated);
    if is_trust_graph(validated) {
        subjects.push((trust_graph_key_of(signer), String::new()));
        subjects.sort();
    }
    subjects
}

/// The keys (without versions) a statement is indexed under, sorted and without repeats.
pub fn index_keys(validated: &ValidatedStatement) -> Vec<String> {
    let mut keys: Vec<String> = index_subjects(validated)
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    keys.dedup();
    keys
}

/// Whether a statement belongs to the trust graph: trust statements (scoped or not) and
/// revocations.
pub fn is_trust_graph(validated: &ValidatedStatement) -> bool {
    matches!(
        validated.predicate,
        Predicate::Trust(_) | Predicate::Revocation(_)
    )
}

/// Whether a lookup key is well formed: [`TRUST_GRAPH_KEY`], one signer's
/// ([`trust_graph_key_of`]), or a purl without version in
/// the canonical form `parse_purl` gives.
pub fn is_valid_key(key: &str) -> bool {
    if is_trust_graph_key(key) {
        return true;
    }
    key.len() <= MAX_KEY_LEN
        && matches!(
            crate::model::statement::parse_purl(key),
            Ok((package, None)) if package == key
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::predicates::{
        Adoption, AdoptionStatus, Revocation, Trust, TrustLevel, validate_statement,
    };
    use crate::model::statement::Subject;

    fn keys_of(predicate: Predicate, subjects: Vec<Subject>) -> Vec<(String, String)> {
        let statement = predicate.into_statement(subjects);
        index_subjects(&validate_statement(&statement).expect("valid"))
    }

    #[test]
    fn packages_with_versions_and_the_trust_graph() {
        let adoption = Predicate::Adoption(Adoption {
            status: AdoptionStatus::Adopted,
            comment: None,
        });
        assert_eq!(
            keys_of(
                adoption,
                vec![
                    Subject::package_version("pkg:cargo/serde@1.0.0", [1; 32]),
                    Subject::package_version("pkg:cargo/serde@1.0.1", [2; 32]),
                    Subject::package_version("pkg:npm/left-pad@1.3.0", [3; 32]),
                ]
            ),
            vec![
                ("pkg:cargo/serde".to_string(), "1.0.0".to_string()),
                ("pkg:cargo/serde".to_string(), "1.0.1".to_string()),
                ("pkg:npm/left-pad".to_string(), "1.3.0".to_string()),
            ]
        );
        let key = [9u8; 32];
        let trust = Predicate::Trust(Trust {
            key: hex::encode(key),
            level: TrustLevel::High,
            scope: Some("pkg:cargo/serde".into()),
            comment: None,
        });
        assert_eq!(
            keys_of(trust, vec![Subject::key(&key)]),
            vec![(TRUST_GRAPH_KEY.to_string(), String::new())]
        );
        let revocation = Predicate::Revocation(Revocation {
            envelope_digest: hex::encode([4u8; 32]),
            reason: None,
            provenance: None,
        });
        let statement = revocation.into_statement(vec![Subject::envelope(&[4; 32])]);
        let validated = validate_statement(&statement).expect("valid");
        assert_eq!(index_keys(&validated), vec![TRUST_GRAPH_KEY.to_string()]);
        assert_eq!(
            log_index_subjects(&validated, &[7; 32]),
            vec![
                (TRUST_GRAPH_KEY.to_string(), String::new()),
                (trust_graph_key_of(&[7; 32]), String::new()),
            ]
        );
    }

    #[test]
    fn keys_are_canonical_purls_or_the_trust_graph() {
        assert!(is_valid_key(TRUST_GRAPH_KEY));
        let signer = [0xab; 32];
        let key = trust_graph_key_of(&signer);
        assert!(is_valid_key(&key));
        assert_eq!(trust_graph_signer(&key), Some(signer));
        assert!(is_trust_graph_key(&key));
        assert!(!is_valid_key(&key.to_uppercase()));
        assert!(!is_valid_key(&format!(
            "{TRUST_GRAPH_KEY}/{}",
            "AB".repeat(32)
        )));
        assert!(!is_valid_key(&format!(
            "{TRUST_GRAPH_KEY}/{}",
            "ab".repeat(31)
        )));
        assert!(!is_valid_key(&format!(
            "{TRUST_GRAPH_KEY}/{}",
            "zz".repeat(32)
        )));
        assert!(!is_valid_key(&format!(
            "{TRUST_GRAPH_KEY}:{}",
            "ab".repeat(32)
        )));
        assert_eq!(trust_graph_signer(TRUST_GRAPH_KEY), None);
        assert_eq!(trust_graph_signer("pkg:cargo/serde"), None);
        assert!(is_valid_key("pkg:cargo/serde"));
        assert!(!is_valid_key("pkg:cargo/serde@1.0.0"));
        assert!(!is_valid_key("quorum:other"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key(&format!(
            "pkg:cargo/{}",
            "a".repeat(MAX_KEY_LEN)
        )));
    }
}
