//! Entries this client has verified in full before, remembered by their RFC 6962 leaf hash,
//! so that a later run proves the same bytes again (batch inclusion under the checkpoint, as
//! every entry) but does not repeat their strict Ed25519 check.
//!
//! # Why this is sound
//!
//! What [`verify_log_entry`] concludes depends on the entry's bytes alone: the signature, the
//! key and the statement are all in them. The leaf hash is SHA-256 over those bytes, so bytes
//! with a remembered leaf hash are the very bytes that verified before, and
//! [`decode_verified_before`] (which still decodes and validates the statement in full) gives
//! what verifying them again would give. Only successes are remembered: an entry that failed
//! is verified again, so its reason is always current. The set is tied to this build's rules
//! (the crate version is in the file's header): another version starts with an empty set,
//! because a stricter validator must see every entry again.
//!
//! # Trust in the file
//!
//! The file lives in the client's state directory, beside the checkpoint memory and the
//! trust-graph cache, and is trusted as they are: whoever can write them can already make the
//! client believe anything (`spec/threat-model.md`). Damage (a torn write, a flipped bit) is
//! caught by a SHA-256 over the file and costs only a full verification.

use std::collections::HashSet;
use std::path::Path;

use quorum_c2sp::merkle::{Hash, leaf_hash};
use sha2::{Digest, Sha256};

use super::ClientError;
use super::memory::{read_limited, write_replacing};
use crate::model::log_entry::{
    DecodedEntry, LogEntryError, decode_verified_before, map_in_parallel, verify_log_entry,
};

const MAGIC: &[u8; 8] = b"QVERIFD1";
/// At most this many leaf hashes are remembered (128 MiB of file): past it the set starts
/// again from what the current run verified, so a client that follows a growing log for
/// years never reads an unbounded file.
const MAX_REMEMBERED: usize = 4 << 20;
/// The version of the rules an entry was verified under.
const RULES: &str = env!("CARGO_PKG_VERSION");

/// The leaf hashes of entries verified in full before.
#[derive(Debug, Clone, Default)]
pub struct VerifiedEntries {
    hashes: HashSet<Hash>,
    changed: bool,
}

impl VerifiedEntries {
    /// An empty set: every entry is verified in full.
    pub fn empty() -> VerifiedEntries {
        VerifiedEntries::default()
    }

    /// How many leaf hashes are remembered.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether entries were added since it was loaded.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// Verifies `entries`, on every core: in full ([`verify_log_entry`]) unless their leaf
    /// hash is remembered, then their statement only ([`decode_verified_before`]). Entries
    /// that verify in full are remembered. Item `i` of the result is about `entries[i]`.
    pub fn verify(&mut self, entries: &[&[u8]]) -> Vec<Result<DecodedEntry, LogEntryError>> {
        let known = &self.hashes;
        let results = map_in_parallel(entries, |bytes| {
            let leaf = leaf_hash(bytes);
            if known.contains(&leaf) {
                return (None, decode_verified_before(bytes));
            }
            let verified = verify_log_entry(bytes).map(|v| DecodedEntry {
                signer: v.signer,
                envelope_digest: v.envelope_digest,
                statement: v.statement,
            });
            let fresh = verified.is_ok().then_some(leaf);
            (fresh, verified)
        });
        let mut out = Vec::with_capacity(results.len());
        for (fresh, result) in results {
            if let Some(leaf) = fresh {
                if self.hashes.len() >= MAX_REMEMBERED {
                    self.hashes.clear();
                }
                self.changed |= self.hashes.insert(leaf);
            }
            out.push(result);
        }
        out
    }

    /// Reads the set at `path`; an empty set when there is none or it was written under
    /// other rules, `Err` (a message) when the file is damaged.
    pub fn load(path: &Path) -> Result<VerifiedEntries, String> {
        let limit = (MAX_REMEMBERED as u64 + 1) * 32 + 1024;
        let data = match read_limited(path, limit) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(VerifiedEntries::empty()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Self::decode(&data).map_err(|what| format!("{} is damaged ({what})", path.display()))
    }

    /// Decodes a file's bytes (see [`VerifiedEntries::load`]).
    fn decode(data: &[u8]) -> Result<VerifiedEntries, &'static str> {
        let (body, digest) = data
            .split_at_checked(data.len().saturating_sub(32))
            .ok_or("too short")?;
        if Sha256::digest(body).as_slice() != digest {
            return Err("checksum");
        }
        let header_len = MAGIC.len() + 2 + RULES.len();
        let Some((header, hashes)) = body.split_at_checked(header_len) else {
            return Ok(VerifiedEntries::empty());
        };
        let mut expected = MAGIC.to_vec();
        expected.extend_from_slice(&(RULES.len() as u16).to_be_bytes());
        expected.extend_from_slice(RULES.as_bytes());
        if header != expected.as_slice() {
            // Another format or other rules: start again.
            return Ok(VerifiedEntries::empty());
        }
        let (chunks, rest) = hashes.as_chunks::<32>();
        if !rest.is_empty() {
            return Err("a partial hash");
        }
        Ok(VerifiedEntries {
            hashes: chunks.iter().copied().collect(),
            changed: false,
        })
    }

    /// Writes the set to `path` (atomically, not synced: a crash costs only a full
    /// verification next time).
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        let mut out = Vec::with_capacity(64 + self.hashes.len() * 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(RULES.len() as u16).to_be_bytes());
        out.extend_from_slice(RULES.as_bytes());
        for hash in &self.hashes {
            out.extend_from_slice(hash);
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        write_replacing(path, &out, false)
            .map_err(|e| ClientError::Local(format!("writing {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use crate::model::log_entry::LogEntry;
    use crate::model::predicates::{Adoption, AdoptionStatus, Predicate};
    use crate::model::statement::Subject;

    fn adoption(signer: u8, envelope_key: u8) -> Vec<u8> {
        let statement = Predicate::Adoption(Adoption {
            status: AdoptionStatus::Adopted,
            comment: None,
        })
        .into_statement(vec![Subject::package_version("pkg:cargo/x@1.0.0", [1; 32])]);
        LogEntry {
            receipt_time_millis: 1,
            envelope: Envelope::sign(
                IN_TOTO_PAYLOAD_TYPE,
                statement.to_json(),
                &SigningKey::from_bytes(&[envelope_key; 32]),
            ),
            public_key: SigningKey::from_bytes(&[signer; 32])
                .verifying_key()
                .to_bytes(),
        }
        .encode()
        .expect("entry")
    }

    #[test]
    fn remembers_successes_only_and_survives_a_round_trip() {
        let good = adoption(1, 1);
        let forged = adoption(1, 2);
        let mut set = VerifiedEntries::empty();
        let results = set.verify(&[&good, &forged]);
        assert!(results[0].is_ok());
        assert!(results[1].is_err(), "signed by another key");
        assert_eq!(set.len(), 1, "the forged entry is not remembered");
        assert!(set.is_changed());

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("verified.bin");
        set.save(&path).expect("save");
        let mut loaded = VerifiedEntries::load(&path).expect("load");
        assert_eq!(loaded.len(), 1);
        assert!(!loaded.is_changed());
        // The remembered entry decodes to what full verification gave; the forged one is
        // still refused, with its reason.
        let again = loaded.verify(&[&good, &forged]);
        assert_eq!(
            again[0].as_ref().map(|d| d.signer).ok(),
            results[0].as_ref().map(|d| d.signer).ok()
        );
        assert!(again[1].is_err());
        assert!(!loaded.is_changed());

        // A flipped bit is damage, not a smaller set.
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        assert!(VerifiedEntries::load(&path).is_err());
        assert_eq!(
            VerifiedEntries::load(&dir.path().join("none"))
                .expect("none")
                .len(),
            0
        );
    }

    #[test]
    fn a_set_written_under_other_rules_is_not_used() {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&5u16.to_be_bytes());
        body.extend_from_slice(b"0.0.0");
        body.extend_from_slice(&leaf_hash(&adoption(1, 2)));
        let digest = Sha256::digest(&body);
        body.extend_from_slice(&digest);
        let set = VerifiedEntries::decode(&body).expect("decode");
        assert!(set.is_empty());
    }
}
