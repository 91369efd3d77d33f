//! Pull mode: for logs that do not push checkpoints, the witness fetches the log's
//! `/checkpoint` and tiles (C2SP tlog-tiles), builds the consistency proof from the tiles
//! and cosigns through exactly the same checks as `add-checkpoint`. The tiles are not
//! trusted: the proof computed from them must verify against the stored root and the
//! log-signed checkpoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle::{HashReadError, prove_consistency};
use quorum_c2sp::note::Note;
use quorum_c2sp::tiles::{Tile, TileHashReader};

use crate::config::LogConfig;
use crate::witness::{AddError, Witness};
use quorum_c2sp::witness_request::AddCheckpointRequest;

/// Largest checkpoint the poller reads.
const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Fetching from the log failed.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The log served something that is not a checkpoint for this origin.
    #[error("bad checkpoint from the log: {0}")]
    BadCheckpoint(String),
    /// The consistency proof could not be built from the log's tiles.
    #[error("building the consistency proof from tiles: {0}")]
    Proof(String),
    /// The witness refused the checkpoint.
    #[error("witness refused the checkpoint ({status}): {0}", status = .0.status())]
    Refused(AddError),
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// The log's checkpoint is the one already cosigned.
    UpToDate(u64),
    /// The log serves a checkpoint older than the one cosigned; nothing to do.
    Behind {
        /// The log's size.
        log_size: u64,
        /// The witness's size.
        witness_size: u64,
    },
    /// A new checkpoint was cosigned.
    Cosigned(u64),
}

/// Fetches the log's newest checkpoint and, if it is new, proves and cosigns it.
pub async fn poll_once(
    witness: &Witness,
    client: &reqwest::Client,
    log: &LogConfig,
) -> Result<PollOutcome, PullError> {
    let base = log
        .url
        .as_deref()
        .ok_or_else(|| PullError::BadCheckpoint("log has no url".into()))?;
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let note_bytes = fetch(client, &format!("{base}checkpoint"), MAX_CHECKPOINT_BYTES).await?;
    let note = Note::parse(&note_bytes).map_err(|e| PullError::BadCheckpoint(e.to_string()))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| PullError::BadCheckpoint(e.to_string()))?;
    if cp.origin != log.origin {
        return Err(PullError::BadCheckpoint(format!(
            "origin {:?} is not the configured {:?}",
            cp.origin, log.origin
        )));
    }
    let note =
        String::from_utf8(note_bytes).map_err(|_| PullError::BadCheckpoint("not UTF-8".into()))?;
    let state = witness
        .store()
        .state(&log.origin)
        .await
        .map_err(|e| PullError::Refused(e.into()))?
        .ok_or_else(|| PullError::Refused(AddError::UnknownOrigin(log.origin.clone())))?;
    if cp.size < state.size {
        return Ok(PollOutcome::Behind {
            log_size: cp.size,
            witness_size: state.size,
        });
    }
    if cp.size == state.size && cp.root_hash == state.root && !state.note.is_empty() {
        return Ok(PollOutcome::UpToDate(cp.size));
    }
    let proof = if cp.size > state.size && state.size > 0 {
        let client = client.clone();
        let handle = tokio::runtime::Handle::current();
        let (old, new) = (state.size, cp.size);
        tokio::task::spawn_blocking(move || {
            let reader = TileHashReader::new(new, |tile: &Tile| {
                let url = format!("{base}{}", tile.path());
                handle
                    .block_on(fetch(&client, &url, tile.data_len()))
                    .map_err(|e| HashReadError::Backend(Box::new(e)))
            });
            prove_consistency(old, new, &reader).map_err(|e| PullError::Proof(e.to_string()))
        })
        .await
        .map_err(|e| PullError::Proof(e.to_string()))??
    } else {
        Vec::new()
    };
    let req = AddCheckpointRequest {
        old_size: state.size,
        proof,
        note,
    };
    match witness.add_parsed(&req, false).await {
        Ok(c) => {
            witness
                .metrics
                .pull_cosigned
                .fetch_add(1, Ordering::Relaxed);
            Ok(PollOutcome::Cosigned(c.size))
        }
        Err(e) => Err(PullError::Refused(e)),
    }
}

async fn fetch(client: &reqwest::Client, url: &str, max: usize) -> Result<Vec<u8>, PullError> {
    let err = |reason: String| PullError::Fetch {
        url: url.to_string(),
        reason,
    };
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(e.to_string()))? {
        if body.len() + chunk.len() > max {
            return Err(err(format!("response larger than {max} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTP client for pull mode, with timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("quorum-witness/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Starts polling one log every `poll_interval_secs` until `stop` turns true.
pub fn spawn_poller(
    witness: Arc<Witness>,
    log: LogConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = http_client();
        let period = Duration::from_secs(log.poll_interval_secs.max(1));
        loop {
            match poll_once(&witness, &client, &log).await {
                Ok(PollOutcome::Cosigned(size)) => {
                    tracing::info!(origin = %log.origin, size, "pulled and cosigned")
                }
                Ok(other) => tracing::debug!(origin = %log.origin, ?other, "poll"),
                Err(e) => {
                    witness.metrics.pull_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(origin = %log.origin, error = %e, "poll failed");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    })
}
