//! Tile serving: full tiles and bundles come from the cache after the first read and are
//! byte-identical to freshly computed ones; partial tiles are never cached; non-canonical
//! paths are 404.

mod common;

use common::{Backend, base, envelope, fresh_db, start, submission, user_key};
use serde_json::{Value, json};

async fn get(client: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    let r = client.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.bytes().await.expect("body").to_vec())
}

async fn cache_hits(client: &reqwest::Client, url: &str) -> u64 {
    let (_, body) = get(client, &format!("{url}/metrics")).await;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("quorum_tile_cache_hits_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the metric is exported")
}

#[tokio::test]
async fn full_tiles_are_cached_partial_ones_are_not() {
    let db = fresh_db(Backend::Sqlite).await;
    let srv = start(&db).await;
    let url = base(&srv);
    let client = reqwest::Client::new();
    let key = user_key(4);
    let items: Vec<Value> = (0..300)
        .map(|i| {
            submission(
                &key,
                &envelope(&key, "pkg:cargo/tiles", &format!("0.{i}.0")),
            )
        })
        .collect();
    let r = client
        .post(format!("{url}/v1/statements?wait=integrated"))
        .json(&json!({ "envelopes": items }))
        .send()
        .await
        .expect("submit");
    assert_eq!(r.status().as_u16(), 200);

    let hits0 = cache_hits(&client, &url).await;
    let (status, first) = get(&client, &format!("{url}/tile/0/000")).await;
    assert_eq!(status, 200);
    assert_eq!(first.len(), 256 * 32);
    assert_eq!(
        cache_hits(&client, &url).await,
        hits0,
        "the first read computes"
    );
    let (_, second) = get(&client, &format!("{url}/tile/0/000")).await;
    assert_eq!(second, first);
    assert_eq!(
        cache_hits(&client, &url).await,
        hits0 + 1,
        "the second read is cached"
    );

    // The level-0 tile's hashes are the leaf hashes of the bundle's entries.
    let (status, bundle) = get(&client, &format!("{url}/tile/entries/000")).await;
    assert_eq!(status, 200);
    let (_, bundle_again) = get(&client, &format!("{url}/tile/entries/000")).await;
    assert_eq!(bundle_again, bundle);
    assert_eq!(cache_hits(&client, &url).await, hits0 + 2);
    let entries = quorum_c2sp::tiles::decode_entry_bundle(&bundle).expect("a valid entry bundle");
    assert_eq!(entries.len(), 256);
    for (i, entry) in entries.iter().enumerate() {
        let leaf = quorum_c2sp::merkle::leaf_hash(entry);
        assert_eq!(&first[i * 32..(i + 1) * 32], &leaf[..], "leaf {i}");
    }

    // Partial tiles are served but never from the cache.
    let (status, partial) = get(&client, &format!("{url}/tile/0/001.p/44")).await;
    assert_eq!((status, partial.len()), (200, 44 * 32));
    let (_, partial_again) = get(&client, &format!("{url}/tile/0/001.p/44")).await;
    assert_eq!(partial_again, partial);
    assert_eq!(cache_hits(&client, &url).await, hits0 + 2);
    // Beyond the tree, and non-canonical paths: 404.
    for path in [
        "0/001",
        "0/001.p/45",
        "entries/001",
        "1/000",
        "0/5",
        "0/x000/005",
        "64/000",
        "0/000.p/0",
        "0/000.p/256",
        "01/000",
        "x/000",
        "0/000.p/07",
        "entries/1000",
        "0/%30%30%30",
        "0/x001/x002/x003/x004/x005/x006/x007/x008/x009/x010/x011/x012/x013/x014/x015/x016/x017/x018/x019/x020/x021/x022/x023/x024/x025/x026/x027/x028/x029/x030/x031/000",
    ] {
        let (status, _) = get(&client, &format!("{url}/tile/{path}")).await;
        assert_eq!(status, 404, "{path}");
    }
    srv.shutdown().await.expect("shutdown");
}
