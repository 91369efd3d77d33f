//! Durable witness state in SQLite or PostgreSQL, through sqlx.
//!
//! The same SQL runs on both backends (SQLite accepts `$1` placeholders); only the
//! migrations differ in column types. The latest cosigned checkpoint of each log advances
//! only by compare-and-swap on `(size, root)`, so two concurrent requests can never both
//! advance from one state.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

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

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SHA-256 of the empty string: the root of the empty tree (RFC 6962).
pub fn empty_root() -> [u8; 32] {
    Sha256::digest(b"").into()
}

/// Lower-case hex SHA-256 of a log origin: the path segment of `GET /<hash>/checkpoint`.
pub fn origin_hash(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool is configured.
macro_rules! with_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.pools {
            Pools::Sqlite($p) => $body,
            Pools::Postgres($p) => $body,
        }
    };
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

/// What [`Store::add_log`] did.
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

/// One compare-and-swap waiting for the SQLite group-commit writer.
#[derive(Debug)]
struct CasJob {
    origin: String,
    old_size: i64,
    old_root: [u8; 32],
    new_size: i64,
    new_root: [u8; 32],
    note: String,
    now: i64,
    reply: tokio::sync::oneshot::Sender<Result<bool, String>>,
}

/// Most compare-and-swaps committed in one SQLite transaction.
const MAX_GROUP_COMMIT: usize = 256;

/// The witness's database.
#[derive(Clone, Debug)]
pub struct Store {
    pools: Pools,
    /// SQLite only: the group-commit writer. Concurrent compare-and-swaps are applied one
    /// by one (each its own `UPDATE ... WHERE size = old AND root = old_root`) inside one
    /// transaction, and each caller is answered after that transaction is durable.
    writer: Option<tokio::sync::mpsc::Sender<CasJob>>,
}

/// Keeps a connection whose transaction failed out of the pool. After some errors
/// (SQLITE_FULL, SQLITE_IOERR, a lost server) the database may have rolled the transaction
/// back on its own while sqlx still counts it as open; reused, such a connection would run
/// the next "transaction" as a savepoint inside a transaction that never commits, and the
/// witness would answer for state that is not durable.
fn forget_connection<DB: sqlx::Database>(conn: &mut sqlx::pool::PoolConnection<DB>) {
    conn.close_on_drop();
}

/// Applies queued compare-and-swaps in batches, one durable commit per batch.
async fn group_commit_writer(pool: SqlitePool, mut rx: tokio::sync::mpsc::Receiver<CasJob>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP_COMMIT {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                let msg = e.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(msg.clone()));
                }
                continue;
            }
        };
        let result: std::result::Result<Vec<bool>, sqlx::Error> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let mut applied = Vec::with_capacity(batch.len());
            for job in &batch {
                let n = sqlx::query(
                    "UPDATE checkpoints SET size = $1, root = $2, note = $3, updated_at = $4 \
                     WHERE origin = $5 AND size = $6 AND root = $7",
                )
                .bind(job.new_size)
                .bind(&job.new_root[..])
                .bind(&job.note)
                .bind(job.now)
                .bind(&job.origin)
                .bind(job.old_size)
                .bind(&job.old_root[..])
                .execute(&mut *tx)
                .await?
                .rows_affected();
                applied.push(n == 1);
            }
            tx.commit().await?;
            Ok(applied)
        }
        .await;
        if result.is_err() {
            forget_connection(&mut conn);
        }
        match result {
            Ok(applied) => {
                for (job, ok) in batch.into_iter().zip(applied) {
                    let _ = job.reply.send(Ok(ok));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(msg.clone()));
                }
            }
        }
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database `witness.db` in `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Corrupt(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("witness.db"))
            .create_if_missing(true);
        Self::open_sqlite(opts).await
    }

    /// Connects to `sqlite:<path>` or `postgres://...` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            Self::open_sqlite(opts).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Ok(Store {
                pools: Pools::Postgres(pool),
                writer: None,
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    async fn open_sqlite(opts: SqliteConnectOptions) -> Result<Store> {
        // WAL with synchronous=FULL: a commit is on disk before the witness answers.
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_GROUP_COMMIT);
        tokio::spawn(group_commit_writer(pool.clone(), rx));
        Ok(Store {
            pools: Pools::Sqlite(pool),
            writer: Some(tx),
        })
    }

    /// Which backend this store uses: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pools {
            Pools::Sqlite(_) => "sqlite",
            Pools::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, p => {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    /// Adds a log (or another key for a known log). Logs are never removed.
    pub async fn add_log(
        &self,
        origin: &str,
        vkey: &str,
        url: Option<&str>,
    ) -> Result<AddLogOutcome> {
        let now = now_unix();
        let hash = origin_hash(origin);
        let root = empty_root().to_vec();
        with_pool!(self, p => {
            let mut conn = p.acquire().await?;
            let result: std::result::Result<(bool, bool), sqlx::Error> = async {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let created = sqlx::query(
                    "INSERT INTO logs (origin, origin_hash, url, added_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (origin) DO NOTHING",
                )
                .bind(origin)
                .bind(&hash)
                .bind(url)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if created {
                    sqlx::query(
                        "INSERT INTO checkpoints (origin, size, root, note, updated_at) \
                         VALUES ($1, 0, $2, '', $3)",
                    )
                    .bind(origin)
                    .bind(&root)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                } else if let Some(u) = url {
                    sqlx::query("UPDATE logs SET url = $1 WHERE origin = $2")
                        .bind(u)
                        .bind(origin)
                        .execute(&mut *tx)
                        .await?;
                }
                let key_added = sqlx::query(
                    "INSERT INTO log_keys (origin, vkey, added_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (origin, vkey) DO NOTHING",
                )
                .bind(origin)
                .bind(vkey)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                tx.commit().await?;
                Ok((created, key_added))
            }
            .await;
            if result.is_err() {
                forget_connection(&mut conn);
            }
            let (created, key_added) = result?;
            Ok(if created {
                AddLogOutcome::Created
            } else if key_added {
                AddLogOutcome::KeyAdded
            } else {
                AddLogOutcome::Unchanged
            })
        })
    }

    /// All known logs, ordered by origin.
    pub async fn logs(&self) -> Result<Vec<LogRecord>> {
        let rows: Vec<(String, Option<String>, i64)> = with_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.origin, l.url, c.size FROM logs l JOIN checkpoints c \
                 ON c.origin = l.origin ORDER BY l.origin",
            )
            .fetch_all(p)
            .await?
        });
        let keys: Vec<(String, String)> = with_pool!(self, p => {
            sqlx::query_as("SELECT origin, vkey FROM log_keys ORDER BY origin, added_at, vkey")
                .fetch_all(p)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (origin, url, size) in rows {
            let ks = keys
                .iter()
                .filter(|(o, _)| *o == origin)
                .map(|(_, k)| k.clone())
                .collect();
            out.push(LogRecord {
                origin,
                keys: ks,
                url,
                size: to_u64(size)?,
            });
        }
        Ok(out)
    }

    /// One log by origin.
    pub async fn log(&self, origin: &str) -> Result<Option<LogRecord>> {
        let row: Option<(Option<String>, i64)> = with_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.url, c.size FROM logs l JOIN checkpoints c ON c.origin = l.origin \
                 WHERE l.origin = $1",
            )
            .bind(origin)
            .fetch_optional(p)
            .await?
        });
        let Some((url, size)) = row else {
            return Ok(None);
        };
        let keys: Vec<(String,)> = with_pool!(self, p => {
            sqlx::query_as("SELECT vkey FROM log_keys WHERE origin = $1 ORDER BY added_at, vkey")
                .bind(origin)
                .fetch_all(p)
                .await?
        });
        Ok(Some(LogRecord {
            origin: origin.to_string(),
            keys: keys.into_iter().map(|(k,)| k).collect(),
            url,
            size: to_u64(size)?,
        }))
    }

    /// The latest cosigned state of a log, or `None` for an unknown origin.
    pub async fn state(&self, origin: &str) -> Result<Option<LogState>> {
        let row: Option<(i64, Vec<u8>, String)> = with_pool!(self, p => {
            sqlx::query_as("SELECT size, root, note FROM checkpoints WHERE origin = $1")
                .bind(origin)
                .fetch_optional(p)
                .await?
        });
        row.map(|(size, root, note)| {
            let root: [u8; 32] = root
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("root of {origin:?} is not 32 bytes")))?;
            Ok(LogState {
                size: to_u64(size)?,
                root,
                note,
            })
        })
        .transpose()
    }

    /// Advances a log from `old` to the new state in one atomic compare-and-swap.
    /// Returns `false` (and changes nothing) when the stored state is no longer `old`.
    /// The change is durable when this returns `true`.
    pub async fn compare_and_swap(
        &self,
        origin: &str,
        old: &LogState,
        new_size: u64,
        new_root: &[u8; 32],
        note: &str,
    ) -> Result<bool> {
        let old_size = to_i64(old.size)?;
        let new_size = to_i64(new_size)?;
        let now = now_unix();
        if let Some(writer) = &self.writer {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let job = CasJob {
                origin: origin.to_string(),
                old_size,
                old_root: old.root,
                new_size,
                new_root: *new_root,
                note: note.to_string(),
                now,
                reply,
            };
            let closed = || StoreError::Write("the database writer has stopped".into());
            writer.send(job).await.map_err(|_| closed())?;
            return answer
                .await
                .map_err(|_| closed())?
                .map_err(StoreError::Write);
        }
        let n = with_pool!(self, p => {
            sqlx::query(
                "UPDATE checkpoints SET size = $1, root = $2, note = $3, updated_at = $4 \
                 WHERE origin = $5 AND size = $6 AND root = $7",
            )
            .bind(new_size)
            .bind(&new_root[..])
            .bind(note)
            .bind(now)
            .bind(origin)
            .bind(old_size)
            .bind(&old.root[..])
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The latest cosigned checkpoint note of the log whose origin hashes to `hash_hex`.
    pub async fn checkpoint_by_origin_hash(&self, hash_hex: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = with_pool!(self, p => {
            sqlx::query_as(
                "SELECT c.note FROM logs l JOIN checkpoints c ON c.origin = l.origin \
                 WHERE l.origin_hash = $1",
            )
            .bind(hash_hex)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(n,)| n).filter(|n| !n.is_empty()))
    }

    /// The origin whose hash is `hash_hex`.
    pub async fn origin_by_hash(&self, hash_hex: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = with_pool!(self, p => {
            sqlx::query_as("SELECT origin FROM logs WHERE origin_hash = $1")
                .bind(hash_hex)
                .fetch_optional(p)
                .await?
        });
        Ok(row.map(|(o,)| o))
    }

    /// Stores evidence of a conflict. Returns `false` if the same conflict was already kept.
    pub async fn add_evidence(&self, ev: &Evidence) -> Result<bool> {
        let mut h = Sha256::new();
        for part in [&ev.kind, &ev.cosigned_note, &ev.conflicting_note] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let conflict_hash = hex::encode(h.finalize());
        let n = with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO evidence (origin, kind, cosigned_note, conflicting_note, proof, \
                 conflict_hash, observed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (conflict_hash) DO NOTHING",
            )
            .bind(&ev.origin)
            .bind(&ev.kind)
            .bind(&ev.cosigned_note)
            .bind(&ev.conflicting_note)
            .bind(&ev.proof)
            .bind(&conflict_hash)
            .bind(ev.observed_at)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Stored evidence, oldest first, for one origin or for all.
    pub async fn evidence(&self, origin: Option<&str>) -> Result<Vec<Evidence>> {
        let rows = with_pool!(self, p => {
            match origin {
                Some(o) => sqlx::query(
                    "SELECT id, origin, kind, cosigned_note, conflicting_note, proof, observed_at \
                     FROM evidence WHERE origin = $1 ORDER BY id",
                )
                .bind(o)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| row_to_evidence(&r))
                .collect::<Result<Vec<_>>>()?,
                None => sqlx::query(
                    "SELECT id, origin, kind, cosigned_note, conflicting_note, proof, observed_at \
                     FROM evidence ORDER BY id",
                )
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| row_to_evidence(&r))
                .collect::<Result<Vec<_>>>()?,
            }
        });
        Ok(rows)
    }
}

fn row_to_evidence<R>(r: &R) -> Result<Evidence>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Evidence {
        id: r.try_get("id")?,
        origin: r.try_get("origin")?,
        kind: r.try_get("kind")?,
        cosigned_note: r.try_get("cosigned_note")?,
        conflicting_note: r.try_get("conflicting_note")?,
        proof: r.try_get("proof")?,
        observed_at: r.try_get("observed_at")?,
    })
}

fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative size {v}")))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("size {v} does not fit the database")))
}
