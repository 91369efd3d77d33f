//! The Merkle core measured side by side: Quorum's `merkle` and `tiles` modules against the
//! `tlog_tiles`, `ct-merkle` and `rs_merkle` crates, on the same leaves, after checking
//! that every implementation computes the same root and the same proofs.
//!
//! Leaf `i` of a tree is `i` as 8 big-endian bytes, as in `bench/go/main.go`. Everything
//! here is single-threaded.

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use quorum_c2sp::merkle::{self, Hash, MemoryTree};
use quorum_c2sp::tiles;
use sha2::{Digest, Sha256};

use crate::measure::{AgreementCheck, Measurement, rate_once, splitmix};

const SECTION: &str = "merkle";

/// Operation names, shared with the Go program and the report.
pub mod ops {
    /// Hashing every leaf and building the stored hashes / nodes, then the root.
    pub const TREE_HASHING: &str = "tree hashing";
    /// Producing the data of every tile of the tree.
    pub const TILE_BUILDING: &str = "tile building";
    /// Inclusion proofs generated per second.
    pub const INCLUSION_PROVE: &str = "inclusion proof generation";
    /// Inclusion proofs verified per second.
    pub const INCLUSION_VERIFY: &str = "inclusion proof verification";
    /// Consistency proofs generated per second.
    pub const CONSISTENCY_PROVE: &str = "consistency proof generation";
    /// Consistency proofs verified per second.
    pub const CONSISTENCY_VERIFY: &str = "consistency proof verification";
    /// All operations, in table order, with their units.
    pub const ALL: [(&str, &str); 6] = [
        (TREE_HASHING, "leaves/s"),
        (TILE_BUILDING, "MB/s"),
        (INCLUSION_PROVE, "proofs/s"),
        (INCLUSION_VERIFY, "proofs/s"),
        (CONSISTENCY_PROVE, "proofs/s"),
        (CONSISTENCY_VERIFY, "proofs/s"),
    ];
}

/// Implementation labels.
pub mod names {
    /// This project.
    pub const QUORUM: &str = "quorum";
    /// The `tlog_tiles` crate (a port of Go's `sumdb/tlog`).
    pub const TLOG_TILES: &str = "tlog_tiles 0.2";
    /// The `ct-merkle` crate.
    pub const CT_MERKLE: &str = "ct-merkle 0.3";
    /// The `rs_merkle` crate with an RFC 6962 hasher.
    pub const RS_MERKLE: &str = "rs_merkle 1.5";
    /// Go's `golang.org/x/mod/sumdb/tlog` (measured by `bench/go`).
    pub const GO_TLOG: &str = "go x/mod/sumdb/tlog";
}

/// Sizes, repetitions and proof counts of one run.
#[derive(Debug, Clone)]
pub struct MerklePlan {
    /// Tree sizes (leaves).
    pub sizes: Vec<u64>,
    /// Repetitions of every measurement.
    pub reps: usize,
    /// Proofs generated and verified per repetition.
    pub proofs: usize,
    /// Which implementations to run (all when empty).
    pub only: Vec<String>,
}

/// Leaf `i`: `i` as 8 big-endian bytes.
pub fn leaf(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

/// The inclusion proof indices of a run: `count` pseudo-random leaves of a tree of `size`.
pub fn inclusion_indices(size: u64, count: usize) -> Vec<u64> {
    let mut state = 1;
    (0..count).map(|_| splitmix(&mut state) % size).collect()
}

/// The old sizes of a run's consistency proofs: `count` pseudo-random sizes in
/// `1..size`.
pub fn consistency_old_sizes(size: u64, count: usize) -> Vec<u64> {
    let mut state = 2;
    (0..count)
        .map(|_| 1 + splitmix(&mut state) % (size - 1).max(1))
        .collect()
}

/// SHA-256 over a proof's hashes, for comparing proofs across implementations.
pub fn proof_digest(proof: &[Hash]) -> String {
    let mut hasher = Sha256::new();
    for hash in proof {
        hasher.update(hash);
    }
    hex::encode(hasher.finalize())
}

/// Node hashes RFC 9162 §2.1.4.2 verification of a consistency proof from `old` to `new`
/// computes: the old root from the left siblings, the new root from all of them.
pub fn consistency_verify_hashes(old: u64, new: u64) -> u64 {
    if old == 0 || old >= new {
        return 0;
    }
    let level = old.trailing_zeros();
    let node = (old - 1) >> level;
    let last = (new - 1) >> level;
    let inner = u64::BITS - (node ^ last).leading_zeros();
    let border = u64::from(node.checked_shr(inner).unwrap_or(0).count_ones());
    let below_fork = node & (1u64.checked_shl(inner).unwrap_or(0).wrapping_sub(1));
    let old_hashes = u64::from(below_fork.count_ones()) + border;
    let new_hashes = u64::from(inner) + border;
    old_hashes + new_hashes
}

/// What one implementation can do, in the shape the measurements need.
trait Contender: Sized {
    type Inclusion;
    type Consistency;
    const NAME: &'static str;

    /// Builds the tree of `leaves` (this is the timed tree hashing).
    fn build(leaves: &[[u8; 8]]) -> anyhow::Result<Self>;
    fn root(&self) -> anyhow::Result<Hash>;
    /// Builds every tile of the tree; returns the bytes produced, or `None` if the
    /// implementation has no tiles.
    fn build_tiles(&self, size: u64) -> anyhow::Result<Option<u64>>;
    fn prove_inclusion(&self, index: u64, size: u64) -> anyhow::Result<Self::Inclusion>;
    fn verify_inclusion(
        root: &Hash,
        size: u64,
        index: u64,
        leaf: &[u8; 8],
        leaf_hash: &Hash,
        proof: &Self::Inclusion,
    ) -> bool;
    fn inclusion_hashes(proof: &Self::Inclusion) -> Vec<Hash>;
    /// `None` when the implementation has no consistency proofs.
    fn prove_consistency(&self, old: u64, size: u64) -> anyhow::Result<Option<Self::Consistency>>;
    fn verify_consistency(
        old: u64,
        old_root: &Hash,
        size: u64,
        root: &Hash,
        proof: &Self::Consistency,
    ) -> bool;
    fn consistency_hashes(proof: &Self::Consistency) -> Vec<Hash>;
    fn no_tiles_reason() -> &'static str {
        ""
    }
    fn no_consistency_reason() -> &'static str {
        ""
    }
}

// --- Quorum --------------------------------------------------------------------------

struct Quorum(MemoryTree);

impl Contender for Quorum {
    type Inclusion = Vec<Hash>;
    type Consistency = Vec<Hash>;
    const NAME: &'static str = names::QUORUM;

    fn build(leaves: &[[u8; 8]]) -> anyhow::Result<Self> {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.append(leaf);
        }
        Ok(Quorum(tree))
    }
    fn root(&self) -> anyhow::Result<Hash> {
        Ok(self.0.root())
    }
    fn build_tiles(&self, size: u64) -> anyhow::Result<Option<u64>> {
        let mut bytes = 0;
        for tile in tiles::changed_tiles(0, size) {
            let data = tiles::tile_data_from_hashes(&tile, &self.0)?;
            bytes += data.len() as u64;
            std::hint::black_box(data);
        }
        Ok(Some(bytes))
    }
    fn prove_inclusion(&self, index: u64, size: u64) -> anyhow::Result<Vec<Hash>> {
        Ok(self.0.prove_inclusion(index, size)?)
    }
    fn verify_inclusion(
        root: &Hash,
        size: u64,
        index: u64,
        _leaf: &[u8; 8],
        leaf_hash: &Hash,
        proof: &Vec<Hash>,
    ) -> bool {
        merkle::verify_inclusion(leaf_hash, index, size, proof, root).is_ok()
    }
    fn inclusion_hashes(proof: &Vec<Hash>) -> Vec<Hash> {
        proof.clone()
    }
    fn prove_consistency(&self, old: u64, size: u64) -> anyhow::Result<Option<Vec<Hash>>> {
        Ok(Some(self.0.prove_consistency(old, size)?))
    }
    fn verify_consistency(
        old: u64,
        old_root: &Hash,
        size: u64,
        root: &Hash,
        proof: &Vec<Hash>,
    ) -> bool {
        merkle::verify_consistency(old, size, old_root, root, proof).is_ok()
    }
    fn consistency_hashes(proof: &Vec<Hash>) -> Vec<Hash> {
        proof.clone()
    }
}

// --- tlog_tiles ----------------------------------------------------------------------

/// Stored hashes in memory, as `tlog_tiles` expects a log to keep them.
struct TlogTiles(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TlogTiles {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl Contender for TlogTiles {
    type Inclusion = tlog_tiles::RecordProof;
    type Consistency = tlog_tiles::TreeProof;
    const NAME: &'static str = names::TLOG_TILES;

    fn build(leaves: &[[u8; 8]]) -> anyhow::Result<Self> {
        let mut storage = TlogTiles(Vec::with_capacity(leaves.len() * 2));
        for (n, leaf) in leaves.iter().enumerate() {
            let hashes = tlog_tiles::stored_hashes(n as u64, leaf, &storage)?;
            storage.0.extend(hashes);
        }
        Ok(storage)
    }
    fn root(&self) -> anyhow::Result<Hash> {
        let size = leaves_of_stored(self.0.len() as u64)?;
        Ok(tlog_tiles::tree_hash(size, self)?.0)
    }
    fn build_tiles(&self, size: u64) -> anyhow::Result<Option<u64>> {
        let mut bytes = 0;
        for tile in tlog_tiles::Tile::new_tiles(8, 0, size) {
            let data = tile.read_data(self)?;
            bytes += data.len() as u64;
            std::hint::black_box(data);
        }
        Ok(Some(bytes))
    }
    fn prove_inclusion(&self, index: u64, size: u64) -> anyhow::Result<Self::Inclusion> {
        Ok(tlog_tiles::prove_record(size, index, self)?)
    }
    fn verify_inclusion(
        root: &Hash,
        size: u64,
        index: u64,
        _leaf: &[u8; 8],
        leaf_hash: &Hash,
        proof: &Self::Inclusion,
    ) -> bool {
        tlog_tiles::check_record(
            proof,
            size,
            tlog_tiles::Hash(*root),
            index,
            tlog_tiles::Hash(*leaf_hash),
        )
        .is_ok()
    }
    fn inclusion_hashes(proof: &Self::Inclusion) -> Vec<Hash> {
        proof.iter().map(|h| h.0).collect()
    }
    fn prove_consistency(&self, old: u64, size: u64) -> anyhow::Result<Option<Self::Consistency>> {
        Ok(Some(tlog_tiles::prove_tree(size, old, self)?))
    }
    fn verify_consistency(
        old: u64,
        old_root: &Hash,
        size: u64,
        root: &Hash,
        proof: &Self::Consistency,
    ) -> bool {
        tlog_tiles::check_tree(
            proof,
            size,
            tlog_tiles::Hash(*root),
            old,
            tlog_tiles::Hash(*old_root),
        )
        .is_ok()
    }
    fn consistency_hashes(proof: &Self::Consistency) -> Vec<Hash> {
        proof.iter().map(|h| h.0).collect()
    }
}

/// The number of leaves whose stored hashes number `stored`.
fn leaves_of_stored(stored: u64) -> anyhow::Result<u64> {
    let mut leaves = stored / 2;
    while merkle::stored_hash_count(leaves) < stored {
        leaves += 1;
    }
    ensure!(
        merkle::stored_hash_count(leaves) == stored,
        "{stored} is not a stored hash count"
    );
    Ok(leaves)
}

// --- ct-merkle -----------------------------------------------------------------------

struct CtMerkle(ct_merkle::mem_backed_tree::MemoryBackedTree<Sha256, [u8; 8]>);

fn ct_root(root: &Hash, size: u64) -> ct_merkle::RootHash<Sha256> {
    ct_merkle::RootHash::new((*root).into(), size)
}

impl Contender for CtMerkle {
    type Inclusion = ct_merkle::InclusionProof<Sha256>;
    type Consistency = ct_merkle::ConsistencyProof<Sha256>;
    const NAME: &'static str = names::CT_MERKLE;

    fn build(leaves: &[[u8; 8]]) -> anyhow::Result<Self> {
        let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        Ok(CtMerkle(tree))
    }
    fn root(&self) -> anyhow::Result<Hash> {
        Ok((*self.0.root().as_bytes()).into())
    }
    fn build_tiles(&self, _size: u64) -> anyhow::Result<Option<u64>> {
        Ok(None)
    }
    fn no_tiles_reason() -> &'static str {
        "no tlog-tiles support: keeps one in-order node array in memory"
    }
    fn prove_inclusion(&self, index: u64, size: u64) -> anyhow::Result<Self::Inclusion> {
        ensure!(
            size == self.0.len(),
            "ct-merkle proves only in its current tree"
        );
        let index = usize::try_from(index)?;
        Ok(self.0.prove_inclusion(index))
    }
    fn verify_inclusion(
        root: &Hash,
        size: u64,
        index: u64,
        leaf: &[u8; 8],
        _leaf_hash: &Hash,
        proof: &Self::Inclusion,
    ) -> bool {
        // ct-merkle takes the leaf value and hashes it itself: one extra SHA-256 block.
        ct_root(root, size)
            .verify_inclusion(leaf, index, proof)
            .is_ok()
    }
    fn inclusion_hashes(proof: &Self::Inclusion) -> Vec<Hash> {
        split_hashes(proof.as_bytes())
    }
    fn prove_consistency(&self, old: u64, size: u64) -> anyhow::Result<Option<Self::Consistency>> {
        ensure!(
            size == self.0.len(),
            "ct-merkle proves only to its current tree"
        );
        Ok(Some(self.0.prove_consistency(usize::try_from(size - old)?)))
    }
    fn verify_consistency(
        old: u64,
        old_root: &Hash,
        size: u64,
        root: &Hash,
        proof: &Self::Consistency,
    ) -> bool {
        ct_root(root, size)
            .verify_consistency(&ct_root(old_root, old), proof)
            .is_ok()
    }
    fn consistency_hashes(proof: &Self::Consistency) -> Vec<Hash> {
        split_hashes(proof.as_bytes())
    }
}

fn split_hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect()
}

// --- rs_merkle -----------------------------------------------------------------------

/// RFC 6962 hashing for `rs_merkle`: its default `Sha256` hashes nodes without the 0x01
/// prefix and leaves without 0x00, so its roots would not be comparable.
#[derive(Clone)]
struct Rfc6962;

impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];

    /// The leaf hash (rs_merkle calls `hash` only on what callers give it as leaves).
    fn hash(data: &[u8]) -> [u8; 32] {
        merkle::leaf_hash(data)
    }

    /// The node hash; a node without a right sibling is promoted unchanged, which builds
    /// exactly RFC 6962's left-balanced tree bottom-up.
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => merkle::node_hash(left, right),
            None => *left,
        }
    }
}

struct RsMerkle(rs_merkle::MerkleTree<Rfc6962>);

impl Contender for RsMerkle {
    type Inclusion = rs_merkle::MerkleProof<Rfc6962>;
    type Consistency = ();
    const NAME: &'static str = names::RS_MERKLE;

    fn build(leaves: &[[u8; 8]]) -> anyhow::Result<Self> {
        use rs_merkle::Hasher as _;
        let hashes: Vec<[u8; 32]> = leaves.iter().map(|leaf| Rfc6962::hash(leaf)).collect();
        Ok(RsMerkle(rs_merkle::MerkleTree::from_leaves(&hashes)))
    }
    fn root(&self) -> anyhow::Result<Hash> {
        self.0.root().context("rs_merkle tree has no root")
    }
    fn build_tiles(&self, _size: u64) -> anyhow::Result<Option<u64>> {
        Ok(None)
    }
    fn no_tiles_reason() -> &'static str {
        "no tlog-tiles support"
    }
    fn prove_inclusion(&self, index: u64, size: u64) -> anyhow::Result<Self::Inclusion> {
        ensure!(
            size == self.0.leaves_len() as u64,
            "rs_merkle proves only in its current tree"
        );
        Ok(self.0.proof(&[usize::try_from(index)?]))
    }
    fn verify_inclusion(
        root: &Hash,
        size: u64,
        index: u64,
        _leaf: &[u8; 8],
        leaf_hash: &Hash,
        proof: &Self::Inclusion,
    ) -> bool {
        proof.verify(*root, &[index as usize], &[*leaf_hash], size as usize)
    }
    fn inclusion_hashes(proof: &Self::Inclusion) -> Vec<Hash> {
        proof.proof_hashes().to_vec()
    }
    fn prove_consistency(&self, _old: u64, _size: u64) -> anyhow::Result<Option<()>> {
        Ok(None)
    }
    fn no_consistency_reason() -> &'static str {
        "no consistency proofs (multi-leaf inclusion proofs only)"
    }
    fn verify_consistency(_: u64, _: &Hash, _: u64, _: &Hash, _: &()) -> bool {
        false
    }
    fn consistency_hashes(_: &()) -> Vec<Hash> {
        Vec::new()
    }
}

// --- The run -------------------------------------------------------------------------

/// The reference values every implementation is checked against, computed once per size
/// with Quorum's tree (itself tested against RFC 6962 vectors).
struct Reference {
    size: u64,
    root: Hash,
    leaf_hashes: Vec<Hash>,
    inclusion_indices: Vec<u64>,
    old_sizes: Vec<u64>,
    old_roots: Vec<Hash>,
    inclusion_check: Vec<Hash>,
    consistency_check: Vec<Hash>,
}

impl Reference {
    fn new(leaves: &[[u8; 8]], proofs: usize) -> anyhow::Result<Self> {
        let size = leaves.len() as u64;
        let tree = Quorum::build(leaves)?.0;
        let inclusion_indices = inclusion_indices(size, proofs);
        let old_sizes = consistency_old_sizes(size, proofs);
        let old_roots = old_sizes
            .iter()
            .map(|&old| tree.root_at(old))
            .collect::<Result<_, _>>()?;
        let leaf_hashes = leaves.iter().map(|leaf| merkle::leaf_hash(leaf)).collect();
        Ok(Reference {
            size,
            root: tree.root(),
            leaf_hashes,
            inclusion_check: tree.prove_inclusion(size / 3, size)?,
            consistency_check: tree.prove_consistency(size / 3 + 1, size)?,
            inclusion_indices,
            old_sizes,
            old_roots,
        })
    }
}

/// Measures one implementation at one size; fails if it disagrees with the reference.
fn measure<C: Contender>(
    leaves: &[[u8; 8]],
    reference: &Reference,
    reps: usize,
) -> anyhow::Result<(Vec<Measurement>, AgreementCheck)> {
    let size = reference.size;
    let name = C::NAME;
    let mut samples: [Vec<f64>; 6] = Default::default();
    let mut tiles_supported = true;
    let mut consistency_supported = true;
    let mut check = None;
    for rep in 0..reps {
        eprintln!("  {name}: {size} leaves, repetition {}/{reps}", rep + 1);
        let (rate, tree) = rate_once(size, || C::build(leaves));
        let tree = tree?;
        samples[0].push(rate);
        let root = tree.root()?;
        if root != reference.root {
            bail!(
                "{name} computes root {} for {size} leaves, Quorum {}",
                hex::encode(root),
                hex::encode(reference.root)
            );
        }

        let start = Instant::now();
        match tree.build_tiles(size)? {
            Some(bytes) => samples[1].push(bytes as f64 / start.elapsed().as_secs_f64() / 1e6),
            None => tiles_supported = false,
        }

        let count = reference.inclusion_indices.len() as u64;
        let (rate, proofs) = rate_once(count, || {
            reference
                .inclusion_indices
                .iter()
                .map(|&index| tree.prove_inclusion(index, size))
                .collect::<anyhow::Result<Vec<_>>>()
        });
        let proofs = proofs?;
        samples[2].push(rate);
        let (rate, valid) = rate_once(count, || {
            reference
                .inclusion_indices
                .iter()
                .zip(&proofs)
                .filter(|&(&index, proof)| {
                    C::verify_inclusion(
                        &reference.root,
                        size,
                        index,
                        &leaves[index as usize],
                        &reference.leaf_hashes[index as usize],
                        proof,
                    )
                })
                .count()
        });
        ensure!(
            valid as u64 == count,
            "{name}: {} inclusion proofs failed",
            count - valid as u64
        );
        samples[3].push(rate);
        // Each implementation's proofs are the RFC 9162 proofs: Quorum verifies them too.
        for (&index, proof) in reference.inclusion_indices.iter().zip(&proofs).take(100) {
            merkle::verify_inclusion(
                &reference.leaf_hashes[index as usize],
                index,
                size,
                &C::inclusion_hashes(proof),
                &reference.root,
            )
            .with_context(|| format!("{name}'s inclusion proof of {index} in {size}"))?;
        }

        let count = reference.old_sizes.len() as u64;
        let (rate, proofs) = rate_once(count, || {
            reference
                .old_sizes
                .iter()
                .map(|&old| tree.prove_consistency(old, size))
                .collect::<anyhow::Result<Option<Vec<_>>>>()
        });
        match proofs? {
            None => consistency_supported = false,
            Some(proofs) => {
                samples[4].push(rate);
                let (rate, valid) = rate_once(count, || {
                    reference
                        .old_sizes
                        .iter()
                        .zip(&reference.old_roots)
                        .zip(&proofs)
                        .filter(|&((&old, old_root), proof)| {
                            C::verify_consistency(old, old_root, size, &reference.root, proof)
                        })
                        .count()
                });
                ensure!(
                    valid as u64 == count,
                    "{name}: {} consistency proofs failed",
                    count - valid as u64
                );
                samples[5].push(rate);
                for ((&old, old_root), proof) in reference
                    .old_sizes
                    .iter()
                    .zip(&reference.old_roots)
                    .zip(&proofs)
                    .take(100)
                {
                    merkle::verify_consistency(
                        old,
                        size,
                        old_root,
                        &reference.root,
                        &C::consistency_hashes(proof),
                    )
                    .with_context(|| format!("{name}'s consistency proof {old} -> {size}"))?;
                }
            }
        }

        if check.is_none() {
            let inclusion = tree.prove_inclusion(size / 3, size)?;
            let consistency = tree.prove_consistency(size / 3 + 1, size)?;
            check = Some(AgreementCheck {
                implementation: name.into(),
                size,
                root: hex::encode(root),
                inclusion_proof_digest: Some(proof_digest(&C::inclusion_hashes(&inclusion))),
                consistency_proof_digest: consistency
                    .map(|proof| proof_digest(&C::consistency_hashes(&proof))),
            });
        }
        drop(tree);
    }

    let inclusion_hashes = reference
        .inclusion_indices
        .iter()
        .map(|&index| merkle::inclusion_proof_len(index, size).map(|len| len as f64))
        .sum::<Result<f64, _>>()?
        / reference.inclusion_indices.len().max(1) as f64;
    let consistency_hashes = reference
        .old_sizes
        .iter()
        .map(|&old| consistency_verify_hashes(old, size) as f64)
        .sum::<f64>()
        / reference.old_sizes.len().max(1) as f64;

    let mut out = Vec::new();
    for (i, (op, unit)) in ops::ALL.iter().enumerate() {
        let unsupported = match i {
            1 if !tiles_supported => Some(C::no_tiles_reason()),
            4 | 5 if !consistency_supported => Some(C::no_consistency_reason()),
            _ => None,
        };
        let mut measurement = match unsupported {
            Some(reason) => Measurement::not_available(SECTION, op, name, Some(size), unit, reason),
            None => Measurement::new(SECTION, op, name, Some(size), unit, samples[i].clone()),
        };
        measurement.hashes_per_op = match i {
            0 => Some(2.0 - 1.0 / size as f64),
            3 => Some(inclusion_hashes),
            5 => Some(consistency_hashes),
            _ => None,
        };
        out.push(measurement);
    }
    let check = check.context("no repetitions")?;
    Ok((out, check))
}

/// Runs the plan: every size, every selected implementation.
pub fn run(plan: &MerklePlan) -> anyhow::Result<(Vec<Measurement>, Vec<AgreementCheck>)> {
    let selected =
        |name: &str| plan.only.is_empty() || plan.only.iter().any(|o| name.starts_with(o.as_str()));
    let mut measurements = Vec::new();
    let mut checks = Vec::new();
    for &size in &plan.sizes {
        ensure!(size >= 3, "tree sizes must be at least 3, got {size}");
        let leaves: Vec<[u8; 8]> = (0..size).map(leaf).collect();
        eprintln!("merkle: {size} leaves, reference tree...");
        let reference = Reference::new(&leaves, plan.proofs)?;
        checks.push(AgreementCheck {
            implementation: "reference (quorum, recomputed)".into(),
            size,
            root: hex::encode(reference.root),
            inclusion_proof_digest: Some(proof_digest(&reference.inclusion_check)),
            consistency_proof_digest: Some(proof_digest(&reference.consistency_check)),
        });
        let runs: [(&str, MeasureFn); 4] = [
            (names::QUORUM, measure::<Quorum>),
            (names::TLOG_TILES, measure::<TlogTiles>),
            (names::CT_MERKLE, measure::<CtMerkle>),
            (names::RS_MERKLE, measure::<RsMerkle>),
        ];
        for (name, run) in runs {
            if !selected(name) {
                continue;
            }
            let (m, check) = run(&leaves, &reference, plan.reps)?;
            measurements.extend(m);
            checks.push(check);
        }
    }
    Ok((measurements, checks))
}

type MeasureFn =
    fn(&[[u8; 8]], &Reference, usize) -> anyhow::Result<(Vec<Measurement>, AgreementCheck)>;

#[cfg(test)]
mod tests {
    use super::*;

    fn small_plan(sizes: Vec<u64>) -> MerklePlan {
        MerklePlan {
            sizes,
            reps: 1,
            proofs: 50,
            only: Vec::new(),
        }
    }

    #[test]
    fn every_implementation_agrees_on_roots_and_proofs() {
        let (measurements, checks) = run(&small_plan(vec![3, 4, 1000, 4097])).expect("run");
        for size in [3u64, 4, 1000, 4097] {
            let at_size: Vec<_> = checks.iter().filter(|c| c.size == size).collect();
            assert_eq!(at_size.len(), 5, "reference + 4 implementations at {size}");
            for check in &at_size {
                assert_eq!(
                    check.root, at_size[0].root,
                    "{} at {size}",
                    check.implementation
                );
                assert_eq!(
                    check.inclusion_proof_digest,
                    at_size[0].inclusion_proof_digest
                );
                if check.implementation != names::RS_MERKLE {
                    assert_eq!(
                        check.consistency_proof_digest, at_size[0].consistency_proof_digest,
                        "{} at {size}",
                        check.implementation
                    );
                }
            }
        }
        let na: Vec<_> = measurements.iter().filter(|m| m.na.is_some()).collect();
        // Tiles: ct-merkle and rs_merkle; consistency: rs_merkle (gen + verify); per size.
        assert_eq!(na.len(), 4 * 4);
        assert!(
            measurements
                .iter()
                .filter(|m| m.na.is_none())
                .all(|m| m.samples.len() == 1 && m.samples[0] > 0.0)
        );
    }

    #[test]
    fn the_reference_root_is_rfc_6962() {
        // The RFC 6962 test tree's first three leaves are not ours, but a 3-leaf tree of
        // ours must still be node(node(l0, l1), l2).
        let leaves: Vec<[u8; 8]> = (0..3).map(leaf).collect();
        let reference = Reference::new(&leaves, 1).expect("reference");
        let l: Vec<Hash> = leaves.iter().map(|x| merkle::leaf_hash(x)).collect();
        assert_eq!(
            reference.root,
            merkle::node_hash(&merkle::node_hash(&l[0], &l[1]), &l[2])
        );
    }

    #[test]
    fn consistency_hash_count_matches_a_brute_force_count() {
        // Count node hashes by replaying the verification with a counting hash.
        for new in 2..200u64 {
            for old in 1..new {
                let level = old.trailing_zeros();
                let node = (old - 1) >> level;
                let last = (new - 1) >> level;
                let mut old_hashes = 0;
                let mut new_hashes = 0;
                let (mut a, mut b) = (node, last);
                while a != b {
                    if a & 1 == 1 {
                        old_hashes += 1;
                    }
                    new_hashes += 1;
                    a >>= 1;
                    b >>= 1;
                }
                while a != 0 {
                    if a & 1 == 1 {
                        old_hashes += 1;
                        new_hashes += 1;
                    }
                    a >>= 1;
                }
                assert_eq!(
                    consistency_verify_hashes(old, new),
                    old_hashes + new_hashes,
                    "{old} -> {new}"
                );
            }
        }
    }
}
