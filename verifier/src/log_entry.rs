//! The log entry (leaf data) and its verification from log data alone.
//!
//! A log entry is the canonical protobuf encoding of [`quorum_proto::v1::LogEntry`]: the
//! log's receipt time, the DSSE envelope and the signer's Ed25519 public key. Its bytes are
//! the Merkle leaf data (leaf hash `SHA-256(0x00 || bytes)`), at most [`MAX_ENTRY_SIZE`]
//! bytes (the tlog-tiles entry-bundle length prefix is a `uint16`).
//!
//! [`verify_log_entry`] needs nothing but those bytes: it decodes them, checks that the
//! encoding is canonical, verifies the envelope's signature against the embedded key, and
//! parses and validates the in-toto statement and its predicate.
//!
//! The *envelope digest* is SHA-256 of the envelope's PAE (see
//! [`crate::dsse::Envelope::digest`]). It names a statement independently of how its
//! envelope is encoded and of its signatures; revocations name statements by it, and the log
//! deduplicates on (signer key, envelope digest).

use ed25519_dalek::VerifyingKey;
use quorum_proto::prost::Message as _;
use quorum_proto::v1;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::predicates::{PredicateError, ValidatedStatement, validate_statement};
use crate::statement::{Statement, StatementError};

/// The largest encoded log entry, in bytes.
pub const MAX_ENTRY_SIZE: usize = quorum_proto::MAX_LOG_ENTRY_SIZE;

/// Errors from encoding, decoding or verifying a log entry.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum LogEntryError {
    /// The entry is larger than [`MAX_ENTRY_SIZE`].
    #[error("log entry too large: {size} bytes, the limit is {MAX_ENTRY_SIZE}")]
    TooLarge {
        /// The size found.
        size: usize,
    },
    /// The bytes are not a protobuf `LogEntry`.
    #[error("log entry does not decode: {0}")]
    Decode(String),
    /// The bytes decode but are not the canonical encoding (unknown fields, fields out of
    /// order, default values written, non-minimal varints).
    #[error("log entry is not canonically encoded")]
    NonCanonical,
    /// The entry has no envelope.
    #[error("log entry has no envelope")]
    MissingEnvelope,
    /// The public key is not 32 bytes, not a valid Ed25519 point, or of small order.
    #[error("log entry public key is invalid: {0}")]
    BadPublicKey(String),
    /// The receipt time is negative.
    #[error("log entry receipt time {0} is negative")]
    BadReceiptTime(i64),
    /// The envelope is invalid or its signature does not verify.
    #[error(transparent)]
    Envelope(#[from] DsseError),
    /// The statement or its predicate is invalid.
    #[error(transparent)]
    Statement(#[from] PredicateError),
}

impl From<StatementError> for LogEntryError {
    fn from(e: StatementError) -> Self {
        LogEntryError::Statement(PredicateError::Statement(e))
    }
}

impl LogEntryError {
    /// A stable, short name of the error class, used in test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            LogEntryError::TooLarge { .. } => "entry-too-large",
            LogEntryError::Decode(_) => "entry-decode",
            LogEntryError::NonCanonical => "entry-non-canonical",
            LogEntryError::MissingEnvelope => "entry-missing-envelope",
            LogEntryError::BadPublicKey(_) => "entry-bad-public-key",
            LogEntryError::BadReceiptTime(_) => "entry-bad-receipt-time",
            LogEntryError::Envelope(e) => e.kind(),
            LogEntryError::Statement(e) => e.kind(),
        }
    }
}

/// A decoded log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The log's receipt time, Unix milliseconds.
    pub receipt_time_millis: i64,
    /// The signed envelope.
    pub envelope: Envelope,
    /// The signer's Ed25519 public key.
    pub public_key: [u8; 32],
}

/// The RFC 6962 leaf hash of an entry's bytes: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(entry_bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry_bytes);
    h.finalize().into()
}

/// Parses a 32-byte Ed25519 public key, rejecting invalid and small-order points.
pub fn parse_verifying_key(bytes: &[u8]) -> Result<VerifyingKey, LogEntryError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| LogEntryError::BadPublicKey(format!("{} bytes, expected 32", bytes.len())))?;
    let key = VerifyingKey::from_bytes(&arr)
        .map_err(|_| LogEntryError::BadPublicKey("not a valid Ed25519 point".into()))?;
    if key.is_weak() {
        return Err(LogEntryError::BadPublicKey("small-order key".into()));
    }
    Ok(key)
}

impl LogEntry {
    /// The protobuf form.
    pub fn to_proto(&self) -> v1::LogEntry {
        v1::LogEntry {
            receipt_time_millis: self.receipt_time_millis,
            envelope: Some(self.envelope.to_proto()),
            public_key: self.public_key.to_vec(),
        }
    }

    /// Encodes the entry (canonical prost encoding), failing if it exceeds
    /// [`MAX_ENTRY_SIZE`].
    pub fn encode(&self) -> Result<Vec<u8>, LogEntryError> {
        let bytes = self.to_proto().encode_to_vec();
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(LogEntryError::TooLarge { size: bytes.len() });
        }
        Ok(bytes)
    }

    /// Decodes entry bytes: size limit, protobuf decoding, canonical encoding, an envelope
    /// within DSSE limits, a valid 32-byte key and a non-negative receipt time. Does not
    /// verify the signature (see [`verify_log_entry`]).
    pub fn decode(bytes: &[u8]) -> Result<LogEntry, LogEntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(LogEntryError::TooLarge { size: bytes.len() });
        }
        let proto =
            v1::LogEntry::decode(bytes).map_err(|e| LogEntryError::Decode(e.to_string()))?;
        if proto.encode_to_vec() != bytes {
            return Err(LogEntryError::NonCanonical);
        }
        if proto.receipt_time_millis < 0 {
            return Err(LogEntryError::BadReceiptTime(proto.receipt_time_millis));
        }
        let key = parse_verifying_key(&proto.public_key)?;
        let envelope = Envelope::from_proto(proto.envelope.ok_or(LogEntryError::MissingEnvelope)?)?;
        Ok(LogEntry {
            receipt_time_millis: proto.receipt_time_millis,
            envelope,
            public_key: key.to_bytes(),
        })
    }

    /// The envelope digest: SHA-256 of the envelope's PAE.
    pub fn envelope_digest(&self) -> [u8; 32] {
        self.envelope.digest()
    }
}

/// A log entry that verified: signature by its key, well-formed statement, valid predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedEntry {
    /// The log's receipt time, Unix milliseconds (informational).
    pub receipt_time_millis: i64,
    /// The signer: the principal who made the statement.
    pub signer: [u8; 32],
    /// The envelope.
    pub envelope: Envelope,
    /// SHA-256 of the envelope's PAE.
    pub envelope_digest: [u8; 32],
    /// The entry's RFC 6962 leaf hash.
    pub leaf_hash: [u8; 32],
    /// The validated statement and predicate.
    pub statement: ValidatedStatement,
}

/// Verifies an envelope as Quorum accepts it: payload type [`IN_TOTO_PAYLOAD_TYPE`], a
/// valid signature by `key`, a well-formed statement with a valid predicate. The log server
/// runs this on submission; [`verify_log_entry`] runs it on logged entries.
pub fn verify_envelope(
    envelope: &Envelope,
    key: &VerifyingKey,
) -> Result<ValidatedStatement, LogEntryError> {
    envelope.check_limits()?;
    envelope.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)?;
    envelope.verify(key)?;
    let statement = Statement::from_json(&envelope.payload)?;
    Ok(validate_statement(&statement)?)
}

/// Verifies a log entry from its bytes alone: decodes it ([`LogEntry::decode`]), then
/// [`verify_envelope`] with the embedded key.
pub fn verify_log_entry(bytes: &[u8]) -> Result<VerifiedEntry, LogEntryError> {
    let entry = LogEntry::decode(bytes)?;
    let key = parse_verifying_key(&entry.public_key)?;
    let statement = verify_envelope(&entry.envelope, &key)?;
    Ok(VerifiedEntry {
        receipt_time_millis: entry.receipt_time_millis,
        signer: entry.public_key,
        envelope_digest: entry.envelope.digest(),
        envelope: entry.envelope,
        leaf_hash: leaf_hash(bytes),
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predicates::{ADOPTION_V1, Predicate};
    use crate::statement::Subject;
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn adoption_envelope(k: &SigningKey) -> Envelope {
        let st = Statement::new(
            vec![Subject::package_version("pkg:cargo/serde@1.0.0", [1; 32])],
            ADOPTION_V1,
            json!({"status": "adopted"}),
        );
        Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_json(), k)
    }

    fn entry(k: &SigningKey, env: Envelope) -> Vec<u8> {
        LogEntry {
            receipt_time_millis: 1_700_000_000_000,
            envelope: env,
            public_key: k.verifying_key().to_bytes(),
        }
        .encode()
        .unwrap_or_default()
    }

    fn kind(bytes: &[u8]) -> &'static str {
        match verify_log_entry(bytes) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn verifies_a_good_entry() {
        let k = key(1);
        let env = adoption_envelope(&k);
        let bytes = entry(&k, env.clone());
        let v = verify_log_entry(&bytes);
        let Ok(v) = v else { panic!("{v:?}") };
        assert_eq!(v.signer, k.verifying_key().to_bytes());
        assert_eq!(v.envelope_digest, env.digest());
        assert_eq!(v.leaf_hash, leaf_hash(&bytes));
        assert!(matches!(v.statement.predicate, Predicate::Adoption(_)));
    }

    #[test]
    fn rejects_bad_entries() {
        let k = key(1);
        // Signed by another key than the embedded one.
        let bytes = entry(&k, adoption_envelope(&key(2)));
        assert_eq!(kind(&bytes), "no-valid-signature");
        // Wrong payload type.
        let env = Envelope::sign("application/json", b"{}".to_vec(), &k);
        assert_eq!(kind(&entry(&k, env)), "wrong-payload-type");
        // Payload not a statement.
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"[1,2".to_vec(), &k);
        assert_eq!(kind(&entry(&k, env)), "malformed-json");
        // Garbage bytes.
        assert_eq!(kind(&[0xff, 0xff, 0xff]), "entry-decode");
        assert_eq!(kind(&[]), "entry-bad-public-key");
        // Oversize.
        assert_eq!(kind(&vec![0u8; MAX_ENTRY_SIZE + 1]), "entry-too-large");
        // Unknown field appended: decodes, but is not canonical.
        let mut extra = entry(&k, adoption_envelope(&k));
        extra.extend_from_slice(&[0x20, 0x01]);
        assert_eq!(kind(&extra), "entry-non-canonical");
        // Bad key length.
        let mut p =
            v1::LogEntry::decode(entry(&k, adoption_envelope(&k)).as_slice()).unwrap_or_default();
        p.public_key.truncate(31);
        assert_eq!(kind(&p.encode_to_vec()), "entry-bad-public-key");
        // Small-order key (the identity point).
        let mut ident = [0u8; 32];
        ident[0] = 1;
        p.public_key = ident.to_vec();
        assert_eq!(kind(&p.encode_to_vec()), "entry-bad-public-key");
        // Missing envelope.
        let p = v1::LogEntry {
            receipt_time_millis: 1,
            envelope: None,
            public_key: k.verifying_key().to_bytes().to_vec(),
        };
        assert_eq!(kind(&p.encode_to_vec()), "entry-missing-envelope");
        // Negative time.
        let mut p =
            v1::LogEntry::decode(entry(&k, adoption_envelope(&k)).as_slice()).unwrap_or_default();
        p.receipt_time_millis = -1;
        assert_eq!(kind(&p.encode_to_vec()), "entry-bad-receipt-time");
        // Too large to encode.
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, vec![b' '; MAX_ENTRY_SIZE], &k);
        let e = LogEntry {
            receipt_time_millis: 0,
            envelope: env,
            public_key: k.verifying_key().to_bytes(),
        };
        assert_eq!(e.encode().map_err(|e| e.kind()), Err("entry-too-large"));
    }

    #[test]
    fn truncation_never_panics() {
        let k = key(1);
        let bytes = entry(&k, adoption_envelope(&k));
        for n in 0..bytes.len() {
            assert!(verify_log_entry(&bytes[..n]).is_err());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            let _ = verify_log_entry(&b);
        }
    }
}
