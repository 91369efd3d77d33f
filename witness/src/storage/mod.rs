//! The witness's durable state, behind three narrow traits:
//!
//! | trait | what it keeps |
//! |---|---|
//! | [`LogRegistry`] | the logs the witness knows, their trusted keys and pull URLs (never removed) |
//! | [`CheckpointState`] | the latest cosigned checkpoint of each log, advanced only by compare-and-swap |
//! | [`EvidenceStore`] | validly signed checkpoints that conflict with what was cosigned |
//!
//! [`WitnessStorage`] joins them with health and shutdown, and [`Store`] is the shared
//! handle (`Arc<dyn WitnessStorage>`). SQLite and PostgreSQL implement them in [`sql`]
//! (one type over sqlx's `Any` driver, as the log server's storage: one SQL text for both,
//! a migration set for each; on SQLite concurrent compare-and-swaps share one durable
//! commit).
//!
//! A new backend touches:
//!
//! 1. a type implementing the three traits and [`WitnessStorage`], keeping above all the
//!    guarantee of [`CheckpointState::compare_and_swap`]: atomic against concurrent calls and
//!    durable before it returns `true` (C2SP tlog-witness: the witness must persist the
//!    new checkpoint, atomically with the old-size check, before it answers);
//! 2. one arm of [`Store::connect`] for its URL scheme;
//! 3. `tests/storage.rs`, whose checks run against every backend: add it there.

pub mod sql;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database driver failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names a backend this witness does not support.
    #[error("unsupported database URL {0:?}: use sqlite:<path> or postgres://...")]
    UnsupportedUrl(String),
    /// The group-commit writer failed or stopped.
    #[error("database write failed: {0}")]
    Write(String),
    /// A stored value is not what the witness wrote.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// Storage results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SHA-256 of the empty string: the root of the empty tree (RFC 6962).
pub fn empty_root() -> [u8; 32] {
    Sha256::digest(b"").into()
}

/// Lower-case hex SHA-256 of a log origin: the path segment of `GET /<hash>/checkpoint`.
pub fn origin_hash(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// A log the witness knows, with its trusted keys and its latest cosigned state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The checkpoint origin line.
    pub origin: String,
    /// Signed-note verifier keys trusted for this origin.
    pub keys: Vec<String>,
    /// Base URL of the log's tlog-tiles read API, for pull mode.
    pub url: Option<String>,
    /// Size of the latest cosigned checkpoint (0 before the first).
    pub size: u64,
}

/// The latest cosigned state of one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The cosigned checkpoint note (log signatures plus the witness's), empty before the
    /// first cosignature.
    pub note: String,
}

/// What [`LogRegistry::add_log`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddLogOutcome {
    /// A new log was created.
    Created,
    /// The log existed; the key was added to its trusted keys.
    KeyAdded,
    /// The log and key were already known.
    Unchanged,
}

/// A conflicting checkpoint kept as evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// Row id (0 before it is stored).
    pub id: i64,
    /// The log's origin.
    pub origin: String,
    /// `same-size-different-root` or `inconsistent`.
    pub kind: String,
    /// The checkpoint the witness had cosigned when the conflict was shown.
    pub cosigned_note: String,
    /// The validly signed checkpoint that conflicts with it.
    pub conflicting_note: String,
    /// The consistency proof that came with it (`old <n>` and base64 lines).
    pub proof: String,
    /// Unix seconds when the witness saw it.
    pub observed_at: i64,
}

/// The logs the witness knows.
#[async_trait]
pub trait LogRegistry: Send + Sync {
    /// Adds a log at size 0 with the empty tree's root, or another key (and the URL, if
    /// given) to a known log, in one transaction. Nothing is ever removed.
    async fn add_log(&self, origin: &str, vkey: &str, url: Option<&str>) -> Result<AddLogOutcome>;

    /// All known logs, ordered by origin.
    async fn logs(&self) -> Result<Vec<LogRecord>>;

    /// One log by origin.
    async fn log(&self, origin: &str) -> Result<Option<LogRecord>>;

    /// The origin whose [`origin_hash`] is `hash_hex`.
    async fn origin_by_hash(&self, hash_hex: &str) -> Result<Option<String>>;
}

/// The latest cosigned checkpoint of each log.
#[async_trait]
pub trait CheckpointState: Send + Sync {
    /// The latest cosigned state of a log, or `None` for an unknown origin.
    async fn state(&self, origin: &str) -> Result<Option<LogState>>;

    /// Advances a log from `old` to the new state in one atomic compare-and-swap on
    /// (size, root). Returns `false` (and changes nothing) when the stored state is no
    /// longer `old`. The change is durable when this returns `true`.
    async fn compare_and_swap(
        &self,
        origin: &str,
        old: &LogState,
        new_size: u64,
        new_root: &[u8; 32],
        note: &str,
    ) -> Result<bool>;

    /// The latest cosigned checkpoint note of the log whose origin hashes to `hash_hex`
    /// (`None` before the first cosignature).
    async fn checkpoint_by_origin_hash(&self, hash_hex: &str) -> Result<Option<String>>;
}

/// Evidence of conflicting checkpoints.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Stores evidence of a conflict. Returns `false` if the same conflict (kind, cosigned
    /// note, conflicting note) was already kept.
    async fn add_evidence(&self, ev: &Evidence) -> Result<bool>;

    /// Stored evidence, oldest first, for one origin or for all.
    async fn evidence(&self, origin: Option<&str>) -> Result<Vec<Evidence>>;
}

/// Everything the witness keeps, with health and shutdown.
#[async_trait]
pub trait WitnessStorage: LogRegistry + CheckpointState + EvidenceStore + std::fmt::Debug {
    /// The backend's name: `sqlite`, `postgres`, ….
    fn backend(&self) -> &'static str;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;

    /// Releases connections (waits for those in use).
    async fn close(&self);
}

/// The witness's shared storage handle. It dereferences to `dyn` [`WitnessStorage`], so
/// every trait's methods are called on it directly.
#[derive(Clone, Debug)]
pub struct Store(Arc<dyn WitnessStorage>);

impl std::ops::Deref for Store {
    type Target = dyn WitnessStorage;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl Store {
    /// Wraps a backend.
    pub fn new(backend: Arc<dyn WitnessStorage>) -> Store {
        Store(backend)
    }

    /// Opens (creating if needed) the SQLite database `witness.db` in `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Corrupt(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join("witness.db");
        Store::connect(&format!("sqlite://{}", path.display())).await
    }

    /// Connects to `sqlite:<path>` (created if missing) or `postgres://...` and applies the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            return Ok(Store::new(Arc::new(sql::SqlStore::connect(url).await?)));
        }
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}
