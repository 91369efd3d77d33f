//! Server assembly: storage, key, the log core, background tasks, HTTP, and graceful
//! shutdown (stop accepting, drain and commit queued submissions, sign a final checkpoint).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use quorum_c2sp::note::Ed25519Signer;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{AppState, router};
use crate::config::Config;
use crate::log::{Log, LogError, run_sequencer, sign_checkpoint_if_grown};
use crate::metrics::Metrics;
use crate::storage::{Storage, StorageError, redact};
use crate::witness::{Publisher, Witness, WitnessError, run_witness};

/// Errors starting or running the server.
#[derive(Debug, Error)]
pub enum ServerError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log core failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The key file is unusable.
    #[error("key file {path}: {reason}")]
    Key {
        /// Path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A witness is misconfigured.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// Binding or serving failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// The largest key file read.
const MAX_KEY_FILE: u64 = 4096;

/// Loads the log's signer key (a signed-note `PRIVATE+KEY+...` string). Refuses files that
/// others can read.
pub fn load_key(path: &Path) -> Result<Ed25519Signer, ServerError> {
    let err = |reason: String| ServerError::Key {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > MAX_KEY_FILE {
        return Err(err("too large to be a key file".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(err(
                "readable by group or others; run `chmod 600` on it".into()
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    Ed25519Signer::from_skey(text.trim()).map_err(|e| err(format!("not a signer key: {e}")))
}

/// Generates a key for `origin`, writes it to `out` (mode 0600, never overwriting) and
/// returns the verifier key string.
pub fn keygen(origin: &str, out: &Path) -> Result<String, ServerError> {
    let err = |reason: String| ServerError::Key {
        path: out.display().to_string(),
        reason,
    };
    let signer = Ed25519Signer::generate(origin).map_err(|e| err(e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(out).map_err(|e| err(e.to_string()))?;
    use std::io::Write as _;
    f.write_all(format!("{}\n", signer.skey()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| err(e.to_string()))?;
    Ok(signer.vkey())
}

/// A running server.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The log core (for tests and tools).
    pub log: Log,
    shutdown: watch::Sender<bool>,
    handle: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Triggers graceful shutdown and waits for it to finish.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(true);
        self.handle
            .await
            .map_err(|e| ServerError::Io(std::io::Error::other(e.to_string())))?
    }

    /// Waits until the server stops (after [`RunningServer::trigger`] or a fatal error).
    pub async fn wait(self) -> Result<(), ServerError> {
        self.handle
            .await
            .map_err(|e| ServerError::Io(std::io::Error::other(e.to_string())))?
    }

    /// A sender that triggers graceful shutdown when `true` is sent.
    pub fn trigger(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens storage per `cfg`.
pub async fn open_storage(cfg: &Config) -> Result<Storage, ServerError> {
    Ok(match &cfg.database_url {
        Some(url) => {
            tracing::info!(url = %redact(url), "opening database");
            Storage::open(url).await?
        }
        None => {
            tracing::info!(dir = %cfg.data_dir.display(), "opening SQLite data directory");
            Storage::open_dir(&cfg.data_dir).await?
        }
    })
}

/// Starts the server with an already loaded key.
pub async fn start(cfg: Config, signer: Ed25519Signer) -> Result<RunningServer, ServerError> {
    let storage = open_storage(&cfg).await?;
    let witnesses = cfg
        .witnesses
        .iter()
        .map(Witness::from_config)
        .collect::<Result<Vec<_>, _>>()?;
    let metrics = Arc::new(Metrics::default());
    let (log, tasks) = Log::open(
        storage,
        signer,
        metrics,
        cfg.queue_capacity,
        cfg.required_cosignatures,
    )
    .await?;
    tracing::info!(origin = %log.origin(), size = log.tree.size(), "log opened");
    let cfg = Arc::new(cfg);
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let signed_tx = Arc::new(tasks.signed_tx);
    let publisher = Arc::new(Publisher::new(
        tasks.published_tx,
        cfg.required_cosignatures,
    ));

    // Sequencer: stops accepting when told, drains the queue, then ends.
    let (seq_stop_tx, mut seq_stop_rx) = watch::channel(false);
    let seq = {
        let log = log.clone();
        let mut rx = tasks.rx;
        let sequenced_tx = tasks.sequenced_tx;
        let max_batch = cfg.max_batch;
        tokio::spawn(async move {
            // Close the receiver on shutdown so that senders fail fast; the sequencer
            // drains what is buffered.
            let closer = async {
                let _ = seq_stop_rx.wait_for(|s| *s).await;
            };
            tokio::pin!(closer);
            let (inner_tx, inner_rx) = tokio::sync::mpsc::channel(max_batch.max(1024));
            let forward = async move {
                loop {
                    tokio::select! {
                        biased;
                        m = rx.recv() => match m {
                            Some(m) => { if inner_tx.send(m).await.is_err() { break; } }
                            None => break,
                        },
                        () = &mut closer => {
                            rx.close();
                            while let Some(m) = rx.recv().await {
                                if inner_tx.send(m).await.is_err() { break; }
                            }
                            break;
                        }
                    }
                }
            };
            tokio::join!(
                forward,
                run_sequencer(log, inner_rx, sequenced_tx, max_batch)
            );
        })
    };

    // Checkpoint signer.
    let (cp_stop_tx, mut cp_stop_rx) = watch::channel(false);
    let checkpointer = {
        let log = log.clone();
        let signed_tx = signed_tx.clone();
        let publisher = publisher.clone();
        let interval = Duration::from_millis(cfg.checkpoint_interval_ms);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = cp_stop_rx.wait_for(|s| *s) => break,
                }
                sign_and_offer(&log, &signed_tx, &publisher).await;
            }
        })
    };

    // Witnesses.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(cfg.witness_timeout_ms))
        .build()
        .map_err(|e| ServerError::Io(std::io::Error::other(e.to_string())))?;
    let refresh = (cfg.witness_refresh_interval_ms > 0)
        .then(|| Duration::from_millis(cfg.witness_refresh_interval_ms));
    let witness_tasks: Vec<JoinHandle<()>> = witnesses
        .into_iter()
        .map(|w| {
            tokio::spawn(run_witness(
                log.clone(),
                w,
                client.clone(),
                signed_tx.subscribe(),
                publisher.clone(),
                refresh,
            ))
        })
        .collect();

    let app = router(AppState::new(log.clone(), cfg.clone())).layer(
        tower_http::trace::TraceLayer::new_for_http()
            .make_span_with(tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::DEBUG))
            .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG)),
    );
    let log2 = log.clone();
    let handle = tokio::spawn(async move {
        let mut srx = shutdown_rx.clone();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = srx.wait_for(|s| *s).await;
        });
        let res = serve.await;
        tracing::info!("HTTP stopped; draining the sequencer");
        let _ = seq_stop_tx.send(true);
        let _ = seq.await;
        let _ = cp_stop_tx.send(true);
        let _ = checkpointer.await;
        sign_and_offer(&log2, &signed_tx, &publisher).await;
        for t in witness_tasks {
            t.abort();
        }
        tracing::info!(size = log2.tree.size(), "shutdown complete");
        log2.storage.close().await;
        res.map_err(ServerError::Io)
    });
    Ok(RunningServer {
        addr,
        log,
        shutdown: shutdown_tx,
        handle,
    })
}

async fn sign_and_offer(
    log: &Log,
    signed_tx: &watch::Sender<Option<Arc<crate::log::Published>>>,
    publisher: &Publisher,
) {
    match sign_checkpoint_if_grown(log, signed_tx).await {
        Ok(Some(p)) => {
            // Publish first (immediate when no cosignatures are required), then announce
            // it to `?wait=integrated` waiters and the witness tasks.
            publisher.offer(log, &p).await;
            signed_tx.send_replace(Some(p));
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "signing a checkpoint failed"),
    }
}
