//! The mirror's files on disk and the index that lets `verify --mirror` read only what a
//! decision needs.
//!
//! A mirror directory holds three append-only files, all covering the same entries in log
//! order:
//!
//! - `entries.bin`: every entry as `uint16 BE length || bytes` (the entry-bundle framing);
//! - `leaves.bin`: every entry's RFC 6962 leaf hash, 32 bytes each, so the root of the
//!   mirrored tree can be recomputed without rehashing the entries;
//! - `index.bin`: one record per entry: `uint64 BE offset in entries.bin || uint16 BE length
//!   || uint16 BE key count || key count × uint64 BE key`, where a key is the first 8 bytes
//!   of SHA-256 of a package purl without version that the entry's statement is about,
//!   [`TRUST_GRAPH_KEY`] for trust and revocation statements (a decision needs the whole
//!   trust graph), or [`UNVERIFIED_KEY`] for an entry that failed verification (reported as
//!   rejected with every decision). The keys are those `model::index::index_keys` gives, the
//!   rule the log's lookup index follows too. A collision of package keys only loads an extra
//!   entry, which the decision then ignores: keys select, they never vouch (a package entry
//!   colliding with the trust graph's key, a 64-bit second preimage, would fail the load).
//!
//! What is verified when (`spec/verifier-semantics.md` §2): at sync, every entry's envelope
//! signature and statement (to index it) and the root recomputed from the leaf hashes against
//! the cosigned checkpoint; when deciding, the checkpoint again, the root again from
//! `leaves.bin`, each loaded entry's bytes against its leaf hash, and, outward from the
//! policy's roots (the trust graph first, then the package entries of reached signers), each
//! statement ([`Recheck::Statements`]) or, on request, its signature too
//! ([`Recheck::Signatures`]), spread over the available cores.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::client::evidence::{date_of, push_statements};
use crate::client::trust_graph::{Check, Seeds, TrustGraph};
use crate::decision::ProvenStatement;
use crate::model::index::{is_trust_graph, trust_graph_key_of};
use crate::model::log_entry::{
    DecodedEntry, LogEntryError, VerifiedEntry, claimed_signer, decode_verified_before,
    map_in_parallel, verify_log_entries_batch, verify_log_entry,
};
use quorum_c2sp::merkle::{leaf_hash, root_of_leaf_hashes};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::model::index::TRUST_GRAPH_KEY;
/// The index key of entries that failed verification at sync.
pub const UNVERIFIED_KEY: &str = "quorum:unverified";

/// The most index keys one entry can have (an entry is at most 64 KiB, so this is never
/// reached by a real statement; it bounds what a damaged index can make the reader do).
const MAX_KEYS_PER_ENTRY: usize = 4096;

/// Errors of the mirror store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The files disagree with each other or with the progress record.
    #[error("the mirror in {dir} is damaged ({detail}); delete the folder and mirror again")]
    Damaged {
        /// The mirror directory.
        dir: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The mirrored entries do not hash to the checkpoint's root.
    #[error("the mirrored entries do not hash to the checkpoint's root at size {size}")]
    RootMismatch {
        /// The tree size checked.
        size: u64,
    },
}

/// How far each file is filled: what `progress.json` records for a consistent state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lengths {
    /// Entries stored.
    pub size: u64,
    /// Bytes of `entries.bin`.
    pub entries_bytes: u64,
    /// Bytes of `index.bin`.
    pub index_bytes: u64,
}

/// The first 8 bytes of SHA-256 of an index key.
pub fn key_hash(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The index keys of a verified entry, hashed: those [`crate::model::index::index_keys`]
/// gives, the rule the log's lookup index follows too, and for a trust-graph entry its
/// signer's [`trust_graph_key_of`] (so that a decision reads only the trust-graph entries
/// of the keys its seeds reach).
pub fn keys_of(entry: &VerifiedEntry) -> BTreeSet<u64> {
    let mut keys: BTreeSet<u64> = crate::model::index::index_keys(&entry.statement)
        .iter()
        .map(|k| key_hash(k))
        .collect();
    if is_trust_graph(&entry.statement) {
        keys.insert(key_hash(&trust_graph_key_of(&entry.signer)));
    }
    keys
}

/// Verifies entries (decoding, envelope signature, statement) with the library's batch
/// verifier, which spreads them over the available cores. Results are in input order.
pub fn verify_entries(entries: &[&[u8]]) -> Vec<Result<VerifiedEntry, LogEntryError>> {
    verify_log_entries_batch(entries)
}

/// What `verify --mirror` re-checks in each loaded entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// Decode the entry and validate its statement; the signature was verified at sync over
    /// these very bytes (their leaf hash is proven under the checkpoint root), and entries
    /// that failed then are indexed only under [`UNVERIFIED_KEY`].
    Statements,
    /// Verify every loaded entry again in full, signature included.
    Signatures,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// The paths of a mirror's files.
#[derive(Debug, Clone)]
pub struct MirrorFiles {
    /// The directory.
    pub dir: PathBuf,
}

impl MirrorFiles {
    /// `entries.bin`.
    pub fn entries(&self) -> PathBuf {
        self.dir.join("entries.bin")
    }
    /// `leaves.bin`.
    pub fn leaves(&self) -> PathBuf {
        self.dir.join("leaves.bin")
    }
    /// `index.bin`.
    pub fn index(&self) -> PathBuf {
        self.dir.join("index.bin")
    }

    fn damaged(&self, detail: impl Into<String>) -> StoreError {
        StoreError::Damaged {
            dir: self.dir.clone(),
            detail: detail.into(),
        }
    }

    /// Reads the leaf hashes of the first `size` entries.
    pub fn read_leaves(&self, size: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.leaves();
        let want = size
            .checked_mul(32)
            .ok_or_else(|| self.damaged("tree size out of range"))?;
        let buf = match File::open(&path) {
            Ok(f) => read_prefix(f, want).map_err(io("reading", &path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && size == 0 => Vec::new(),
            Err(e) => return Err(io("opening", &path)(e)),
        };
        if buf.len() as u64 != want {
            return Err(self.damaged(format!(
                "leaves.bin holds {} hashes, the progress record says {size}",
                buf.len() / 32
            )));
        }
        Ok(buf)
    }

    /// Checks that the first `size` leaf hashes hash to `root`.
    pub fn check_root(&self, size: u64, root: &[u8; 32]) -> Result<Vec<u8>, StoreError> {
        let leaves = self.read_leaves(size)?;
        if root_of_leaf_hashes(&leaves).as_ref() != Some(root) {
            return Err(StoreError::RootMismatch { size });
        }
        Ok(leaves)
    }
}

/// Appends verified and indexed entries to a mirror.
pub struct MirrorWriter {
    files: MirrorFiles,
    entries: File,
    leaves: File,
    index: File,
    lengths: Lengths,
}

impl MirrorWriter {
    /// Opens the files, dropping anything past `lengths` (the last consistent state, as the
    /// progress record says: a crash can leave a partial append behind).
    pub fn open(dir: &Path, lengths: Lengths) -> Result<MirrorWriter, StoreError> {
        let files = MirrorFiles {
            dir: dir.to_path_buf(),
        };
        let open = |path: PathBuf, len: u64| -> Result<File, StoreError> {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io("opening", &path))?;
            let actual = f.metadata().map_err(io("reading", &path))?.len();
            if actual < len {
                return Err(StoreError::Damaged {
                    dir: dir.to_path_buf(),
                    detail: format!(
                        "{} has {actual} bytes, the progress record says {len}",
                        path.display()
                    ),
                });
            }
            f.set_len(len).map_err(io("truncating", &path))?;
            f.seek(SeekFrom::End(0)).map_err(io("seeking", &path))?;
            Ok(f)
        };
        let entries = open(files.entries(), lengths.entries_bytes)?;
        let leaves = open(files.leaves(), lengths.size * 32)?;
        let index = open(files.index(), lengths.index_bytes)?;
        Ok(MirrorWriter {
            files,
            entries,
            leaves,
            index,
            lengths,
        })
    }

    /// How far the files are filled.
    pub fn lengths(&self) -> Lengths {
        self.lengths
    }

    /// Verifies and appends entries (the next ones in log order), then flushes them to disk.
    /// An entry that fails verification is stored too (the tree needs it) and indexed under
    /// [`UNVERIFIED_KEY`].
    pub fn append(&mut self, batch: &[&[u8]]) -> Result<(), StoreError> {
        let verified = verify_entries(batch);
        let mut entries = Vec::new();
        let mut leaves = Vec::with_capacity(batch.len() * 32);
        let mut index = Vec::new();
        let mut offset = self.lengths.entries_bytes;
        for (bytes, result) in batch.iter().zip(&verified) {
            let len = u16::try_from(bytes.len())
                .map_err(|_| self.files.damaged("an entry is longer than 65535 bytes"))?;
            let keys = match result {
                Ok(v) => keys_of(v),
                Err(_) => BTreeSet::from([key_hash(UNVERIFIED_KEY)]),
            };
            entries.extend_from_slice(&len.to_be_bytes());
            entries.extend_from_slice(bytes);
            leaves.extend_from_slice(&leaf_hash(bytes));
            index.extend_from_slice(&offset.to_be_bytes());
            index.extend_from_slice(&len.to_be_bytes());
            index.extend_from_slice(&(keys.len() as u16).to_be_bytes());
            for k in &keys {
                index.extend_from_slice(&k.to_be_bytes());
            }
            offset += 2 + u64::from(len);
        }
        let write = |f: &mut File, buf: &[u8], path: PathBuf| -> Result<(), StoreError> {
            f.write_all(buf)
                .and_then(|()| f.sync_data())
                .map_err(io("writing", &path))
        };
        write(&mut self.entries, &entries, self.files.entries())?;
        write(&mut self.leaves, &leaves, self.files.leaves())?;
        write(&mut self.index, &index, self.files.index())?;
        self.lengths.size += batch.len() as u64;
        self.lengths.entries_bytes = offset;
        self.lengths.index_bytes += index.len() as u64;
        Ok(())
    }
}

/// What `verify --mirror` loads for a set of packages.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Statements proven in the mirror and verified, one per claim.
    pub statements: Vec<ProvenStatement>,
    /// Entries that were loaded but do not count: (index, reason).
    pub rejected: Vec<(u64, String)>,
    /// For rejected package entries, the packages (of those asked for) they are about.
    pub rejected_about: std::collections::BTreeMap<u64, Vec<String>>,
}

/// Loads, proves and verifies the entries about `packages` (purls without version) plus the
/// whole trust graph, from a mirror whose consistent state is `lengths`, against the
/// checkpoint root `root` of size `lengths.size`. `dates` are the (size, cosignature time)
/// of the checkpoints the mirror verified, ascending, used to date entries.
///
/// Every selected entry is read and proven by its leaf hash. The trust graph is then
/// checked outward from `seeds` (the policy's roots and named keys, up to `hops` vouches away,
/// [`crate::client::trust_graph`]), and of the package entries only those whose signer it
/// reaches are decoded; the others are listed as not counted (they cannot carry weight).
/// Entries that failed verification at sync are verified again in full to say why.
pub fn load_for_packages(
    dir: &Path,
    lengths: Lengths,
    root: &[u8; 32],
    packages: &[String],
    dates: &[(u64, u64)],
    recheck: Recheck,
    seeds: &Seeds,
) -> Result<Loaded, StoreError> {
    let files = MirrorFiles {
        dir: dir.to_path_buf(),
    };
    let mut wanted: HashSet<u64> = packages.iter().map(|p| key_hash(p)).collect();
    let (trust_key, unverified) = (key_hash(TRUST_GRAPH_KEY), key_hash(UNVERIFIED_KEY));
    wanted.insert(trust_key);
    wanted.insert(unverified);
    // The root is recomputed from every leaf while the index is scanned: neither needs the
    // other, and nothing read is used before both are done.
    let (leaves, selected) = std::thread::scope(|scope| {
        let rooting = scope.spawn(|| files.check_root(lengths.size, root));
        let selected = scan_index(&files, lengths, &wanted);
        // A panic there is re-raised here, as it would be on one thread.
        let leaves = rooting
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (leaves, selected)
    });
    let (leaves, selected) = (leaves?, selected?);

    // Read and prove the selected package entries on every core; trust-graph entries are
    // read signer by signer below, as the seeds reach their signers.
    let (trust_records, records): (Vec<Selected>, Vec<Selected>) = selected
        .into_iter()
        .partition(|(_, _, _, keys)| keys.contains(&trust_key) && !keys.contains(&unverified));
    let read = read_records(&files, &leaves, &records)?;
    let mut package_entries = Vec::new();
    let mut failed = Vec::new();
    let mut entry_keys = std::collections::HashMap::new();
    for ((index, _, _, keys), bytes) in records.into_iter().zip(read) {
        let bytes = bytes?;
        if keys.contains(&unverified) {
            failed.push((index, bytes));
        } else {
            package_entries.push((index, bytes));
        }
        entry_keys.insert(index, keys);
    }

    let check = match recheck {
        Recheck::Statements => Check::VerifiedBefore,
        Recheck::Signatures => Check::Signatures,
    };
    let mut by_signer: std::collections::HashMap<u64, Vec<Selected>> =
        std::collections::HashMap::new();
    for record in trust_records {
        let signer_keys: Vec<u64> = record
            .3
            .iter()
            .copied()
            .filter(|k| *k != trust_key)
            .collect();
        for key in signer_keys {
            by_signer.entry(key).or_default().push(record.clone());
        }
    }
    let mut graph = TrustGraph::by_signer("", "");
    graph
        .extend(lengths.size, *root, [])
        .map_err(|e| files.damaged(e.to_string()))?;
    let reach = loop {
        let reach = graph
            .reach_with(&seeds.keys, seeds.hops, check)
            .map_err(|e| files.damaged(e.to_string()))?;
        if reach.missing.is_empty() {
            break reach;
        }
        let wanted: Vec<Selected> = reach
            .missing
            .iter()
            .flat_map(|s| by_signer.remove(&key_hash(&trust_graph_key_of(s))))
            .flatten()
            .collect();
        let read = read_records(&files, &leaves, &wanted)?;
        let mut entries = Vec::with_capacity(wanted.len());
        for ((index, ..), bytes) in wanted.iter().zip(read) {
            let bytes = bytes?;
            // A 64-bit collision of signer keys only selects another signer's entry: it is
            // read again under its own signer's key when that one is reached.
            if claimed_signer(&bytes).is_some_and(|s| reach.missing.contains(&s)) {
                entries.push((*index, bytes));
            }
        }
        graph
            .add_signers(&reach.missing, entries)
            .map_err(|e| files.damaged(e.to_string()))?;
    };
    let mut loaded = Loaded {
        statements: reach.statements,
        rejected: reach
            .rejected
            .into_iter()
            .map(|r| (r.index, r.reason))
            .collect(),
        rejected_about: Default::default(),
    };
    let asked: std::collections::HashMap<u64, &String> =
        packages.iter().map(|p| (key_hash(p), p)).collect();
    let about = |keys: &[u64]| -> Vec<String> {
        keys.iter()
            .filter_map(|k| asked.get(k).map(|p| (*p).clone()))
            .collect()
    };

    let mut to_check: Vec<(u64, Vec<u8>, bool)> = Vec::with_capacity(package_entries.len());
    for (index, bytes) in package_entries {
        match claimed_signer(&bytes) {
            Some(signer) if !reach.reached.contains(&signer) => loaded.rejected.push((
                index,
                format!(
                    "signer {} is not reached by the policy's trust roots (its statement was not decoded)",
                    hex::encode(signer)
                ),
            )),
            _ => to_check.push((index, bytes, recheck == Recheck::Signatures)),
        }
    }
    to_check.extend(failed.into_iter().map(|(i, b)| (i, b, true)));
    let checked = map_in_parallel(&to_check, |(_, bytes, full)| {
        if *full {
            verify_log_entry(bytes).map(|v| DecodedEntry {
                signer: v.signer,
                envelope_digest: v.envelope_digest,
                statement: v.statement,
            })
        } else {
            decode_verified_before(bytes)
        }
    });
    for ((index, _, _), result) in to_check.iter().zip(checked) {
        match result {
            Ok(v) => {
                push_statements(&mut loaded.statements, *index, &v, date_of(dates, *index));
            }
            Err(e) => loaded
                .rejected
                .push((*index, format!("entry does not verify: {e}"))),
        }
    }
    loaded.statements.sort_by_key(|s| s.index);
    loaded.rejected.sort_by_key(|r| r.0);
    for (index, _) in &loaded.rejected {
        if let Some(keys) = entry_keys.get(index) {
            let packages = about(keys);
            if !packages.is_empty() {
                loaded.rejected_about.insert(*index, packages);
            }
        }
    }
    Ok(loaded)
}

/// An entry the index selected: (index, offset in `entries.bin`, length, its keys).
type Selected = (u64, u64, u16, Vec<u64>);

/// Reads the `records` from `entries.bin` on every core, each proven by its leaf hash.
fn read_records(
    files: &MirrorFiles,
    leaves: &[u8],
    records: &[Selected],
) -> Result<Vec<Result<Vec<u8>, StoreError>>, StoreError> {
    let path = files.entries();
    let file = File::open(&path).map_err(io("opening", &path))?;
    Ok(map_in_parallel(records, |(index, offset, len, _)| {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; usize::from(*len)];
        file.read_exact_at(&mut buf, offset + 2)
            .map_err(io("reading", &path))?;
        let at = (*index as usize) * 32;
        if leaves.get(at..at + 32) != Some(&leaf_hash(&buf)[..]) {
            return Err(files.damaged(format!("entry {index} does not match its leaf hash")));
        }
        Ok(buf)
    }))
}

/// The first `want` bytes of `file` (fewer if it is shorter), read into a buffer of the
/// right size at once: tens of megabytes grown by doubling would be copied and faulted in
/// again at every step.
fn read_prefix(file: File, want: u64) -> std::io::Result<Vec<u8>> {
    let len = file.metadata()?.len().min(want);
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(want).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Scans `index.bin` for entries with any of the `wanted` keys.
fn scan_index(
    files: &MirrorFiles,
    lengths: Lengths,
    wanted: &HashSet<u64>,
) -> Result<Vec<Selected>, StoreError> {
    let path = files.index();
    let data = read_prefix(
        File::open(&path).map_err(io("opening", &path))?,
        lengths.index_bytes,
    )
    .map_err(io("reading", &path))?;
    let mut rest = data.as_slice();
    let mut selected = Vec::new();
    let mut expected_offset = 0u64;
    let be64 = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_be_bytes(a)
    };
    for index in 0..lengths.size {
        let Some((header, tail)) = rest.split_at_checked(12) else {
            return Err(files.damaged(format!("index.bin ends before entry {index}")));
        };
        let offset = be64(header);
        let len = u16::from_be_bytes([header[8], header[9]]);
        let count = usize::from(u16::from_be_bytes([header[10], header[11]]));
        if count > MAX_KEYS_PER_ENTRY || offset != expected_offset {
            return Err(files.damaged(format!("index record {index} is inconsistent")));
        }
        expected_offset = offset + 2 + u64::from(len);
        let Some((keys, tail)) = tail.split_at_checked(8 * count) else {
            return Err(files.damaged(format!("index.bin ends inside entry {index}")));
        };
        rest = tail;
        if keys.chunks_exact(8).any(|k| wanted.contains(&be64(k))) {
            selected.push((index, offset, len, keys.chunks_exact(8).map(be64).collect()));
        }
    }
    if expected_offset != lengths.entries_bytes {
        return Err(files.damaged("index.bin and entries.bin disagree on the entries' sizes"));
    }
    Ok(selected)
}

/// Removes a mirror's files (used when a mirror is rebuilt in the new format).
pub fn remove_files(dir: &Path) -> Result<(), StoreError> {
    let files = MirrorFiles {
        dir: dir.to_path_buf(),
    };
    for path in [files.entries(), files.leaves(), files.index()] {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing", &path)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Also compiled, without its tests, when `benches/mirror.rs` includes this file.
    #![allow(unused_imports)]
    use super::*;
    use quorum_c2sp::merkle::MemoryTree;

    use crate::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use crate::model::log_entry::LogEntry;
    use crate::model::predicates::{Adoption, AdoptionStatus, Predicate, Trust, TrustLevel};
    use crate::model::statement::Subject;

    fn entry(signer: u8, envelope_key: u8, predicate: Predicate, subject: Subject) -> Vec<u8> {
        let key = SigningKey::from_bytes(&[envelope_key; 32]);
        let statement = predicate.into_statement(vec![subject]);
        LogEntry {
            receipt_time_millis: 1,
            envelope: Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &key),
            public_key: SigningKey::from_bytes(&[signer; 32])
                .verifying_key()
                .to_bytes(),
        }
        .encode()
        .expect("entry")
    }

    fn signer_key(n: u8) -> [u8; 32] {
        SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes()
    }

    fn adopt(signer: u8, envelope_key: u8, purl: &str) -> Vec<u8> {
        entry(
            signer,
            envelope_key,
            Predicate::Adoption(Adoption {
                status: AdoptionStatus::Adopted,
                comment: None,
            }),
            Subject::package_version(purl, [7; 32]),
        )
    }

    #[test]
    fn loads_only_the_packages_asked_for_and_never_counts_a_forged_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let other = SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes();
        let entries = [
            adopt(1, 1, "pkg:cargo/serde@1.0.0"),
            adopt(1, 1, "pkg:cargo/rand@0.9.0"),
            entry(
                1,
                1,
                Predicate::Trust(Trust {
                    key: hex::encode(other),
                    level: TrustLevel::High,
                    scope: None,
                    comment: None,
                }),
                Subject::key(&other),
            ),
            // Signed by key 3 but logged as key 1's: forged.
            adopt(1, 3, "pkg:cargo/serde@6.6.6"),
        ];
        let mut writer = MirrorWriter::open(dir.path(), Lengths::default()).expect("open");
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        writer.append(&refs[..2]).expect("append");
        writer.append(&refs[2..]).expect("append");
        let lengths = writer.lengths();
        drop(writer);
        let mut tree = MemoryTree::new();
        for e in &entries {
            tree.append(e);
        }
        let root = tree.root();
        for recheck in [Recheck::Statements, Recheck::Signatures] {
            let loaded = load_for_packages(
                dir.path(),
                lengths,
                &root,
                &["pkg:cargo/serde".to_string()],
                &[],
                recheck,
                &Seeds {
                    keys: vec![signer_key(1)],
                    hops: 6,
                },
            )
            .expect("load");
            let indices: Vec<u64> = loaded.statements.iter().map(|s| s.index).collect();
            assert_eq!(indices, vec![0, 2], "serde's adoption and the trust graph");
            assert_eq!(loaded.rejected.len(), 1);
            assert_eq!(loaded.rejected[0].0, 3);
            assert!(
                loaded.rejected[0].1.contains("signature"),
                "{:?}",
                loaded.rejected
            );
        }
        // Another root: refused.
        let wrong = [0u8; 32];
        assert!(matches!(
            load_for_packages(
                dir.path(),
                lengths,
                &wrong,
                &[],
                &[],
                Recheck::Statements,
                &Seeds {
                    keys: vec![],
                    hops: 6
                }
            ),
            Err(StoreError::RootMismatch { size: 4 })
        ));
        // A damaged entry no longer matches its leaf hash.
        let path = dir.path().join("entries.bin");
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).expect("write");
        assert!(matches!(
            load_for_packages(
                dir.path(),
                lengths,
                &root,
                &["pkg:cargo/serde".to_string()],
                &[],
                Recheck::Statements,
                &Seeds {
                    keys: vec![signer_key(1)],
                    hops: 6,
                },
            ),
            Err(StoreError::Damaged { .. })
        ));
        // Reopening at an earlier state cuts the files back and appends again.
        let mut writer = MirrorWriter::open(
            dir.path(),
            Lengths {
                size: 0,
                entries_bytes: 0,
                index_bytes: 0,
            },
        )
        .expect("reopen");
        writer.append(&refs).expect("append");
        assert_eq!(writer.lengths(), lengths);
    }
}
