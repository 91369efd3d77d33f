//! Runs `quorum_c2sp::merkle` and `quorum_c2sp::tiles` against the public
//! vectors in `../shared/vectors` (see its SOURCES.md):
//!
//! - transparency-dev/merkle inclusion and consistency proof cases;
//! - the RFC 6962 reference tree;
//! - the Tessera test log (tiles, entry bundles and checkpoint roots);
//! - Sunlight's 300-leaf mirror tree tiles;
//! - real Argon2020 CT inclusion and consistency proofs (from cloudflare/azul);
//! - the C2SP tile index encodings and tile sets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quorum_c2sp::merkle::{
    Hash, HashReadError, MemoryTree, ProofError, empty_root, leaf_hash, stored_hash_index,
    tree_hash, verify_consistency, verify_inclusion,
};
use quorum_c2sp::tiles::{
    EntryBundle, Tile, TileError, TileHashReader, TileRef, decode_entry_bundle,
    decode_entry_bundle_for, encode_entry_bundle, encode_tile_index, parse_path,
    tile_data_from_hashes, tiles_for_size,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    assert!(
        dir.join("SOURCES.md").is_file(),
        "public test vectors not found at {}: they are expected in ../shared/vectors \
         relative to the workspace root",
        dir.display()
    );
    dir
}

fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_text(path: &Path) -> String {
    String::from_utf8(read_bytes(path))
        .unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read_text(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn base64_hash(text: &str) -> Hash {
    let bytes = BASE64
        .decode(text)
        .unwrap_or_else(|e| panic!("bad base64 {text:?}: {e}"));
    bytes
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("{text:?} is {} bytes, not 32", b.len()))
}

fn hex_hash(text: &str) -> Hash {
    let bytes = hex::decode(text).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}"));
    bytes
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("{text:?} is {} bytes, not 32", b.len()))
}

/// All `*.json` files under `dir`, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", current.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

// ---------------------------------------------------------------------------
// transparency-dev/merkle
// ---------------------------------------------------------------------------

/// A transparency-dev case decoded into the typed API, or the reason it
/// cannot be expressed in it (a hash that is not 32 bytes, a size that is
/// not a u64).
type Decoded<T> = Result<T, String>;

fn decode_hash(case: &Value, field: &str) -> Decoded<Hash> {
    let text = case[field]
        .as_str()
        .ok_or_else(|| format!("`{field}` is not a string"))?;
    let bytes = BASE64
        .decode(text)
        .map_err(|e| format!("`{field}` is not base64: {e}"))?;
    <Hash>::try_from(bytes.as_slice()).map_err(|_| format!("`{field}` is {} bytes", bytes.len()))
}

fn decode_proof(case: &Value) -> Decoded<Vec<Hash>> {
    match &case["proof"] {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let text = item.as_str().ok_or("proof item is not a string")?;
                let bytes = BASE64
                    .decode(text)
                    .map_err(|e| format!("proof item is not base64: {e}"))?;
                <Hash>::try_from(bytes.as_slice())
                    .map_err(|_| format!("proof item is {} bytes", bytes.len()))
            })
            .collect(),
        other => Err(format!("`proof` is {other}")),
    }
}

fn decode_u64(case: &Value, field: &str) -> Decoded<u64> {
    case[field]
        .as_u64()
        .ok_or_else(|| format!("`{field}` is not a u64: {}", case[field]))
}

fn want_err(case: &Value, path: &Path) -> bool {
    case["wantErr"]
        .as_bool()
        .unwrap_or_else(|| panic!("{}: missing wantErr", path.display()))
}

/// Outcome of one transparency-dev case in Quorum.
enum Outcome {
    Accepted,
    Rejected(ProofError),
    /// Not expressible with 32-byte hashes and u64 sizes; a caller could not
    /// even submit it, so it counts as rejected.
    Unrepresentable(String),
}

struct Tally {
    accepted: usize,
    rejected: usize,
    unrepresentable_rejected: usize,
    /// Cases the vectors expect to pass that cannot be expressed in the typed
    /// API (file name relative to testdata).
    unrepresentable_happy: Vec<String>,
}

fn run_transparency_dev(kind: &str, run: impl Fn(&Value) -> Outcome) -> Tally {
    let testdata = vectors_dir().join("transparency-dev-merkle/testdata");
    let files = json_files(&testdata.join(kind));
    assert!(!files.is_empty(), "no {kind} vectors found");
    let mut tally = Tally {
        accepted: 0,
        rejected: 0,
        unrepresentable_rejected: 0,
        unrepresentable_happy: Vec::new(),
    };
    let mut failures = Vec::new();
    for path in &files {
        let case = read_json(path);
        let name = path
            .strip_prefix(&testdata)
            .unwrap_or(path)
            .display()
            .to_string();
        let wants_error = want_err(&case, path);
        match (run(&case), wants_error) {
            (Outcome::Accepted, false) => tally.accepted += 1,
            (Outcome::Rejected(_), true) => tally.rejected += 1,
            (Outcome::Unrepresentable(_), true) => tally.unrepresentable_rejected += 1,
            (Outcome::Unrepresentable(why), false) => {
                eprintln!("{name}: expected to pass, but not expressible: {why}");
                tally.unrepresentable_happy.push(name);
            }
            (Outcome::Accepted, true) => failures.push(format!("{name}: accepted, want error")),
            (Outcome::Rejected(e), false) => failures.push(format!("{name}: rejected: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{kind} vectors failed:\n{}",
        failures.join("\n")
    );
    println!(
        "transparency-dev {kind}: {} files: {} accepted, {} rejected by verification, \
         {} rejected as malformed input, {} happy cases not expressible",
        files.len(),
        tally.accepted,
        tally.rejected,
        tally.unrepresentable_rejected,
        tally.unrepresentable_happy.len()
    );
    tally
}

#[test]
fn transparency_dev_inclusion_vectors() {
    let tally = run_transparency_dev("inclusion", |case| {
        let decoded = (|| {
            Ok((
                decode_u64(case, "leafIdx")?,
                decode_u64(case, "treeSize")?,
                decode_hash(case, "leafHash")?,
                decode_hash(case, "root")?,
                decode_proof(case)?,
            ))
        })();
        match decoded {
            Err(why) => Outcome::Unrepresentable(why),
            Ok((index, size, leaf, root, proof)) => {
                match verify_inclusion(&leaf, index, size, &proof, &root) {
                    Ok(()) => Outcome::Accepted,
                    Err(e) => Outcome::Rejected(e),
                }
            }
        }
    });
    assert_eq!(tally.accepted, 6, "happy inclusion cases");
    assert_eq!(
        tally.rejected, 66,
        "inclusion cases rejected by verification"
    );
    assert_eq!(
        tally.unrepresentable_rejected, 26,
        "malformed inclusion inputs"
    );
    assert!(tally.unrepresentable_happy.is_empty());
}

#[test]
fn transparency_dev_consistency_vectors() {
    let tally = run_transparency_dev("consistency", |case| {
        let decoded = (|| {
            Ok((
                decode_u64(case, "size1")?,
                decode_u64(case, "size2")?,
                decode_hash(case, "root1")?,
                decode_hash(case, "root2")?,
                decode_proof(case)?,
            ))
        })();
        match decoded {
            Err(why) => Outcome::Unrepresentable(why),
            Ok((old_size, new_size, old_root, new_root, proof)) => {
                match verify_consistency(old_size, new_size, &old_root, &new_root, &proof) {
                    Ok(()) => Outcome::Accepted,
                    Err(e) => Outcome::Rejected(e),
                }
            }
        }
    });
    assert_eq!(tally.accepted, 5, "happy consistency cases");
    assert_eq!(
        tally.rejected, 66,
        "consistency cases rejected by verification"
    );
    assert_eq!(
        tally.unrepresentable_rejected, 26,
        "malformed consistency inputs"
    );
    // transparency-dev compares equal-size roots as byte strings of any
    // length; this one uses 12-byte roots, which a `Hash` cannot hold. The
    // same rule with real hashes is covered below.
    assert_eq!(
        tally.unrepresentable_happy,
        ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"]
    );
    let root = leaf_hash(b"don't care");
    verify_consistency(1, 1, &root, &root, &[]).expect("equal sizes, equal roots, empty proof");
}

/// The size-0 cases: the vectors (transparency-dev/merkle at 417fb0c)
/// reject every consistency proof from size 0; Quorum accepts exactly the
/// empty proof from the empty root (the tlog-witness rule) and rejects the
/// rest. Every size-0 vector is still rejected; this spells out why.
#[test]
fn transparency_dev_consistency_from_size_zero() {
    let dir = vectors_dir().join("transparency-dev-merkle/testdata/consistency/additional");
    let mut seen = 0;
    for path in json_files(&dir) {
        let case = read_json(&path);
        if case["size1"].as_u64() != Some(0) {
            continue;
        }
        seen += 1;
        assert!(want_err(&case, &path));
        let representable = decode_hash(&case, "root1").is_ok()
            && decode_hash(&case, "root2").is_ok()
            && decode_proof(&case).is_ok();
        if !representable {
            continue;
        }
        let (old_root, new_root) = (
            decode_hash(&case, "root1").unwrap_or_default(),
            decode_hash(&case, "root2").unwrap_or_default(),
        );
        let proof = decode_proof(&case).unwrap_or_default();
        let size2 = case["size2"].as_u64().unwrap_or_default();
        assert!(
            verify_consistency(0, size2, &old_root, &new_root, &proof).is_err(),
            "{}",
            path.display()
        );
    }
    assert_eq!(seen, 7, "size-0 consistency cases");
}

// ---------------------------------------------------------------------------
// RFC 6962 reference tree
// ---------------------------------------------------------------------------

#[test]
fn rfc6962_reference_tree() {
    let file = read_json(
        &vectors_dir().join("transparency-dev-merkle/rfc6962-reference-tree-and-semantics.json"),
    );
    let leaves: Vec<Vec<u8>> = file["leaf_inputs_hex"]
        .as_array()
        .expect("leaf_inputs_hex")
        .iter()
        .map(|v| hex::decode(v.as_str().expect("hex string")).expect("hex"))
        .collect();
    let roots: Vec<Hash> = file["root_hashes_hex_by_size_0_to_8"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|v| hex_hash(v.as_str().expect("hex string")))
        .collect();
    assert_eq!((leaves.len(), roots.len()), (8, 9));
    assert_eq!(roots[0], empty_root());

    let mut tree = MemoryTree::new();
    assert_eq!(tree.root(), roots[0]);
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(tree.append(leaf), i as u64);
        assert_eq!(tree.root(), roots[i + 1], "root at size {}", i + 1);
    }

    // Every complete subtree is where stored_hash_index says.
    let mut nodes = 0;
    for (level, hashes) in file["node_hashes_hex_by_level"]
        .as_array()
        .expect("node hashes")
        .iter()
        .enumerate()
    {
        for (n, hash) in hashes.as_array().expect("level").iter().enumerate() {
            let index = stored_hash_index(level as u8, n as u64);
            assert_eq!(
                tree.stored_hashes()[index as usize],
                hex_hash(hash.as_str().expect("hex")),
                "node level {level} index {n}"
            );
            nodes += 1;
        }
    }
    assert_eq!(nodes, 15);

    let mut proofs = 0;
    for size in 0..=8u64 {
        for index in 0..size {
            let proof = tree.prove_inclusion(index, size).expect("inclusion proof");
            let leaf = leaf_hash(&leaves[index as usize]);
            verify_inclusion(&leaf, index, size, &proof, &roots[size as usize])
                .expect("inclusion verifies");
            proofs += 1;
        }
        for old in 0..=size {
            let proof = tree
                .prove_consistency(old, size)
                .expect("consistency proof");
            verify_consistency(
                old,
                size,
                &roots[old as usize],
                &roots[size as usize],
                &proof,
            )
            .expect("consistency verifies");
            proofs += 1;
        }
    }
    println!("RFC 6962 reference tree: 9 roots, {nodes} node hashes, {proofs} generated proofs");
    assert_eq!(proofs, 36 + 45);

    // The generated proofs equal the transparency-dev happy-path proofs.
    let testdata = vectors_dir().join("transparency-dev-merkle/testdata");
    for dir in ["0", "1", "2", "3", "4"] {
        let case = read_json(&testdata.join("inclusion").join(dir).join("happy-path.json"));
        let (index, size) = (
            decode_u64(&case, "leafIdx").expect("leafIdx"),
            decode_u64(&case, "treeSize").expect("treeSize"),
        );
        let proof = decode_proof(&case).expect("proof");
        assert_eq!(tree.prove_inclusion(index, size).expect("proof"), proof);
        let case = read_json(
            &testdata
                .join("consistency")
                .join(dir)
                .join("happy-path.json"),
        );
        let (old, new) = (
            decode_u64(&case, "size1").expect("size1"),
            decode_u64(&case, "size2").expect("size2"),
        );
        let proof = decode_proof(&case).expect("proof");
        assert_eq!(tree.prove_consistency(old, new).expect("proof"), proof);
    }
}

// ---------------------------------------------------------------------------
// Checkpoints: only the size and root lines are read here.
// ---------------------------------------------------------------------------

/// The tree size (line 2) and root hash (line 3, base64) of a checkpoint.
fn checkpoint_size_and_root(path: &Path) -> (u64, Hash) {
    let text = read_text(path);
    let mut lines = text.lines();
    let _origin = lines.next().expect("origin line");
    let size = lines
        .next()
        .and_then(|line| line.parse().ok())
        .unwrap_or_else(|| panic!("{}: bad size line", path.display()));
    let root = base64_hash(lines.next().expect("root line"));
    (size, root)
}

/// A tile fetcher reading `<dir>/<tile path>`.
fn files_under(dir: &Path) -> impl Fn(&Tile) -> Result<Vec<u8>, HashReadError> + '_ {
    move |tile: &Tile| {
        std::fs::read(dir.join(tile.path())).map_err(|e| HashReadError::Backend(Box::new(e)))
    }
}

/// Every file under `dir/tile`, as a path relative to `dir`.
fn tile_files(dir: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut pending = vec![dir.join("tile")];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("list tiles") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("under dir");
                files.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}

// ---------------------------------------------------------------------------
// Tessera test log
// ---------------------------------------------------------------------------

#[test]
fn tessera_test_log() {
    let base = vectors_dir().join("transparency-dev-tessera");
    let log = base.join("testdata/log");
    let expected = read_json(&base.join("KEYS-AND-EXPECTED.json"));
    let entries: Vec<&str> = expected["entries_in_order"]
        .as_array()
        .expect("entries_in_order")
        .iter()
        .map(|v| v.as_str().expect("entry string"))
        .collect();
    assert_eq!(entries.len(), 15);

    let mut tree = MemoryTree::new();
    let mut checked_tiles = 0;
    let mut checked_bundles = 0;
    for size in 0..=entries.len() as u64 {
        if size > 0 {
            tree.append(entries[size as usize - 1].as_bytes());
        }
        let (checkpoint_size, root) =
            checkpoint_size_and_root(&log.join(format!("checkpoint.{size}")));
        assert_eq!(checkpoint_size, size);
        assert_eq!(tree.root(), root, "checkpoint.{size} root");
        if size == 0 {
            assert!(tiles_for_size(0, 0).is_empty());
            continue;
        }

        // The tiles of this size: one partial level 0 tile.
        let tiles = tiles_for_size(0, size);
        assert_eq!(tiles, [Tile::new(0, 0, size as u16).expect("tile")]);
        let tile = tiles[0];
        let on_disk = read_bytes(&log.join(tile.path()));
        assert_eq!(
            tile_data_from_hashes(&tile, &tree).expect("tile data"),
            on_disk
        );
        assert_eq!(
            parse_path(&tile.path()).expect("parse"),
            TileRef::Hashes(tile)
        );
        checked_tiles += 1;

        // The root recomputed from the files alone.
        let reader = TileHashReader::new(size, files_under(&log));
        assert_eq!(
            tree_hash(size, &reader).expect("tree hash from tiles"),
            root
        );

        // The entry bundle, byte for byte, and decoded back.
        let bundle = EntryBundle::new(0, size as u16).expect("bundle");
        let on_disk = read_bytes(&log.join(bundle.path()));
        let encoded = encode_entry_bundle(&entries[..size as usize]).expect("encode");
        assert_eq!(encoded, on_disk, "{}", bundle.path());
        let decoded = decode_entry_bundle_for(&bundle, &on_disk).expect("decode");
        for (i, entry) in decoded.iter().enumerate() {
            assert_eq!(*entry, entries[i].as_bytes());
            assert_eq!(
                leaf_hash(entry),
                tree.leaf_hash(i as u64).expect("leaf hash")
            );
        }
        assert_eq!(
            parse_path(&bundle.path()).expect("parse"),
            TileRef::Entries(bundle)
        );
        checked_bundles += 1;
    }
    // The unnumbered checkpoint is the latest.
    assert_eq!(
        checkpoint_size_and_root(&log.join("checkpoint")),
        (15, tree.root())
    );
    // Every tile file is one of those checked, and every path parses.
    let files = tile_files(&log);
    assert_eq!(files.len(), checked_tiles + checked_bundles);
    for file in &files {
        assert_eq!(parse_path(file).expect("parse").path(), *file);
    }
    println!(
        "Tessera: 16 checkpoint roots, {checked_tiles} tiles, {checked_bundles} entry bundles"
    );
}

// ---------------------------------------------------------------------------
// Sunlight mirror tree
// ---------------------------------------------------------------------------

#[test]
fn sunlight_mirror_tree() {
    let base = vectors_dir().join("FiloSottile-sunlight");
    let expected = read_json(&base.join("EXPECTED.json"));
    let origin_hash = expected["origin_hashes"]["rome2026h1.example.org"]
        .as_str()
        .expect("origin hash");
    let dir = base
        .join("cmd/skylight/testdata/witness/mirror")
        .join(origin_hash);
    let (size, root) = checkpoint_size_and_root(&dir.join("checkpoint"));
    assert_eq!(size, 300);
    let expected_root = expected["expected"]["witness/mirror/<hash>/checkpoint"]
        .as_str()
        .expect("expected mirror checkpoint")
        .split_whitespace()
        .find(|word| word.ends_with('=') && word.len() == 44)
        .map(base64_hash)
        .expect("root in EXPECTED.json");
    assert_eq!(root, expected_root);

    // The root from the tile files alone.
    let reader = TileHashReader::new(size, files_under(&dir));
    assert_eq!(
        tree_hash(size, &reader).expect("tree hash from tiles"),
        root
    );

    // The tree rebuilt from its leaves ("record <i>") gives the same root and
    // the same tiles, and those tiles are exactly the hash tiles on disk.
    let mut tree = MemoryTree::new();
    let records: Vec<String> = (0..size).map(|i| format!("record {i}")).collect();
    for record in &records {
        tree.append(record.as_bytes());
    }
    assert_eq!(tree.root(), root);
    let tiles = tiles_for_size(0, size);
    for tile in &tiles {
        assert_eq!(
            tile_data_from_hashes(tile, &tree).expect("tile data"),
            read_bytes(&dir.join(tile.path())),
            "{}",
            tile.path()
        );
    }
    let files = tile_files(&dir);
    let hash_tiles: BTreeSet<String> = files
        .iter()
        .filter(|f| !f.starts_with("tile/entries/"))
        .cloned()
        .collect();
    assert_eq!(
        hash_tiles,
        tiles.iter().map(Tile::path).collect::<BTreeSet<_>>()
    );

    // Entry bundles: the upstream files are placeholders (gzip of "fake
    // mirrored entry bundle"), not bundles; the decoder must reject them.
    // Real bundles for the same leaves are built and checked instead.
    let mut bundle_files = 0;
    for file in files.iter().filter(|f| f.starts_with("tile/entries/")) {
        let TileRef::Entries(bundle) = parse_path(file).expect("bundle path") else {
            panic!("{file} is not an entry bundle path");
        };
        let data = read_bytes(&dir.join(file));
        assert!(
            matches!(
                decode_entry_bundle(&data),
                Err(TileError::TruncatedBundle { .. })
            ),
            "{file}: placeholder accepted as a bundle"
        );
        let first = bundle.first_entry().expect("first entry") as usize;
        let slice = &records[first..first + usize::from(bundle.width)];
        let encoded = encode_entry_bundle(slice).expect("encode");
        let decoded = decode_entry_bundle_for(&bundle, &encoded).expect("decode");
        for (offset, entry) in decoded.iter().enumerate() {
            let index = (first + offset) as u64;
            assert_eq!(leaf_hash(entry), tree.leaf_hash(index).expect("leaf"));
        }
        bundle_files += 1;
    }
    assert_eq!(bundle_files, 2);
    println!(
        "Sunlight mirror: root of 300 leaves from {} tiles, {bundle_files} placeholder bundles \
         rejected and rebuilt",
        tiles.len()
    );
}

// ---------------------------------------------------------------------------
// Argon2020 (cloudflare/azul stored responses)
// ---------------------------------------------------------------------------

/// The last base64 hash token in a prose string.
fn last_hash_in(text: &str) -> Hash {
    text.split_whitespace()
        .rev()
        .find(|word| word.len() == 44 && word.ends_with('='))
        .map(base64_hash)
        .unwrap_or_else(|| panic!("no hash in {text:?}"))
}

fn hash_list(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("hash list")
        .iter()
        .map(|v| base64_hash(v.as_str().expect("base64 string")))
        .collect()
}

#[test]
fn argon2020_proofs() {
    let base = vectors_dir().join("cloudflare-azul");
    let expected = read_json(&base.join("EXPECTED.json"));
    let dir = base.join("crates/tlog_tiles/tests/http_get");

    let sth = read_json(&dir.join("get-sth"));
    let size = sth["tree_size"].as_u64().expect("tree_size");
    let root = base64_hash(sth["sha256_root_hash"].as_str().expect("root"));
    assert_eq!(size, 961_984_011);

    // Inclusion of entry 10000.
    let entries = read_json(&dir.join("get-entries-start-10000-end-10000"));
    let leaf_input = BASE64
        .decode(
            entries["entries"][0]["leaf_input"]
                .as_str()
                .expect("leaf_input"),
        )
        .expect("base64 leaf_input");
    let leaf = leaf_hash(&leaf_input);
    assert_eq!(
        leaf,
        last_hash_in(
            expected["files"]["get-entries-start-10000-end-10000"]
                .as_str()
                .expect("expected leaf hash")
        )
    );
    let proof_file = std::fs::read_dir(&dir)
        .expect("list http_get")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("get-proof-by-hash-"))
        })
        .expect("get-proof-by-hash file");
    let proof_json = read_json(&proof_file);
    let index = proof_json["leaf_index"].as_u64().expect("leaf_index");
    let proof = hash_list(&proof_json["audit_path"]);
    assert_eq!((index, proof.len()), (10_000, 30));
    verify_inclusion(&leaf, index, size, &proof, &root).expect("Argon2020 inclusion");

    // Consistency 3654490 -> 961984011.
    let name = "get-sth-consistency-first-3654490-second-961984011";
    let old_root = last_hash_in(expected["files"][name].as_str().expect("old root"));
    let consistency = hash_list(&read_json(&dir.join(name))["consistency"]);
    assert_eq!(consistency.len(), 30);
    verify_consistency(3_654_490, size, &old_root, &root, &consistency)
        .expect("Argon2020 consistency");

    // Every single-bit change, dropped hash and wrong size is rejected.
    let mut rejected = 0;
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i][i % 32] ^= 1 << (i % 8);
        assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
        let mut bad = consistency.clone();
        bad[i][31 - i % 32] ^= 1;
        assert!(verify_consistency(3_654_490, size, &old_root, &root, &bad).is_err());
        let mut short = consistency.clone();
        short.remove(i);
        assert!(verify_consistency(3_654_490, size, &old_root, &root, &short).is_err());
        rejected += 3;
    }
    // Other sizes. Only sizes that change the proof's shape can be caught:
    // e.g. 961984010, 961984011 and 961984012 give proofs of the same shape
    // from 3654490, whose last complete subtree is at level 1, so the same
    // hashes verify for all three. Proofs bind hashes; the sizes are bound by
    // the signed checkpoints they come with.
    for (old, new) in [
        (3_654_489, size),
        (3_654_491, size),
        (3_654_490 * 2, size),
        (3_654_490 / 2, size),
        (3_654_490, size * 2),
        (3_654_490, size / 2),
    ] {
        assert!(
            verify_consistency(old, new, &old_root, &root, &consistency).is_err(),
            "{old} -> {new} accepted"
        );
        rejected += 1;
    }
    assert!(verify_inclusion(&leaf, index + 1, size, &proof, &root).is_err());
    assert!(verify_inclusion(&leaf, index, size / 2, &proof, &root).is_err());
    assert!(verify_inclusion(&leaf, index, size * 2, &proof, &root).is_err());
    rejected += 3;
    println!(
        "Argon2020: 1 inclusion and 1 consistency proof verified, {rejected} mutations rejected"
    );
}

// ---------------------------------------------------------------------------
// C2SP spec examples
// ---------------------------------------------------------------------------

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("list of strings")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

fn all_paths(tiles: &[Tile]) -> Vec<String> {
    tiles.iter().map(Tile::path).collect()
}

#[test]
fn c2sp_tile_examples() {
    let file = read_json(&vectors_dir().join("C2SP-C2SP/spec-examples.json"));

    let encodings = file["tile_index_encoding"].as_array().expect("encodings");
    for case in encodings {
        let n = case["N"].as_u64().expect("N");
        let path = case["path"].as_str().expect("path");
        assert_eq!(encode_tile_index(n), path);
        let full = format!("tile/0/{path}");
        assert_eq!(
            parse_path(&full).expect("parse"),
            TileRef::Hashes(Tile::new(0, n, 256).expect("tile"))
        );
        let entries = format!("tile/entries/{path}.p/3");
        assert_eq!(
            parse_path(&entries).expect("parse"),
            TileRef::Entries(EntryBundle::new(n, 3).expect("bundle"))
        );
    }

    for size in [256u64, 300] {
        let want = string_list(&file[format!("tiles_for_tree_size_{size}")]);
        assert_eq!(all_paths(&tiles_for_size(0, size)), want, "size {size}");
    }

    let spec = &file["tiles_for_tree_size_70000"];
    let tiles = tiles_for_size(0, 70_000);
    let level0_full: Vec<String> = (0..spec["level0_full"].as_u64().expect("count"))
        .map(|n| Tile::new(0, n, 256).expect("tile").path())
        .collect();
    let mut want = level0_full;
    for key in ["level0_partial", "level1_full", "level1_partial", "level2"] {
        want.extend(string_list(&spec[key]));
    }
    assert_eq!(all_paths(&tiles), want);

    // The width of the partial tile at each level follows the rule quoted
    // with the examples: floor(s / 256^l) mod 256.
    for size in [1u64, 255, 256, 300, 65_535, 65_536, 70_000, 16_777_217] {
        for tile in tiles_for_size(0, size).into_iter().filter(|t| !t.is_full()) {
            let hashes = size >> (8 * u32::from(tile.level));
            assert_eq!(
                u64::from(tile.width),
                hashes % 256,
                "size {size} {}",
                tile.path()
            );
        }
    }
    println!(
        "C2SP: {} index encodings, tile sets for 256, 300 and 70000 ({} tiles)",
        encodings.len(),
        tiles.len()
    );
}
