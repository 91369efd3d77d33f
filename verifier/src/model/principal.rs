//! One grammar for a principal's key, wherever a key is written as text: in the log's API
//! (`publicKey`, `signer`), in predicates (a trust statement's `key`, an owner's `key`), in
//! the policy (`[aliases]`, roots, required auditors), in statements (key subjects) and on the
//! command line. A principal is an Ed25519 public key, written as one of:
//!
//! * 64 lowercase hex digits (the raw 32-byte key);
//! * `ed25519:` followed by 64 lowercase hex digits (a key subject's name, and how Quorum
//!   writes keys);
//! * a C2SP signed-note verifier key `<name>+<8 hex key hash>+<base64(0x01 || key)>`, whose
//!   key hash (the first 4 bytes of SHA-256(name || "\n" || 0x01 || key)) must match.
//!
//! Nothing else: no upper case, no raw base64, no whitespace. The grammar is syntax only;
//! code that needs a usable verifying key also rejects invalid and small-order points
//! (`log_entry::parse_verifying_key`). C2SP verifier keys of logs and witnesses (types 0x01
//! and 0x04 with their names) are parsed by `quorum_c2sp::note`, not here.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::model::dsse::truncate;
use crate::model::statement::{KEY_SUBJECT_PREFIX, is_lower_hex, parse_hex32};

/// The longest key text accepted.
pub const MAX_KEY_TEXT: usize = 1024;

/// A key text outside the grammar.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid key `{key}`: {reason}")]
pub struct KeyError {
    /// The key text (truncated).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// Parses a principal's key written in any form of the grammar (see the module
/// documentation).
pub fn parse_key(text: &str) -> Result<[u8; 32], KeyError> {
    let bad = |reason: &str| KeyError {
        key: truncate(text, 128),
        reason: reason.to_owned(),
    };
    if text.len() > MAX_KEY_TEXT {
        return Err(bad("too long"));
    }
    if let Some(k) = parse_hex32(text) {
        return Ok(k);
    }
    if let Some(rest) = text.strip_prefix(KEY_SUBJECT_PREFIX) {
        return parse_hex32(rest).ok_or_else(|| bad("expected 64 lowercase hex digits"));
    }
    // The name and the hash contain no `+`; the base64 key may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(
            "expected 64 lowercase hex digits, ed25519:<hex> or a signed-note verifier key",
        ));
    };
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("verifier key name is empty or has spaces"));
    }
    if !is_lower_hex(hash, 8) {
        return Err(bad("verifier key hash must be 8 lowercase hex digits"));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad("verifier key is not valid base64"))?;
    let (Some(&0x01), Ok(key)) = (raw.first(), <[u8; 32]>::try_from(&raw[1.min(raw.len())..]))
    else {
        return Err(bad(
            "verifier key must be 0x01 followed by a 32-byte Ed25519 key",
        ));
    };
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&raw);
    if hex::encode(&h.finalize()[..4]) != hash {
        return Err(bad("verifier key hash does not match name and key"));
    }
    Ok(key)
}

/// How Quorum writes a key: `ed25519:` and 64 lowercase hex digits (a key subject's name).
pub fn key_name(key: &[u8; 32]) -> String {
    format!("{KEY_SUBJECT_PREFIX}{}", hex::encode(key))
}

/// Parses a key subject's name, which must be the canonical [`key_name`] form.
pub fn parse_key_name(name: &str) -> Option<[u8; 32]> {
    let key = parse_key(name).ok()?;
    (key_name(&key) == name).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vkey(name: &str, key: &[u8; 32]) -> String {
        let mut raw = vec![0x01];
        raw.extend_from_slice(key);
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update(b"\n");
        h.update(&raw);
        format!(
            "{name}+{}+{}",
            hex::encode(&h.finalize()[..4]),
            base64::engine::general_purpose::STANDARD.encode(&raw)
        )
    }

    #[test]
    fn every_form_of_the_grammar_and_nothing_else() {
        let k = [5u8; 32];
        assert_eq!(parse_key(&hex::encode(k)), Ok(k));
        assert_eq!(parse_key(&key_name(&k)), Ok(k));
        let v = vkey("alice.example", &k);
        assert_eq!(parse_key(&v), Ok(k));
        assert_eq!(parse_key_name(&key_name(&k)), Some(k));
        assert_eq!(
            parse_key_name(&hex::encode(k)),
            None,
            "not the canonical name"
        );
        assert_eq!(parse_key_name(&v), None);
        for bad in [
            String::new(),
            "+".into(),
            "a+b+c".into(),
            "a+00000000+!!!".into(),
            "a+00000000+AQ==".into(),
            hex::encode([0xab; 32]).to_uppercase(),
            format!("ed25519:{}", hex::encode([0xab; 32]).to_uppercase()),
            base64::engine::general_purpose::STANDARD.encode(k),
            format!(" {}", hex::encode(k)),
            "ed25519:zz".into(),
            "a+b+c+d".into(),
            "a+00000000+AQ==+".into(),
            v.replacen("alice", "alicf", 1),
            "a".repeat(MAX_KEY_TEXT + 1),
        ] {
            assert!(parse_key(&bad).is_err(), "{bad}");
        }
    }
}
