//! The checkpoint memory: the one place that remembers the last checkpoint a client accepted
//! from each log, and refuses to go back (rollback) or sideways (fork).
//!
//! Every command that reads a checkpoint passes it through [`CheckpointMemory::advance`]
//! before it uses anything proven under it. A checkpoint is accepted when it is the one
//! stored, or larger and proven to extend it (an RFC 9162 consistency proof built from the
//! log's tiles, given in a bundle, or the mirror's own leaves). Otherwise nothing changes,
//! the error names both checkpoints, and both signed notes are kept as a [`Conflict`] that
//! the user can hand to witnesses and monitors (`quorum checkpoint conflicts` prints them):
//! two notes of one size with different roots, both signed by the log, prove that the log
//! forked. The stored checkpoint is never replaced by a conflicting one.
//!
//! Concurrent clients sharing a state directory take a lock per log, so two runs cannot
//! interleave a read and a write of the same memory.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle::Hash;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::ErrorClass;
use super::checkpoint::{CheckpointRef, VerifiedCheckpoint, parse_unverified, unix_now};
use super::fetch::FetchError;

/// Why the memory refused a checkpoint or could not be used.
#[derive(Debug, Error)]
pub enum MemoryError {
    /// The log served a smaller tree than one this client already accepted.
    #[error(
        "rollback: the log served checkpoint {served} but this client already accepted {stored}; refusing to go back (the log may be hiding newer entries){}",
        recorded_note(.recorded)
    )]
    Rollback {
        /// The checkpoint stored.
        stored: Box<CheckpointRef>,
        /// The checkpoint served.
        served: Box<CheckpointRef>,
        /// Where both notes were kept.
        recorded: Option<PathBuf>,
    },
    /// The served checkpoint does not extend the stored one: a split view.
    #[error(
        "fork: checkpoint {served} is not consistent with {stored} accepted before: {reason}; the log shows different views to different clients, or its answers were altered on the way{}",
        recorded_note(.recorded)
    )]
    Fork {
        /// The checkpoint stored.
        stored: Box<CheckpointRef>,
        /// The checkpoint served.
        served: Box<CheckpointRef>,
        /// What failed.
        reason: String,
        /// Where both notes were kept.
        recorded: Option<PathBuf>,
    },
    /// The consistency proof needed to accept a larger checkpoint could not be had.
    #[error("cannot check checkpoint {served} against {stored} accepted before: {source}")]
    ProofUnavailable {
        /// The checkpoint stored.
        stored: Box<CheckpointRef>,
        /// The checkpoint served.
        served: Box<CheckpointRef>,
        /// Why.
        source: FetchError,
    },
    /// The log's answers needed to build the consistency proof are malformed.
    #[error("cannot check checkpoint {served} against {stored} accepted before: {reason}")]
    ProofMalformed {
        /// The checkpoint stored.
        stored: Box<CheckpointRef>,
        /// The checkpoint served.
        served: Box<CheckpointRef>,
        /// What was wrong.
        reason: String,
    },
    /// The memory's files could not be read or written.
    #[error("checkpoint memory {path}: {detail}")]
    Local {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
}

fn recorded_note(recorded: &Option<PathBuf>) -> String {
    match recorded {
        Some(path) => format!(
            "; both signed checkpoints are kept in {} (`quorum checkpoint conflicts` prints them)",
            path.display()
        ),
        None => String::new(),
    }
}

impl MemoryError {
    /// The class of the failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            MemoryError::Rollback { .. }
            | MemoryError::Fork { .. }
            | MemoryError::ProofMalformed { .. } => ErrorClass::Evidence,
            MemoryError::ProofUnavailable { .. } => ErrorClass::Unavailable,
            MemoryError::Local { .. } => ErrorClass::Input,
        }
    }
}

/// How a larger checkpoint is shown to extend the stored one.
pub trait ConsistencySource {
    /// Checks that the tree of `new` extends the tree of `old` (`old.size < new.size`).
    fn check(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ConsistencyFailure>;
}

/// Why a consistency check did not succeed.
#[derive(Debug)]
pub enum ConsistencyFailure {
    /// The trees are not consistent: the proof, here included, does not verify.
    Inconsistent {
        /// What failed.
        reason: String,
        /// The proof that was checked.
        proof: Vec<Hash>,
    },
    /// The proof could not be had.
    Unavailable(FetchError),
    /// What was served to build the proof is malformed.
    Malformed(String),
}

/// Consistency proofs given with the checkpoint (an evidence bundle's): `(old size, hashes)`.
pub struct GivenProofs<'a>(pub &'a [(u64, Vec<Hash>)]);

impl ConsistencySource for GivenProofs<'_> {
    fn check(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ConsistencyFailure> {
        let Some((_, proof)) = self.0.iter().find(|(size, _)| *size == old.size) else {
            return Err(ConsistencyFailure::Inconsistent {
                reason: format!("no consistency proof from size {} was given", old.size),
                proof: Vec::new(),
            });
        };
        verify_proof(old, new, proof)
    }
}

/// Verifies a consistency proof between two checkpoints.
pub fn verify_proof(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), ConsistencyFailure> {
    quorum_c2sp::merkle::verify_consistency(
        old.size,
        new.size,
        &old.root_hash,
        &new.root_hash,
        proof,
    )
    .map_err(|e| ConsistencyFailure::Inconsistent {
        reason: format!("consistency proof: {e}"),
        proof: proof.to_vec(),
    })
}

/// What [`CheckpointMemory::advance`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// Nothing was stored for this log: the checkpoint is the first.
    First,
    /// The checkpoint is the one stored.
    Same,
    /// The checkpoint extends the stored one, from this size.
    Extended {
        /// The size stored before.
        from: u64,
    },
}

/// A refused checkpoint and the one it conflicts with, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// `rollback` or `fork`.
    pub kind: String,
    /// The log's origin.
    pub origin: String,
    /// When it was detected (Unix seconds, this machine's clock).
    pub detected_at: u64,
    /// Where the refused checkpoint came from (a log URL, a file).
    pub source: String,
    /// Why it was refused.
    pub reason: String,
    /// The stored checkpoint's signed note, as accepted.
    pub stored_note: String,
    /// The refused checkpoint's signed note, as served.
    pub served_note: String,
    /// The consistency proof that failed, if any (base64 hashes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proof: Vec<String>,
}

impl Conflict {
    /// Whether the two notes alone prove a fork: the same size, different roots. (Anyone can
    /// check that both carry the log's signature.)
    pub fn proves_fork(&self) -> bool {
        match (
            parse_unverified(self.stored_note.as_bytes()),
            parse_unverified(self.served_note.as_bytes()),
        ) {
            (Some(a), Some(b)) => a.size == b.size && a.root_hash != b.root_hash,
            _ => false,
        }
    }
}

/// Where a checkpoint memory keeps its state.
pub trait CheckpointStore {
    /// A held lock; dropping it releases it.
    type Lock;
    /// Takes the lock of a log's memory, waiting for another holder to finish.
    fn lock(&self, origin: &str) -> Result<Self::Lock, MemoryError>;
    /// The stored checkpoint note of a log.
    fn load(&self, origin: &str) -> Result<Option<Vec<u8>>, MemoryError>;
    /// Replaces the stored checkpoint note of a log.
    fn save(&self, origin: &str, note: &[u8]) -> Result<(), MemoryError>;
    /// Keeps a conflict; returns where, if it is a place a person can look.
    fn record(&self, conflict: &Conflict) -> Result<Option<PathBuf>, MemoryError>;
    /// Every conflict kept for a log, oldest first.
    fn conflicts(&self, origin: &str) -> Result<Vec<Conflict>, MemoryError>;
}

/// Why two checkpoints of one size conflict.
const SAME_SIZE: &str = "same size, different root hash";

/// The largest stored note or conflict file read.
const MAX_STATE_FILE: u64 = 4 << 20;

/// A file-name-safe form of a log origin: readable, and distinct for distinct origins.
pub fn log_slug(origin: &str) -> String {
    let mut slug: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let digest = hex::encode(Sha256::digest(origin.as_bytes()));
    slug.push('-');
    slug.push_str(&digest[..12]);
    slug
}

/// A checkpoint memory in a state directory: `checkpoints/<log>.note` (the stored note),
/// `checkpoints/<log>.lock`, and `checkpoints/<log>.conflicts/<id>.json`.
#[derive(Debug, Clone)]
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// A store under `state_dir`.
    pub fn new(state_dir: &Path) -> DirStore {
        DirStore {
            dir: state_dir.join("checkpoints"),
        }
    }

    /// The stored note's path.
    pub fn note_path(&self, origin: &str) -> PathBuf {
        self.dir.join(format!("{}.note", log_slug(origin)))
    }

    fn conflicts_dir(&self, origin: &str) -> PathBuf {
        self.dir.join(format!("{}.conflicts", log_slug(origin)))
    }
}

fn local(path: &Path, e: impl std::fmt::Display) -> MemoryError {
    MemoryError::Local {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Reads a file of at most `limit` bytes; `None` if it does not exist.
pub(crate) fn read_limited(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    match File::open(path) {
        Ok(f) => {
            let mut buf = Vec::new();
            f.take(limit + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > limit {
                return Err(std::io::Error::other(format!(
                    "larger than the limit of {limit} bytes"
                )));
            }
            Ok(Some(buf))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates a directory and its parents, the last one readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes a file through a temporary file, a sync and a rename, so a crash leaves the old
/// or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

/// Writes a file through a temporary file and a rename, synced to disk first when `sync`.
/// Without it a crash may leave an empty or partial file: for caches whose readers check
/// a digest and start over.
///
/// A path that already names something other than a regular file, a directory or a symbolic
/// link (a device such as `/dev/null` or `/dev/stdout`, a FIFO) is written in place: a rename
/// would replace the device node itself with a regular file (an earlier version did that to
/// a machine's `/dev/null`).
pub fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        let kind = meta.file_type();
        if !kind.is_file() && !kind.is_symlink() && !kind.is_dir() {
            return fs::OpenOptions::new()
                .write(true)
                .open(path)?
                .write_all(bytes);
        }
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        create_private_dir(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
    }
    fs::rename(&tmp, path)
}

impl CheckpointStore for DirStore {
    type Lock = File;

    fn lock(&self, origin: &str) -> Result<File, MemoryError> {
        let path = self.dir.join(format!("{}.lock", log_slug(origin)));
        create_private_dir(&self.dir).map_err(|e| local(&self.dir, e))?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| local(&path, e))?;
        file.lock().map_err(|e| local(&path, e))?;
        Ok(file)
    }

    fn load(&self, origin: &str) -> Result<Option<Vec<u8>>, MemoryError> {
        let path = self.note_path(origin);
        read_limited(&path, MAX_STATE_FILE).map_err(|e| local(&path, e))
    }

    fn save(&self, origin: &str, note: &[u8]) -> Result<(), MemoryError> {
        let path = self.note_path(origin);
        write_atomic(&path, note).map_err(|e| local(&path, e))
    }

    fn record(&self, conflict: &Conflict) -> Result<Option<PathBuf>, MemoryError> {
        let dir = self.conflicts_dir(&conflict.origin);
        let mut id = Sha256::new();
        id.update(conflict.stored_note.as_bytes());
        id.update([0]);
        id.update(conflict.served_note.as_bytes());
        let path = dir.join(format!("{}.json", &hex::encode(id.finalize())[..16]));
        if path.exists() {
            // The same pair was recorded before: keep the first detection.
            return Ok(Some(path));
        }
        let text = serde_json::to_vec_pretty(conflict).map_err(|e| local(&path, e))?;
        write_atomic(&path, &text).map_err(|e| local(&path, e))?;
        Ok(Some(path))
    }

    fn conflicts(&self, origin: &str) -> Result<Vec<Conflict>, MemoryError> {
        let dir = self.conflicts_dir(origin);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(local(&dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| local(&dir, e))?.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Some(bytes) = read_limited(&path, MAX_STATE_FILE).map_err(|e| local(&path, e))?
            else {
                continue;
            };
            let conflict: Conflict = serde_json::from_slice(&bytes)
                .map_err(|e| local(&path, format!("not a conflict record: {e}")))?;
            out.push(conflict);
        }
        out.sort_by(|a, b| (a.detected_at, &a.served_note).cmp(&(b.detected_at, &b.served_note)));
        Ok(out)
    }
}

/// The checkpoint memory over a store.
#[derive(Debug, Clone)]
pub struct CheckpointMemory<S> {
    store: S,
}

/// A stored checkpoint: the note and its parsed form.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The signed note as accepted.
    pub note: Vec<u8>,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
}

impl<S: CheckpointStore> CheckpointMemory<S> {
    /// A memory over `store`.
    pub fn new(store: S) -> Self {
        CheckpointMemory { store }
    }

    /// The checkpoint stored for `origin`, if any.
    pub fn stored(&self, origin: &str) -> Result<Option<Stored>, MemoryError> {
        let Some(note) = self.store.load(origin)? else {
            return Ok(None);
        };
        let checkpoint = parse_unverified(&note).ok_or_else(|| MemoryError::Local {
            path: PathBuf::from(origin),
            detail: "the stored checkpoint is not a checkpoint note; delete it to start over"
                .into(),
        })?;
        if checkpoint.origin != origin {
            return Err(MemoryError::Local {
                path: PathBuf::from(origin),
                detail: format!(
                    "the stored checkpoint is for log {:?}; delete it to start over",
                    checkpoint.origin
                ),
            });
        }
        Ok(Some(Stored { note, checkpoint }))
    }

    /// The conflicts kept for `origin`.
    pub fn conflicts(&self, origin: &str) -> Result<Vec<Conflict>, MemoryError> {
        self.store.conflicts(origin)
    }

    /// Accepts `served` (already verified against the policy) if it is the stored
    /// checkpoint or extends it, as `consistency` shows, and then stores it. Refuses a
    /// smaller one (rollback) and one that does not extend the stored one (fork), keeping
    /// both notes as a [`Conflict`] and the stored one unchanged. `source` names where
    /// `served` came from.
    pub fn advance(
        &self,
        served: &VerifiedCheckpoint,
        source: &str,
        consistency: &dyn ConsistencySource,
    ) -> Result<Advance, MemoryError> {
        let origin = served.checkpoint.origin.as_str();
        let _lock = self.store.lock(origin)?;
        let Some(stored) = self.stored(origin)? else {
            self.store.save(origin, &served.note)?;
            return Ok(Advance::First);
        };
        let old = &stored.checkpoint;
        let new = &served.checkpoint;
        let refs = || {
            (
                Box::new(CheckpointRef::of(old)),
                Box::new(CheckpointRef::of(new)),
            )
        };
        if new.size < old.size {
            let recorded = self
                .keep(&stored, served, source, "rollback", String::new(), &[])
                .ok()
                .flatten();
            let (stored, served) = refs();
            return Err(MemoryError::Rollback {
                stored,
                served,
                recorded,
            });
        }
        if new.size == old.size {
            if new.root_hash != old.root_hash {
                return Err(self.fork(&stored, served, source, SAME_SIZE.into(), &[]));
            }
            // The same tree; the note may carry newer cosignatures: keep the newer view.
            self.store.save(origin, &served.note)?;
            return Ok(Advance::Same);
        }
        match consistency.check(old, new) {
            Ok(()) => {
                self.store.save(origin, &served.note)?;
                Ok(Advance::Extended { from: old.size })
            }
            Err(ConsistencyFailure::Inconsistent { reason, proof }) => {
                Err(self.fork(&stored, served, source, reason, &proof))
            }
            Err(ConsistencyFailure::Unavailable(source)) => {
                let (stored, served) = refs();
                Err(MemoryError::ProofUnavailable {
                    stored,
                    served,
                    source,
                })
            }
            Err(ConsistencyFailure::Malformed(reason)) => {
                let (stored, served) = refs();
                Err(MemoryError::ProofMalformed {
                    stored,
                    served,
                    reason,
                })
            }
        }
    }

    /// For checkpoints that may rightly be older than the stored one (a receipt's): one of
    /// the stored size or larger goes through [`CheckpointMemory::advance`]; a smaller one is
    /// left alone (it cannot be checked without a proof to the stored size, and it is no
    /// rollback of what decisions rest on).
    pub fn observe(
        &self,
        served: &VerifiedCheckpoint,
        source: &str,
        consistency: &dyn ConsistencySource,
    ) -> Result<(), MemoryError> {
        let stored = self.stored(&served.checkpoint.origin)?;
        if stored.is_some_and(|s| s.checkpoint.size > served.checkpoint.size) {
            return Ok(());
        }
        self.advance(served, source, consistency).map(|_| ())
    }

    /// Checks `checkpoint` against the stored one without storing anything and without a
    /// consistency proof: only a checkpoint of the stored size with another root conflicts
    /// (and is kept). For offline checks of material whose age is its own, such as a receipt.
    pub fn check_same_size(
        &self,
        checkpoint: &VerifiedCheckpoint,
        source: &str,
    ) -> Result<(), MemoryError> {
        let origin = checkpoint.checkpoint.origin.as_str();
        let _lock = self.store.lock(origin)?;
        let Some(stored) = self.stored(origin)? else {
            return Ok(());
        };
        let (old, new) = (&stored.checkpoint, &checkpoint.checkpoint);
        if old.size == new.size && old.root_hash != new.root_hash {
            return Err(self.fork(&stored, checkpoint, source, SAME_SIZE.into(), &[]));
        }
        Ok(())
    }

    /// Keeps a fork's two notes and builds its error. The refusal stands even if the notes
    /// cannot be kept (the error then names no place).
    fn fork(
        &self,
        stored: &Stored,
        served: &VerifiedCheckpoint,
        source: &str,
        reason: String,
        proof: &[Hash],
    ) -> MemoryError {
        let recorded = self
            .keep(stored, served, source, "fork", reason.clone(), proof)
            .ok()
            .flatten();
        MemoryError::Fork {
            stored: Box::new(CheckpointRef::of(&stored.checkpoint)),
            served: Box::new(CheckpointRef::of(&served.checkpoint)),
            reason,
            recorded,
        }
    }

    fn keep(
        &self,
        stored: &Stored,
        served: &VerifiedCheckpoint,
        source: &str,
        kind: &str,
        reason: String,
        proof: &[Hash],
    ) -> Result<Option<PathBuf>, MemoryError> {
        use base64::Engine as _;
        self.store.record(&Conflict {
            kind: kind.to_string(),
            origin: served.checkpoint.origin.clone(),
            detected_at: unix_now(),
            source: source.to_string(),
            reason,
            stored_note: String::from_utf8_lossy(&stored.note).into_owned(),
            served_note: String::from_utf8_lossy(&served.note).into_owned(),
            proof: proof
                .iter()
                .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::checkpoint::LogTrust;
    use crate::client::checkpoint::tests::{ORIGIN, note_for, policy};
    use quorum_c2sp::merkle::MemoryTree;

    fn tree(entries: &[&str]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for e in entries {
            tree.append(e.as_bytes());
        }
        tree
    }

    fn verified(tree: &MemoryTree, size: u64) -> VerifiedCheckpoint {
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root_hash: tree.root_at(size).expect("root"),
            extensions: vec![],
        };
        LogTrust::from_policy(&policy("quorum two", ""))
            .expect("trust")
            .verify_checkpoint(&note_for(&checkpoint, &[Some(1), Some(1), None]))
            .expect("verify")
    }

    struct FromTree<'a>(&'a MemoryTree);
    impl ConsistencySource for FromTree<'_> {
        fn check(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ConsistencyFailure> {
            let proof = self
                .0
                .prove_consistency(old.size, new.size)
                .map_err(|e| ConsistencyFailure::Malformed(e.to_string()))?;
            verify_proof(old, new, &proof)
        }
    }

    #[test]
    fn refuses_rollback_and_fork_and_keeps_both_notes() {
        let dir = tempfile::tempdir().expect("dir");
        let memory = CheckpointMemory::new(DirStore::new(dir.path()));
        let honest = tree(&["a", "b", "c", "d", "e"]);
        let at3 = verified(&honest, 3);
        assert_eq!(
            memory.advance(&at3, "log", &FromTree(&honest)).unwrap(),
            Advance::First
        );
        assert_eq!(
            memory.advance(&at3, "log", &FromTree(&honest)).unwrap(),
            Advance::Same
        );
        let at5 = verified(&honest, 5);
        assert_eq!(
            memory.advance(&at5, "log", &FromTree(&honest)).unwrap(),
            Advance::Extended { from: 3 }
        );
        // Back to 3: a rollback; the stored checkpoint stays at 5.
        let err = memory.advance(&at3, "log", &FromTree(&honest)).unwrap_err();
        assert!(matches!(err, MemoryError::Rollback { .. }), "{err}");
        assert!(err.to_string().contains("size 3") && err.to_string().contains("size 5"));
        // A fork of the same size, and a larger fork with no valid consistency proof.
        let forked = tree(&["a", "b", "c", "x", "y", "z"]);
        let fork5 = verified(&forked, 5);
        let err = memory
            .advance(&fork5, "fork.example", &FromTree(&forked))
            .unwrap_err();
        assert!(matches!(err, MemoryError::Fork { .. }), "{err}");
        let fork6 = verified(&forked, 6);
        let err = memory
            .advance(&fork6, "fork.example", &FromTree(&forked))
            .unwrap_err();
        assert!(matches!(err, MemoryError::Fork { .. }), "{err}");
        assert!(
            err.to_string().contains("quorum checkpoint conflicts"),
            "{err}"
        );
        let stored = memory.stored(ORIGIN).unwrap().unwrap();
        assert_eq!(
            stored.note, at5.note,
            "never replaced by a conflicting view"
        );
        // Both notes of each refusal are kept; the same-size one alone proves the fork.
        let conflicts = memory.conflicts(ORIGIN).unwrap();
        assert_eq!(conflicts.len(), 3, "{conflicts:#?}");
        let same_size: Vec<&Conflict> = conflicts.iter().filter(|c| c.proves_fork()).collect();
        assert_eq!(same_size.len(), 1);
        assert_eq!(same_size[0].stored_note.as_bytes(), at5.note.as_slice());
        assert_eq!(same_size[0].served_note.as_bytes(), fork5.note.as_slice());
        assert!(
            conflicts
                .iter()
                .any(|c| c.kind == "fork" && !c.proof.is_empty())
        );
        // Recording the same refusal again adds nothing.
        let _ = memory.advance(&fork5, "fork.example", &FromTree(&forked));
        assert_eq!(memory.conflicts(ORIGIN).unwrap().len(), 3);
        // The honest log is still accepted afterwards.
        let honest7 = {
            let mut t = honest.clone();
            t.append(b"f");
            t.append(b"g");
            t
        };
        assert_eq!(
            memory
                .advance(&verified(&honest7, 7), "log", &FromTree(&honest7))
                .unwrap(),
            Advance::Extended { from: 5 }
        );
        // Offline checks only catch a same-size conflict.
        memory.check_same_size(&at3, "receipt").unwrap();
        assert!(memory.check_same_size(&fork6, "receipt").is_ok());
        let fork7 = verified(
            &{
                let mut t = forked.clone();
                t.append(b"w");
                t
            },
            7,
        );
        assert!(memory.check_same_size(&fork7, "receipt").is_err());
    }

    #[test]
    fn given_proofs_must_cover_the_stored_size() {
        let honest = tree(&["a", "b", "c", "d"]);
        let (old, new) = (verified(&honest, 2), verified(&honest, 4));
        let proof = honest.prove_consistency(2, 4).unwrap();
        GivenProofs(&[(2, proof.clone())])
            .check(&old.checkpoint, &new.checkpoint)
            .unwrap();
        assert!(matches!(
            GivenProofs(&[(1, proof)]).check(&old.checkpoint, &new.checkpoint),
            Err(ConsistencyFailure::Inconsistent { .. })
        ));
    }
}
