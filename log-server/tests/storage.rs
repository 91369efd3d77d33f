//! The storage traits' contract, checked against every backend (SQLite and PostgreSQL), and
//! the duplicate check's query plan on a PostgreSQL table that was never analyzed.
//!
//! A new backend adds a `conformance_<backend>` test here.

mod common;

use common::*;
use quorum_log::storage::sql::{Dialect, duplicate_check_sql};
use quorum_log::storage::{NewEntry, Storage, StorageError, StoredCheckpoint};
use sqlx::Connection as _;

fn entry(index: u64, tag: u8) -> NewEntry {
    NewEntry {
        index,
        entry: vec![tag; 10 + index as usize],
        envelope_digest: [tag; 32],
        signer: [index as u8; 32],
        received_ms: 1_700_000_000_000 + index as i64,
        subjects: vec![
            ("pkg:cargo/a".into(), format!("1.0.{index}")),
            ("pkg:cargo/b".into(), String::new()),
        ],
    }
}

fn checkpoint(size: u64) -> StoredCheckpoint {
    StoredCheckpoint {
        size,
        root: [size as u8; 32],
        note: format!("test/log\n{size}\nroot\n\n— test/log sig{size}\n"),
    }
}

/// A cosignature line whose text carries its timestamp, so that the test can tell which one
/// is stored.
fn cosig(witness: &str, timestamp: u64) -> String {
    format!("— {witness} at-{timestamp}\n")
}

async fn conformance(storage: Storage) {
    // Entries and hashes, all or nothing.
    assert_eq!(storage.entry_count().await.expect("count"), 0);
    let first: Vec<NewEntry> = (0..3).map(|i| entry(i, 10 + i as u8)).collect();
    storage
        .append(&first, 0, &[[1; 32], [2; 32], [3; 32], [4; 32]])
        .await
        .expect("append");
    assert_eq!(storage.entry_count().await.expect("count"), 3);
    assert_eq!(
        storage.load_hashes().await.expect("hashes"),
        vec![[1; 32], [2; 32], [3; 32], [4; 32]]
    );
    assert_eq!(
        storage.entries_range(0, 3).await.expect("range"),
        first.iter().map(|e| e.entry.clone()).collect::<Vec<_>>()
    );
    assert!(
        matches!(
            storage.entries_range(0, 4).await,
            Err(StorageError::Corrupt(_))
        ),
        "a range past the end is an error, not a short answer"
    );
    assert_eq!(
        storage
            .entries_by_index(&[2, 9, 0])
            .await
            .expect("by index"),
        vec![(2, first[2].entry.clone()), (0, first[0].entry.clone())]
    );
    // A batch holding an already stored (digest, signer) fails as a whole.
    let dup = vec![
        entry(3, 50),
        NewEntry {
            index: 4,
            ..first[1].clone()
        },
    ];
    assert!(storage.append(&dup, 4, &[[5; 32]]).await.is_err());
    assert_eq!(storage.entry_count().await.expect("count"), 3);
    assert_eq!(storage.load_hashes().await.expect("hashes").len(), 4);

    // The duplicate check matches (digest, signer) pairs, not digests alone.
    let keys = vec![
        (first[1].envelope_digest, first[1].signer),
        (first[2].envelope_digest, first[0].signer),
        ([99; 32], [99; 32]),
    ];
    let found = storage.find_existing(&keys).await.expect("find");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found.get(&keys[0]), Some(&1));
    // Beyond one chunk of keys.
    let many: Vec<_> = (0..1200u32)
        .map(|i| {
            let mut d = [0u8; 32];
            d[..4].copy_from_slice(&i.to_be_bytes());
            (d, [7; 32])
        })
        .chain([(first[2].envelope_digest, first[2].signer)])
        .collect();
    assert_eq!(
        storage.find_existing(&many).await.expect("find many").len(),
        1
    );

    // Lookups.
    assert_eq!(
        storage
            .lookup_package("pkg:cargo/a", Some("1.0.1"), -1, 10)
            .await
            .expect("lookup"),
        vec![1]
    );
    assert_eq!(
        storage
            .lookup_package("pkg:cargo/b", None, 0, 10)
            .await
            .expect("lookup"),
        vec![1, 2]
    );
    assert_eq!(
        storage
            .lookup_signer(&[2; 32], -1, 10)
            .await
            .expect("signer"),
        vec![2]
    );

    // Which trust-graph keys have an entry in their range (one query for many keys): exactly
    // those `evidence_range` returns something for, chunk after chunk of keys.
    let signer_key = |n: u8| format!("quorum:trust-graph/{}", hex::encode([n; 32]));
    let vouches: Vec<NewEntry> = [3u64, 4, 5]
        .iter()
        .map(|&i| NewEntry {
            subjects: vec![(signer_key(if i == 5 { 2 } else { 1 }), String::new())],
            ..entry(i, 60 + i as u8)
        })
        .collect();
    storage
        .append(&vouches, 4, &[[6; 32], [7; 32], [8; 32], [9; 32]])
        .await
        .expect("append vouches");
    let mut ranges: Vec<(String, u64, u64)> = (10..=250u8).map(|n| (signer_key(n), 0, 6)).collect();
    ranges.extend([
        (signer_key(1), 4, 6),
        (signer_key(2), 0, 5),
        ("quorum:trust-graph".to_string(), 0, 6),
    ]);
    ranges.extend((0..400u32).map(|n| (format!("quorum:trust-graph/{n:064x}"), 0, 6)));
    ranges.push((signer_key(2), 5, 6));
    for (key, start, until) in &ranges {
        let found = storage
            .evidence_range(key, *start, *until, 10)
            .await
            .expect("evidence range");
        let expected = key == &signer_key(1) || (key == &signer_key(2) && *start == 5);
        assert_eq!(!found.is_empty(), expected, "{key} [{start}, {until})");
    }
    // Every key once (as in one evidence request): signer 2 only with the range holding its
    // entry, signer 1 only with a range holding one of its two.
    ranges.retain(|(key, start, _)| !(key == &signer_key(2) && *start == 0));
    assert_eq!(
        storage
            .trust_graph_keys_with_entries(&ranges)
            .await
            .expect("existence"),
        [signer_key(1), signer_key(2)].into_iter().collect(),
        "over {} keys",
        ranges.len()
    );
    assert!(
        storage
            .trust_graph_keys_with_entries(&[(signer_key(1), 0, 3), (signer_key(2), 0, 5)])
            .await
            .expect("existence")
            .is_empty(),
        "entries outside the ranges do not count"
    );

    // Checkpoints: compare-and-swap, one checkpoint per size.
    assert_eq!(storage.latest_checkpoint().await.expect("latest"), None);
    assert!(
        storage
            .store_checkpoint_cas(None, &checkpoint(1), 1)
            .await
            .expect("cas")
    );
    assert!(
        !storage
            .store_checkpoint_cas(None, &checkpoint(2), 2)
            .await
            .expect("stale cas"),
        "a stale compare-and-swap must lose"
    );
    assert!(
        storage
            .store_checkpoint_cas(Some(1), &checkpoint(3), 3)
            .await
            .expect("cas")
    );
    assert_eq!(
        storage.latest_checkpoint().await.expect("latest"),
        Some(checkpoint(3))
    );
    let other_root = StoredCheckpoint {
        root: [0xee; 32],
        ..checkpoint(3)
    };
    assert!(
        !matches!(
            storage.store_checkpoint_cas(Some(3), &other_root, 4).await,
            Ok(true)
        ),
        "a second checkpoint of one size must never be stored"
    );
    assert_eq!(
        storage.latest_checkpoint().await.expect("latest"),
        Some(checkpoint(3))
    );

    // Cosignatures: the first is kept, the freshest replaces older ones only.
    storage
        .record_cosignature(1, "w1", &cosig("w1", 100), 100, 1)
        .await
        .expect("cosign");
    storage
        .record_cosignature(1, "w1", &cosig("w1", 300), 300, 2)
        .await
        .expect("refresh");
    storage
        .record_cosignature(1, "w1", &cosig("w1", 200), 200, 3)
        .await
        .expect("older refresh");
    storage
        .record_cosignature(1, "w0", &cosig("w0", 150), 150, 4)
        .await
        .expect("cosign");
    assert_eq!(
        storage.cosignatures(1).await.expect("first"),
        vec![
            ("w0".to_string(), cosig("w0", 150)),
            ("w1".to_string(), cosig("w1", 100))
        ]
    );
    assert_eq!(
        storage.latest_cosignatures(1).await.expect("latest"),
        vec![
            ("w0".to_string(), cosig("w0", 150)),
            ("w1".to_string(), cosig("w1", 300))
        ]
    );
    assert!(storage.cosignatures(3).await.expect("none").is_empty());
    // What may be published: the largest checkpoint with enough (freshest) cosignatures.
    assert_eq!(
        storage
            .latest_cosigned_checkpoint(2)
            .await
            .expect("latest cosigned"),
        Some(checkpoint(1))
    );
    assert_eq!(
        storage
            .latest_cosigned_checkpoint(0)
            .await
            .expect("latest cosigned"),
        Some(checkpoint(3))
    );
    assert_eq!(
        storage
            .latest_cosigned_checkpoint(3)
            .await
            .expect("latest cosigned"),
        None
    );
    // Dating: the first checkpoint covering an entry with enough first cosignatures.
    let found = storage
        .first_cosigned_checkpoint_covering(0, 3, 2)
        .await
        .expect("covering");
    assert_eq!(found, Some(checkpoint(1)));
    assert_eq!(
        storage
            .first_cosigned_checkpoint_covering(1, 3, 2)
            .await
            .expect("covering"),
        None,
        "checkpoint 3 has no cosignature"
    );
    assert_eq!(
        storage
            .first_cosigned_checkpoint_covering(1, 3, 0)
            .await
            .expect("covering"),
        Some(checkpoint(3))
    );

    // What each witness verified.
    assert_eq!(storage.witness_size("w1").await.expect("size"), None);
    storage.set_witness_size("w1", 3).await.expect("set");
    storage.set_witness_size("w1", 1).await.expect("set");
    assert_eq!(storage.witness_size("w1").await.expect("size"), Some(1));

    storage.ping().await.expect("ping");
    storage.close().await;
}

#[tokio::test]
async fn conformance_sqlite() {
    let db = fresh_db(Backend::Sqlite).await;
    let storage = Storage::open(&db.url).await.expect("open");
    assert_eq!(storage.backend(), "sqlite");
    conformance(storage).await;
}

#[tokio::test]
async fn conformance_postgres() {
    let db = fresh_db(Backend::Postgres).await;
    let storage = Storage::open(&db.url).await.expect("open");
    assert_eq!(storage.backend(), "postgres");
    conformance(storage).await;
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    assert!(matches!(
        Storage::open("mysql://user:secret@db/log").await,
        Err(StorageError::UnsupportedUrl(u)) if !u.contains("secret")
    ));
}

/// The plan of the duplicate check on a table of 50,000 entries that PostgreSQL has never
/// analyzed (autovacuum off for it, no ANALYZE): an index lookup per key, not a scan of
/// `entries`. The query `envelope_digest IN (…)` it replaced scanned the whole table in
/// exactly this state (its plan is printed for comparison), which slowed every sequencer
/// batch in proportion to the log's size.
#[tokio::test]
async fn the_duplicate_check_uses_the_index_on_a_table_never_analyzed_postgres() {
    let db = fresh_db(Backend::Postgres).await;
    let storage = Storage::open(&db.url)
        .await
        .expect("open (runs the migrations)");
    storage.close().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::raw_sql(
        "ALTER TABLE entries SET (autovacuum_enabled = false); \
         INSERT INTO entries (idx, entry, envelope_digest, signer, received_ms) \
         SELECT i, decode(repeat('ab', 300), 'hex'), sha256(int8send(i)), \
                sha256(int8send(i % 64)), 0 FROM generate_series(0, 49999) AS i",
    )
    .execute(&mut conn)
    .await
    .expect("fill entries");
    let analyzed: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT last_analyze::text, last_autoanalyze::text FROM pg_stat_user_tables \
         WHERE relname = 'entries'",
    )
    .fetch_optional(&mut conn)
    .await
    .expect("statistics state");
    assert!(
        analyzed
            .as_ref()
            .is_none_or(|(a, b)| a.is_none() && b.is_none()),
        "the table must never have been analyzed: {analyzed:?}"
    );
    let keys = 100usize;
    let explain = |sql: String, pairs: bool| {
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
        for i in 0..keys as i64 {
            let digest = sha256_of_i64(i * 7);
            q = q.bind(digest.to_vec());
            if pairs {
                q = q.bind(sha256_of_i64((i * 7) % 64).to_vec());
            }
        }
        q
    };
    let plan = explain(duplicate_check_sql(Dialect::Postgres, keys), true)
        .fetch_all(&mut conn)
        .await
        .expect("explain")
        .join("\n");
    let in_list: Vec<String> = (1..=keys).map(|i| format!("${i}")).collect();
    let old = explain(
        format!(
            "SELECT idx, envelope_digest, signer FROM entries WHERE envelope_digest IN ({})",
            in_list.join(",")
        ),
        false,
    )
    .fetch_all(&mut conn)
    .await
    .expect("explain")
    .into_iter()
    // The plan's first line: the Filter line lists the 100 digests.
    .next()
    .unwrap_or_default();
    println!(
        "duplicate check, 100 keys, 50,000 rows never analyzed:\n{plan}\n\nthe IN-list query it replaced:\n{old}"
    );
    assert!(
        plan.contains("entries_dedup") && !plan.contains("Seq Scan on entries"),
        "the duplicate check must look each key up in the unique index:\n{plan}"
    );
}

/// SQLite: the same query searches the unique index for each key.
#[tokio::test]
async fn the_duplicate_check_uses_the_index_sqlite() {
    let db = fresh_db(Backend::Sqlite).await;
    Storage::open(&db.url).await.expect("open").close().await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url)
        .await
        .expect("connect");
    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {}",
        duplicate_check_sql(Dialect::Sqlite, 3)
    )));
    for i in 0..6u8 {
        q = q.bind(vec![i; 32]);
    }
    let plan: Vec<String> = q
        .fetch_all(&mut conn)
        .await
        .expect("explain")
        .into_iter()
        .map(|r| r.3)
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("SEARCH e USING") && l.contains("entries_dedup")),
        "{plan:?}"
    );
}

fn sha256_of_i64(i: i64) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(i.to_be_bytes()).into()
}
