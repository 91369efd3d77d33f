//! `quorum mirror`: download every entry of the log through the C2SP tlog-tiles entry
//! bundles, recompute the root, check it against a verified checkpoint, and resume after an
//! interruption. `verify --mirror` then decides from all entries: completeness `complete`.
//!
//! Files in `mirror/<log>/`: `entries.bin` (every entry as `uint16 BE length || bytes`, the
//! entry-bundle framing) and `progress.json` (how far the download and the verification
//! got, and the checkpoints seen, which date the entries for provable age).

use std::fs;
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use quorum_verifier::decision::{ProvenStatement, claims_from_statement};
use quorum_verifier::log_entry::verify_log_entry;
use quorum_verifier::merkle::MemoryTree;
use quorum_verifier::policy::Policy;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::{Global, MirrorArgs};
use crate::error::{evidence, usage};
use crate::glue::{self, VerifiedCheckpoint, VerifiedEvidence};
use crate::net::{LogClient, MAX_CHECKPOINT, MAX_TILE};
use crate::state::{State, write_atomic};

/// Entries per full tile (C2SP tlog-tiles).
const TILE_WIDTH: u64 = 256;

/// Download and verification progress.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// Entries in `entries.bin` that were completely written.
    downloaded_size: u64,
    /// Bytes of `entries.bin` holding those entries.
    downloaded_bytes: u64,
    /// Entries verified against `checkpoint`.
    verified_size: u64,
    /// Bytes of `entries.bin` holding the verified entries.
    verified_bytes: u64,
    /// The verified checkpoint note (text), if any.
    checkpoint: Option<String>,
    /// (size, cosignature time) of every checkpoint the mirror verified, ascending.
    dates: Vec<(u64, u64)>,
}

fn load_progress(dir: &Path) -> anyhow::Result<Progress> {
    let path = dir.join("progress.json");
    match fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            usage(format!(
                "{} is damaged ({e}); delete {} to mirror again from the start",
                path.display(),
                dir.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save_progress(dir: &Path, p: &Progress) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(p).context("encoding mirror progress")?;
    write_atomic(&dir.join("progress.json"), &bytes)
}

/// Splits the mirror's stored stream of entries (`uint16 BE length || bytes`, repeated, any
/// number of them: unlike one entry bundle, not capped at 256).
pub fn split_entry_bundle(mut data: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let [a, b, rest @ ..] = data else {
            return Err("truncated length prefix".into());
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if rest.len() < len {
            return Err(format!("entry of {len} bytes but only {} left", rest.len()));
        }
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    Ok(out)
}

fn read_entries(path: &Path, bytes: u64) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    match fs::File::open(path) {
        Ok(f) => {
            f.take(bytes)
                .read_to_end(&mut buf)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && bytes == 0 => {}
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    }
    if (buf.len() as u64) < bytes {
        return Err(usage(format!(
            "{} is shorter than its progress record; delete its folder and mirror again",
            path.display()
        )));
    }
    Ok(buf)
}

fn root_of(entries: &[&[u8]], size: u64) -> anyhow::Result<[u8; 32]> {
    let mut tree = MemoryTree::new();
    for e in entries {
        tree.append(e);
    }
    tree.root_at(size)
        .map_err(|e| evidence(format!("recomputing the root at size {size}: {e}")))
}

/// `quorum mirror`.
pub fn mirror(global: &Global, args: &MirrorArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = crate::verify::load_policy(&state.policy_path(global))?;
    let log = policy.log.clone().ok_or_else(|| {
        usage("the policy has no [log] section (origin, key, url): add one to mirror a log")
    })?;
    let url = global
        .log
        .clone()
        .or(log.url.clone())
        .ok_or_else(|| usage("no log URL: set [log] url in the policy or pass --log <url>"))?;
    let client = LogClient::new(&url)?;
    let dir = state.mirror_dir(&log.origin);
    state.ensure()?;
    crate::state::create_private_dir(&dir)?;
    let mut progress = load_progress(&dir)?;
    let entries_path = dir.join("entries.bin");

    let note = client.get_ok("/checkpoint", MAX_CHECKPOINT)?;
    let cp = glue::verify_checkpoint(&policy, &note, None, None)?;
    if cp.size < progress.verified_size {
        return Err(evidence(format!(
            "rollback: the log's checkpoint has size {} but the mirror verified size {} before",
            cp.size, progress.verified_size
        )));
    }

    // Drop anything written after the last completed tile.
    let mut file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&entries_path)
        .with_context(|| format!("opening {}", entries_path.display()))?;
    file.set_len(progress.downloaded_bytes)
        .with_context(|| format!("truncating {}", entries_path.display()))?;
    file.seek(std::io::SeekFrom::End(0))?;

    let bar = if args.quiet || global.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(cp.size)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} entries ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(progress.downloaded_size.min(cp.size));
    while progress.downloaded_size < cp.size {
        let start = progress.downloaded_size;
        let tile = start / TILE_WIDTH;
        let tile_start = tile * TILE_WIDTH;
        let end = (tile_start + TILE_WIDTH).min(cp.size);
        let width = end - tile_start;
        let mut path = format!(
            "/tile/entries/{}",
            quorum_verifier::tiles::encode_tile_index(tile)
        );
        if width < TILE_WIDTH {
            path.push_str(&format!(".p/{width}"));
        }
        let data = client.get_ok(&path, MAX_TILE)?;
        let entries = quorum_verifier::tiles::decode_entry_bundle(&data)
            .map_err(|e| evidence(format!("entry bundle {path}: {e}")))?;
        if (entries.len() as u64) < width {
            return Err(evidence(format!(
                "entry bundle {path} holds {} entries, expected {width}",
                entries.len()
            )));
        }
        let mut buf = Vec::new();
        for e in &entries[(start - tile_start) as usize..width as usize] {
            buf.extend_from_slice(&(e.len() as u16).to_be_bytes());
            buf.extend_from_slice(e);
        }
        file.write_all(&buf)
            .and_then(|()| file.sync_data())
            .with_context(|| format!("writing {}", entries_path.display()))?;
        progress.downloaded_size = end;
        progress.downloaded_bytes += buf.len() as u64;
        save_progress(&dir, &progress)?;
        bar.set_position(end);
    }
    bar.finish_and_clear();

    // Recompute the root over everything and compare with the checkpoint.
    let all = read_entries(&entries_path, progress.downloaded_bytes)?;
    let entries = split_entry_bundle(&all)
        .map_err(|e| usage(format!("{} is damaged: {e}", entries_path.display())))?;
    let check = || -> anyhow::Result<()> {
        if progress.verified_size > 0
            && let Some(old) = progress.checkpoint.as_deref()
            && let Some((old_size, old_root)) = note_size_root(old.as_bytes())
            && root_of(&entries, old_size)? != old_root
        {
            return Err(evidence(format!(
                "fork: the log's entries up to size {old_size} no longer hash to the root verified before"
            )));
        }
        let root = root_of(&entries, cp.size)?;
        if root != cp.root {
            return Err(evidence(format!(
                "the entries served by the tiles do not hash to the checkpoint's root at size {}",
                cp.size
            )));
        }
        Ok(())
    };
    if let Err(e) = check() {
        // Keep only what was verified before; the next run downloads the rest again.
        progress.downloaded_size = progress.verified_size;
        progress.downloaded_bytes = progress.verified_bytes;
        save_progress(&dir, &progress)?;
        return Err(e);
    }
    progress.verified_size = cp.size;
    progress.verified_bytes = progress.downloaded_bytes;
    progress.checkpoint = Some(String::from_utf8_lossy(&cp.note).into_owned());
    if progress.dates.last().map(|d| d.0) != Some(cp.size) {
        progress.dates.push((cp.size, cp.time));
    }
    save_progress(&dir, &progress)?;
    let last_size = state
        .last_checkpoint(&cp.origin)?
        .as_deref()
        .and_then(note_size_root)
        .map_or(0, |(s, _)| s);
    if cp.size >= last_size {
        state.store_checkpoint(&cp.origin, &cp.note)?;
    }
    if global.json {
        println!(
            "{}",
            json!({"origin": cp.origin, "size": cp.size,
                   "root_hash": base64_root(&cp.root), "completeness": "complete"})
        );
    } else {
        println!(
            "mirrored {} entries of {}; root {} verified",
            cp.size,
            cp.origin,
            base64_root(&cp.root)
        );
    }
    Ok(0)
}

fn base64_root(root: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(root)
}

fn note_size_root(note: &[u8]) -> Option<(u64, [u8; 32])> {
    let parsed = quorum_verifier::note::Note::parse(note).ok()?;
    let cp = quorum_verifier::checkpoint::Checkpoint::parse(&parsed.text).ok()?;
    Some((cp.size, cp.root_hash))
}

/// Loads every verified entry of the mirror as evidence (completeness `complete`).
pub fn load_mirror(state: &State, policy: &Policy) -> anyhow::Result<VerifiedEvidence> {
    let origin = policy
        .log
        .as_ref()
        .map(|l| l.origin.clone())
        .ok_or_else(|| usage("the policy has no [log] section"))?;
    let dir = state.mirror_dir(&origin);
    let progress = load_progress(&dir)?;
    let Some(note) = progress.checkpoint.as_deref() else {
        return Err(usage(format!(
            "no mirror of {origin} yet; run `quorum mirror` first"
        )));
    };
    let checkpoint: VerifiedCheckpoint =
        glue::verify_checkpoint(policy, note.as_bytes(), None, None)?;
    let all = read_entries(&dir.join("entries.bin"), progress.verified_bytes)?;
    let entries = split_entry_bundle(&all)
        .map_err(|e| usage(format!("the mirror of {origin} is damaged: {e}")))?;
    if root_of(&entries, checkpoint.size)? != checkpoint.root {
        return Err(evidence(format!(
            "the mirror of {origin} does not hash to its checkpoint; delete {} and mirror again",
            dir.display()
        )));
    }
    let mut statements = Vec::new();
    let mut rejected = Vec::new();
    for (i, bytes) in entries.iter().enumerate().take(checkpoint.size as usize) {
        let index = i as u64;
        match verify_log_entry(bytes) {
            Ok(v) => {
                let dated = progress
                    .dates
                    .iter()
                    .find(|(size, _)| *size > index)
                    .map(|(_, t)| *t);
                for claim in claims_from_statement(&v.statement) {
                    statements.push(ProvenStatement {
                        index,
                        signer: v.signer,
                        envelope_digest: v.envelope_digest,
                        first_cosigned_at: dated,
                        claim,
                    });
                }
            }
            Err(e) => rejected.push((index, e.to_string())),
        }
    }
    Ok(VerifiedEvidence {
        checkpoint,
        statements,
        rejected,
    })
}
