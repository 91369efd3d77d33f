//! The witness proper: checking an add-checkpoint request and cosigning.
//!
//! Every cryptographic check goes through `quorum-verifier` (signed notes, checkpoints,
//! Merkle consistency, cosignatures). This module decides what to do with the results: the
//! C2SP tlog-witness status codes, the compare-and-swap in storage, and keeping evidence of
//! conflicting checkpoints.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::note::{self, Note, NoteError, VerifierKey, Verifiers};

use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::storage::{Evidence, LogState, Store, StoreError, empty_root};
use quorum_c2sp::witness_request::{AddCheckpointRequest, RequestError, parse_add_checkpoint};

/// Why an add-checkpoint request was refused. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// 400: the body is malformed.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 400: the old size is larger than the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldAboveSize {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// 403: no valid signature from a trusted key, or a trusted key's signature fails.
    #[error("checkpoint not signed by a trusted log key: {0}")]
    Untrusted(String),
    /// 404: the witness does not know this origin.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// 409: the old size is not the witness's latest cosigned size.
    #[error("old size does not match the witness's latest size {0}")]
    SizeMismatch(u64),
    /// 422: the consistency proof does not verify.
    #[error("invalid consistency proof: {0}")]
    BadProof(String),
    /// 422: same size as the cosigned checkpoint but a different root hash.
    #[error("checkpoint has the same size {0} as the cosigned one but a different root hash")]
    SameSizeOtherRoot(u64),
    /// 429: the log spent its request budget.
    #[error("request budget for this log is spent, retry later")]
    RateLimited,
    /// 500: storage or signing failed.
    #[error("internal error")]
    Internal(String),
}

impl AddError {
    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            AddError::Malformed(_) | AddError::OldAboveSize { .. } => 400,
            AddError::Untrusted(_) => 403,
            AddError::UnknownOrigin(_) => 404,
            AddError::SizeMismatch(_) => 409,
            AddError::BadProof(_) | AddError::SameSizeOtherRoot(_) => 422,
            AddError::RateLimited => 429,
            AddError::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for AddError {
    fn from(e: StoreError) -> Self {
        AddError::Internal(e.to_string())
    }
}

impl From<RequestError> for AddError {
    fn from(e: RequestError) -> Self {
        AddError::Malformed(e.to_string())
    }
}

/// Errors configuring logs.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The verifier key string is invalid or of a type the witness cannot verify.
    #[error("log key {key:?}: {reason}")]
    BadKey {
        /// The key string.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The origin is empty or contains a newline.
    #[error("invalid origin {0:?}")]
    BadOrigin(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks that a log key string can verify checkpoints; returns its parsed form.
pub fn check_log_key(vkey: &str) -> Result<VerifierKey, LogError> {
    let bad = |reason: String| LogError::BadKey {
        key: vkey.to_string(),
        reason,
    };
    let key = VerifierKey::parse(vkey).map_err(|e| bad(e.to_string()))?;
    key.verifier().map_err(|e| bad(e.to_string()))?;
    Ok(key)
}

/// Checks that an origin can appear as a checkpoint's first line.
pub fn check_origin(origin: &str) -> Result<(), LogError> {
    if origin.is_empty() || origin.chars().any(|c| c.is_control()) {
        return Err(LogError::BadOrigin(origin.to_string()));
    }
    Ok(())
}

/// A known log with its verifiers, cached in memory.
struct KnownLog {
    verifiers: Verifiers,
}

/// The result of a successful add-checkpoint.
#[derive(Clone, Debug)]
pub struct Cosigned {
    /// The cosignature line(s), each ending in a newline: the response body.
    pub lines: String,
    /// The checkpoint's size.
    pub size: u64,
    /// Whether the stored state advanced (false when re-cosigning the same checkpoint).
    pub advanced: bool,
}

/// The witness: its key, its store, its known logs.
pub struct Witness {
    store: Store,
    signer: CosignatureSigner,
    logs: RwLock<HashMap<String, Arc<KnownLog>>>,
    limiter: RateLimiter,
    /// Counters exported at `/metrics`.
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("name", &self.signer.name())
            .field("store", &self.store.backend())
            .finish_non_exhaustive()
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Witness {
    /// A witness signing with `signer`, keeping state in `store`.
    pub fn new(store: Store, signer: CosignatureSigner, limiter: RateLimiter) -> Witness {
        Witness {
            store,
            signer,
            logs: RwLock::new(HashMap::new()),
            limiter,
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// The storage backend.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The witness's name (its cosignature key name).
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The witness's verifier key string (type 0x04).
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// Adds a log (or another key for it) to the store. Never removes anything.
    pub async fn add_log(
        &self,
        origin: &str,
        vkey: &str,
        url: Option<&str>,
    ) -> Result<crate::storage::AddLogOutcome, LogError> {
        let out = add_log(&self.store, origin, vkey, url).await?;
        self.forget(origin);
        Ok(out)
    }

    fn forget(&self, origin: &str) {
        match self.logs.write() {
            Ok(mut l) => l.remove(origin),
            Err(p) => p.into_inner().remove(origin),
        };
    }

    async fn known_log(&self, origin: &str) -> Result<Option<Arc<KnownLog>>, AddError> {
        let cached = match self.logs.read() {
            Ok(l) => l.get(origin).cloned(),
            Err(p) => p.into_inner().get(origin).cloned(),
        };
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(rec) = self.store.log(origin).await? else {
            return Ok(None);
        };
        let mut verifiers = Verifiers::new();
        for k in &rec.keys {
            // Keys were checked when added; a key that no longer parses is skipped.
            match VerifierKey::parse(k).and_then(|k| k.verifier()) {
                Ok(v) => verifiers.add(v),
                Err(e) => tracing::warn!(origin, key = %k, error = %e, "skipping unusable log key"),
            }
        }
        let log = Arc::new(KnownLog { verifiers });
        match self.logs.write() {
            Ok(mut l) => l.insert(origin.to_string(), log.clone()),
            Err(p) => p.into_inner().insert(origin.to_string(), log.clone()),
        };
        Ok(Some(log))
    }

    /// Handles an add-checkpoint request body, counting the outcome in the metrics.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<Cosigned, AddError> {
        let result = match parse_add_checkpoint(body) {
            Ok(req) => self.add_parsed(&req, true).await,
            Err(e) => Err(e.into()),
        };
        self.metrics
            .count_add(result.as_ref().map(|_| 200).unwrap_or_else(|e| e.status()));
        result
    }

    /// Checks and cosigns a parsed request. `rate_limited` applies the per-log budget
    /// (pull mode, which the witness drives itself, skips it).
    pub async fn add_parsed(
        &self,
        req: &AddCheckpointRequest,
        rate_limited: bool,
    ) -> Result<Cosigned, AddError> {
        // Read the origin before verifying, to find the log's keys.
        let note =
            Note::parse(req.note.as_bytes()).map_err(|e| AddError::Malformed(e.to_string()))?;
        let cp = Checkpoint::parse(&note.text)
            .map_err(|e| AddError::Malformed(format!("checkpoint: {e}")))?;
        let Some(log) = self.known_log(&cp.origin).await? else {
            return Err(AddError::UnknownOrigin(cp.origin));
        };
        if rate_limited && !self.limiter.check(&cp.origin) {
            return Err(AddError::RateLimited);
        }
        let opened = note::open_parsed(note, &log.verifiers).map_err(|e| match e {
            NoteError::NoVerifiableSignatures => {
                AddError::Untrusted("no signature from a known log key".into())
            }
            other => AddError::Untrusted(other.to_string()),
        })?;
        if i64::try_from(cp.size).is_err() {
            return Err(AddError::Malformed(format!(
                "checkpoint size {} is too large for this witness",
                cp.size
            )));
        }
        if req.old_size > cp.size {
            return Err(AddError::OldAboveSize {
                old: req.old_size,
                size: cp.size,
            });
        }
        let state = self
            .store
            .state(&cp.origin)
            .await?
            .ok_or_else(|| AddError::UnknownOrigin(cp.origin.clone()))?;

        // A validly signed checkpoint of the cosigned size with another root is a fork,
        // whatever old size the client sent.
        if cp.size == state.size && cp.root_hash != state.root {
            self.keep_evidence(&state, &req.note, req, "same-size-different-root")
                .await;
            return Err(AddError::SameSizeOtherRoot(cp.size));
        }
        if req.old_size != state.size {
            return Err(AddError::SizeMismatch(state.size));
        }
        if req.old_size == cp.size {
            if !req.proof.is_empty() {
                return Err(AddError::BadProof(
                    "the proof must be empty when the old size equals the checkpoint size".into(),
                ));
            }
            if cp.size == 0 && cp.root_hash != empty_root() {
                return Err(AddError::BadProof(
                    "a size-0 checkpoint must have the empty tree's root".into(),
                ));
            }
        } else if req.old_size == 0 {
            if !req.proof.is_empty() {
                return Err(AddError::BadProof(
                    "the proof must be empty when the old size is 0".into(),
                ));
            }
        } else if let Err(e) =
            verify_consistency(state.size, cp.size, &state.root, &cp.root_hash, &req.proof)
        {
            self.keep_evidence(&state, &req.note, req, "inconsistent")
                .await;
            return Err(AddError::BadProof(e));
        }

        let sig = self
            .signer
            .sign_at(&opened.text, now_unix())
            .map_err(|e| AddError::Internal(format!("cosigning failed: {e}")))?;
        let line = sig.to_line();
        if req.old_size == cp.size && state.size != 0 {
            // The same checkpoint again: cosign it again, the state does not move.
            return Ok(Cosigned {
                lines: line,
                size: cp.size,
                advanced: false,
            });
        }
        let mut stored = Note {
            text: opened.text,
            signatures: opened.verified,
        };
        stored.signatures.push(sig);
        let stored = String::from_utf8(stored.to_bytes())
            .map_err(|e| AddError::Internal(format!("note is not UTF-8: {e}")))?;
        if !self
            .store
            .compare_and_swap(&cp.origin, &state, cp.size, &cp.root_hash, &stored)
            .await?
        {
            // Another request advanced the state first.
            let now = self
                .store
                .state(&cp.origin)
                .await?
                .map(|s| s.size)
                .unwrap_or(0);
            return Err(AddError::SizeMismatch(now));
        }
        tracing::info!(origin = %cp.origin, size = cp.size, "cosigned checkpoint");
        Ok(Cosigned {
            lines: line,
            size: cp.size,
            advanced: true,
        })
    }

    async fn keep_evidence(
        &self,
        state: &LogState,
        conflicting: &str,
        req: &AddCheckpointRequest,
        kind: &str,
    ) {
        use base64::Engine;
        let mut proof = format!("old {}\n", req.old_size);
        for h in &req.proof {
            proof.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
            proof.push('\n');
        }
        let origin = conflicting.lines().next().unwrap_or_default().to_string();
        let ev = Evidence {
            id: 0,
            origin: origin.clone(),
            kind: kind.to_string(),
            cosigned_note: state.note.clone(),
            conflicting_note: conflicting.to_string(),
            proof,
            observed_at: now_unix() as i64,
        };
        match self.store.add_evidence(&ev).await {
            Ok(true) => {
                self.metrics.evidence_stored.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(origin, kind, "conflicting checkpoint stored as evidence");
            }
            Ok(false) => {}
            Err(e) => tracing::error!(origin, error = %e, "failed to store evidence"),
        }
    }
}

/// Adds a log to a store after checking its origin and key.
pub async fn add_log(
    store: &Store,
    origin: &str,
    vkey: &str,
    url: Option<&str>,
) -> Result<crate::storage::AddLogOutcome, LogError> {
    check_origin(origin)?;
    check_log_key(vkey)?;
    Ok(store.add_log(origin, vkey, url).await?)
}

/// Verifies a consistency proof through `quorum-verifier`.
fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8; 32],
    new_root: &[u8; 32],
    proof: &[[u8; 32]],
) -> Result<(), String> {
    quorum_c2sp::merkle::verify_consistency(old_size, new_size, old_root, new_root, proof)
        .map_err(|e| e.to_string())
}
