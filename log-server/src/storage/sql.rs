//! SQLite and PostgreSQL behind the storage traits, through sqlx's `Any` driver: one SQL
//! text for both backends (`$N` placeholders, `?` in multi-row statements on SQLite, see
//! [`placeholders`]), connection set-up and migrations per backend.
//!
//! Tables: `entries` (leaf data, unique on (envelope digest, signer) for deduplication),
//! `subjects` (package purl → index, for lookups), `hashes` (the tree's stored hashes in
//! Go/C2SP stored-hash order), `checkpoints` (one row per size: two different checkpoints
//! of one size cannot exist), `log_state` (the latest checkpoint size, advanced by
//! compare-and-swap), `cosignatures` (each witness's first cosignature per checkpoint),
//! `latest_cosignatures` (its freshest) and `witness_state`.
//!
//! A row limit that is a bound parameter is written `LIMIT CAST($N AS BIGINT)`, never
//! `LIMIT $N`: SQLite (3.47 and later) reads a bare parameter's value while planning, marks
//! the statement as depending on it, and so throws the cached statement away and parses and
//! plans it again every time the limit is bound. That was a quarter of the log server's CPU
//! time while serving evidence (thousands of one-key queries per client run).
//!
//! One `Any` type rather than one type per database: the SQL is the same for both, and a
//! second type would repeat every query; the dialects differ only in placeholders (and the
//! migrations' column types).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _, Row as _};

use super::{
    CheckpointStore, EntryStore, IndexStore, LogStorage, NewEntry, Result, StorageError,
    StoredCheckpoint, WitnessStore, redact,
};

/// Which SQL dialect a [`SqlStorage`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded, WAL mode).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// SQLite or PostgreSQL storage of the log.
#[derive(Debug, Clone)]
pub struct SqlStorage {
    /// Reads.
    pool: AnyPool,
    /// Writes and the sequencer's deduplication reads. On SQLite a pool of one connection:
    /// SQLite has one writer at a time anyway, and one connection keeps its page cache warm
    /// (another connection's write invalidates a connection's cache). On PostgreSQL the same
    /// pool as `pool`.
    writer: AnyPool,
    backend: Dialect,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const ENTRY_CHUNK: usize = 200;
const HASH_CHUNK: usize = 500;
const SUBJECT_CHUNK: usize = 300;
const LOOKUP_CHUNK: usize = 500;

/// A checkpoint from a row of (size, root, note).
fn checkpoint_from_row(r: &sqlx::any::AnyRow) -> Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: to_u64(r.try_get::<i64, _>(0)?)?,
        root: to_hash(&r.try_get::<Vec<u8>, _>(1)?)?,
        note: r.try_get::<String, _>(2)?,
    })
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StorageError::Corrupt(format!("value {v} exceeds i64")))
}

fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StorageError::Corrupt(format!("negative value {v}")))
}

fn to_hash(v: &[u8]) -> Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| StorageError::Corrupt(format!("hash of {} bytes", v.len())))
}

/// `(…),(…)` placeholder rows for a multi-row statement. SQLite gets anonymous `?`
/// parameters: sqlx-sqlite asks SQLite for the name of every parameter when binding, and
/// SQLite finds a named parameter (`$N`) by a linear search, so binding `$N` parameters costs
/// O(n²) per statement (it was a tenth of the ingest CPU). PostgreSQL requires `$N`.
fn placeholders(backend: Dialect, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * (cols * 6 + 3));
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            push_placeholder(&mut s, backend, n);
            n += 1;
        }
        s.push(')');
    }
    s
}

/// The duplicate check for `n` keys, bound as (envelope digest, signer) pairs in order.
///
/// The keys are joined as a `VALUES` list against the unique index on (envelope digest,
/// signer), which both columns of every key match: a planner then knows each lookup finds at
/// most one row from the index definition alone, so the plan does not depend on statistics.
/// (`envelope_digest IN (…)` did: on a PostgreSQL table never analyzed, the default
/// selectivity of a 100-item list is half the table, and every sequencer batch scanned all of
/// `entries`.) Public so that a test can `EXPLAIN` exactly this text.
pub fn duplicate_check_sql(dialect: Dialect, n: usize) -> String {
    format!(
        "WITH k(d, s) AS (VALUES {}) SELECT e.idx, e.envelope_digest, e.signer \
         FROM k JOIN entries e ON e.envelope_digest = k.d AND e.signer = k.s",
        placeholders(dialect, n, 2)
    )
}

/// Which of `n` trust-graph keys, bound as (key, start, until) triples in order, have an entry
/// in their range: the keys joined as a `VALUES` list against the `subjects` primary key
/// (package, version, idx), one seek per key, as [`duplicate_check_sql`] does for its keys.
fn trust_graph_existence_sql(dialect: Dialect, n: usize) -> String {
    format!(
        "WITH k(p, a, b) AS (VALUES {}) SELECT k.p FROM k WHERE EXISTS \
         (SELECT 1 FROM subjects s WHERE s.package = k.p AND s.version = '' \
         AND s.idx >= k.a AND s.idx < k.b)",
        placeholders(dialect, n, 3)
    )
}

/// A comma-separated list of `n` placeholders, for `IN (…)`.
fn in_list(backend: Dialect, n: usize) -> String {
    let mut s = String::with_capacity(n * 6);
    for i in 1..=n {
        if i > 1 {
            s.push(',');
        }
        push_placeholder(&mut s, backend, i);
    }
    s
}

fn push_placeholder(s: &mut String, backend: Dialect, n: usize) {
    match backend {
        Dialect::Sqlite => s.push('?'),
        Dialect::Postgres => {
            use std::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(s, "${n}");
        }
    }
}

impl SqlStorage {
    /// Opens a database by URL (`sqlite://path?mode=rwc` or `postgres://...`) and runs the
    /// migrations.
    pub async fn open(url: &str) -> Result<SqlStorage> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StorageError::UnsupportedUrl(redact(url)));
        };
        let opts = AnyConnectOptions::from_str(url)?;
        let (pool, writer) = match backend {
            Dialect::Sqlite => {
                let sqlite_pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA synchronous = FULL").await?;
                                conn.execute("PRAGMA busy_timeout = 10000").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                // 64 MiB of page cache per connection (the default is 2 MiB):
                                // the dedup index takes random inserts, and with a small cache
                                // each one reads its B-tree pages back from the OS.
                                conn.execute("PRAGMA cache_size = -65536").await?;
                                // Reads map the database file (up to 1 GiB of it) instead of
                                // copying each page into every connection's cache with a
                                // system call: an evidence answer reads thousands of entries
                                // spread over the whole file, and the readers share the OS's
                                // copy. (An I/O error on a mapped page is a signal rather
                                // than an error code; the log survives being killed.)
                                conn.execute("PRAGMA mmap_size = 1073741824").await?;
                                // Multi-row INSERTs keep a statement journal; in memory it
                                // costs no system calls.
                                conn.execute("PRAGMA temp_store = MEMORY").await?;
                                // Checkpoint the WAL every 4,000 pages (16 MiB) rather than
                                // 1,000: pages that every commit rewrites (B-tree roots, the
                                // right edge of append-only tables) are copied once per
                                // checkpoint.
                                conn.execute("PRAGMA wal_autocheckpoint = 4000").await?;
                                Ok(())
                            })
                        })
                };
                let pool = sqlite_pool(8).connect_with(opts.clone()).await?;
                let writer = sqlite_pool(1).connect_with(opts).await?;
                (pool, writer)
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(opts)
                    .await?;
                (pool.clone(), pool)
            }
        };
        match backend {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&writer).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(SqlStorage {
            pool,
            writer,
            backend,
        })
    }

    async fn cosignature_lines(
        &self,
        table: &'static str,
        size: u64,
    ) -> Result<Vec<(String, String)>> {
        let sql = format!("SELECT witness, line FROM {table} WHERE size = $1 ORDER BY witness");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_i64(size)?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }
}

#[async_trait]
impl EntryStore for SqlStorage {
    async fn entry_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
            .fetch_one(&self.pool)
            .await?;
        to_u64(row.try_get::<i64, _>(0)?)
    }

    async fn load_hashes(&self) -> Result<Vec<[u8; 32]>> {
        let rows = sqlx::query("SELECT id, hash FROM hashes ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let id: i64 = row.try_get(0)?;
            if to_u64(id)? != i as u64 {
                return Err(StorageError::Corrupt(format!(
                    "stored hash {i} missing (found id {id})"
                )));
            }
            let h: Vec<u8> = row.try_get(1)?;
            out.push(to_hash(&h)?);
        }
        Ok(out)
    }

    async fn find_existing(
        &self,
        keys: &[([u8; 32], [u8; 32])],
    ) -> Result<HashMap<([u8; 32], [u8; 32]), u64>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let sql = duplicate_check_sql(self.backend, chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (d, s) in chunk {
                q = q.bind(d.to_vec()).bind(s.to_vec());
            }
            for row in q.fetch_all(&self.writer).await? {
                let idx = to_u64(row.try_get::<i64, _>(0)?)?;
                let d = to_hash(&row.try_get::<Vec<u8>, _>(1)?)?;
                let s = to_hash(&row.try_get::<Vec<u8>, _>(2)?)?;
                out.insert((d, s), idx);
            }
        }
        Ok(out)
    }

    async fn append(
        &self,
        entries: &[NewEntry],
        first_hash_id: u64,
        hashes: &[[u8; 32]],
    ) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        let res: Result<_> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for chunk in entries.chunks(ENTRY_CHUNK) {
                let sql = format!(
                    "INSERT INTO entries (idx, entry, envelope_digest, signer, received_ms) VALUES {}",
                    placeholders(self.backend, chunk.len(), 5)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for e in chunk {
                    q = q
                        .bind(to_i64(e.index)?)
                        .bind(e.entry.clone())
                        .bind(e.envelope_digest.to_vec())
                        .bind(e.signer.to_vec())
                        .bind(e.received_ms);
                }
                q.execute(&mut *tx).await?;
            }
            let subjects: Vec<(&str, &str, u64)> = entries
                .iter()
                .flat_map(|e| {
                    e.subjects
                        .iter()
                        .map(move |(p, v)| (p.as_str(), v.as_str(), e.index))
                })
                .collect();
            for chunk in subjects.chunks(SUBJECT_CHUNK) {
                let sql = format!(
                    "INSERT INTO subjects (package, version, idx) VALUES {} ON CONFLICT DO NOTHING",
                    placeholders(self.backend, chunk.len(), 3)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (p, v, i) in chunk {
                    q = q.bind(p.to_string()).bind(v.to_string()).bind(to_i64(*i)?);
                }
                q.execute(&mut *tx).await?;
            }
            for (ci, chunk) in hashes.chunks(HASH_CHUNK).enumerate() {
                let sql = format!(
                    "INSERT INTO hashes (id, hash) VALUES {}",
                    placeholders(self.backend, chunk.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                let base = first_hash_id + (ci * HASH_CHUNK) as u64;
                for (i, h) in chunk.iter().enumerate() {
                    q = q.bind(to_i64(base + i as u64)?).bind(h.to_vec());
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if res.is_err() {
            // SQLite may have rolled the transaction back on its own (SQLITE_FULL,
            // SQLITE_IOERR, ...) while sqlx still counts it as open: reused, this
            // connection would run the next transaction as a savepoint that never
            // commits. Close it; the pool opens a fresh one.
            conn.close_on_drop();
        }
        res
    }

    async fn entries_range(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let rows =
            sqlx::query("SELECT idx, entry FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                .bind(to_i64(start)?)
                .bind(to_i64(end)?)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let idx = to_u64(row.try_get::<i64, _>(0)?)?;
            if idx != start + i as u64 {
                return Err(StorageError::Corrupt(format!(
                    "entry {} missing",
                    start + i as u64
                )));
            }
            out.push(row.try_get::<Vec<u8>, _>(1)?);
        }
        // A short answer would become a short entry bundle, cached as if it were whole.
        let wanted = end.saturating_sub(start);
        if out.len() as u64 != wanted {
            return Err(StorageError::Corrupt(format!(
                "entries {}..{end} missing ({} of {wanted} stored)",
                start + out.len() as u64,
                out.len()
            )));
        }
        Ok(out)
    }

    async fn entries_by_index(&self, indices: &[u64]) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut map = HashMap::new();
        for chunk in indices.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT idx, entry FROM entries WHERE idx IN ({})",
                in_list(self.backend, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for i in chunk {
                q = q.bind(to_i64(*i)?);
            }
            for row in q.fetch_all(&self.pool).await? {
                map.insert(
                    to_u64(row.try_get::<i64, _>(0)?)?,
                    row.try_get::<Vec<u8>, _>(1)?,
                );
            }
        }
        Ok(indices
            .iter()
            .filter_map(|i| map.remove(i).map(|e| (*i, e)))
            .collect())
    }
}

#[async_trait]
impl IndexStore for SqlStorage {
    async fn lookup_package(
        &self,
        package: &str,
        version: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<u64>> {
        let rows = match version {
            Some(v) => {
                sqlx::query("SELECT idx FROM subjects WHERE package = $1 AND version = $2 AND idx > $3 ORDER BY idx LIMIT CAST($4 AS BIGINT)")
                    .bind(package.to_owned())
                    .bind(v.to_owned())
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT DISTINCT idx FROM subjects WHERE package = $1 AND idx > $2 ORDER BY idx LIMIT CAST($3 AS BIGINT)")
                    .bind(package.to_owned())
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| to_u64(r.try_get::<i64, _>(0)?))
            .collect()
    }

    async fn lookup_signer(&self, signer: &[u8; 32], after: i64, limit: u32) -> Result<Vec<u64>> {
        let rows = sqlx::query(
            "SELECT idx FROM entries WHERE signer = $1 AND idx > $2 ORDER BY idx LIMIT CAST($3 AS BIGINT)",
        )
        .bind(signer.to_vec())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| to_u64(r.try_get::<i64, _>(0)?))
            .collect()
    }

    async fn evidence_range(
        &self,
        key: &str,
        start: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        use quorum_verifier::model::index::is_trust_graph_key;
        // The trust graph (whole or one signer's) has one version, "": naming it lets the
        // (package, version, idx) primary key seek straight to `start`.
        let sql = if is_trust_graph_key(key) {
            "SELECT e.idx, e.entry FROM entries e WHERE e.idx IN (SELECT idx FROM subjects \
             WHERE package = $1 AND version = '' AND idx >= $2 AND idx < $3 ORDER BY idx LIMIT CAST($4 AS BIGINT)) \
             ORDER BY e.idx"
        } else {
            "SELECT e.idx, e.entry FROM entries e WHERE e.idx IN (SELECT DISTINCT idx FROM subjects \
             WHERE package = $1 AND idx >= $2 AND idx < $3 ORDER BY idx LIMIT CAST($4 AS BIGINT)) ORDER BY e.idx"
        };
        let rows = sqlx::query(sql)
            .bind(key.to_owned())
            .bind(to_i64(start)?)
            .bind(to_i64(until)?)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    to_u64(r.try_get::<i64, _>(0)?)?,
                    r.try_get::<Vec<u8>, _>(1)?,
                ))
            })
            .collect()
    }

    async fn trust_graph_keys_with_entries(
        &self,
        ranges: &[(String, u64, u64)],
    ) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in ranges.chunks(LOOKUP_CHUNK) {
            let sql = trust_graph_existence_sql(self.backend, chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, start, until) in chunk {
                q = q
                    .bind(key.clone())
                    .bind(to_i64(*start)?)
                    .bind(to_i64(*until)?);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl CheckpointStore for SqlStorage {
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let row = sqlx::query(
            "SELECT c.size, c.root, c.note FROM checkpoints c JOIN log_state s ON c.size = s.checkpoint_size WHERE s.id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    async fn store_checkpoint_cas(
        &self,
        expected_old: Option<u64>,
        cp: &StoredCheckpoint,
        created_ms: i64,
    ) -> Result<bool> {
        let old = match expected_old {
            Some(s) => to_i64(s)?,
            None => -1,
        };
        let mut conn = self.writer.acquire().await?;
        let res: Result<_> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let res = sqlx::query(
                "UPDATE log_state SET checkpoint_size = $1 WHERE id = 1 AND checkpoint_size = $2",
            )
            .bind(to_i64(cp.size)?)
            .bind(old)
            .execute(&mut *tx)
            .await?;
            if res.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO checkpoints (size, root, note, created_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(to_i64(cp.size)?)
            .bind(cp.root.to_vec())
            .bind(cp.note.clone())
            .bind(created_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await;
        if res.is_err() {
            // SQLite may have rolled the transaction back on its own (SQLITE_FULL,
            // SQLITE_IOERR, ...) while sqlx still counts it as open: reused, this
            // connection would run the next transaction as a savepoint that never
            // commits. Close it; the pool opens a fresh one.
            conn.close_on_drop();
        }
        res
    }

    async fn latest_cosigned_checkpoint(
        &self,
        min_cosignatures: usize,
    ) -> Result<Option<StoredCheckpoint>> {
        let row = sqlx::query(
            "SELECT c.size, c.root, c.note FROM checkpoints c \
             WHERE (SELECT COUNT(*) FROM latest_cosignatures s WHERE s.size = c.size) >= $1 \
             ORDER BY c.size DESC LIMIT 1",
        )
        .bind(to_i64(min_cosignatures as u64)?)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    async fn first_cosigned_checkpoint_covering(
        &self,
        index: u64,
        max_size: u64,
        min_cosignatures: usize,
    ) -> Result<Option<StoredCheckpoint>> {
        let query = if min_cosignatures == 0 {
            sqlx::query(
                "SELECT size, root, note FROM checkpoints WHERE size > $1 AND size <= $2 ORDER BY size LIMIT 1",
            )
        } else {
            sqlx::query(
                "SELECT c.size, c.root, c.note FROM checkpoints c WHERE c.size > $1 AND c.size <= $2 \
                 AND (SELECT COUNT(*) FROM cosignatures s WHERE s.size = c.size) >= $3 ORDER BY c.size LIMIT 1",
            )
        };
        let mut query = query.bind(to_i64(index)?).bind(to_i64(max_size)?);
        if min_cosignatures > 0 {
            query = query.bind(to_i64(min_cosignatures as u64)?);
        }
        let row = query.fetch_optional(&self.pool).await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }
}

#[async_trait]
impl WitnessStore for SqlStorage {
    async fn record_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        timestamp: u64,
        now_ms: i64,
    ) -> Result<()> {
        let size = to_i64(size)?;
        let timestamp = to_i64(timestamp)?;
        let mut conn = self.writer.acquire().await?;
        let res: Result<()> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query("INSERT INTO cosignatures (size, witness, line, received_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(size)
                .bind(witness.to_owned())
                .bind(line.to_owned())
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO latest_cosignatures (size, witness, line, timestamp, received_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size, witness) DO UPDATE \
                 SET line = excluded.line, timestamp = excluded.timestamp, received_ms = excluded.received_ms \
                 WHERE excluded.timestamp > latest_cosignatures.timestamp",
            )
            .bind(size)
            .bind(witness.to_owned())
            .bind(line.to_owned())
            .bind(timestamp)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if res.is_err() {
            // As in `append`: a transaction SQLite rolled back on its own must not leave its
            // connection in the pool.
            conn.close_on_drop();
        }
        res
    }

    async fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>> {
        self.cosignature_lines("cosignatures", size).await
    }

    async fn latest_cosignatures(&self, size: u64) -> Result<Vec<(String, String)>> {
        self.cosignature_lines("latest_cosignatures", size).await
    }

    async fn witness_size(&self, witness: &str) -> Result<Option<u64>> {
        let row = sqlx::query("SELECT size FROM witness_state WHERE witness = $1")
            .bind(witness.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| to_u64(r.try_get::<i64, _>(0)?)).transpose()
    }

    async fn set_witness_size(&self, witness: &str, size: u64) -> Result<()> {
        sqlx::query("INSERT INTO witness_state (witness, size) VALUES ($1, $2) ON CONFLICT (witness) DO UPDATE SET size = excluded.size")
            .bind(witness.to_owned())
            .bind(to_i64(size)?)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl LogStorage for SqlStorage {
    fn backend(&self) -> &'static str {
        match self.backend {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}
