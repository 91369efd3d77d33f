//! The mirror: every entry of a log fetched through the C2SP tlog-tiles entry bundles,
//! verified and indexed ([`super::mirror_store`]), its root recomputed and checked against a
//! verified checkpoint that went through the checkpoint memory, and resumed after an
//! interruption. Deciding from it gives completeness `complete`
//! (`spec/verifier-semantics.md` §2).
//!
//! Files in the mirror directory: `entries.bin`, `leaves.bin` and `index.bin` (see
//! [`super::mirror_store`]) and `progress.json` (how far the download and the verification
//! got, and the checkpoints seen, which date the entries for provable age).

use std::path::{Path, PathBuf};
use std::time::Instant;

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::tiles::{TileRef, decode_entry_bundle_for, entry_bundles_for_size};
use serde::{Deserialize, Serialize};

use super::ClientError;
use super::checkpoint::{LogTrust, VerifiedCheckpoint};
use super::evidence::{Completeness, VerifiedEvidence};
use super::fetch::LogFetcher;
use super::memory::{
    CheckpointMemory, CheckpointStore, ConsistencyFailure, ConsistencySource, read_limited,
    write_atomic,
};
use super::mirror_store::{self as store, Lengths, MirrorFiles, MirrorWriter, Recheck, StoreError};
use super::online::Progress;
use super::trust_graph::Seeds;
use crate::decision::Rejected;
use crate::policy::Policy;

/// The on-disk format this code writes; a mirror in another format is mirrored again.
/// (3: trust-graph entries are also indexed under their signer's key.)
pub const FORMAT: u32 = 3;

/// Entry bundles fetched before their entries are verified and written together: larger
/// batches keep every core busy verifying signatures.
const BUNDLES_PER_BATCH: usize = 16;

/// The largest `progress.json` read.
const MAX_PROGRESS_BYTES: u64 = 64 << 20;

/// Download and verification progress, `progress.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MirrorProgress {
    /// The mirror's file format ([`FORMAT`]).
    #[serde(default)]
    pub format: u32,
    /// How far the files were written (entries downloaded, verified and indexed).
    #[serde(default)]
    pub downloaded: Lengths,
    /// The prefix whose root matched `checkpoint`.
    #[serde(default)]
    pub verified: Lengths,
    /// The verified checkpoint note (text), if any.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// (size, cosignature time) of every checkpoint the mirror verified, ascending.
    #[serde(default)]
    pub dates: Vec<(u64, u64)>,
}

fn local(e: impl std::fmt::Display) -> ClientError {
    ClientError::Local(e.to_string())
}

/// Store errors: a root mismatch is failed evidence, the rest local damage.
fn store_error(e: StoreError) -> ClientError {
    match e {
        StoreError::RootMismatch { .. } => ClientError::evidence(e.to_string()),
        other => ClientError::Local(other.to_string()),
    }
}

/// Reads `progress.json` (a fresh record when there is none).
pub fn load_progress(dir: &Path) -> Result<MirrorProgress, ClientError> {
    let path = dir.join("progress.json");
    match read_limited(&path, MAX_PROGRESS_BYTES) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).map_err(|e| {
            ClientError::Local(format!(
                "{} is damaged ({e}); delete {} to mirror again from the start",
                path.display(),
                dir.display()
            ))
        }),
        Ok(None) => Ok(MirrorProgress {
            format: FORMAT,
            ..MirrorProgress::default()
        }),
        Err(e) => Err(ClientError::Local(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

fn save_progress(dir: &Path, progress: &MirrorProgress) -> Result<(), ClientError> {
    let bytes = serde_json::to_vec_pretty(progress).map_err(local)?;
    write_atomic(&dir.join("progress.json"), &bytes).map_err(local)
}

/// Shows consistency from the mirror's own leaves: the first `old.size` of them must hash to
/// the old root (they hash to the new root as a whole, checked before).
pub struct MirrorPrefix<'a>(pub &'a MirrorFiles);

impl ConsistencySource for MirrorPrefix<'_> {
    fn check(&self, old: &Checkpoint, _new: &Checkpoint) -> Result<(), ConsistencyFailure> {
        match self.0.check_root(old.size, &old.root_hash) {
            Ok(_) => Ok(()),
            Err(StoreError::RootMismatch { .. }) => Err(ConsistencyFailure::Inconsistent {
                reason: format!(
                    "the mirrored entries up to size {} do not hash to that checkpoint's root",
                    old.size
                ),
                proof: Vec::new(),
            }),
            Err(e) => Err(ConsistencyFailure::Malformed(e.to_string())),
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The checkpoint the mirror now holds.
    pub checkpoint: VerifiedCheckpoint,
    /// Entries fetched in this run.
    pub fetched: u64,
    /// Seconds the download took.
    pub seconds: f64,
}

/// Brings the mirror in `dir` up to the log's checkpoint.
pub struct MirrorSync<'a, S> {
    /// The log.
    pub fetcher: &'a dyn LogFetcher,
    /// Which checkpoints to believe.
    pub trust: &'a LogTrust,
    /// The client's checkpoint memory.
    pub memory: &'a CheckpointMemory<S>,
    /// The mirror directory.
    pub dir: PathBuf,
    /// Now, by the client's clock (Unix seconds).
    pub now: u64,
    /// Where progress goes (entries done of the checkpoint's size).
    pub progress: &'a dyn Progress,
}

impl<S: CheckpointStore> MirrorSync<'_, S> {
    /// Verifies the log's checkpoint (policy, age, memory), downloads the entries from where
    /// the last run stopped, verifies and indexes them, and checks the roots: the earlier
    /// verified prefix must still give its checkpoint's root and the whole the new one's.
    pub fn run(&self) -> Result<SyncReport, ClientError> {
        let dir = &self.dir;
        super::memory::create_private_dir(dir).map_err(local)?;
        let mut progress = load_progress(dir)?;
        if progress.format != FORMAT {
            // An older layout: start over rather than guess.
            store::remove_files(dir).map_err(store_error)?;
            progress = MirrorProgress {
                format: FORMAT,
                ..MirrorProgress::default()
            };
        }
        let note = self.fetcher.checkpoint()?;
        let checkpoint = self.trust.verify_checkpoint(&note)?;
        self.trust.check_age(&checkpoint, self.now)?;
        self.memory.advance(
            &checkpoint,
            &self.fetcher.describe(),
            &super::tiles::TileProofs::new(self.fetcher),
        )?;
        let size = checkpoint.size();
        if size < progress.verified.size {
            return Err(ClientError::evidence(format!(
                "rollback: the log's checkpoint has size {size} but the mirror verified size {} before",
                progress.verified.size
            )));
        }
        if progress.downloaded.size > size {
            // Downloaded past this checkpoint under one that did not verify: redo.
            progress.downloaded = progress.verified;
        }
        let mut writer = MirrorWriter::open(dir, progress.downloaded).map_err(store_error)?;
        let started = Instant::now();
        let first = progress.downloaded.size;
        let bundles: Vec<_> = entry_bundles_for_size(first, size).collect();
        for group in bundles.chunks(BUNDLES_PER_BATCH) {
            let mut batch: Vec<Vec<u8>> = Vec::new();
            for bundle in group {
                let data = self.fetcher.tile(&TileRef::Entries(*bundle))?;
                let entries = decode_entry_bundle_for(bundle, &data).map_err(|e| {
                    ClientError::evidence(format!("entry bundle {}: {e}", bundle.path()))
                })?;
                // The first bundle may hold entries the last run already stored.
                let have = writer.lengths().size + batch.len() as u64;
                let skip = have.saturating_sub(bundle.first_entry().unwrap_or(0)) as usize;
                batch.extend(entries.iter().skip(skip).map(|e| e.to_vec()));
            }
            let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            writer.append(&refs).map_err(store_error)?;
            progress.downloaded = writer.lengths();
            save_progress(dir, &progress)?;
            self.progress
                .update("mirroring", progress.downloaded.size, Some(size));
        }
        drop(writer);
        let fetched = progress.downloaded.size - first;
        let seconds = started.elapsed().as_secs_f64();

        let files = MirrorFiles { dir: dir.clone() };
        let check = || -> Result<(), ClientError> {
            if progress.verified.size > 0
                && let Some(old) = progress.checkpoint.as_deref()
                && let Some(old) = super::checkpoint::parse_unverified(old.as_bytes())
            {
                match files.check_root(old.size, &old.root_hash) {
                    Ok(_) => {}
                    Err(StoreError::RootMismatch { .. }) => {
                        return Err(ClientError::evidence(format!(
                            "fork: the log's entries up to size {} no longer hash to the root verified before",
                            old.size
                        )));
                    }
                    Err(e) => return Err(store_error(e)),
                }
            }
            files.check_root(size, checkpoint.root()).map_err(|e| match e {
                StoreError::RootMismatch { .. } => ClientError::evidence(format!(
                    "the entries served by the log's entry bundles do not hash to its checkpoint's root at size {size}: a tile was altered"
                )),
                other => store_error(other),
            })?;
            Ok(())
        };
        if let Err(e) = check() {
            // Keep only what was verified before; the next run downloads the rest again.
            progress.downloaded = progress.verified;
            save_progress(dir, &progress)?;
            return Err(e);
        }
        progress.verified = progress.downloaded;
        progress.checkpoint = Some(String::from_utf8_lossy(&checkpoint.note).into_owned());
        if progress.dates.last().map(|d| d.0) != Some(size) {
            progress.dates.push((size, checkpoint.witnessed_at));
        }
        save_progress(dir, &progress)?;
        Ok(SyncReport {
            checkpoint,
            fetched,
            seconds,
        })
    }
}

/// Loads, from the mirror in `dir`, the verified entries about `packages` (purls without
/// version) and the whole trust graph, as evidence of completeness `complete`. The mirror's
/// checkpoint is verified again against the policy, its age against `now`, and it goes
/// through the checkpoint memory (its own leaves show consistency with the stored
/// checkpoint; a mirror behind the stored checkpoint is used with a warning).
pub fn load<S: CheckpointStore>(
    dir: &Path,
    trust: &LogTrust,
    memory: &CheckpointMemory<S>,
    policy: &Policy,
    packages: &[String],
    recheck: Recheck,
    now: u64,
) -> Result<VerifiedEvidence, ClientError> {
    let origin = trust.origin();
    let progress = load_progress(dir)?;
    let Some(note) = progress.checkpoint.as_deref() else {
        return Err(ClientError::Local(format!(
            "no mirror of {origin} yet; run `quorum mirror` first"
        )));
    };
    if progress.format != FORMAT {
        return Err(ClientError::Local(format!(
            "the mirror of {origin} is in an older format; run `quorum mirror` to rebuild it"
        )));
    }
    let checkpoint = trust.verify_checkpoint(note.as_bytes())?;
    trust.check_age(&checkpoint, now)?;
    if checkpoint.size() != progress.verified.size {
        return Err(ClientError::Local(format!(
            "the mirror of {origin} is damaged (checkpoint size {} but {} entries verified); delete {} and mirror again",
            checkpoint.size(),
            progress.verified.size,
            dir.display()
        )));
    }
    let files = MirrorFiles {
        dir: dir.to_path_buf(),
    };
    let mut warnings = Vec::new();
    let stored = memory.stored(origin)?;
    match stored {
        Some(stored) if stored.checkpoint.size > checkpoint.size() => warnings.push(format!(
            "the mirror is at size {}, behind the checkpoint of size {} this client accepted; run `quorum mirror` to catch up",
            checkpoint.size(),
            stored.checkpoint.size
        )),
        _ => {
            memory.advance(
                &checkpoint,
                &format!("mirror {}", dir.display()),
                &MirrorPrefix(&files),
            )?;
        }
    }
    let loaded = store::load_for_packages(
        dir,
        progress.verified,
        checkpoint.root(),
        packages,
        &progress.dates,
        recheck,
        &Seeds::of(policy)?,
    )
    .map_err(|e| match e {
        StoreError::RootMismatch { .. } => ClientError::evidence(format!(
            "the mirror of {origin} does not hash to its checkpoint; delete {} and mirror again",
            dir.display()
        )),
        other => store_error(other),
    })?;
    Ok(VerifiedEvidence {
        checkpoint,
        completeness: Completeness::Complete,
        statements: loaded.statements,
        rejected: loaded
            .rejected
            .into_iter()
            .map(|(index, reason)| Rejected { index, reason })
            .collect(),
        rejected_about: loaded.rejected_about,
        warnings,
    })
}
