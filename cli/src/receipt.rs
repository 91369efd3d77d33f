//! Submission receipts: the log's answer to a submission (index and C2SP tlog-proof), the
//! logged entry itself, and their verification.
//!
//! A receipt verifies when the entry carries the submitted envelope and the submitter's key,
//! its signature and statement verify, the proof's checkpoint is signed by the policy's log
//! key with the policy's witness quorum, and the inclusion proof leads from the entry's leaf
//! hash to that checkpoint's root at the receipt's index. The tlog-proof does not hold the
//! entry (the log picks its receipt time), so the publishing commands read it from the log's
//! entry tile and keep it in the receipt; `quorum receipt verify` then works offline.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quorum_c2sp::merkle::verify_inclusion;
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_verifier::model::log_entry::{LogEntry, leaf_hash, verify_log_entry};
use quorum_verifier::policy::Policy;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::{Global, ReceiptArgs, ReceiptCommand};
use crate::error::{evidence, usage};
use crate::glue::{self, VerifiedCheckpoint};
use crate::net::{LogClient, MAX_TILE};
use crate::state::{MAX_INPUT_FILE, State, read_input};

/// Entries per full tile (C2SP tlog-tiles).
const TILE_WIDTH: u64 = 256;

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

/// Reads the logged entry at `index` from the log's entry tiles, as of a tree of `size`.
pub fn fetch_entry(client: &LogClient, index: u64, size: u64) -> anyhow::Result<Vec<u8>> {
    if index >= size {
        return Err(evidence(format!(
            "the receipt's index {index} is outside its checkpoint of size {size}"
        )));
    }
    let tile = index / TILE_WIDTH;
    let tile_start = tile * TILE_WIDTH;
    let width = (size - tile_start).min(TILE_WIDTH);
    let mut path = format!(
        "/tile/entries/{}",
        quorum_c2sp::tiles::encode_tile_index(tile)
    );
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    let data = client.get_ok(&path, MAX_TILE)?;
    let entries = quorum_c2sp::tiles::decode_entry_bundle(&data)
        .map_err(|e| evidence(format!("entry bundle {path}: {e}")))?;
    entries
        .get((index - tile_start) as usize)
        .map(|e| e.to_vec())
        .ok_or_else(|| evidence(format!("entry bundle {path} has no entry {index}")))
}

/// The checkpoint size a tlog-proof claims, before verification (to know which tile to read).
pub fn proof_size(proof_text: &str) -> anyhow::Result<u64> {
    let proof = TlogProof::parse(proof_text.as_bytes())
        .map_err(|e| evidence(format!("the log's tlog-proof is malformed: {e}")))?;
    let note = quorum_c2sp::note::Note::parse(&proof.checkpoint)
        .map_err(|e| evidence(format!("the tlog-proof's checkpoint is malformed: {e}")))?;
    let cp = quorum_c2sp::checkpoint::Checkpoint::parse(&note.text)
        .map_err(|e| evidence(format!("the tlog-proof's checkpoint is malformed: {e}")))?;
    Ok(cp.size)
}

/// Verifies a receipt against the policy (see the module documentation).
pub fn verify_receipt(policy: &Policy, receipt: &Receipt) -> anyhow::Result<ReceiptCheck> {
    if receipt.tlog_proof.is_empty() {
        return Err(evidence(format!(
            "the receipt for {} has no tlog-proof (status {}): the log had not integrated it",
            receipt.envelope_digest, receipt.status
        )));
    }
    let entry_b64 = receipt.entry.as_deref().ok_or_else(|| {
        evidence("the receipt does not hold the logged entry, so its inclusion cannot be checked")
    })?;
    let entry = STANDARD
        .decode(entry_b64)
        .map_err(|e| evidence(format!("the receipt's entry is not base64: {e}")))?;
    let logged = verify_log_entry(&entry)
        .map_err(|e| evidence(format!("the receipt's entry does not verify: {e}")))?;
    if hex::encode(logged.envelope_digest) != receipt.envelope_digest {
        return Err(evidence(format!(
            "the logged entry holds envelope {} but the receipt is for {}",
            hex::encode(logged.envelope_digest),
            receipt.envelope_digest
        )));
    }
    let envelope_text = serde_json::to_string(&receipt.envelope)
        .map_err(|e| usage(format!("the receipt's envelope cannot be encoded: {e}")))?;
    let envelope = quorum_verifier::model::dsse::Envelope::from_json(envelope_text.as_bytes())
        .map_err(|e| evidence(format!("the receipt's envelope is malformed: {e}")))?;
    if envelope.digest() != logged.envelope_digest {
        return Err(evidence(
            "the receipt's envelope is not the one in the logged entry",
        ));
    }
    let proof = TlogProof::parse(receipt.tlog_proof.as_bytes())
        .map_err(|e| evidence(format!("the receipt's tlog-proof is malformed: {e}")))?;
    if proof.index != receipt.index {
        return Err(evidence(format!(
            "the tlog-proof is for index {} but the receipt says {}",
            proof.index, receipt.index
        )));
    }
    let cp: VerifiedCheckpoint = glue::verify_checkpoint(policy, &proof.checkpoint, None, None)?;
    verify_inclusion(
        &leaf_hash(&entry),
        proof.index,
        cp.size,
        &proof.hashes,
        &cp.root,
    )
    .map_err(|e| {
        evidence(format!(
            "the entry is not included at index {} under the checkpoint of size {}: {e}",
            proof.index, cp.size
        ))
    })?;
    Ok(ReceiptCheck {
        origin: cp.origin,
        size: cp.size,
        root_hash: STANDARD.encode(cp.root),
        witnessed_at: cp.time,
    })
}

/// Checks that entry bytes read from the log carry the submitted envelope and key.
pub fn check_entry_matches(
    entry: &[u8],
    envelope_digest: &[u8; 32],
    key: &[u8; 32],
) -> anyhow::Result<()> {
    let decoded = LogEntry::decode(entry)
        .map_err(|e| evidence(format!("the logged entry is malformed: {e}")))?;
    if &decoded.envelope_digest() != envelope_digest || &decoded.public_key != key {
        return Err(evidence(
            "the entry the log serves at the receipt's index is not the submitted statement",
        ));
    }
    Ok(())
}

/// `quorum receipt …`.
pub fn receipt(global: &Global, args: &ReceiptArgs) -> anyhow::Result<u8> {
    match &args.command {
        ReceiptCommand::Verify { file } => {
            let state = State::open(global)?;
            let policy = crate::verify::load_policy(&state.policy_path(global))?;
            let bytes = read_input(file, "receipt", MAX_INPUT_FILE)?;
            let receipt: Receipt = serde_json::from_slice(&bytes)
                .map_err(|e| usage(format!("{} is not a Quorum receipt: {e}", file.display())))?;
            let check = verify_receipt(&policy, &receipt)?;
            if global.json {
                println!(
                    "{}",
                    json!({"file": file.display().to_string(), "valid": true,
                           "envelope_digest": receipt.envelope_digest, "index": receipt.index,
                           "checkpoint": check})
                );
            } else {
                println!(
                    "receipt valid: entry {} of {} (envelope digest {}) is included under the checkpoint of size {} root {}{}",
                    receipt.index,
                    check.origin,
                    receipt.envelope_digest,
                    check.size,
                    check.root_hash,
                    if check.witnessed_at > 0 {
                        format!(", witnessed at {}", check.witnessed_at)
                    } else {
                        String::new()
                    }
                );
            }
            Ok(0)
        }
    }
}
