//! C2SP offline inclusion proofs (<https://c2sp.org/tlog-proof>):
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64 opaque data>]
//! index <decimal leaf index>
//! <base64 hash>            (zero or more, RFC 6962 inclusion path, leaf side first)
//!
//! <checkpoint signed note, verbatim>
//! ```
//!
//! [`TlogProof::parse`] checks the structure and keeps the checkpoint bytes verbatim;
//! verification ([`TlogProof::verify`], [`TlogProof::verify_with_policy`]) opens the
//! checkpoint, checks the log signature and the witness quorum, then the inclusion proof.
//! The extra data is not authenticated and must not be trusted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{self, Checkpoint, CheckpointError, SignedCheckpoint};
use crate::cosignature::{self, CosignatureError, VerifiedCosignature};
use crate::merkle::{self, Hash, ProofError};
use crate::note::{self, NoteVerifier};
use crate::witness_policy::{PolicyCheckError, WitnessPolicy};

/// First line of every proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Largest proof accepted: a maximal checkpoint note plus the proof lines.
pub const MAX_TLOG_PROOF_SIZE: usize = note::MAX_NOTE_SIZE + 64 * 1024;

/// Most inclusion-proof hashes (a tree of at most 2^64 leaves has depth 64).
pub const MAX_PROOF_HASHES: usize = 64;

/// Largest extra data, in bytes after decoding.
pub const MAX_EXTRA_SIZE: usize = 16 * 1024;

/// Why a proof could not be parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    /// The input exceeds [`MAX_TLOG_PROOF_SIZE`].
    #[error("proof is {0} bytes, over the limit")]
    TooLarge(usize),
    /// The header part is not UTF-8.
    #[error("proof is not valid UTF-8")]
    InvalidUtf8,
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("proof does not start with {TLOG_PROOF_HEADER}")]
    BadHeader,
    /// The `extra` line is malformed or too large.
    #[error("bad extra line")]
    BadExtra,
    /// The `index` line is missing or malformed.
    #[error("missing or malformed index line")]
    BadIndex,
    /// A proof hash line is not base64 of 32 bytes.
    #[error("proof hash line {0} is not base64 of 32 bytes")]
    BadHash(usize),
    /// More than [`MAX_PROOF_HASHES`] hashes.
    #[error("more than {MAX_PROOF_HASHES} proof hashes")]
    TooManyHashes,
    /// The proof lines are not followed by a blank line and a checkpoint.
    #[error("missing blank line and checkpoint after the proof hashes")]
    MissingCheckpoint,
    /// The checkpoint is malformed or its log signature failed.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// The witness policy rejected the checkpoint.
    #[error("{0}")]
    Policy(#[from] PolicyCheckError),
    /// A witness cosignature failed.
    #[error("{0}")]
    Cosignature(#[from] CosignatureError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
}

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (`None` when the line is absent or empty).
    pub extra: Option<Vec<u8>>,
    /// Zero-based leaf index.
    pub index: u64,
    /// Inclusion proof hashes, leaf side first.
    pub hashes: Vec<Hash>,
    /// The checkpoint signed note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// A proof that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTlogProof {
    /// The checkpoint the leaf is included under.
    pub checkpoint: Checkpoint,
    /// The leaf index.
    pub index: u64,
    /// Verified witness cosignatures, each with the witness's policy name.
    pub cosignatures: Vec<(String, VerifiedCosignature)>,
}

impl TlogProof {
    /// Parses a proof. The checkpoint is kept as bytes and only parsed on verification.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        if bytes.len() > MAX_TLOG_PROOF_SIZE {
            return Err(TlogProofError::TooLarge(bytes.len()));
        }
        let mut rest = bytes;
        if take_line(&mut rest).map(text).transpose()? != Some(TLOG_PROOF_HEADER) {
            return Err(TlogProofError::BadHeader);
        }
        let mut line = text(take_line(&mut rest).ok_or(TlogProofError::BadIndex)?)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            if b64.len() > MAX_EXTRA_SIZE.div_ceil(3) * 4 {
                return Err(TlogProofError::BadExtra);
            }
            let data = STANDARD.decode(b64).map_err(|_| TlogProofError::BadExtra)?;
            extra = (!data.is_empty()).then_some(data);
            line = text(take_line(&mut rest).ok_or(TlogProofError::BadIndex)?)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(checkpoint::parse_decimal_u64)
            .ok_or(TlogProofError::BadIndex)?;
        let mut hashes = Vec::new();
        loop {
            let l = text(take_line(&mut rest).ok_or(TlogProofError::MissingCheckpoint)?)?;
            if l.is_empty() {
                break;
            }
            if hashes.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes);
            }
            hashes
                .push(checkpoint::parse_hash(l).ok_or(TlogProofError::BadHash(hashes.len() + 1))?);
        }
        if rest.is_empty() {
            return Err(TlogProofError::MissingCheckpoint);
        }
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: rest.to_vec(),
        })
    }

    /// Serializes the proof (the `extra` line only when there is extra data).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = self.extra.as_ref().filter(|e| !e.is_empty()) {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            s.push_str(&STANDARD.encode(h));
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    fn check_inclusion(&self, leaf_hash: &Hash, c: &Checkpoint) -> Result<(), TlogProofError> {
        merkle::verify_inclusion(leaf_hash, self.index, c.size, &self.hashes, &c.root_hash)?;
        Ok(())
    }

    /// Verifies the proof for the leaf with hash `leaf_hash` (`merkle::leaf_hash(entry)`):
    /// the checkpoint is signed by `log_verifier`, its cosignatures satisfy `policy`'s witness
    /// quorum (the policy's log list is not consulted), and the inclusion proof leads from
    /// the leaf to the checkpoint's root.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        log_verifier: &dyn NoteVerifier,
        policy: &WitnessPolicy,
    ) -> Result<VerifiedTlogProof, TlogProofError> {
        let signed: SignedCheckpoint = checkpoint::open_checkpoint(&self.checkpoint, log_verifier)?;
        let verified =
            cosignature::verify_cosignatures(&signed.note, &policy.cosignature_verifiers())?;
        let cosignatures: Vec<(String, VerifiedCosignature)> = verified
            .into_iter()
            .filter_map(|c| {
                policy
                    .witnesses()
                    .iter()
                    .find(|w| {
                        w.verifier()
                            .is_some_and(|v| v.name() == c.name && v.key_id() == c.key_id)
                    })
                    .map(|w| (w.name.clone(), c))
            })
            .collect();
        let names: Vec<&str> = cosignatures.iter().map(|(n, _)| n.as_str()).collect();
        if !policy.is_satisfied_by_names(&names) {
            return Err(PolicyCheckError::QuorumNotSatisfied {
                cosigned: names.iter().map(|n| n.to_string()).collect(),
            }
            .into());
        }
        self.check_inclusion(leaf_hash, &signed.checkpoint)?;
        Ok(VerifiedTlogProof {
            checkpoint: signed.checkpoint,
            index: self.index,
            cosignatures,
        })
    }

    /// Verifies the proof against a policy alone: a log of the policy named after the
    /// checkpoint's origin signed it, the witness quorum is met, and the inclusion proof
    /// holds.
    pub fn verify_with_policy(
        &self,
        leaf_hash: &Hash,
        policy: &WitnessPolicy,
    ) -> Result<VerifiedTlogProof, TlogProofError> {
        let ok = policy.verify_checkpoint(&self.checkpoint)?;
        self.check_inclusion(leaf_hash, &ok.checkpoint)?;
        Ok(VerifiedTlogProof {
            checkpoint: ok.checkpoint,
            index: self.index,
            cosignatures: ok.cosignatures,
        })
    }
}

/// Splits the next newline-terminated line (without the newline) off `rest`.
fn text(l: &[u8]) -> Result<&str, TlogProofError> {
    std::str::from_utf8(l).map_err(|_| TlogProofError::InvalidUtf8)
}

fn take_line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let i = rest.iter().position(|&b| b == b'\n')?;
    let (line, tail) = rest.split_at(i);
    *rest = &tail[1..];
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::CosignatureSigner;
    use crate::merkle::{leaf_hash, node_hash};
    use crate::note::Ed25519Signer;

    #[test]
    fn round_trip_and_verify() {
        let leaves: Vec<Hash> = (0..3u8).map(|i| leaf_hash(&[i])).collect();
        let left = node_hash(&leaves[0], &leaves[1]);
        let root = node_hash(&left, &leaves[2]);
        let log = Ed25519Signer::from_seed("example.com/log", &[1; 32]).expect("k");
        let w = CosignatureSigner::from_seed("w.example", &[2; 32]).expect("k");
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: 3,
            root_hash: root,
            extensions: vec![],
        };
        let signed = c.sign(&[&log]).expect("sign");
        let cosigned = note::add_signatures(&signed, &[&w.at(5)]).expect("cosign");
        let proof = TlogProof {
            extra: Some(b"hi".to_vec()),
            index: 1,
            hashes: vec![leaves[0], leaves[2]],
            checkpoint: cosigned.clone(),
        };
        let bytes = proof.to_bytes();
        assert_eq!(TlogProof::parse(&bytes).expect("parse"), proof);
        let policy_text = format!("log {}\nwitness w {}\nquorum w\n", log.vkey(), w.vkey());
        let policy = WitnessPolicy::parse(policy_text.as_bytes()).expect("policy");
        let ok = proof
            .verify(&leaves[1], &log.verifier(), &policy)
            .expect("verify");
        assert_eq!(ok.cosignatures.len(), 1);
        proof
            .verify_with_policy(&leaves[1], &policy)
            .expect("verify with policy");
        assert!(matches!(
            proof.verify(&leaves[0], &log.verifier(), &policy),
            Err(TlogProofError::Inclusion(_))
        ));
        let uncosigned = TlogProof {
            checkpoint: signed,
            ..proof.clone()
        };
        assert!(matches!(
            uncosigned.verify_with_policy(&leaves[1], &policy),
            Err(TlogProofError::Policy(
                PolicyCheckError::QuorumNotSatisfied { .. }
            ))
        ));
    }

    #[test]
    fn malformed_proofs_are_errors() {
        let h = STANDARD.encode([0u8; 32]);
        let good = format!("{TLOG_PROOF_HEADER}\nindex 0\n{h}\n\ncp\n");
        assert!(TlogProof::parse(good.as_bytes()).is_ok());
        for n in 0..good.len() - 3 {
            assert!(
                TlogProof::parse(&good.as_bytes()[..n]).is_err(),
                "prefix {n}"
            );
        }
        let too_many = format!(
            "{TLOG_PROOF_HEADER}\nindex 0\n{}\ncp\n",
            format!("{h}\n").repeat(MAX_PROOF_HASHES + 1)
        );
        for bad in [
            "c2sp.org/tlog-proof@v2\nindex 0\n\ncp\n".to_string(),
            format!("{TLOG_PROOF_HEADER}\nindex 01\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nindex -1\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nindex 18446744073709551616\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nextra !!\nindex 0\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nindex 0\nextra AA==\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nindex 0\nAAAA\n\ncp\n"),
            format!("{TLOG_PROOF_HEADER}\nindex 0\n{h}\n"),
            format!("{TLOG_PROOF_HEADER}\nindex 0\n\n"),
            too_many,
        ] {
            assert!(TlogProof::parse(bad.as_bytes()).is_err(), "{bad:?} parsed");
        }
        assert!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\n\xff\n").is_err());
        assert!(matches!(
            TlogProof::parse(&vec![b'a'; MAX_TLOG_PROOF_SIZE + 1]),
            Err(TlogProofError::TooLarge(_))
        ));
    }

    /// Deterministic mutation fuzzing: flipping, inserting and deleting bytes of valid inputs
    /// must only ever produce errors or valid values, never panics.
    #[test]
    fn mutations_never_panic() {
        let log = Ed25519Signer::from_seed("example.com/log", &[1; 32]).expect("k");
        let w = CosignatureSigner::from_seed("w.example", &[2; 32]).expect("k");
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: 3,
            root_hash: leaf_hash(b"x"),
            extensions: vec!["ext".into()],
        };
        let signed = c.sign(&[&log]).expect("sign");
        let cosigned = note::add_signatures(&signed, &[&w.at(5)]).expect("cosign");
        let proof = TlogProof {
            extra: Some(b"extra".to_vec()),
            index: 1,
            hashes: vec![leaf_hash(b"a"), leaf_hash(b"b")],
            checkpoint: cosigned.clone(),
        }
        .to_bytes();
        let policy = format!(
            "log {}\nwitness w {}\ngroup g any w\nquorum g\n",
            log.vkey(),
            w.vkey()
        );
        let parsed_policy = WitnessPolicy::parse(policy.as_bytes()).expect("policy");
        let verifiers = note::Verifiers::new()
            .with(Box::new(log.verifier()))
            .with(Box::new(w.verifier()));
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for input in [cosigned.clone(), proof.clone(), policy.into_bytes()] {
            for _ in 0..3000 {
                let mut m = input.clone();
                let pos = (rand() % m.len() as u64) as usize;
                match rand() % 4 {
                    0 => m[pos] ^= 1 << (rand() % 8),
                    1 => {
                        m[pos] =
                            [b'\n', b' ', b'+', 0xe2, 0x80, 0x94, b'=', 0][(rand() % 8) as usize]
                    }
                    2 => m.insert(pos, (rand() % 256) as u8),
                    _ => {
                        m.remove(pos);
                    }
                }
                let _ = note::open(&m, &verifiers);
                if let Ok(n) = note::Note::parse(&m) {
                    let _ = Checkpoint::parse(&n.text);
                    let _ = cosignature::verify_cosignatures(&n, &[w.verifier()]);
                }
                let _ = checkpoint::open_checkpoint(&m, &log.verifier());
                let _ = parsed_policy.verify_checkpoint(&m);
                if let Ok(p) = TlogProof::parse(&m) {
                    let _ = p.verify_with_policy(&leaf_hash(b"a"), &parsed_policy);
                }
                let _ = WitnessPolicy::parse(&m);
            }
        }
    }
}
