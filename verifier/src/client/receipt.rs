//! Submission receipts: the log's answer to a submission (index and C2SP tlog-proof), the
//! logged entry itself, and their verification (`spec/verifier-semantics.md` §7).
//!
//! A receipt verifies when the entry carries the submitted envelope and the submitter's key,
//! its signature and statement verify, and the tlog-proof verifies through
//! [`quorum_c2sp::tlog_proof::TlogProof::verify_with_policy`] for the entry's leaf hash: the
//! proof's checkpoint is signed by the policy's log key with the policy's witness quorum, and
//! the inclusion proof leads from the leaf at the receipt's index to its root. The tlog-proof
//! does not hold the entry (the log picks its receipt time), so publishing reads it from the
//! log's entry tile and keeps it in the receipt; verification then works offline.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quorum_c2sp::tlog_proof::TlogProof;
use serde::{Deserialize, Serialize};

use super::ClientError;
use super::checkpoint::{LogTrust, VerifiedCheckpoint, parse_unverified};
use crate::model::dsse::Envelope;
use crate::model::log_entry::{LogEntry, leaf_hash, verify_log_entry};

/// A submission receipt, kept in `receipts/<envelope digest>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// The log's base URL.
    pub log: String,
    /// The envelope digest (hex).
    pub envelope_digest: String,
    /// The entry's index.
    pub index: u64,
    /// `sequenced`, `duplicate` or `pending`.
    pub status: String,
    /// The C2SP tlog-proof text (empty while pending).
    pub tlog_proof: String,
    /// The signed envelope (DSSE JSON).
    pub envelope: serde_json::Value,
    /// The logged entry (base64 of the `LogEntry` bytes), read back from the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// What the verification established, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<ReceiptCheck>,
}

/// What a receipt's verification established.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReceiptCheck {
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint's root hash (base64).
    pub root_hash: String,
    /// The witness quorum's cosignature time (Unix seconds; 0 without witnesses).
    pub witnessed_at: u64,
}

/// The checkpoint size a tlog-proof claims, before verification (to know which entry
/// bundle holds the entry).
pub fn proof_size(proof_text: &str) -> Result<u64, ClientError> {
    let proof = TlogProof::parse(proof_text.as_bytes())
        .map_err(|e| ClientError::evidence(format!("the log's tlog-proof is malformed: {e}")))?;
    parse_unverified(&proof.checkpoint)
        .map(|c| c.size)
        .ok_or_else(|| ClientError::evidence("the tlog-proof's checkpoint is malformed"))
}

/// Checks that entry bytes read from the log carry the submitted envelope and key.
pub fn check_entry_matches(
    entry: &[u8],
    envelope_digest: &[u8; 32],
    key: &[u8; 32],
) -> Result<(), ClientError> {
    let decoded = LogEntry::decode(entry)
        .map_err(|e| ClientError::evidence(format!("the logged entry is malformed: {e}")))?;
    if &decoded.envelope_digest() != envelope_digest || &decoded.public_key != key {
        return Err(ClientError::evidence(
            "the entry the log serves at the receipt's index is not the submitted statement",
        ));
    }
    Ok(())
}

/// Verifies a receipt against the log the client trusts (see the module documentation) and
/// returns the checkpoint it is proven under.
pub fn verify_receipt(
    trust: &LogTrust,
    receipt: &Receipt,
) -> Result<VerifiedCheckpoint, ClientError> {
    if receipt.tlog_proof.is_empty() {
        return Err(ClientError::evidence(format!(
            "the receipt for {} has no tlog-proof (status {}): the log had not integrated it",
            receipt.envelope_digest, receipt.status
        )));
    }
    let entry_b64 = receipt.entry.as_deref().ok_or_else(|| {
        ClientError::evidence(
            "the receipt does not hold the logged entry, so its inclusion cannot be checked",
        )
    })?;
    let entry = STANDARD
        .decode(entry_b64)
        .map_err(|e| ClientError::evidence(format!("the receipt's entry is not base64: {e}")))?;
    let logged = verify_log_entry(&entry)
        .map_err(|e| ClientError::evidence(format!("the receipt's entry does not verify: {e}")))?;
    if hex::encode(logged.envelope_digest) != receipt.envelope_digest {
        return Err(ClientError::evidence(format!(
            "the logged entry holds envelope {} but the receipt is for {}",
            hex::encode(logged.envelope_digest),
            receipt.envelope_digest
        )));
    }
    let envelope_text = serde_json::to_string(&receipt.envelope).map_err(|e| {
        ClientError::Local(format!("the receipt's envelope cannot be encoded: {e}"))
    })?;
    let envelope = Envelope::from_json(envelope_text.as_bytes())
        .map_err(|e| ClientError::evidence(format!("the receipt's envelope is malformed: {e}")))?;
    if envelope.digest() != logged.envelope_digest {
        return Err(ClientError::evidence(
            "the receipt's envelope is not the one in the logged entry",
        ));
    }
    let proof = TlogProof::parse(receipt.tlog_proof.as_bytes()).map_err(|e| {
        ClientError::evidence(format!("the receipt's tlog-proof is malformed: {e}"))
    })?;
    if proof.index != receipt.index {
        return Err(ClientError::evidence(format!(
            "the tlog-proof is for index {} but the receipt says {}",
            proof.index, receipt.index
        )));
    }
    Ok(trust.verify_tlog_proof(&proof, &leaf_hash(&entry))?)
}

/// What a verified receipt records.
pub fn receipt_check(checkpoint: &VerifiedCheckpoint) -> ReceiptCheck {
    ReceiptCheck {
        origin: checkpoint.checkpoint.origin.clone(),
        size: checkpoint.size(),
        root_hash: STANDARD.encode(checkpoint.root()),
        witnessed_at: checkpoint.witnessed_at,
    }
}
