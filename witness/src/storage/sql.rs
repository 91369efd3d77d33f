//! SQLite and PostgreSQL behind the witness's storage traits, through sqlx's `Any` driver:
//! one SQL text for both (SQLite accepts `$1` placeholders), connection set-up and
//! migrations per backend (the migrations differ only in column types).
//!
//! The latest cosigned checkpoint of each log advances only by compare-and-swap on
//! `(size, root)`, so two concurrent requests can never both advance from one state. On
//! SQLite the compare-and-swaps of concurrent requests are applied one by one inside one
//! transaction by a group-commit writer, and each caller is answered after that transaction
//! is durable (WAL, `synchronous = FULL`); on PostgreSQL each is its own statement.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor as _, Row as _};

use super::{
    AddLogOutcome, CheckpointState, Evidence, EvidenceStore, LogRecord, LogRegistry, LogState,
    Result, StoreError, WitnessStorage, empty_root, origin_hash,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
    reply: tokio::sync::oneshot::Sender<std::result::Result<bool, String>>,
}

/// Most compare-and-swaps committed in one SQLite transaction.
const MAX_GROUP_COMMIT: usize = 256;

const CAS_SQL: &str = "UPDATE checkpoints SET size = $1, root = $2, note = $3, updated_at = $4 \
                       WHERE origin = $5 AND size = $6 AND root = $7";

/// The witness's SQLite or PostgreSQL database.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    backend: &'static str,
    /// SQLite only: the group-commit writer.
    writer: Option<tokio::sync::mpsc::Sender<CasJob>>,
}

/// Keeps a connection whose transaction failed out of the pool. After some errors
/// (SQLITE_FULL, SQLITE_IOERR, a lost server) the database may have rolled the transaction
/// back on its own while sqlx still counts it as open; reused, such a connection would run
/// the next "transaction" as a savepoint inside a transaction that never commits, and the
/// witness would answer for state that is not durable.
fn forget_connection(conn: &mut sqlx::pool::PoolConnection<sqlx::Any>) {
    conn.close_on_drop();
}

/// Applies queued compare-and-swaps in batches, one durable commit per batch.
async fn group_commit_writer(pool: AnyPool, mut rx: tokio::sync::mpsc::Receiver<CasJob>) {
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
                let n = sqlx::query(CAS_SQL)
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

/// A SQLite URL that creates the database file when it is missing.
fn sqlite_create_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

impl SqlStore {
    /// Connects to `sqlite:<path>` (created if missing) or `postgres://...` and applies the
    /// migrations.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            let opts = AnyConnectOptions::from_str(&sqlite_create_url(url))?;
            // WAL with synchronous=FULL: a commit is on disk before the witness answers.
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_GROUP_COMMIT);
            tokio::spawn(group_commit_writer(pool.clone(), rx));
            Ok(SqlStore {
                pool,
                backend: "sqlite",
                writer: Some(tx),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(AnyConnectOptions::from_str(url)?)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Ok(SqlStore {
                pool,
                backend: "postgres",
                writer: None,
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }
}

#[async_trait]
impl LogRegistry for SqlStore {
    async fn add_log(&self, origin: &str, vkey: &str, url: Option<&str>) -> Result<AddLogOutcome> {
        let now = now_unix();
        let hash = origin_hash(origin);
        let root = empty_root().to_vec();
        let mut conn = self.pool.acquire().await?;
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
    }

    async fn logs(&self) -> Result<Vec<LogRecord>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT l.origin, l.url, c.size FROM logs l JOIN checkpoints c \
             ON c.origin = l.origin ORDER BY l.origin",
        )
        .fetch_all(&self.pool)
        .await?;
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT origin, vkey FROM log_keys ORDER BY origin, added_at, vkey")
                .fetch_all(&self.pool)
                .await?;
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

    async fn log(&self, origin: &str) -> Result<Option<LogRecord>> {
        let row: Option<(Option<String>, i64)> = sqlx::query_as(
            "SELECT l.url, c.size FROM logs l JOIN checkpoints c ON c.origin = l.origin \
             WHERE l.origin = $1",
        )
        .bind(origin)
        .fetch_optional(&self.pool)
        .await?;
        let Some((url, size)) = row else {
            return Ok(None);
        };
        let keys: Vec<(String,)> =
            sqlx::query_as("SELECT vkey FROM log_keys WHERE origin = $1 ORDER BY added_at, vkey")
                .bind(origin)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(LogRecord {
            origin: origin.to_string(),
            keys: keys.into_iter().map(|(k,)| k).collect(),
            url,
            size: to_u64(size)?,
        }))
    }

    async fn origin_by_hash(&self, hash_hex: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT origin FROM logs WHERE origin_hash = $1")
                .bind(hash_hex)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(o,)| o))
    }
}

#[async_trait]
impl CheckpointState for SqlStore {
    async fn state(&self, origin: &str) -> Result<Option<LogState>> {
        let row: Option<(i64, Vec<u8>, String)> =
            sqlx::query_as("SELECT size, root, note FROM checkpoints WHERE origin = $1")
                .bind(origin)
                .fetch_optional(&self.pool)
                .await?;
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

    async fn compare_and_swap(
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
        let n = sqlx::query(CAS_SQL)
            .bind(new_size)
            .bind(&new_root[..])
            .bind(note)
            .bind(now)
            .bind(origin)
            .bind(old_size)
            .bind(&old.root[..])
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn checkpoint_by_origin_hash(&self, hash_hex: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT c.note FROM logs l JOIN checkpoints c ON c.origin = l.origin \
             WHERE l.origin_hash = $1",
        )
        .bind(hash_hex)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(n,)| n).filter(|n| !n.is_empty()))
    }
}

#[async_trait]
impl EvidenceStore for SqlStore {
    async fn add_evidence(&self, ev: &Evidence) -> Result<bool> {
        let mut h = Sha256::new();
        for part in [&ev.kind, &ev.cosigned_note, &ev.conflicting_note] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let conflict_hash = hex::encode(h.finalize());
        let n = sqlx::query(
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
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn evidence(&self, origin: Option<&str>) -> Result<Vec<Evidence>> {
        const COLUMNS: &str = "SELECT id, origin, kind, cosigned_note, conflicting_note, proof, \
                               observed_at FROM evidence";
        let rows = match origin {
            Some(o) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{COLUMNS} WHERE origin = $1 ORDER BY id"
                )))
                .bind(o)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY id")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(row_to_evidence).collect()
    }
}

#[async_trait]
impl WitnessStorage for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

fn row_to_evidence(r: &AnyRow) -> Result<Evidence> {
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
