//! RFC 6962 / RFC 9162 Merkle trees: hashing, proof verification, and proof
//! generation over "stored hashes".
//!
//! Normative description: `spec/merkle-and-tiles.md`.
//!
//! # Hashing
//!
//! A leaf hashes as `SHA-256(0x00 || data)`, an interior node as
//! `SHA-256(0x01 || left || right)`, the empty tree as `SHA-256("")`.
//!
//! # Verification
//!
//! [`verify_inclusion`] and [`verify_consistency`] check proofs against roots.
//! They take any `u64` sizes without overflowing or panicking, and reject
//! every proof whose length is not exactly the length RFC 9162 prescribes.
//!
//! # Stored hashes
//!
//! A log stores, for a tree of `n` leaves, every hash of a *complete* subtree,
//! in the order in which they become known while leaves are appended: when
//! leaf `n` (0-based) is appended, its leaf hash is stored, followed by the
//! hash of every complete subtree that leaf completes, from the lowest level
//! up. The hash of the complete subtree at `level` with index `n` (covering
//! leaves `n·2^level .. (n+1)·2^level`) therefore has a fixed position,
//! [`stored_hash_index`]. Any root or proof is computed from these hashes,
//! read through a [`HashReader`], so storage can be memory ([`MemoryTree`]),
//! a database, or tlog tiles fetched over HTTP (see [`crate::tiles`]).

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Length in bytes of a [`Hash`].
pub const HASH_SIZE: usize = 32;

/// The RFC 6962 leaf hash, `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The RFC 6962 interior node hash, `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 1 + 2 * HASH_SIZE];
    input[0] = 0x01;
    input[1..=HASH_SIZE].copy_from_slice(left);
    input[1 + HASH_SIZE..].copy_from_slice(right);
    Sha256::digest(input).into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a Merkle proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf index that was asked for.
        index: u64,
        /// The tree size it was asked for.
        size: u64,
    },
    /// The proof does not have the number of hashes RFC 9162 prescribes for
    /// these sizes and indices.
    #[error("wrong proof length: got {actual} hashes, want {expected}")]
    WrongProofLength {
        /// The number of hashes the proof must have.
        expected: usize,
        /// The number of hashes it has.
        actual: usize,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNewSize {
        /// The size of the older tree.
        old_size: u64,
        /// The size of the newer tree.
        new_size: u64,
    },
    /// The leaves of a batch inclusion proof are not in strictly ascending index order.
    #[error("batch inclusion: leaf indices must be strictly ascending ({previous} then {next})")]
    LeavesNotAscending {
        /// The earlier index.
        previous: u64,
        /// The index that follows it.
        next: u64,
    },
    /// The root the proof leads to is not the expected root.
    #[error(
        "root mismatch at tree size {size}: proof gives {}, expected {}",
        hex::encode(.computed),
        hex::encode(.expected)
    )]
    RootMismatch {
        /// The tree size whose root did not match.
        size: u64,
        /// The root computed from the proof.
        computed: Hash,
        /// The root the caller expected.
        expected: Hash,
    },
}

/// Number of bits needed to represent `value` (0 for 0).
fn bit_length(value: u64) -> u32 {
    u64::BITS - value.leading_zeros()
}

/// Splits the audit path of node `index` (at some level) in a tree whose last
/// node at that level is `last` into its two parts: `inner` levels where the
/// paths to `index` and to `last` differ (siblings on either side), then
/// `border` levels on the right border (siblings only on the left).
fn decompose_path(index: u64, last: u64) -> (usize, usize) {
    let inner = bit_length(index ^ last);
    // `inner` is at most 64; shifting a u64 by 64 is not allowed.
    let above = index.checked_shr(inner).unwrap_or(0);
    (inner as usize, above.count_ones() as usize)
}

/// The number of hashes in an inclusion proof of leaf `index` in a tree of
/// `size` leaves.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_path(index, size - 1);
    Ok(inner + border)
}

/// Computes the root that an inclusion proof leads to, RFC 9162 §2.1.3.2.
///
/// Fails if `index >= size` or if the proof has the wrong length; it does not
/// compare against any root (see [`verify_inclusion`]).
pub fn root_from_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    let expected = inclusion_proof_len(index, size)?;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (inner, _) = decompose_path(index, size - 1);
    Ok(chain_to_root(
        *leaf_hash,
        index,
        &proof[..inner],
        &proof[inner..],
    ))
}

/// Folds an audit path: below the fork the sibling side is given by the bits
/// of `index`, on the right border every sibling is on the left.
fn chain_to_root(seed: Hash, index: u64, inner: &[Hash], border: &[Hash]) -> Hash {
    let mut hash = seed;
    for (level, sibling) in inner.iter().enumerate() {
        if (index >> level) & 1 == 0 {
            hash = node_hash(&hash, sibling);
        } else {
            hash = node_hash(sibling, &hash);
        }
    }
    for sibling in border {
        hash = node_hash(sibling, &hash);
    }
    hash
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size`
/// leaves whose root is `root`, RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion(leaf_hash, index, size, proof)?;
    check_root(size, computed, root)
}

fn check_root(size: u64, computed: Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            size,
            computed,
            expected: *expected,
        })
    }
}

/// The number of hashes in a consistency proof from `old_size` to `new_size`.
///
/// Zero when the sizes are equal or `old_size` is 0.
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> Result<usize, ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(0);
    }
    let (level, node) = last_complete_subtree(old_size);
    let (inner, border) = decompose_path(node, (new_size - 1) >> level);
    // The seed hash is included unless the old tree is itself that subtree.
    let seed = usize::from(node != 0);
    Ok(seed + inner + border)
}

/// The largest complete subtree that ends where a tree of `size > 0` leaves
/// ends: its level and its index at that level.
fn last_complete_subtree(size: u64) -> (u32, u64) {
    let level = size.trailing_zeros();
    (level, (size - 1) >> level)
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root`, RFC 9162 §2.1.4.2.
///
/// Edge cases:
/// - `old_size > new_size` is an error;
/// - equal sizes require an empty proof and equal roots;
/// - `old_size == 0` requires an empty proof and `old_root ==`
///   [`empty_root()`]: every tree extends the empty tree. This is the
///   C2SP tlog-witness rule for a witness's first checkpoint. (The current
///   transparency-dev/merkle library instead rejects every proof from size 0
///   as meaningless; its test vectors for size 0 are rejected here too, as
///   each of them has a non-empty proof, unequal roots or a malformed hash.)
/// - otherwise the proof must have exactly [`consistency_proof_len`] hashes.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    let expected = consistency_proof_len(old_size, new_size)?;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if old_size == 0 {
        check_root(0, empty_root(), old_root)?;
        if new_size == 0 {
            check_root(0, *old_root, new_root)?;
        }
        return Ok(());
    }
    if old_size == new_size {
        return check_root(new_size, *old_root, new_root);
    }

    // The proof is the audit path, in the tree of `new_size` leaves, of the
    // last complete subtree of the old tree, preceded by that subtree's hash
    // unless the old tree is exactly that subtree (old_size a power of two).
    let (level, node) = last_complete_subtree(old_size);
    let (seed, path) = match proof.split_first() {
        Some((first, rest)) if node != 0 => (*first, rest),
        _ => (*old_root, proof),
    };
    let (inner, _) = decompose_path(node, (new_size - 1) >> level);
    let (inner_path, border_path) = path.split_at(inner.min(path.len()));

    // The old root is made of the left siblings only: everything to the
    // right of the subtree was appended later.
    let mut old_hash = seed;
    for (offset, sibling) in inner_path.iter().enumerate() {
        if (node >> offset) & 1 == 1 {
            old_hash = node_hash(sibling, &old_hash);
        }
    }
    for sibling in border_path {
        old_hash = node_hash(sibling, &old_hash);
    }
    check_root(old_size, old_hash, old_root)?;

    let new_hash = chain_to_root(seed, node, inner_path, border_path);
    check_root(new_size, new_hash, new_root)
}

// ---------------------------------------------------------------------------
// Stored hashes.
// ---------------------------------------------------------------------------

/// Why stored hashes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HashReadError {
    /// The storage does not hold this stored hash (yet).
    #[error("stored hash {index} is not available")]
    NotFound {
        /// The stored hash index that was asked for.
        index: u64,
    },
    /// The storage returned data that cannot be right (wrong length,
    /// inconsistent tile, ...).
    #[error("stored hash data is invalid: {reason}")]
    Corrupt {
        /// What was wrong with it.
        reason: String,
    },
    /// The storage itself failed (I/O, database, HTTP, ...).
    #[error("hash storage failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Read access to stored hashes, by [`stored_hash_index`].
///
/// Implementations must return exactly one hash per requested index, in the
/// order requested, or an error.
pub trait HashReader {
    /// Returns the stored hashes at `indexes`, in that order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
        (**self).read_hashes(indexes)
    }
}

/// Why a root, a proof or new stored hashes could not be computed from
/// stored hashes.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// Reading stored hashes failed.
    #[error(transparent)]
    Read(#[from] HashReadError),
    /// A [`HashReader`] broke its contract.
    #[error("hash storage returned {returned} hashes for {requested} requested")]
    WrongHashCount {
        /// How many hashes were requested.
        requested: usize,
        /// How many came back.
        returned: usize,
    },
    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf index that was asked for.
        index: u64,
        /// The tree size it was asked for.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNewSize {
        /// The size of the older tree.
        old_size: u64,
        /// The size of the newer tree.
        new_size: u64,
    },
    /// The leaves of a batch inclusion proof are not in strictly ascending index order.
    #[error("batch inclusion: leaf indices must be strictly ascending ({previous} then {next})")]
    LeavesNotAscending {
        /// The earlier index.
        previous: u64,
        /// The index that follows it.
        next: u64,
    },
    /// A size beyond the leaves this tree holds was asked for.
    #[error("tree size {size} was asked for, but the tree has only {available} leaves")]
    SizeBeyondTree {
        /// The size asked for.
        size: u64,
        /// The number of leaves the tree has.
        available: u64,
    },
    /// The tree is so large that its stored hash indexes do not fit in a
    /// `u64` (more than about 2^63 leaves).
    #[error("tree size {size} is too large to index its stored hashes")]
    SizeTooLarge {
        /// The offending size or leaf count.
        size: u64,
    },
}

/// The number of hashes stored for a tree of `n` leaves, `2n - popcount(n)`,
/// or `None` if it does not fit in a `u64` (`n >= 2^63`, roughly).
pub fn checked_stored_hash_count(n: u64) -> Option<u64> {
    let count = 2 * u128::from(n) - u128::from(n.count_ones());
    u64::try_from(count).ok()
}

/// The number of hashes stored for a tree of `n` leaves, `2n - popcount(n)`.
///
/// Saturates at `u64::MAX` (an index no storage holds) for `n >= 2^63`; use
/// [`checked_stored_hash_count`] where that matters.
pub fn stored_hash_count(n: u64) -> u64 {
    checked_stored_hash_count(n).unwrap_or(u64::MAX)
}

/// The stored hash index of the complete subtree at `level` with index `n` at
/// that level (the subtree of leaves `n·2^level .. (n+1)·2^level`), or `None`
/// if it does not fit in a `u64` or `level > 63`.
///
/// That hash is stored right after the hashes of the first
/// `(n+1)·2^level - 1` leaves, the leaf hash and the `level - 1` hashes below
/// it: at `stored_hash_count((n+1)·2^level - 1) + level`.
pub fn checked_stored_hash_index(level: u8, n: u64) -> Option<u64> {
    if level > 63 {
        return None;
    }
    let leaves = (u128::from(n) + 1) << level;
    let last_leaf = u64::try_from(leaves - 1).ok()?;
    checked_stored_hash_count(last_leaf)?.checked_add(u64::from(level))
}

/// The stored hash index of the complete subtree at `level` with index `n` at
/// that level; see [`checked_stored_hash_index`].
///
/// Exact for every subtree of a tree with fewer than 2^63 leaves; saturates at
/// `u64::MAX` (an index no storage holds) beyond.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    checked_stored_hash_index(level, n).unwrap_or(u64::MAX)
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the complete
/// subtree stored at `index`. Defined for every `u64`.
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // Find the leaf whose appending stored this hash: the largest `m` with
    // stored_hash_count(m) <= index. Since stored_hash_count(m) = 2m -
    // popcount(m), `m` is at least index/2 and at most 64 more.
    let count = |m: u128| 2 * m - u128::from(m.count_ones());
    let index_wide = u128::from(index);
    let mut leaf = index_wide / 2;
    while count(leaf + 1) <= index_wide {
        leaf += 1;
    }
    // Appending leaf `leaf` stores its leaf hash then one hash per level
    // completed, so the offset is the level.
    let level = (index_wide - count(leaf)) as u8;
    let n = ((leaf + 1) >> level) - 1;
    (level, n as u64)
}

/// Reads `indexes` through `reader` and checks the reader returned one hash
/// per index.
fn read_exact(reader: &impl HashReader, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::WrongHashCount {
            requested: indexes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The new stored hashes to append when leaf `n` (0-based) with leaf hash
/// `record_hash` is added to a tree of `n` leaves: the leaf hash, then one
/// hash per complete subtree the leaf completes, lowest level first.
///
/// Reads the left siblings it needs through `reader`.
pub fn stored_hashes_for_record_hash(
    n: u64,
    record_hash: &Hash,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    let new_size = n
        .checked_add(1)
        .ok_or(TreeError::SizeTooLarge { size: n })?;
    checked_stored_hash_count(new_size).ok_or(TreeError::SizeTooLarge { size: new_size })?;
    let completed_levels = new_size.trailing_zeros();
    let mut sibling_indexes = Vec::with_capacity(completed_levels as usize);
    for level in 0..completed_levels {
        // The left sibling at `level` of the node containing leaf n.
        let sibling = (n >> level) - 1;
        sibling_indexes.push(stored_hash_index(level as u8, sibling));
    }
    let siblings = read_exact(reader, &sibling_indexes)?;
    let mut hashes = Vec::with_capacity(siblings.len() + 1);
    let mut current = *record_hash;
    hashes.push(current);
    for sibling in &siblings {
        current = node_hash(sibling, &current);
        hashes.push(current);
    }
    Ok(hashes)
}

/// Appends to `out` the stored hash indexes of the complete subtrees that
/// exactly cover leaves `start..end`, left to right, largest first when
/// `start` is aligned as in every RFC 9162 recursion.
fn cover_range(mut start: u64, end: u64, out: &mut Vec<u64>) -> Result<(), TreeError> {
    while start < end {
        let width = end - start;
        // The largest aligned power of two starting at `start` that fits.
        let max_by_width = 63 - width.leading_zeros();
        let level = start.trailing_zeros().min(max_by_width);
        let index = checked_stored_hash_index(level as u8, start >> level)
            .ok_or(TreeError::SizeTooLarge { size: end })?;
        out.push(index);
        start += 1 << level;
    }
    Ok(())
}

/// The root hash of the subtree covering leaves `start..end`.
///
/// A plan of such ranges is resolved with a single [`HashReader`] call.
#[derive(Default)]
struct RangePlan {
    indexes: Vec<u64>,
    /// For each range, how many entries of `indexes` it uses.
    group_sizes: Vec<usize>,
}

impl RangePlan {
    fn add(&mut self, start: u64, end: u64) -> Result<(), TreeError> {
        let before = self.indexes.len();
        cover_range(start, end, &mut self.indexes)?;
        self.group_sizes.push(self.indexes.len() - before);
        Ok(())
    }

    fn resolve(&self, reader: &impl HashReader) -> Result<Vec<Hash>, TreeError> {
        let hashes = read_exact(reader, &self.indexes)?;
        let mut results = Vec::with_capacity(self.group_sizes.len());
        let mut rest = hashes.as_slice();
        for &size in &self.group_sizes {
            let (group, remaining) = rest.split_at(size);
            rest = remaining;
            results.push(fold_right(group));
        }
        Ok(results)
    }
}

/// The hash of a range covered by complete subtrees `group` (left to right,
/// decreasing sizes): `node(g0, node(g1, ... node(gk-1, gk)))`.
fn fold_right(group: &[Hash]) -> Hash {
    match group.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

/// The largest power of two strictly smaller than `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The root hash of the tree of the first `size` leaves.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash, TreeError> {
    let mut plan = RangePlan::default();
    plan.add(0, size)?;
    let roots = plan.resolve(reader)?;
    Ok(roots.first().copied().unwrap_or_else(empty_root))
}

/// The RFC 9162 inclusion proof of leaf `index` in the tree of the first
/// `size` leaves.
pub fn prove_inclusion(
    size: u64,
    index: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    let mut plan = RangePlan::default();
    inclusion_ranges(index, 0, size, &mut plan)?;
    plan.resolve(reader)
}

/// RFC 9162 PATH(m, D[start:end]), as ranges, bottom-up.
fn inclusion_ranges(
    index: u64,
    start: u64,
    end: u64,
    plan: &mut RangePlan,
) -> Result<(), TreeError> {
    let width = end - start;
    if width <= 1 {
        return Ok(());
    }
    let middle = start + split_point(width);
    if index < middle {
        inclusion_ranges(index, start, middle, plan)?;
        plan.add(middle, end)
    } else {
        inclusion_ranges(index, middle, end, plan)?;
        plan.add(start, middle)
    }
}

/// The RFC 9162 consistency proof from the tree of the first `old_size`
/// leaves to the tree of the first `new_size` leaves.
///
/// Empty when the sizes are equal or `old_size` is 0, matching
/// [`verify_consistency`].
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    if old_size > new_size {
        return Err(TreeError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut plan = RangePlan::default();
    consistency_ranges(old_size, 0, new_size, true, &mut plan)?;
    plan.resolve(reader)
}

/// RFC 9162 SUBPROOF(m, D[start:end], b), as ranges, bottom-up; `old_size`
/// is the absolute end of the old tree.
fn consistency_ranges(
    old_size: u64,
    start: u64,
    end: u64,
    old_root_known: bool,
    plan: &mut RangePlan,
) -> Result<(), TreeError> {
    if old_size == end {
        if !old_root_known {
            plan.add(start, end)?;
        }
        return Ok(());
    }
    let middle = start + split_point(end - start);
    if old_size <= middle {
        consistency_ranges(old_size, start, middle, old_root_known, plan)?;
        plan.add(middle, end)
    } else {
        consistency_ranges(old_size, middle, end, false, plan)?;
        plan.add(start, middle)
    }
}

// ---------------------------------------------------------------------------
// Batch inclusion proofs.
// ---------------------------------------------------------------------------

/// Checks that `indices` are strictly ascending and below `size`.
fn check_batch_indices(size: u64, indices: impl Iterator<Item = u64>) -> Result<(), ProofError> {
    let mut previous: Option<u64> = None;
    for index in indices {
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        if let Some(previous) = previous
            && index <= previous
        {
            return Err(ProofError::LeavesNotAscending {
                previous,
                next: index,
            });
        }
        previous = Some(index);
    }
    Ok(())
}

/// Walks the RFC 9162 tree shape over leaves `start..end` left to right and calls `gap` for
/// every maximal subtree that holds none of `indices` (ascending, all inside the range): the
/// subtrees whose hashes a batch inclusion proof carries, in proof order.
fn batch_gaps<E>(
    indices: &[u64],
    start: u64,
    end: u64,
    gap: &mut impl FnMut(u64, u64) -> Result<(), E>,
) -> Result<(), E> {
    if indices.is_empty() {
        return gap(start, end);
    }
    let width = end - start;
    if width == 1 {
        return Ok(());
    }
    let middle = start + split_point(width);
    let split = indices.partition_point(|&i| i < middle);
    batch_gaps(&indices[..split], start, middle, gap)?;
    batch_gaps(&indices[split..], middle, end, gap)
}

/// The number of hashes in the batch inclusion proof of the leaves at `indices` (strictly
/// ascending) in a tree of `size` leaves; 0 for no leaves.
pub fn batch_inclusion_proof_len(size: u64, indices: &[u64]) -> Result<usize, ProofError> {
    check_batch_indices(size, indices.iter().copied())?;
    if indices.is_empty() {
        return Ok(0);
    }
    let mut count = 0usize;
    batch_gaps(indices, 0, size, &mut |_, _| {
        count += 1;
        Ok::<(), ProofError>(())
    })?;
    Ok(count)
}

/// The batch inclusion proof of the leaves at `indices` (strictly ascending, each below
/// `size`) in the tree of the first `size` leaves: the hashes of the maximal subtrees of that
/// tree that contain none of the leaves, left to right (`spec/merkle-and-tiles.md` §3a). Empty
/// for no leaves.
///
/// For `k` leaves it holds at most `k · log2(size / k) + k` hashes, where `k` single proofs
/// hold about `k · log2(size)`, and every hash is read with one [`HashReader`] call.
pub fn prove_batch_inclusion(
    size: u64,
    indices: &[u64],
    reader: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    check_batch_indices(size, indices.iter().copied()).map_err(|e| match e {
        ProofError::LeavesNotAscending { previous, next } => {
            TreeError::LeavesNotAscending { previous, next }
        }
        _ => TreeError::IndexOutOfRange {
            index: indices.iter().copied().find(|&i| i >= size).unwrap_or(size),
            size,
        },
    })?;
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let mut plan = RangePlan::default();
    batch_gaps(indices, 0, size, &mut |start, end| plan.add(start, end))?;
    plan.resolve(reader)
}

/// Computes the root that a batch inclusion proof leads to from the leaves (index, leaf
/// hash), strictly ascending by index, in a tree of `size` leaves. The proof must have
/// exactly [`batch_inclusion_proof_len`] hashes. Fails for no leaves: nothing is proven.
pub fn root_from_batch_inclusion(
    size: u64,
    leaves: &[(u64, Hash)],
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    let indices: Vec<u64> = leaves.iter().map(|(i, _)| *i).collect();
    let expected = batch_inclusion_proof_len(size, &indices)?;
    if leaves.is_empty() {
        return Err(ProofError::IndexOutOfRange { index: 0, size });
    }
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let mut gaps = proof.iter();
    Ok(batch_root(leaves, 0, size, &mut gaps))
}

/// The hash of the subtree over leaves `start..end`, from the proven `leaves` inside it and
/// the proof's gap hashes in order. The proof length was checked, so `gaps` never runs dry;
/// the empty root stands in if it ever did, and the root comparison then fails.
fn batch_root<'a>(
    leaves: &[(u64, Hash)],
    start: u64,
    end: u64,
    gaps: &mut impl Iterator<Item = &'a Hash>,
) -> Hash {
    if leaves.is_empty() {
        return gaps.next().copied().unwrap_or_else(empty_root);
    }
    let width = end - start;
    if width == 1 {
        return leaves[0].1;
    }
    let middle = start + split_point(width);
    let split = leaves.partition_point(|(i, _)| *i < middle);
    let left = batch_root(&leaves[..split], start, middle, gaps);
    let right = batch_root(&leaves[split..], middle, end, gaps);
    node_hash(&left, &right)
}

/// Verifies that each `(index, leaf hash)` of `leaves` (strictly ascending by index, at least
/// one) is the leaf at that index of the tree of `size` leaves whose root is `root`, with one
/// batch inclusion proof (`spec/merkle-and-tiles.md` §3a).
pub fn verify_batch_inclusion(
    size: u64,
    leaves: &[(u64, Hash)],
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_batch_inclusion(size, leaves, proof)?;
    check_root(size, computed, root)
}

// ---------------------------------------------------------------------------
// Roots of leaf hash lists.
// ---------------------------------------------------------------------------

/// The RFC 6962 root of the tree whose leaf hashes are `leaves`, 32 bytes each,
/// concatenated (as a mirror stores them), without storing the tree; `None` if
/// `leaves` is not a whole number of hashes. A large tree's two subtrees (split at
/// the largest power of two below its size) are hashed on two threads.
pub fn root_of_leaf_hashes(leaves: &[u8]) -> Option<Hash> {
    if !leaves.len().is_multiple_of(HASH_SIZE) {
        return None;
    }
    let n = leaves.len() / HASH_SIZE;
    if n < 1 << 16 || std::thread::available_parallelism().map_or(1, |p| p.get()) < 2 {
        return Some(root_serial(leaves));
    }
    let split = split_point(n as u64) as usize;
    let (left, right) = leaves.split_at(split * HASH_SIZE);
    let (l, r) = std::thread::scope(|scope| {
        let right = scope.spawn(|| root_serial(right));
        let l = root_serial(left);
        (l, right.join())
    });
    match r {
        Ok(r) => Some(node_hash(&l, &r)),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn root_serial(leaves: &[u8]) -> Hash {
    // A stack of complete subtrees, like the digits of a binary counter: (height, hash).
    let mut stack: Vec<(u32, Hash)> = Vec::with_capacity(64);
    for leaf in leaves.chunks_exact(HASH_SIZE) {
        let mut hash = [0u8; HASH_SIZE];
        hash.copy_from_slice(leaf);
        let mut height = 0u32;
        while let Some(&(h, left)) = stack.last() {
            if h != height {
                break;
            }
            stack.pop();
            hash = node_hash(&left, &hash);
            height += 1;
        }
        stack.push((height, hash));
    }
    let Some((_, mut root)) = stack.pop() else {
        return empty_root();
    };
    while let Some((_, left)) = stack.pop() {
        root = node_hash(&left, &root);
    }
    root
}

// ---------------------------------------------------------------------------
// In-memory tree.
// ---------------------------------------------------------------------------

/// A Merkle tree held in memory as its stored hashes.
///
/// Appending a leaf costs one leaf hash plus one node hash per subtree it
/// completes (two hashes on average); roots and proofs for any earlier size
/// are available.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf with this data; returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// Appends a leaf given its leaf hash; returns its index.
    pub fn append_leaf_hash(&mut self, record_hash: Hash) -> u64 {
        let index = self.size;
        let new_size = index + 1;
        let mut current = record_hash;
        self.stored.push(current);
        for level in 0..new_size.trailing_zeros() {
            // The left sibling, stored earlier, at `level`.
            let sibling = stored_hash_index(level as u8, (index >> level) - 1);
            current = node_hash(&self.stored[sibling as usize], &current);
            self.stored.push(current);
        }
        self.size = new_size;
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current root hash.
    pub fn root(&self) -> Hash {
        let mut covering = Vec::new();
        let mut start = 0;
        for level in (0..64u32).rev() {
            if self.size & (1 << level) != 0 {
                let index = stored_hash_index(level as u8, start >> level);
                covering.push(self.stored[index as usize]);
                start += 1 << level;
            }
        }
        fold_right(&covering)
    }

    /// The root hash of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        tree_hash(size, self)
    }

    /// The leaf hash at `index`, if the tree has that leaf.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        if index >= self.size {
            return None;
        }
        self.stored
            .get(stored_hash_index(0, index) as usize)
            .copied()
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size`
    /// leaves.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        prove_inclusion(size, index, self)
    }

    /// The consistency proof from size `old_size` to size `new_size`.
    pub fn prove_consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(new_size)?;
        prove_consistency(old_size, new_size, self)
    }

    /// All stored hashes, in [`stored_hash_index`] order.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.stored
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::SizeBeyondTree {
                size,
                available: self.size,
            });
        }
        Ok(())
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
        // An explicit loop: collecting into a `Result<Vec<_>, _>` cannot size the vector
        // up front, and this is on the path of every proof and tile.
        let mut hashes = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let hash = usize::try_from(index)
                .ok()
                .and_then(|position| self.stored.get(position))
                .ok_or(HashReadError::NotFound { index })?;
            hashes.push(*hash);
        }
        Ok(hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 MTH by its recursive definition, as an independent reference.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn tree_of(size: u64) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for i in 0..size {
            tree.append(format!("leaf {i}").as_bytes());
        }
        tree
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(MemoryTree::new().root(), empty_root());
    }

    #[test]
    fn stored_hash_index_matches_append_order_and_inverts() {
        // Replay appends and record where each (level, n) lands.
        let mut position = 0u64;
        for leaf in 0..2000u64 {
            let new_size = leaf + 1;
            for level in 0..=new_size.trailing_zeros() {
                let n = (new_size >> level) - 1;
                assert_eq!(stored_hash_index(level as u8, n), position);
                assert_eq!(split_stored_hash_index(position), (level as u8, n));
                position += 1;
            }
            assert_eq!(stored_hash_count(new_size), position);
        }
    }

    #[test]
    fn stored_hash_arithmetic_at_the_edges_never_panics() {
        for index in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1] {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(checked_stored_hash_index(level, n), Some(index));
        }
        assert_eq!(checked_stored_hash_count(u64::MAX), None);
        assert_eq!(stored_hash_count(u64::MAX), u64::MAX);
        assert_eq!(checked_stored_hash_index(64, 0), None);
        assert_eq!(checked_stored_hash_index(0, u64::MAX), None);
        assert_eq!(checked_stored_hash_index(63, 1), None);
        assert_eq!(stored_hash_index(63, u64::MAX), u64::MAX);
        assert!(checked_stored_hash_index(62, 0).is_some());
    }

    #[test]
    fn roots_and_proofs_agree_with_the_reference_for_small_trees() {
        let tree = tree_of(70);
        let leaves: Vec<Hash> = (0..70).map(|i| tree.leaf_hash(i).unwrap()).collect();
        for size in 0..=70u64 {
            let root = reference_root(&leaves[..size as usize]);
            assert_eq!(tree.root_at(size).unwrap(), root, "size {size}");
            for index in 0..size {
                let proof = tree.prove_inclusion(index, size).unwrap();
                assert_eq!(proof.len(), inclusion_proof_len(index, size).unwrap());
                verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
            }
            for old in 0..=size {
                let old_root = reference_root(&leaves[..old as usize]);
                let proof = tree.prove_consistency(old, size).unwrap();
                assert_eq!(proof.len(), consistency_proof_len(old, size).unwrap());
                verify_consistency(old, size, &old_root, &root, &proof)
                    .unwrap_or_else(|e| panic!("{old} -> {size}: {e}"));
            }
        }
        assert_eq!(tree.root(), reference_root(&leaves));
    }

    #[test]
    fn every_single_change_to_a_proof_is_rejected() {
        let tree = tree_of(37);
        let root = tree.root();
        for index in 0..37 {
            let leaf = tree.leaf_hash(index).unwrap();
            let proof = tree.prove_inclusion(index, 37).unwrap();
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][0] ^= 1;
                assert!(verify_inclusion(&leaf, index, 37, &bad, &root).is_err());
                let mut shorter = proof.clone();
                shorter.remove(i);
                assert!(matches!(
                    verify_inclusion(&leaf, index, 37, &shorter, &root),
                    Err(ProofError::WrongProofLength { .. })
                ));
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(&leaf, index, 37, &longer, &root).is_err());
            for other in 0..37 {
                if other != index {
                    assert!(verify_inclusion(&leaf, other, 37, &proof, &root).is_err());
                }
            }
        }
        for old in 1..37 {
            let old_root = tree.root_at(old).unwrap();
            let proof = tree.prove_consistency(old, 37).unwrap();
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][31] ^= 0x80;
                assert!(verify_consistency(old, 37, &old_root, &root, &bad).is_err());
            }
            assert!(verify_consistency(old, 37, &root, &old_root, &proof).is_err());
            assert!(verify_consistency(old, 37, &old_root, &old_root, &proof).is_err());
        }
    }

    #[test]
    fn inclusion_edge_cases() {
        let h = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(&h, 0, 0, &[], &empty_root()),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert!(verify_inclusion(&h, u64::MAX, u64::MAX, &[], &h).is_err());
        verify_inclusion(&h, 0, 1, &[], &h).unwrap();
        assert!(verify_inclusion(&h, 0, 1, &[h], &h).is_err());
        // Huge trees: the length rule is enforced without overflow.
        let expected = inclusion_proof_len(u64::MAX - 1, u64::MAX).unwrap();
        assert_eq!(expected, 63);
        assert_eq!(inclusion_proof_len(0, u64::MAX).unwrap(), 64);
        let proof = vec![h; 64];
        assert!(matches!(
            verify_inclusion(&h, 0, u64::MAX, &proof, &h),
            Err(ProofError::RootMismatch { .. })
        ));
        assert!(matches!(
            verify_inclusion(&h, 0, u64::MAX, &proof[..10], &h),
            Err(ProofError::WrongProofLength {
                expected: 64,
                actual: 10
            })
        ));
    }

    #[test]
    fn consistency_edge_cases() {
        let empty = empty_root();
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        // From the empty tree: empty proof, and the old root must be the empty root.
        verify_consistency(0, 5, &empty, &a, &[]).unwrap();
        verify_consistency(0, 0, &empty, &empty, &[]).unwrap();
        assert!(verify_consistency(0, 0, &empty, &a, &[]).is_err());
        assert!(verify_consistency(0, 5, &a, &a, &[]).is_err());
        assert!(verify_consistency(0, 5, &empty, &a, &[a]).is_err());
        // Equal sizes.
        verify_consistency(3, 3, &a, &a, &[]).unwrap();
        assert!(verify_consistency(3, 3, &a, &b, &[]).is_err());
        assert!(verify_consistency(3, 3, &a, &a, &[a]).is_err());
        // Shrinking.
        assert_eq!(
            verify_consistency(4, 3, &a, &b, &[]),
            Err(ProofError::OldSizeExceedsNewSize {
                old_size: 4,
                new_size: 3
            })
        );
        assert!(verify_consistency(1, 2, &a, &b, &[]).is_err());
        // Huge sizes never overflow.
        for (old, new) in [
            (u64::MAX - 1, u64::MAX),
            (1, u64::MAX),
            (1 << 63, u64::MAX),
            (u64::MAX, u64::MAX),
        ] {
            let len = consistency_proof_len(old, new).unwrap();
            assert!(len <= 65, "{old} -> {new}: {len}");
            let proof = vec![a; len];
            assert!(verify_consistency(old, new, &a, &b, &proof).is_err());
            assert!(verify_consistency(old, new, &a, &b, &proof[..len.saturating_sub(1)]).is_err());
        }
    }

    #[test]
    fn generation_rejects_bad_requests() {
        let tree = tree_of(5);
        assert!(matches!(
            tree.prove_inclusion(5, 5),
            Err(TreeError::IndexOutOfRange { index: 5, size: 5 })
        ));
        assert!(matches!(
            tree.prove_inclusion(0, 6),
            Err(TreeError::SizeBeyondTree { .. })
        ));
        assert!(matches!(
            tree.prove_consistency(4, 3),
            Err(TreeError::OldSizeExceedsNewSize { .. })
        ));
        assert!(matches!(
            tree.root_at(u64::MAX),
            Err(TreeError::SizeBeyondTree { .. })
        ));
        // Going through the free functions, sizes beyond the storage are read errors.
        assert!(matches!(
            tree_hash(6, &tree),
            Err(TreeError::Read(HashReadError::NotFound { .. }))
        ));
        assert!(tree_hash(u64::MAX, &tree).is_err());
        assert!(prove_inclusion(u64::MAX, u64::MAX - 1, &tree).is_err());
        assert!(prove_consistency(1, u64::MAX, &tree).is_err());
        assert!(stored_hashes_for_record_hash(u64::MAX, &empty_root(), &tree).is_err());
    }

    #[test]
    fn stored_hashes_for_record_hash_matches_memory_tree() {
        let mut tree = MemoryTree::new();
        for n in 0..300u64 {
            let record = leaf_hash(&n.to_be_bytes());
            let new_hashes = stored_hashes_for_record_hash(n, &record, &tree).unwrap();
            let before = tree.stored_hashes().len();
            tree.append_leaf_hash(record);
            assert_eq!(&tree.stored_hashes()[before..], new_hashes.as_slice());
        }
    }

    struct ShortReader;
    impl HashReader for ShortReader {
        fn read_hashes(&self, _indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_reader_returning_too_few_hashes_is_an_error() {
        assert!(matches!(
            tree_hash(3, &ShortReader),
            Err(TreeError::WrongHashCount {
                requested: 2,
                returned: 0
            })
        ));
        assert_eq!(tree_hash(0, &ShortReader).unwrap(), empty_root());
    }

    /// Every subset of the leaves of small trees, and a sample of subsets of larger ones.
    fn batch_cases() -> Vec<(u64, Vec<u64>)> {
        let mut cases = Vec::new();
        for size in 1..=9u64 {
            for mask in 1u32..(1 << size) {
                cases.push((size, (0..size).filter(|i| mask >> i & 1 == 1).collect()));
            }
        }
        let mut state = 7u64;
        for size in [10u64, 31, 64, 65, 100, 257, 1000] {
            for _ in 0..40 {
                let mut picked: Vec<u64> = (0..size)
                    .filter(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (state >> 33).is_multiple_of(7)
                    })
                    .collect();
                if picked.is_empty() {
                    picked.push(size / 2);
                }
                cases.push((size, picked));
            }
        }
        cases
    }

    #[test]
    fn batch_inclusion_proves_what_single_proofs_prove() {
        for (size, indices) in batch_cases() {
            let tree = tree_of(size);
            let root = tree.root();
            let proof = prove_batch_inclusion(size, &indices, &tree).unwrap();
            assert_eq!(
                proof.len(),
                batch_inclusion_proof_len(size, &indices).unwrap()
            );
            let leaves: Vec<(u64, Hash)> = indices
                .iter()
                .map(|&i| (i, tree.leaf_hash(i).unwrap()))
                .collect();
            verify_batch_inclusion(size, &leaves, &proof, &root)
                .unwrap_or_else(|e| panic!("size {size} {indices:?}: {e}"));
            // Never longer than the single proofs together; one leaf: the same hashes.
            let singles: Vec<Vec<Hash>> = indices
                .iter()
                .map(|&i| tree.prove_inclusion(i, size).unwrap())
                .collect();
            assert!(proof.len() <= singles.iter().map(Vec::len).sum::<usize>());
            if let [single] = singles.as_slice() {
                let mut a = single.clone();
                let mut b = proof.clone();
                a.sort();
                b.sort();
                assert_eq!(a, b, "size {size} index {indices:?}");
            }
            // Each leaf also verifies alone against the same root.
            for (&i, single) in indices.iter().zip(&singles) {
                verify_inclusion(&tree.leaf_hash(i).unwrap(), i, size, single, &root).unwrap();
            }
        }
    }

    #[test]
    fn batch_inclusion_rejects_tampering() {
        let size = 37;
        let tree = tree_of(size);
        let root = tree.root();
        let indices = [0u64, 5, 6, 20, 36];
        let leaves: Vec<(u64, Hash)> = indices
            .iter()
            .map(|&i| (i, tree.leaf_hash(i).unwrap()))
            .collect();
        let proof = prove_batch_inclusion(size, &indices, &tree).unwrap();
        verify_batch_inclusion(size, &leaves, &proof, &root).unwrap();
        // A changed proof hash.
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i][0] ^= 1;
            assert!(matches!(
                verify_batch_inclusion(size, &leaves, &bad, &root),
                Err(ProofError::RootMismatch { .. })
            ));
        }
        // A changed leaf, a leaf moved to another index, leaves swapped.
        for i in 0..leaves.len() {
            let mut bad = leaves.clone();
            bad[i].1[31] ^= 1;
            assert!(verify_batch_inclusion(size, &bad, &proof, &root).is_err());
        }
        let mut moved = leaves.clone();
        moved[1].0 = 4;
        assert!(verify_batch_inclusion(size, &moved, &proof, &root).is_err());
        let mut swapped = leaves.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            verify_batch_inclusion(size, &swapped, &proof, &root),
            Err(ProofError::LeavesNotAscending { .. })
        ));
        // Hiding a leaf: the remaining leaves do not verify with the same proof.
        assert!(verify_batch_inclusion(size, &leaves[1..], &proof, &root).is_err());
        // Wrong lengths, wrong sizes, wrong root, duplicates, out of range, nothing.
        let mut long = proof.clone();
        long.push(root);
        assert!(matches!(
            verify_batch_inclusion(size, &leaves, &long, &root),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_batch_inclusion(size, &leaves, &proof[1..], &root),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(verify_batch_inclusion(size + 1, &leaves, &proof, &root).is_err());
        assert!(verify_batch_inclusion(size, &leaves, &proof, &tree.root_at(36).unwrap()).is_err());
        let mut duplicate = leaves.clone();
        duplicate[1] = duplicate[0];
        assert!(verify_batch_inclusion(size, &duplicate, &proof, &root).is_err());
        assert!(matches!(
            verify_batch_inclusion(30, &leaves, &proof, &root),
            Err(ProofError::IndexOutOfRange {
                index: 36,
                size: 30
            })
        ));
        assert!(verify_batch_inclusion(size, &[], &[], &root).is_err());
        assert!(prove_batch_inclusion(size, &[], &tree).unwrap().is_empty());
        assert!(matches!(
            prove_batch_inclusion(size, &[3, 2], &tree),
            Err(TreeError::LeavesNotAscending {
                previous: 3,
                next: 2
            })
        ));
        assert!(matches!(
            prove_batch_inclusion(size, &[3, 37], &tree),
            Err(TreeError::IndexOutOfRange {
                index: 37,
                size: 37
            })
        ));
        // Huge sizes neither overflow nor panic.
        let h = leaf_hash(b"x");
        assert!(
            verify_batch_inclusion(u64::MAX, &[(0, h), (u64::MAX - 1, h)], &[h; 3], &h).is_err()
        );
    }

    #[test]
    fn batch_inclusion_at_scale_is_compact() {
        // 1,000 leaves spread over a tree of 2^20: far fewer hashes than 1,000 single proofs.
        let size: u64 = 1 << 20;
        let mut tree = MemoryTree::new();
        for i in 0..size {
            tree.append_leaf_hash(leaf_hash(&i.to_be_bytes()));
        }
        let indices: Vec<u64> = (0..1000u64).map(|i| i * 1048 + (i % 7)).collect();
        let proof = prove_batch_inclusion(size, &indices, &tree).unwrap();
        let leaves: Vec<(u64, Hash)> = indices
            .iter()
            .map(|&i| (i, tree.leaf_hash(i).unwrap()))
            .collect();
        verify_batch_inclusion(size, &leaves, &proof, &tree.root()).unwrap();
        assert!(proof.len() < 12_000, "{} hashes", proof.len());
    }

    #[test]
    fn root_of_leaf_hashes_matches_the_tree() {
        // 70,000 takes the two-thread path.
        for n in [0u32, 1, 2, 3, 5, 8, 13, 256, 257, 1000, 70_000] {
            let mut tree = MemoryTree::new();
            let mut leaves = Vec::new();
            for i in 0..n {
                let data = i.to_be_bytes();
                tree.append(&data);
                leaves.extend_from_slice(&leaf_hash(&data));
            }
            assert_eq!(root_of_leaf_hashes(&leaves), Some(tree.root()), "size {n}");
        }
        assert_eq!(root_of_leaf_hashes(&[0; 33]), None);
    }
}
