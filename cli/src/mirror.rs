//! `quorum mirror`: download every entry of the log through the C2SP tlog-tiles entry
//! bundles, verify and index each, recompute the root, check it against a verified
//! checkpoint, and resume after an interruption. `verify --mirror` then decides from the
//! entries about the packages asked for plus the whole trust graph: completeness `complete`.
//!
//! Files in `mirror/<log>/`: `entries.bin`, `leaves.bin` and `index.bin` (see `store.rs`)
//! and `progress.json` (how far the download and the verification got, and the checkpoints
//! seen, which date the entries for provable age).

use std::fs;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use quorum_verifier::policy::Policy;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::{Global, MirrorArgs};
use crate::error::{evidence, usage};
use crate::glue::{self, VerifiedCheckpoint, VerifiedEvidence};
use crate::net::{LogClient, MAX_CHECKPOINT, MAX_TILE};
use crate::state::{State, write_atomic};
use quorum_verifier::client::mirror_store::{
    self as store, Lengths, MirrorFiles, MirrorWriter, StoreError,
};

/// Entries per full tile (C2SP tlog-tiles).
const TILE_WIDTH: u64 = 256;

/// The on-disk format this code writes; a mirror in another format is mirrored again.
const FORMAT: u32 = 2;

/// Tiles fetched before their entries are verified and written together: larger batches
/// keep both cores busy verifying signatures.
const TILES_PER_BATCH: u64 = 16;

/// Download and verification progress.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// The mirror's file format ([`FORMAT`]).
    #[serde(default)]
    format: u32,
    /// How far the files were written (entries downloaded, verified and indexed).
    #[serde(default)]
    downloaded: Lengths,
    /// The prefix whose root matched `checkpoint`.
    #[serde(default)]
    verified: Lengths,
    /// The verified checkpoint note (text), if any.
    #[serde(default)]
    checkpoint: Option<String>,
    /// (size, cosignature time) of every checkpoint the mirror verified, ascending.
    #[serde(default)]
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress {
            format: FORMAT,
            ..Progress::default()
        }),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save_progress(dir: &Path, p: &Progress) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(p).context("encoding mirror progress")?;
    write_atomic(&dir.join("progress.json"), &bytes)
}

/// Store errors as exit codes: a root mismatch is failed evidence, damage an input error.
fn store_error(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::RootMismatch { .. } => evidence(e.to_string()),
        StoreError::Damaged { .. } => usage(e.to_string()),
        StoreError::Io { .. } => anyhow::Error::new(e),
    }
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
    if progress.format != FORMAT {
        // An older layout (no index): start over rather than guess.
        store::remove_files(&dir).map_err(store_error)?;
        progress = Progress {
            format: FORMAT,
            ..Progress::default()
        };
    }

    let note = client.get_ok("/checkpoint", MAX_CHECKPOINT)?;
    let cp = glue::verify_checkpoint(&policy, &note, None, None)?;
    if cp.size < progress.verified.size {
        return Err(evidence(format!(
            "rollback: the log's checkpoint has size {} but the mirror verified size {} before",
            cp.size, progress.verified.size
        )));
    }
    if progress.downloaded.size > cp.size {
        // Downloaded past this checkpoint under a checkpoint that did not verify: redo.
        progress.downloaded = progress.verified;
    }

    let mut writer = MirrorWriter::open(&dir, progress.downloaded).map_err(store_error)?;
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
    bar.set_position(progress.downloaded.size);
    let started = std::time::Instant::now();
    let first = progress.downloaded.size;
    while writer.lengths().size < cp.size {
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut start = writer.lengths().size;
        for _ in 0..TILES_PER_BATCH {
            if start >= cp.size {
                break;
            }
            let tile = start / TILE_WIDTH;
            let tile_start = tile * TILE_WIDTH;
            let end = (tile_start + TILE_WIDTH).min(cp.size);
            let width = end - tile_start;
            let mut path = format!(
                "/tile/entries/{}",
                quorum_c2sp::tiles::encode_tile_index(tile)
            );
            if width < TILE_WIDTH {
                path.push_str(&format!(".p/{width}"));
            }
            let data = client.get_ok(&path, MAX_TILE)?;
            let entries = quorum_c2sp::tiles::decode_entry_bundle(&data)
                .map_err(|e| evidence(format!("entry bundle {path}: {e}")))?;
            if (entries.len() as u64) < width {
                return Err(evidence(format!(
                    "entry bundle {path} holds {} entries, expected {width}",
                    entries.len()
                )));
            }
            batch.extend(
                entries[(start - tile_start) as usize..width as usize]
                    .iter()
                    .map(|e| e.to_vec()),
            );
            start = end;
        }
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        writer.append(&refs).map_err(store_error)?;
        progress.downloaded = writer.lengths();
        save_progress(&dir, &progress)?;
        bar.set_position(progress.downloaded.size);
    }
    bar.finish_and_clear();
    drop(writer);
    let fetched = progress.downloaded.size - first;
    let seconds = started.elapsed().as_secs_f64();

    // The earlier verified prefix must still hash to its root (else the log forked), and the
    // whole must hash to the new checkpoint's root.
    let files = MirrorFiles { dir: dir.clone() };
    let check = || -> anyhow::Result<()> {
        if progress.verified.size > 0
            && let Some(old) = progress.checkpoint.as_deref()
            && let Some((old_size, old_root)) = note_size_root(old.as_bytes())
        {
            match files.check_root(old_size, &old_root) {
                Ok(_) => {}
                Err(StoreError::RootMismatch { .. }) => {
                    return Err(evidence(format!(
                        "fork: the log's entries up to size {old_size} no longer hash to the root verified before"
                    )));
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        files.check_root(cp.size, &cp.root).map_err(|e| match e {
            StoreError::RootMismatch { .. } => evidence(format!(
                "the entries served by the tiles do not hash to the checkpoint's root at size {}",
                cp.size
            )),
            other => store_error(other),
        })?;
        Ok(())
    };
    if let Err(e) = check() {
        // Keep only what was verified before; the next run downloads the rest again.
        progress.downloaded = progress.verified;
        save_progress(&dir, &progress)?;
        return Err(e);
    }
    progress.verified = progress.downloaded;
    progress.checkpoint = Some(String::from_utf8_lossy(&cp.note).into_owned());
    if progress.dates.last().map(|d| d.0) != Some(cp.size) {
        progress.dates.push((cp.size, cp.dated_at));
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
    let rate = if seconds > 0.0 {
        fetched as f64 / seconds
    } else {
        0.0
    };
    if global.json {
        println!(
            "{}",
            json!({"origin": cp.origin, "size": cp.size, "fetched": fetched,
                   "entries_per_second": rate.round(),
                   "root_hash": base64_root(&cp.root), "completeness": "complete"})
        );
    } else {
        println!(
            "mirrored {} entries of {} ({fetched} new, {:.0} entries/s); root {} verified",
            cp.size,
            cp.origin,
            rate,
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
    let parsed = quorum_c2sp::note::Note::parse(note).ok()?;
    let cp = quorum_c2sp::checkpoint::Checkpoint::parse(&parsed.text).ok()?;
    Some((cp.size, cp.root_hash))
}

/// Loads, from the mirror, the verified entries about `packages` (purls without version)
/// and the whole trust graph, as evidence of completeness `complete`.
pub fn load_mirror(
    state: &State,
    policy: &Policy,
    packages: &[String],
    recheck: store::Recheck,
) -> anyhow::Result<VerifiedEvidence> {
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
    if progress.format != FORMAT {
        return Err(usage(format!(
            "the mirror of {origin} is in an older format; run `quorum mirror` to rebuild it"
        )));
    }
    // The checkpoint again against today's policy (log key, witness quorum).
    let checkpoint: VerifiedCheckpoint =
        glue::verify_checkpoint(policy, note.as_bytes(), None, None)?;
    if checkpoint.size != progress.verified.size {
        return Err(usage(format!(
            "the mirror of {origin} is damaged (checkpoint size {} but {} entries verified); delete {} and mirror again",
            checkpoint.size,
            progress.verified.size,
            dir.display()
        )));
    }
    let loaded = store::load_for_packages(
        &dir,
        progress.verified,
        &checkpoint.root,
        packages,
        &progress.dates,
        recheck,
    )
    .map_err(|e| match e {
        StoreError::RootMismatch { .. } => evidence(format!(
            "the mirror of {origin} does not hash to its checkpoint; delete {} and mirror again",
            dir.display()
        )),
        other => store_error(other),
    })?;
    Ok(VerifiedEvidence {
        checkpoint,
        statements: loaded.statements,
        rejected: loaded.rejected,
    })
}
