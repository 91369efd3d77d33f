//! The log core: the in-memory tree of stored hashes, the sequencer task that makes
//! submissions durable in batches, and the checkpoint signer.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle::{
    self, Hash, HashReadError, HashReader, stored_hash_count, stored_hashes_for_record_hash,
};
use quorum_c2sp::note::Ed25519Signer;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};

use crate::metrics::Metrics;
use crate::storage::{NewEntry, Storage, StorageError, StoredCheckpoint};

/// Errors of the log core.
#[derive(Debug, Error)]
pub enum LogError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Tree computation failed (missing or corrupt stored hashes).
    #[error("tree error: {0}")]
    Tree(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The sequencer is not running (shutting down).
    #[error("the log is shutting down")]
    Closed,
    /// The sequencer queue is full.
    #[error("the log is overloaded; retry later")]
    Overloaded,
    /// Storage holds a state this server refuses to continue from.
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The stored hashes of the sequenced tree, in memory (64 bytes per entry), shared
/// between the sequencer (sole writer) and readers. Only committed hashes are here.
#[derive(Debug, Default)]
pub struct Tree {
    inner: RwLock<TreeInner>,
}

#[derive(Debug, Default)]
struct TreeInner {
    size: u64,
    hashes: Vec<Hash>,
}

impl Tree {
    /// A tree from stored hashes loaded from storage; the size is derived from their count.
    pub fn from_hashes(hashes: Vec<Hash>, size: u64) -> Result<Tree, LogError> {
        if stored_hash_count(size) != hashes.len() as u64 {
            return Err(LogError::Inconsistent(format!(
                "{} stored hashes for {size} entries (expected {})",
                hashes.len(),
                stored_hash_count(size)
            )));
        }
        Ok(Tree {
            inner: RwLock::new(TreeInner { size, hashes }),
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.read().size
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, TreeInner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The root hash at `size`.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        merkle::tree_hash(size, self).map_err(|e| LogError::Tree(e.to_string()))
    }

    /// Inclusion proof of `index` in the tree of `size`.
    pub fn prove_inclusion(&self, size: u64, index: u64) -> Result<Vec<Hash>, LogError> {
        merkle::prove_inclusion(size, index, self).map_err(|e| LogError::Tree(e.to_string()))
    }

    /// Consistency proof from `old` to `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        merkle::prove_consistency(old, new, self).map_err(|e| LogError::Tree(e.to_string()))
    }

    /// Computes the stored hashes that appending `leaves` adds (does not modify the tree).
    fn compute_append(&self, leaves: &[Hash]) -> Result<Vec<Hash>, LogError> {
        let inner = self.read();
        let mut overlay = Overlay {
            base: &inner.hashes,
            extra: Vec::with_capacity(leaves.len() * 2 + 8),
        };
        for (i, leaf) in leaves.iter().enumerate() {
            let n = inner.size + i as u64;
            let new = stored_hashes_for_record_hash(n, leaf, &overlay)
                .map_err(|e| LogError::Tree(e.to_string()))?;
            overlay.extra.extend_from_slice(&new);
        }
        Ok(overlay.extra)
    }

    fn extend(&self, new_size: u64, hashes: &[Hash]) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.hashes.extend_from_slice(hashes);
        inner.size = new_size;
    }
}

impl HashReader for Tree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
        let inner = self.read();
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|u| inner.hashes.get(u).copied())
                    .ok_or(HashReadError::NotFound { index: i })
            })
            .collect()
    }
}

struct Overlay<'a> {
    base: &'a [Hash],
    extra: Vec<Hash>,
}

impl HashReader for Overlay<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
        let base_len = self.base.len() as u64;
        indexes
            .iter()
            .map(|&i| {
                let h = if i < base_len {
                    usize::try_from(i).ok().and_then(|u| self.base.get(u))
                } else {
                    usize::try_from(i - base_len)
                        .ok()
                        .and_then(|u| self.extra.get(u))
                };
                h.copied().ok_or(HashReadError::NotFound { index: i })
            })
            .collect()
    }
}

/// A verified submission handed to the sequencer.
#[derive(Debug)]
pub struct Submission {
    /// The encoded log entry.
    pub entry: Vec<u8>,
    /// Envelope digest.
    pub envelope_digest: [u8; 32],
    /// Signer key.
    pub signer: [u8; 32],
    /// Receipt time (also inside `entry`).
    pub received_ms: i64,
    /// Package subjects (package, version or "").
    pub subjects: Vec<(String, String)>,
    /// Where to send the outcome.
    pub reply: oneshot::Sender<Result<Sequenced, String>>,
}

/// The outcome of a durable submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequenced {
    /// The entry's index.
    pub index: u64,
    /// Whether the entry was already logged (the index is the earlier entry's).
    pub duplicate: bool,
}

/// A signed checkpoint, possibly with witness cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The note with the log signature only.
    pub signed_note: String,
    /// The note with the log signature and every cosignature collected.
    pub note: String,
    /// How many cosignatures `note` carries.
    pub cosignatures: usize,
}

/// Handle to the running log core.
#[derive(Clone)]
pub struct Log {
    /// Storage.
    pub storage: Storage,
    /// The tree.
    pub tree: Arc<Tree>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The log's signer (origin = key name).
    pub signer: Arc<Ed25519Signer>,
    tx: mpsc::Sender<Submission>,
    /// Latest signed checkpoint (log signature; `note` gains cosignatures as they arrive).
    pub signed: watch::Receiver<Option<Arc<Published>>>,
    /// Latest published checkpoint (served at `/checkpoint`).
    pub published: watch::Receiver<Option<Arc<Published>>>,
    /// Tree size after each commit.
    pub sequenced: watch::Receiver<u64>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("size", &self.tree.size())
            .finish()
    }
}

/// Senders owned by the background tasks.
pub struct LogTasks {
    /// Submission receiver (sequencer input).
    pub rx: mpsc::Receiver<Submission>,
    /// Latest signed checkpoint.
    pub signed_tx: watch::Sender<Option<Arc<Published>>>,
    /// Latest published checkpoint.
    pub published_tx: watch::Sender<Option<Arc<Published>>>,
    /// Sequenced size.
    pub sequenced_tx: watch::Sender<u64>,
}

impl Log {
    /// Loads the tree from storage and checks it against the latest checkpoint. The latest
    /// checkpoint is the signed one (the witnesses are asked to cosign it); the published one
    /// is the latest stored checkpoint with at least `required_cosignatures` cosignatures,
    /// so that a restart never publishes a checkpoint below the quorum.
    pub async fn open(
        storage: Storage,
        signer: Ed25519Signer,
        metrics: Arc<Metrics>,
        queue_capacity: usize,
        required_cosignatures: usize,
    ) -> Result<(Log, LogTasks), LogError> {
        let size = storage.entry_count().await?;
        let hashes = storage.load_hashes().await?;
        let tree = Arc::new(Tree::from_hashes(hashes, size)?);
        let latest = storage.latest_checkpoint().await?;
        let mut initial = None;
        if let Some(cp) = latest {
            if cp.size > size {
                return Err(LogError::Inconsistent(format!(
                    "checkpoint of size {} but only {size} entries",
                    cp.size
                )));
            }
            let root = tree.root(cp.size)?;
            if root != cp.root {
                return Err(LogError::Inconsistent(format!(
                    "stored tree disagrees with checkpoint {}",
                    cp.size
                )));
            }
            let cosigs = storage.latest_cosignatures(cp.size).await?;
            initial = Some(Arc::new(with_cosignatures(&cp, &cosigs)));
        }
        let published = match &initial {
            Some(p) if p.cosignatures >= required_cosignatures => initial.clone(),
            _ => match storage
                .latest_cosigned_checkpoint(required_cosignatures)
                .await?
            {
                Some(cp) => {
                    let cosigs = storage.latest_cosignatures(cp.size).await?;
                    Some(Arc::new(with_cosignatures(&cp, &cosigs)))
                }
                None => None,
            },
        };
        metrics.tree_size.store(size, Ordering::Relaxed);
        if let Some(p) = &initial {
            metrics.checkpoint_size.store(p.size, Ordering::Relaxed);
        }
        let (tx, rx) = mpsc::channel(queue_capacity);
        let (signed_tx, signed) = watch::channel(initial.clone());
        let (published_tx, published) = watch::channel(published);
        let (sequenced_tx, sequenced) = watch::channel(size);
        Ok((
            Log {
                storage,
                tree,
                metrics,
                signer: Arc::new(signer),
                tx,
                signed,
                published,
                sequenced,
            },
            LogTasks {
                rx,
                signed_tx,
                published_tx,
                sequenced_tx,
            },
        ))
    }

    /// The log's origin (its key name).
    pub fn origin(&self) -> &str {
        quorum_c2sp::note::NoteSigner::name(self.signer.as_ref())
    }

    /// Queues a submission; fails fast when the queue is full or the log is closing.
    pub fn submit(&self, s: Submission) -> Result<(), LogError> {
        self.tx.try_send(s).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => LogError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => LogError::Closed,
        })
    }

    /// Drops this handle's submission sender (part of shutdown).
    pub fn close_submissions(&mut self) {
        let (tx, _) = mpsc::channel(1);
        self.tx = tx;
    }
}

/// Builds a [`Published`] from a stored checkpoint and cosignature lines.
pub fn with_cosignatures(cp: &StoredCheckpoint, cosigs: &[(String, String)]) -> Published {
    let mut note = cp.note.clone();
    for (_, line) in cosigs {
        note.push_str(line);
        if !line.ends_with('\n') {
            note.push('\n');
        }
    }
    Published {
        size: cp.size,
        root: cp.root,
        signed_note: cp.note.clone(),
        note,
        cosignatures: cosigs.len(),
    }
}

/// The sequencer: batches submissions, deduplicates, assigns indices, computes stored
/// hashes and commits entries and hashes in one transaction, then answers. Returns when
/// every submission sender is gone and the queue is drained.
pub async fn run_sequencer(
    log: Log,
    mut rx: mpsc::Receiver<Submission>,
    sequenced_tx: watch::Sender<u64>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(s) => batch.push(s),
                Err(_) => break,
            }
        }
        let subs = std::mem::take(&mut batch);
        if let Err(e) = sequence_batch(&log, subs).await {
            log.metrics.commit_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "sequencing a batch failed");
            // The commit may or may not have happened (e.g. a lost connection): resync
            // the tree from storage before going on.
            if let Err(e) = resync(&log).await {
                tracing::error!(error = %e, "cannot resync the tree; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let _ = sequenced_tx.send(log.tree.size());
    }
    tracing::info!(size = log.tree.size(), "sequencer drained");
}

async fn resync(log: &Log) -> Result<(), LogError> {
    let size = log.storage.entry_count().await?;
    if size != log.tree.size() {
        let hashes = log.storage.load_hashes().await?;
        let fresh = Tree::from_hashes(hashes, size)?;
        let inner = fresh.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut cur = log.tree.inner.write().unwrap_or_else(|e| e.into_inner());
        *cur = inner;
        log.metrics.tree_size.store(size, Ordering::Relaxed);
    }
    Ok(())
}

async fn sequence_batch(log: &Log, subs: Vec<Submission>) -> Result<(), LogError> {
    use std::collections::HashMap;
    let keys: Vec<([u8; 32], [u8; 32])> =
        subs.iter().map(|s| (s.envelope_digest, s.signer)).collect();
    let existing = match log.storage.find_existing(&keys).await {
        Ok(e) => e,
        Err(e) => {
            for s in subs {
                let _ = s.reply.send(Err(e.to_string()));
            }
            return Err(e.into());
        }
    };
    let start = log.tree.size();
    let mut in_batch: HashMap<([u8; 32], [u8; 32]), u64> = HashMap::new();
    let mut new_entries = Vec::new();
    let mut leaves = Vec::new();
    let mut outcomes = Vec::with_capacity(subs.len());
    let mut replies = Vec::with_capacity(subs.len());
    for s in subs {
        let key = (s.envelope_digest, s.signer);
        let outcome = if let Some(&i) = existing.get(&key).or_else(|| in_batch.get(&key)) {
            Sequenced {
                index: i,
                duplicate: true,
            }
        } else {
            let index = start + new_entries.len() as u64;
            in_batch.insert(key, index);
            leaves.push(merkle::leaf_hash(&s.entry));
            new_entries.push(NewEntry {
                index,
                entry: s.entry,
                envelope_digest: s.envelope_digest,
                signer: s.signer,
                received_ms: s.received_ms,
                subjects: s.subjects,
            });
            Sequenced {
                index,
                duplicate: false,
            }
        };
        outcomes.push(outcome);
        replies.push(s.reply);
    }
    if !new_entries.is_empty() {
        let hashes = match log.tree.compute_append(&leaves) {
            Ok(h) => h,
            Err(e) => {
                for r in replies {
                    let _ = r.send(Err(e.to_string()));
                }
                return Err(e);
            }
        };
        let first_id = stored_hash_count(start);
        if let Err(e) = log.storage.append(&new_entries, first_id, &hashes).await {
            for r in replies {
                let _ = r.send(Err(e.to_string()));
            }
            return Err(e.into());
        }
        let new_size = start + new_entries.len() as u64;
        log.tree.extend(new_size, &hashes);
        log.metrics.tree_size.store(new_size, Ordering::Relaxed);
        log.metrics
            .entries_sequenced
            .fetch_add(new_entries.len() as u64, Ordering::Relaxed);
        log.metrics.batches.fetch_add(1, Ordering::Relaxed);
    }
    let dups = outcomes.iter().filter(|o| o.duplicate).count() as u64;
    log.metrics.duplicates.fetch_add(dups, Ordering::Relaxed);
    for (r, o) in replies.into_iter().zip(outcomes) {
        let _ = r.send(Ok(o));
    }
    Ok(())
}

/// Signs and stores a checkpoint of the current tree if it grew past the latest one in
/// `signed_tx`. Returns the new checkpoint, if any; the caller announces it on `signed_tx`.
pub async fn sign_checkpoint_if_grown(
    log: &Log,
    signed_tx: &watch::Sender<Option<Arc<Published>>>,
) -> Result<Option<Arc<Published>>, LogError> {
    let size = log.tree.size();
    let old = signed_tx.borrow().as_ref().map(|p| p.size);
    if old.is_some_and(|o| o >= size) {
        return Ok(None);
    }
    let root = log.tree.root(size)?;
    let cp = Checkpoint {
        origin: log.origin().to_owned(),
        size,
        root_hash: root,
        extensions: Vec::new(),
    };
    let note = cp
        .sign(&[log.signer.as_ref() as &dyn quorum_c2sp::note::NoteSigner])
        .map_err(|e| LogError::Sign(e.to_string()))?;
    let note = String::from_utf8(note).map_err(|e| LogError::Sign(e.to_string()))?;
    let stored = StoredCheckpoint { size, root, note };
    if !log
        .storage
        .store_checkpoint_cas(old, &stored, now_ms())
        .await?
    {
        return Err(LogError::Inconsistent(format!(
            "checkpoint compare-and-swap from {old:?} to {size} lost: another signer is active"
        )));
    }
    log.metrics
        .checkpoints_signed
        .fetch_add(1, Ordering::Relaxed);
    log.metrics.checkpoint_size.store(size, Ordering::Relaxed);
    let p = Arc::new(with_cosignatures(&stored, &[]));
    tracing::debug!(size, "signed checkpoint");
    Ok(Some(p))
}
