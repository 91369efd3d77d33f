//! Witnessing: pushes each new checkpoint to the configured C2SP tlog-witness servers
//! (`POST /add-checkpoint` with the witness's last known size and a consistency proof),
//! verifies and stores the cosignatures they return, and publishes the checkpoint with its
//! cosignatures once enough have arrived.
//!
//! The log signs a checkpoint only when the tree grew, so an idle log would keep serving
//! cosignatures that grow ever older, and look frozen to a client that bounds the age of
//! the checkpoints it accepts. While no new checkpoint comes, each witness is therefore
//! asked again, every `witness_refresh_interval_ms`, to cosign the current one (old size =
//! size, empty proof: C2SP tlog-witness lets a witness cosign the checkpoint it already
//! holds, with a new timestamp); the freshest cosignatures are served, the first ones are
//! kept to date the entries.

use std::sync::Arc;
use std::time::Duration;

use quorum_c2sp::cosignature::CosignatureVerifier;
use quorum_c2sp::note::{Note, NoteSignature};
use quorum_c2sp::witness_request::AddCheckpointRequest;
use thiserror::Error;
use tokio::sync::{Mutex, watch};

use crate::config::WitnessConfig;
use crate::log::{Log, Published, now_ms, with_cosignatures};
use crate::storage::StoredCheckpoint;

/// The largest witness response body read, in bytes.
pub const MAX_WITNESS_RESPONSE: usize = 64 * 1024;

/// Errors talking to a witness.
#[derive(Debug, Error)]
pub enum WitnessError {
    /// The witness key is invalid.
    #[error("invalid witness vkey: {0}")]
    Key(String),
    /// HTTP failure or timeout.
    #[error("request to witness failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The witness answered with an unexpected status.
    #[error("witness answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Body, truncated.
        body: String,
    },
    /// The response carried no valid cosignature from this witness.
    #[error("witness response has no valid cosignature: {0}")]
    BadCosignature(String),
    /// The witness claims a size larger than the checkpoint (it saw a different log).
    #[error("witness is at size {witness} beyond our checkpoint {ours}")]
    Ahead {
        /// Size the witness reported.
        witness: u64,
        /// Our checkpoint size.
        ours: u64,
    },
    /// Local failure (proof or storage).
    #[error("{0}")]
    Local(String),
}

/// A configured witness.
#[derive(Debug, Clone)]
pub struct Witness {
    /// Name (from the vkey).
    pub name: String,
    /// Base URL.
    pub url: String,
    verifier: CosignatureVerifier,
}

impl Witness {
    /// From configuration.
    pub fn from_config(c: &WitnessConfig) -> Result<Witness, WitnessError> {
        let verifier = CosignatureVerifier::from_vkey(&c.vkey)
            .map_err(|e| WitnessError::Key(e.to_string()))?;
        let name = quorum_c2sp::note::NoteVerifier::name(&verifier).to_owned();
        Ok(Witness {
            name,
            url: c.url.trim_end_matches('/').to_owned(),
            verifier,
        })
    }
}

/// Publishes checkpoints to `/checkpoint` once they carry enough cosignatures.
#[derive(Debug)]
pub struct Publisher {
    tx: watch::Sender<Option<Arc<Published>>>,
    required: usize,
    lock: Mutex<()>,
}

impl Publisher {
    /// A publisher requiring `required` cosignatures.
    pub fn new(tx: watch::Sender<Option<Arc<Published>>>, required: usize) -> Publisher {
        Publisher {
            tx,
            required,
            lock: Mutex::new(()),
        }
    }

    /// Offers a checkpoint (with the freshest cosignatures stored for it); publishes it if
    /// it has enough cosignatures and is newer than the published one: larger, or the same
    /// with more or fresher cosignatures.
    pub async fn offer(&self, log: &Log, cp: &Published) {
        let _g = self.lock.lock().await;
        let cosigs = match log.storage.latest_cosignatures(cp.size).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "reading cosignatures failed");
                return;
            }
        };
        if cosigs.len() < self.required {
            return;
        }
        let stored = StoredCheckpoint {
            size: cp.size,
            root: cp.root,
            note: cp.signed_note.clone(),
        };
        let p = with_cosignatures(&stored, &cosigs);
        self.tx.send_if_modified(|cur| {
            // Stored cosignatures only ever get fresher (`latest_cosignatures` keeps the
            // largest timestamp), so a same-size note that differs without losing a
            // cosignature is a fresher one.
            let newer = match cur {
                Some(c) => {
                    p.size > c.size
                        || (p.size == c.size
                            && (p.cosignatures > c.cosignatures
                                || (p.cosignatures == c.cosignatures && p.note != c.note)))
                }
                None => true,
            };
            if newer {
                *cur = Some(Arc::new(p));
            }
            newer
        });
    }
}

/// Runs one witness's push loop until `signed` closes: every new checkpoint is pushed; a
/// failed push is retried after 2 s (or with the next checkpoint); and while no new
/// checkpoint comes, the current one is pushed again every `refresh` (`None`: never) for a
/// fresh cosignature.
pub async fn run_witness(
    log: Log,
    witness: Witness,
    client: reqwest::Client,
    mut signed: watch::Receiver<Option<Arc<Published>>>,
    publisher: Arc<Publisher>,
    refresh: Option<Duration>,
) {
    loop {
        let cp = signed.borrow_and_update().clone();
        let mut wait = refresh;
        if let Some(cp) = cp {
            match push(&log, &witness, &client, &cp).await {
                Ok(()) => publisher.offer(&log, &cp).await,
                Err(e) => {
                    log.metrics.witness_failed(&witness.name, cp.size);
                    tracing::warn!(witness = %witness.name, size = cp.size, error = %e, "witness push failed");
                    wait = Some(Duration::from_secs(2));
                }
            }
        }
        let changed = match wait {
            Some(d) => match tokio::time::timeout(d, signed.changed()).await {
                Ok(r) => r,
                // Time to retry, or to refresh the cosignature of an idle log.
                Err(_elapsed) => Ok(()),
            },
            None => signed.changed().await,
        };
        if changed.is_err() {
            return;
        }
    }
}

/// Pushes one checkpoint to a witness and stores its cosignature.
pub async fn push(
    log: &Log,
    witness: &Witness,
    client: &reqwest::Client,
    cp: &Published,
) -> Result<(), WitnessError> {
    let mut old = log
        .storage
        .witness_size(&witness.name)
        .await
        .map_err(|e| WitnessError::Local(e.to_string()))?
        .unwrap_or(0);
    if old > cp.size {
        old = 0;
    }
    let note =
        Note::parse(cp.signed_note.as_bytes()).map_err(|e| WitnessError::Local(e.to_string()))?;
    for _ in 0..3 {
        let proof = log
            .tree
            .prove_consistency(old, cp.size)
            .map_err(|e| WitnessError::Local(e.to_string()))?;
        let body = AddCheckpointRequest {
            old_size: old,
            proof,
            note: cp.signed_note.clone(),
        }
        .to_body();
        let resp = client
            .post(format!("{}/add-checkpoint", witness.url))
            .body(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        if bytes.len() > MAX_WITNESS_RESPONSE {
            return Err(WitnessError::Status {
                status,
                body: "response too large".into(),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        match status {
            200 => {
                let (line, timestamp) = text
                    .lines()
                    .filter_map(|l| NoteSignature::parse_line(l).ok())
                    .filter(|s| {
                        s.name == witness.name
                            && s.key_id
                                == quorum_c2sp::note::NoteVerifier::key_id(&witness.verifier)
                    })
                    .find_map(|s| {
                        let timestamp = witness
                            .verifier
                            .verify_cosignature(note.text.as_bytes(), &s.signature)
                            .ok()?;
                        Some((s, timestamp))
                    })
                    .ok_or_else(|| WitnessError::BadCosignature(truncate(&text)))?;
                log.storage
                    .record_cosignature(
                        cp.size,
                        &witness.name,
                        &line.to_line(),
                        timestamp,
                        now_ms(),
                    )
                    .await
                    .map_err(|e| WitnessError::Local(e.to_string()))?;
                log.storage
                    .set_witness_size(&witness.name, cp.size)
                    .await
                    .map_err(|e| WitnessError::Local(e.to_string()))?;
                log.metrics
                    .witness_cosigned(&witness.name, cp.size, timestamp);
                tracing::debug!(witness = %witness.name, size = cp.size, timestamp, "cosigned");
                return Ok(());
            }
            409 => {
                let size: u64 = text.trim().parse().map_err(|_| WitnessError::Status {
                    status,
                    body: truncate(&text),
                })?;
                if size > cp.size {
                    return Err(WitnessError::Ahead {
                        witness: size,
                        ours: cp.size,
                    });
                }
                log.storage
                    .set_witness_size(&witness.name, size)
                    .await
                    .map_err(|e| WitnessError::Local(e.to_string()))?;
                old = size;
            }
            _ => {
                return Err(WitnessError::Status {
                    status,
                    body: truncate(&text),
                });
            }
        }
    }
    Err(WitnessError::Status {
        status: 409,
        body: "witness size kept changing".into(),
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}
