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
//! [`crate::model::dsse::Envelope::digest`]). It names a statement independently of how its
//! envelope is encoded and of its signatures; revocations name statements by it, and the log
//! deduplicates on (signer key, envelope digest).

use ed25519_dalek::VerifyingKey;
use quorum_proto::prost::Message as _;
use quorum_proto::v1;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::model::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::model::predicates::{PredicateError, ValidatedStatement, validate_statement};
use crate::model::statement::{Statement, StatementError};

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

    /// Encodes the entry like [`LogEntry::encode`], consuming it so that the envelope is
    /// moved into the protobuf message rather than copied.
    pub fn into_bytes(self) -> Result<Vec<u8>, LogEntryError> {
        let bytes = v1::LogEntry {
            receipt_time_millis: self.receipt_time_millis,
            envelope: Some(self.envelope.into_proto()),
            public_key: self.public_key.to_vec(),
        }
        .encode_to_vec();
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(LogEntryError::TooLarge { size: bytes.len() });
        }
        Ok(bytes)
    }

    /// Decodes entry bytes: size limit, protobuf decoding, canonical encoding, an envelope
    /// within DSSE limits, a valid 32-byte key and a non-negative receipt time. Does not
    /// verify the signature (see [`verify_log_entry`]).
    pub fn decode(bytes: &[u8]) -> Result<LogEntry, LogEntryError> {
        Self::decode_with_key(bytes).map(|(entry, _)| entry)
    }

    /// [`LogEntry::decode`], also giving the parsed key: decompressing an Ed25519 point is a
    /// field exponentiation, a fifth of a signature check, so it is done once per entry.
    fn decode_with_key(bytes: &[u8]) -> Result<(LogEntry, VerifyingKey), LogEntryError> {
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
        let entry = LogEntry {
            receipt_time_millis: proto.receipt_time_millis,
            envelope,
            public_key: key.to_bytes(),
        };
        Ok((entry, key))
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
    let (entry, key) = LogEntry::decode_with_key(bytes)?;
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

/// What an entry says: its signer, envelope digest and validated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedEntry {
    /// The signer key the entry names.
    pub signer: [u8; 32],
    /// SHA-256 of the envelope's PAE.
    pub envelope_digest: [u8; 32],
    /// The validated statement and predicate.
    pub statement: ValidatedStatement,
}

/// Decodes what an entry says **without** checking its signature or decompressing its key,
/// for bytes that passed [`verify_log_entry`] before and are proven to be those very bytes
/// (a mirror verifies every entry when it stores it, and proves each one it reads again by
/// its leaf hash under a verified root). The statement and predicate are validated in full.
/// Anything else must use [`verify_log_entry`].
pub fn decode_verified_before(bytes: &[u8]) -> Result<DecodedEntry, LogEntryError> {
    if bytes.len() > MAX_ENTRY_SIZE {
        return Err(LogEntryError::TooLarge { size: bytes.len() });
    }
    let proto = v1::LogEntry::decode(bytes).map_err(|e| LogEntryError::Decode(e.to_string()))?;
    let signer: [u8; 32] = proto
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| LogEntryError::BadPublicKey("not 32 bytes".into()))?;
    let envelope = Envelope::from_proto(proto.envelope.ok_or(LogEntryError::MissingEnvelope)?)?;
    envelope.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)?;
    let statement = validate_statement(&Statement::from_json(&envelope.payload)?)?;
    Ok(DecodedEntry {
        signer,
        envelope_digest: envelope.digest(),
        statement,
    })
}

/// The signer key an entry's protobuf names, read without verifying anything (to decide
/// whether the entry needs verifying at all); `None` if the bytes do not carry a 32-byte key.
pub fn claimed_signer(bytes: &[u8]) -> Option<[u8; 32]> {
    if bytes.len() > MAX_ENTRY_SIZE {
        return None;
    }
    // Decoded as the signer field alone: the envelope is skipped, not copied.
    let proto = v1::LogEntrySigner::decode(bytes).ok()?;
    proto.public_key.as_slice().try_into().ok()
}

/// Below this many items the batch functions verify on the calling thread: starting threads
/// would cost more than it saves.
const PARALLEL_MIN_ITEMS: usize = 64;

/// Verifies many envelopes; item `i` of the result is exactly what
/// [`verify_envelope`]`(items[i].0, items[i].1)` returns.
///
/// Signatures are checked one by one with strict (cofactorless) Ed25519, spread over the
/// machine's cores when there are enough items. Ed25519 *batch* verification
/// (`ed25519_dalek::verify_batch`) is deliberately not used to accept anything: its random
/// linear combination cannot see an error that is a small-order point, so a signer can craft
/// a signature with a mixed-order `R` that the batch accepts (with probability 1/2 to 1/8, and
/// the batch coefficients are derived from the inputs, so the signer can grind) while
/// [`VerifyingKey::verify_strict`] rejects it. Using it would let two verifiers of the same
/// log disagree about an entry. Making the batch exact would need a torsion check of every
/// `R`, which costs as much as a strict verification.
pub fn verify_envelopes_batch(
    items: &[(&Envelope, &VerifyingKey)],
) -> Vec<Result<ValidatedStatement, LogEntryError>> {
    map_in_parallel(items, |(envelope, key)| verify_envelope(envelope, key))
}

/// Verifies many log entries from their bytes; item `i` of the result is exactly what
/// [`verify_log_entry`]`(entries[i])` returns. See [`verify_envelopes_batch`] for how the
/// signatures are checked.
pub fn verify_log_entries_batch(entries: &[&[u8]]) -> Vec<Result<VerifiedEntry, LogEntryError>> {
    map_in_parallel(entries, |bytes| verify_log_entry(bytes))
}

/// Maps `f` over `items`, keeping their order, on up to `available_parallelism` scoped
/// threads. Falls back to the calling thread when threads cannot be started.
pub(crate) fn map_in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < PARALLEL_MIN_ITEMS {
        return items.iter().map(&f).collect();
    }
    let chunk_len = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk_len);
        // The first chunk runs on this thread; the others on helpers when they start.
        let first = chunks.next().unwrap_or_default();
        let helpers: Vec<_> = chunks
            .map(|chunk| {
                let spawned = std::thread::Builder::new()
                    .spawn_scoped(scope, move || chunk.iter().map(f).collect::<Vec<R>>());
                (chunk, spawned.ok())
            })
            .collect();
        let mut out: Vec<R> = Vec::with_capacity(items.len());
        out.extend(first.iter().map(f));
        for (chunk, handle) in helpers {
            match handle.map(|h| h.join()) {
                Some(Ok(results)) => out.extend(results),
                // A panic in `f` is re-raised here, as it would be on one thread.
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => out.extend(chunk.iter().map(f)),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::predicates::{ADOPTION_V1, Predicate};
    use crate::model::statement::Subject;
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
        let e = LogEntry::decode(&bytes).expect("decodes");
        assert_eq!(e.clone().into_bytes(), Ok(bytes.clone()));
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
        assert_eq!(e.into_bytes().map_err(|e| e.kind()), Err("entry-too-large"));
    }

    /// A mix of valid entries, entries signed by another key than the embedded one, envelopes
    /// with a corrupted signature, malformed entries and statements, in an order that puts
    /// every kind in every parallel chunk.
    fn mixed_entries(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| {
                let k = key(1 + (i % 5) as u8);
                match i % 6 {
                    0 | 1 => entry(&k, adoption_envelope(&k)),
                    2 => entry(&k, adoption_envelope(&key(200))),
                    3 => {
                        let mut env = adoption_envelope(&k);
                        env.signatures[0].sig[7] ^= 1;
                        entry(&k, env)
                    }
                    4 => entry(&k, Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"[1".to_vec(), &k)),
                    _ => vec![0x0a, 0xff, i as u8],
                }
            })
            .collect()
    }

    #[test]
    fn batch_results_equal_one_at_a_time_results() {
        // Sizes below and above the parallel threshold, and one that does not divide evenly.
        for count in [0, 1, 7, PARALLEL_MIN_ITEMS + 1, 301] {
            let entries = mixed_entries(count);
            let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            let one_by_one: Vec<_> = slices.iter().map(|b| verify_log_entry(b)).collect();
            let batch = verify_log_entries_batch(&slices);
            assert_eq!(batch, one_by_one, "{count} entries");
            if count > 6 {
                let kinds: std::collections::BTreeSet<_> = batch
                    .iter()
                    .map(|r| r.as_ref().map_or_else(|e| e.kind(), |_| "ok"))
                    .collect();
                assert_eq!(
                    kinds.into_iter().collect::<Vec<_>>(),
                    ["entry-decode", "malformed-json", "no-valid-signature", "ok"]
                );
            }

            let decoded: Vec<LogEntry> = entries
                .iter()
                .filter_map(|b| LogEntry::decode(b).ok())
                .collect();
            let keys: Vec<VerifyingKey> = decoded
                .iter()
                .enumerate()
                // Every third envelope is checked against a key that did not sign it.
                .map(|(i, e)| match i % 3 {
                    0 => key(201).verifying_key(),
                    _ => parse_verifying_key(&e.public_key).expect("decoded key"),
                })
                .collect();
            let items: Vec<(&Envelope, &VerifyingKey)> = decoded
                .iter()
                .map(|e| &e.envelope)
                .zip(keys.iter())
                .collect();
            let one_by_one: Vec<_> = items.iter().map(|(e, k)| verify_envelope(e, k)).collect();
            assert_eq!(verify_envelopes_batch(&items), one_by_one);
        }
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
