//! `quorum receipt verify`: a saved receipt checked offline against the current policy
//! (`quorum_verifier::client::receipt`), and against the checkpoint memory: a receipt whose
//! checkpoint has the size of the stored one but another root is a fork.

use quorum_verifier::client::receipt::{Receipt, receipt_check, verify_receipt};
use serde_json::json;

use crate::cli::{Global, ReceiptArgs, ReceiptCommand};
use crate::error::usage;
use crate::glue;
use crate::state::{MAX_INPUT_FILE, State, read_input};

/// `quorum receipt …`.
pub fn receipt(global: &Global, args: &ReceiptArgs) -> anyhow::Result<u8> {
    match &args.command {
        ReceiptCommand::Verify { file } => {
            let state = State::open(global)?;
            let policy = crate::verify::load_policy(&state.policy_path(global))?;
            let bytes = read_input(file, "receipt", MAX_INPUT_FILE)?;
            let receipt: Receipt = serde_json::from_slice(&bytes)
                .map_err(|e| usage(format!("{} is not a Quorum receipt: {e}", file.display())))?;
            let trust = glue::log_trust(&policy)?;
            let checkpoint = verify_receipt(&trust, &receipt).map_err(glue::client_error)?;
            state
                .memory()
                .check_same_size(&checkpoint, &file.display().to_string())
                .map_err(|e| glue::client_error(e.into()))?;
            let check = receipt_check(&checkpoint);
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
