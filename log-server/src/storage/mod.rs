//! The log's storage, behind four narrow traits the server calls:
//!
//! | trait | what it keeps | used by |
//! |---|---|---|
//! | [`EntryStore`] | entries (leaf data) and the tree's stored hashes, appended in one durable transaction per sequencer batch; the duplicate check | the sequencer, tile and lookup reads |
//! | [`IndexStore`] | package and signer lookups, and the evidence read side (every entry under a key in an index range) | `GET /v1/statements`, `GET`/`POST /v1/evidence` |
//! | [`CheckpointStore`] | signed checkpoints, advanced by compare-and-swap | the checkpoint signer, evidence history |
//! | [`WitnessStore`] | each witness's first and freshest cosignature per checkpoint, and the size it verified | the witness client, publishing |
//!
//! [`LogStorage`] joins them with health and shutdown, and [`Storage`] is the shared handle
//! the server holds (`Arc<dyn LogStorage>`). SQLite and PostgreSQL implement them in
//! [`sql`] (one type, [`sql::SqlStorage`], over sqlx's `Any` driver: one SQL text for both,
//! dialect differences in two helpers, a migration set for each).
//!
//! A new backend (object storage for entries and tiles, say) touches:
//!
//! 1. a type implementing the four traits and [`LogStorage`], with the guarantees each
//!    method documents (above all: [`EntryStore::append`] and [`CheckpointStore::store_checkpoint_cas`]
//!    are durable when they return, and the compare-and-swap never lets two checkpoints
//!    of one size exist);
//! 2. one arm of [`Storage::open`] for its URL scheme;
//! 3. `tests/storage.rs`, which runs the same conformance checks against every backend;
//!    add it there.
//!
//! Nothing else in the server names a backend.

pub mod sql;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use thiserror::Error;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// What makes a submission a duplicate: (envelope digest, signer key).
pub type DedupKey = ([u8; 32], [u8; 32]);

/// Errors from the storage layer.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds data this code cannot interpret.
    #[error("corrupt data in storage: {0}")]
    Corrupt(String),
    /// The database URL names an unsupported backend.
    #[error("unsupported database URL (use sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    /// Filesystem error (data directory).
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Storage results.
pub type Result<T> = std::result::Result<T, StorageError>;

/// One entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The entry's index.
    pub index: u64,
    /// The encoded log entry (leaf data).
    pub entry: Vec<u8>,
    /// SHA-256 of the envelope's PAE.
    pub envelope_digest: [u8; 32],
    /// The signer's public key.
    pub signer: [u8; 32],
    /// Receipt time, Unix milliseconds.
    pub received_ms: i64,
    /// Package subjects: (package purl without version, version or "").
    pub subjects: Vec<(String, String)>,
}

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The signed note text (log signature only).
    pub note: String,
}

/// Entries and the tree's stored hashes.
#[async_trait]
pub trait EntryStore: Send + Sync {
    /// The number of entries (the tree size of the sequenced log).
    async fn entry_count(&self) -> Result<u64>;

    /// All stored hashes in stored-hash order (Go/C2SP `tlog` numbering), complete from 0.
    async fn load_hashes(&self) -> Result<Vec<Hash>>;

    /// The indices of already-logged entries among `keys`. Called once per sequencer batch:
    /// its cost must not grow with the log (an index lookup per key, whatever statistics
    /// the database has or lacks).
    async fn find_existing(&self, keys: &[DedupKey]) -> Result<HashMap<DedupKey, u64>>;

    /// Appends entries (consecutive indices from the current count) and the stored hashes
    /// they add (`hashes[0]` has stored-hash index `first_hash_id`), all or nothing, durable
    /// when this returns `Ok`. An entry whose dedup key is already stored is an error.
    async fn append(&self, entries: &[NewEntry], first_hash_id: u64, hashes: &[Hash])
    -> Result<()>;

    /// Entries `[start, end)` in index order; a missing one is [`StorageError::Corrupt`].
    async fn entries_range(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>>;

    /// Entries by index (absent ones skipped), in the order of `indices`.
    async fn entries_by_index(&self, indices: &[u64]) -> Result<Vec<(u64, Vec<u8>)>>;
}

/// Lookups of entries by package and by signer.
#[async_trait]
pub trait IndexStore: Send + Sync {
    /// Indices of entries with a subject of `package` (and `version` if given), ascending,
    /// at most `limit`, after index `after` (exclusive, -1 for the start).
    async fn lookup_package(
        &self,
        package: &str,
        version: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<u64>>;

    /// Indices of entries signed by `signer`, ascending, at most `limit`, after `after`.
    async fn lookup_signer(&self, signer: &[u8; 32], after: i64, limit: u32) -> Result<Vec<u64>>;

    /// The evidence read side: the entries indexed under `key` (a package purl without
    /// version, or `quorum_verifier::model::index::TRUST_GRAPH_KEY`, or one signer's
    /// `trust_graph_key_of`: that signer's trust-graph entries) with index in
    /// `[start, until)`, ascending, at most `limit`, with their bytes. Every such entry, in
    /// that order: `GET/POST /v1/evidence` states that a page lists all of them.
    async fn evidence_range(
        &self,
        key: &str,
        start: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>>;

    /// Of the trust-graph `ranges` (a trust-graph key, as [`IndexStore::evidence_range`]
    /// takes it, and its `[start, until)`), the keys that have at least one entry in their
    /// range: exactly those for which `evidence_range` would return something. One query for
    /// many keys, where `evidence_range` takes one per key: a client reaching thousands of
    /// keys asks for each one's statements, and most keys make none.
    async fn trust_graph_keys_with_entries(
        &self,
        ranges: &[(String, u64, u64)],
    ) -> Result<std::collections::HashSet<String>>;
}

/// Signed checkpoints.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The latest checkpoint stored by [`CheckpointStore::store_checkpoint_cas`].
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    /// Stores `cp` and makes it the latest if the latest size is still `expected_old`
    /// (`None`: no checkpoint yet), atomically and durably. Returns `false` when another
    /// signer won the race. Two checkpoints of one size can never be stored.
    async fn store_checkpoint_cas(
        &self,
        expected_old: Option<u64>,
        cp: &StoredCheckpoint,
        created_ms: i64,
    ) -> Result<bool>;

    /// The largest stored checkpoint whose witnesses' freshest cosignatures number at least
    /// `min_cosignatures`: what may be published.
    async fn latest_cosigned_checkpoint(
        &self,
        min_cosignatures: usize,
    ) -> Result<Option<StoredCheckpoint>>;

    /// The smallest stored checkpoint that covers entry `index` (its size is larger than
    /// `index`), is at most `max_size`, and has at least `min_cosignatures` first
    /// cosignatures. Every signed checkpoint and every first cosignature is kept, so this is
    /// the earliest witnessed proof that the entry was logged.
    async fn first_cosigned_checkpoint_covering(
        &self,
        index: u64,
        max_size: u64,
        min_cosignatures: usize,
    ) -> Result<Option<StoredCheckpoint>>;
}

/// Witness cosignatures and what each witness verified.
#[async_trait]
pub trait WitnessStore: Send + Sync {
    /// Records a witness's cosignature line (made at `timestamp`, Unix seconds) on the
    /// checkpoint of `size`, atomically: the witness's first one for that checkpoint is
    /// kept for good (it dates entries), and the one with the largest timestamp is kept as
    /// its freshest.
    async fn record_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        timestamp: u64,
        now_ms: i64,
    ) -> Result<()>;

    /// The first cosignature line of each witness on the checkpoint of `size`, as
    /// (witness name, line), by name.
    async fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>>;

    /// The freshest cosignature line of each witness on the checkpoint of `size`, as
    /// (witness name, line), by name.
    async fn latest_cosignatures(&self, size: u64) -> Result<Vec<(String, String)>>;

    /// The size a witness is known to have verified, if any.
    async fn witness_size(&self, witness: &str) -> Result<Option<u64>>;

    /// Records the size a witness has verified.
    async fn set_witness_size(&self, witness: &str, size: u64) -> Result<()>;
}

/// Everything the log keeps, with health and shutdown.
#[async_trait]
pub trait LogStorage:
    EntryStore + IndexStore + CheckpointStore + WitnessStore + std::fmt::Debug
{
    /// The backend's name, for logs (`sqlite`, `postgres`, …).
    fn backend(&self) -> &'static str;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;

    /// Releases connections (waits for those in use).
    async fn close(&self);
}

/// The shared storage handle the server holds. It dereferences to `dyn` [`LogStorage`], so
/// every trait's methods are called on it directly.
#[derive(Debug, Clone)]
pub struct Storage(Arc<dyn LogStorage>);

impl std::ops::Deref for Storage {
    type Target = dyn LogStorage;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl Storage {
    /// Wraps a backend.
    pub fn new(backend: Arc<dyn LogStorage>) -> Storage {
        Storage(backend)
    }

    /// Opens a database by URL (`sqlite://path?mode=rwc` or `postgres://...`) and prepares
    /// it (migrations).
    pub async fn open(url: &str) -> Result<Storage> {
        if url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:")
        {
            return Ok(Storage::new(Arc::new(sql::SqlStorage::open(url).await?)));
        }
        Err(StorageError::UnsupportedUrl(redact(url)))
    }

    /// Opens (creating if needed) the SQLite database `quorum.db` in `dir`.
    pub async fn open_dir(dir: &Path) -> Result<Storage> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("quorum.db");
        Storage::open(&format!("sqlite://{}?mode=rwc", path.display())).await
    }
}

/// Removes a password from a database URL for logging.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}://{}:***{}", &url[..s], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
