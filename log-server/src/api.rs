//! The HTTP API: submissions, the C2SP tlog-tiles read API, lookups, evidence, health and
//! metrics. See `spec/log-server.md`.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use quorum_c2sp::tiles::{TileRef, encode_entry_bundle, parse_path, tile_data_from_hashes};
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_proto::v1;
use quorum_verifier::model::dsse::{DsseError, Envelope, VerifyingKey};
use quorum_verifier::model::log_entry::{self, LogEntry, LogEntryError};
use quorum_verifier::model::predicates::ValidatedStatement;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::config::Config;
use crate::log::{Log, Published, Sequenced, Submission, now_ms, with_cosignatures};
use crate::ratelimit::RateLimiter;
use crate::tiles::TileCache;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The log core.
    pub log: Log,
    /// Configuration.
    pub cfg: Arc<Config>,
    /// Submission rate limits.
    pub limiter: Arc<RateLimiter>,
    tiles: Arc<TileCache>,
}

/// The longest tile path served (the longest valid one is about 40 bytes).
const MAX_TILE_PATH: usize = 128;
const MAX_LOOKUP: u32 = 1000;
const MAX_QUERY_PARAM: usize = 2048;

impl AppState {
    /// New handler state.
    pub fn new(log: Log, cfg: Arc<Config>) -> AppState {
        AppState {
            limiter: Arc::new(RateLimiter::new(cfg.rate_limit.clone())),
            log,
            tiles: Arc::new(TileCache::new(cfg.tile_cache_bytes)),
            cfg,
        }
    }
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/statements", post(post_statements).get(get_statements))
        .route("/v1/evidence", get(get_evidence).post(post_evidence))
        .route("/checkpoint", get(get_checkpoint))
        .route("/tile/{*path}", get(get_tile))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// An API error: HTTP status plus a `quorum.v1.Error` JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: v1::ErrorCode,
    message: String,
    /// For an internal error, its cause: logged when the error is answered (never when it is
    /// merely built), and kept out of the answer.
    cause: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: v1::ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            cause: None,
        }
    }
    fn malformed(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, v1::ErrorCode::Malformed, m)
    }
    fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, v1::ErrorCode::NotFound, m)
    }
    fn internal(m: impl std::fmt::Display) -> ApiError {
        ApiError {
            cause: Some(m.to_string()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                v1::ErrorCode::Internal,
                "internal error; see the server log",
            )
        }
    }
    /// Logs the cause of an internal error; called exactly where an error is answered, so
    /// the server log holds one line per internal error a client saw and nothing else.
    fn log_if_internal(&self) {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %cause, "internal error");
        }
    }
    fn body(&self) -> v1::Error {
        v1::Error {
            code: self.code as i32,
            message: self.message.clone(),
            detail: String::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_internal();
        let body = serde_json::to_string(&self.body()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

// ---------------------------------------------------------------------------------------
// Submission
// ---------------------------------------------------------------------------------------

/// Query of `POST /v1/statements`.
#[derive(Debug, Deserialize)]
pub struct SubmitQuery {
    /// `integrated` or `cosigned`.
    wait: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    None,
    Integrated,
    Cosigned,
}

/// Parses a signer key in the one key grammar (`quorum_verifier::model::principal`), and
/// rejects invalid and small-order points.
pub fn parse_key_text(text: &str) -> Option<[u8; 32]> {
    let key = quorum_verifier::model::principal::parse_key(text).ok()?;
    log_entry::parse_verifying_key(&key).ok()?;
    Some(key)
}

fn envelope_error(e: &DsseError) -> ApiError {
    match e {
        DsseError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            v1::ErrorCode::TooLarge,
            e.to_string(),
        ),
        DsseError::NoValidSignature { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            v1::ErrorCode::BadSignature,
            e.to_string(),
        ),
        DsseError::WrongPayloadType { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            v1::ErrorCode::InvalidStatement,
            e.to_string(),
        ),
        _ => ApiError::malformed(e.to_string()),
    }
}

fn entry_error(e: &LogEntryError) -> ApiError {
    match e {
        LogEntryError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            v1::ErrorCode::TooLarge,
            e.to_string(),
        ),
        LogEntryError::Envelope(d) => envelope_error(d),
        _ => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            v1::ErrorCode::InvalidStatement,
            e.to_string(),
        ),
    }
}

/// A submission item that passed every check and is ready for the sequencer.
struct Verified {
    entry: Vec<u8>,
    digest: [u8; 32],
    signer: [u8; 32],
    subjects: Vec<(String, String)>,
    received_ms: i64,
}

/// The fields of a submission item read before its envelope: `envelope` and `publicKey` are
/// kept as raw JSON (borrowed from the body), so the envelope is parsed exactly once, by
/// [`Envelope::from_json`]. Other fields are skipped.
#[derive(Deserialize)]
struct ItemFields<'a> {
    #[serde(borrow, default)]
    envelope: Option<&'a RawValue>,
    #[serde(rename = "publicKey", borrow, default)]
    public_key: Option<&'a RawValue>,
}

/// Parsed signer keys of one request: batches usually repeat a few keys, and decompressing
/// an Ed25519 point costs about a fifth of a signature verification.
type KeyCache = HashMap<String, Option<VerifyingKey>>;

fn cached_key(keys: &mut KeyCache, text: &str) -> Option<VerifyingKey> {
    if let Some(k) = keys.get(text) {
        return *k;
    }
    let key = parse_key_text(text).and_then(|b| log_entry::parse_verifying_key(&b).ok());
    // Bounded by the number of items in the request.
    keys.insert(text.to_owned(), key);
    key
}

/// Parses one submission item (raw JSON): `{"envelope": …, "publicKey": …}` or a bare
/// envelope whose signature keyid is `ed25519:<hex>`.
fn parse_item(raw: &str, keys: &mut KeyCache) -> Result<(Envelope, VerifyingKey), ApiError> {
    if !raw.trim_start().starts_with('{') {
        return Err(ApiError::malformed("a submission must be a JSON object"));
    }
    let fields: ItemFields = serde_json::from_str(raw)
        .map_err(|e| ApiError::malformed(format!("malformed submission: {e}")))?;
    if let Some(envelope) = fields.envelope {
        let key_text: Option<String> = fields
            .public_key
            .and_then(|k| serde_json::from_str(k.get()).ok());
        let key_text = key_text.ok_or_else(|| {
            ApiError::malformed("`publicKey` (string) is required next to `envelope`")
        })?;
        let key = cached_key(keys, &key_text).ok_or_else(|| {
            ApiError::malformed(
                "`publicKey` is not a valid Ed25519 key (ed25519:<64 lowercase hex>, 64 lowercase hex digits or a signed-note verifier key)",
            )
        })?;
        let envelope =
            Envelope::from_json(envelope.get().as_bytes()).map_err(|e| envelope_error(&e))?;
        return Ok((envelope, key));
    }
    // A bare envelope: the signer key is a signature keyid of the form ed25519:<hex>.
    let envelope = Envelope::from_json(raw.as_bytes()).map_err(|e| envelope_error(&e))?;
    let key = envelope
        .signatures
        .iter()
        .filter(|s| s.keyid.starts_with("ed25519:"))
        .find_map(|s| cached_key(keys, &s.keyid))
        .ok_or_else(|| {
            ApiError::malformed(
                "no signer key: send {\"envelope\": ..., \"publicKey\": ...} or a signature keyid `ed25519:<hex>`",
            )
        })?;
    Ok((envelope, key))
}

/// Everything a verified envelope needs before it goes to the sequencer: subjects for
/// lookups, the digest for deduplication, and the encoded log entry.
fn prepare_entry(
    envelope: Envelope,
    key: &VerifyingKey,
    validated: &ValidatedStatement,
    received_ms: i64,
) -> Result<Verified, ApiError> {
    // The lookup index follows the one rule clients check answers against.
    let signer = key.to_bytes();
    let subjects = quorum_verifier::model::index::log_index_subjects(validated, &signer);
    let digest = envelope.digest();
    let entry = LogEntry {
        receipt_time_millis: received_ms,
        envelope,
        public_key: signer,
    }
    .into_bytes()
    .map_err(|e| entry_error(&e))?;
    Ok(Verified {
        entry,
        digest,
        signer,
        subjects,
        received_ms,
    })
}

/// Parses and verifies the items of one request (each a byte range of `body`), in order.
/// Signatures go through [`log_entry::verify_envelopes_batch`].
fn verify_items(
    body: &[u8],
    items: &[Range<usize>],
    received_ms: i64,
) -> Vec<Result<Verified, ApiError>> {
    let mut keys = KeyCache::new();
    let parsed: Vec<Result<(Envelope, VerifyingKey), ApiError>> = items
        .iter()
        .map(|range| {
            let raw = body
                .get(range.clone())
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| ApiError::internal("submission item outside the body"))?;
            parse_item(raw, &mut keys)
        })
        .collect();
    let verdicts = {
        let to_verify: Vec<(&Envelope, &VerifyingKey)> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(e, k)| (e, k)))
            .collect();
        log_entry::verify_envelopes_batch(&to_verify)
    };
    // One verdict per parsed item, in order; the items are consumed (not swapped out for a
    // placeholder, which would be an error value built, and logged, for every item).
    let mut verdicts = verdicts.into_iter();
    parsed
        .into_iter()
        .map(|p| {
            let (envelope, key) = p?;
            let validated = verdicts
                .next()
                .ok_or_else(|| ApiError::internal("missing verification result"))?
                .map_err(|e| entry_error(&e))?;
            prepare_entry(envelope, &key, &validated, received_ms)
        })
        .collect()
}

/// The position of `inner` (a slice borrowed from `outer`) within `outer`.
fn range_within(outer: &[u8], inner: &[u8]) -> Option<Range<usize>> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let end = start.checked_add(inner.len())?;
    (end <= outer.len()).then_some(start..end)
}

/// Splits a request body into its items without parsing them: `{"envelopes": [...]}` gives
/// one range per array element (and `true`), anything else is one item (and `false`).
fn split_items(body: &[u8]) -> Result<(Vec<Range<usize>>, bool), ApiError> {
    #[derive(Deserialize)]
    struct Top<'a> {
        #[serde(borrow, default)]
        envelopes: Option<&'a RawValue>,
    }
    let whole: &RawValue = serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed(format!("body is not JSON: {e}")))?;
    let whole_range = || {
        range_within(body, whole.get().as_bytes())
            .ok_or_else(|| ApiError::internal("JSON value outside the body"))
    };
    if !whole.get().starts_with('{') {
        return Ok((vec![whole_range()?], false));
    }
    let top: Top = serde_json::from_str(whole.get())
        .map_err(|e| ApiError::malformed(format!("malformed submission: {e}")))?;
    let Some(envelopes) = top.envelopes else {
        return Ok((vec![whole_range()?], false));
    };
    let list: Vec<&RawValue> = serde_json::from_str(envelopes.get())
        .map_err(|_| ApiError::malformed("`envelopes` must be an array"))?;
    let ranges = list
        .iter()
        .map(|raw| {
            range_within(body, raw.get().as_bytes())
                .ok_or_else(|| ApiError::internal("JSON value outside the body"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ranges, true))
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            v1::ErrorCode::TooLarge,
            format!("request body larger than {limit} bytes"),
        )
    })
}

/// `Query` whose rejection is the API's JSON error rather than axum's plain-text 400, so
/// every error a client sees has the same shape.
struct ApiQuery<T>(T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|rejection| {
                ApiError::malformed(format!("bad query string: {}", rejection.body_text()))
            })
    }
}

async fn post_statements(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<SubmitQuery>,
    body: Body,
) -> Response {
    match submit(st, q, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn submit(st: AppState, q: SubmitQuery, body: Body) -> Result<Response, ApiError> {
    let wait = match q.wait.as_deref() {
        None | Some("") | Some("none") => Wait::None,
        Some("integrated") => Wait::Integrated,
        Some("cosigned") => Wait::Cosigned,
        Some(_) => {
            return Err(ApiError::malformed(
                "`wait` must be `integrated` or `cosigned`",
            ));
        }
    };
    let bytes = read_body(body, st.cfg.max_body_bytes).await?;
    let (items, batch) = split_items(&bytes)?;
    if items.is_empty() {
        return Err(ApiError::malformed("`envelopes` is empty"));
    }
    if items.len() > st.cfg.max_batch_envelopes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            v1::ErrorCode::TooLarge,
            format!(
                "{} envelopes in one request, the limit is {}",
                items.len(),
                st.cfg.max_batch_envelopes
            ),
        ));
    }
    let rate_limited = || {
        st.log.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            v1::ErrorCode::RateLimited,
            "rate limit exceeded; retry later",
        )
    };
    if !st.limiter.check_global(items.len()) {
        return Err(rate_limited());
    }
    // Verification is CPU work: run big batches off the async workers.
    let received = now_ms();
    let results: Vec<Result<Verified, ApiError>> = if items.len() > 8 {
        tokio::task::spawn_blocking(move || verify_items(&bytes, &items, received))
            .await
            .map_err(ApiError::internal)?
    } else {
        verify_items(&bytes, &items, received)
    };
    // Per-key limits, then hand the valid ones to the sequencer.
    let mut pending = Vec::with_capacity(results.len());
    for r in results {
        let r = r.and_then(|v| {
            if st.limiter.check_key(&v.signer, 1) {
                Ok(v)
            } else {
                Err(rate_limited())
            }
        });
        let r = match r {
            Ok(v) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let digest = v.digest;
                st.log
                    .submit(Submission {
                        entry: v.entry,
                        envelope_digest: v.digest,
                        signer: v.signer,
                        received_ms: v.received_ms,
                        subjects: v.subjects,
                        reply: tx,
                    })
                    .map_err(|e| {
                        ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            v1::ErrorCode::Unavailable,
                            e.to_string(),
                        )
                    })
                    .map(|()| (rx, digest))
            }
            Err(e) => {
                if e.status != StatusCode::TOO_MANY_REQUESTS {
                    st.log.metrics.rejected.fetch_add(1, Ordering::Relaxed);
                }
                Err(e)
            }
        };
        pending.push(r);
    }
    let mut outcomes: Vec<Result<(Sequenced, [u8; 32]), ApiError>> =
        Vec::with_capacity(pending.len());
    for p in pending {
        outcomes.push(match p {
            Ok((rx, digest)) => match rx.await {
                Ok(Ok(s)) => Ok((s, digest)),
                Ok(Err(e)) => Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    v1::ErrorCode::Unavailable,
                    format!("the entry could not be stored: {e}; retry"),
                )),
                Err(_) => Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    v1::ErrorCode::Unavailable,
                    "the log is shutting down; retry",
                )),
            },
            Err(e) => Err(e),
        });
    }
    // Wait for a checkpoint covering every accepted entry, if asked.
    let max_index = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().map(|(s, _)| s.index))
        .max();
    let covers = match (wait, max_index) {
        // Without a wait, only a duplicate can already be covered: by the published
        // checkpoint (with its cosignatures) if that covers it, else by the latest signed one.
        (Wait::None, _) | (_, None) => [
            current_cover(&st, Wait::Cosigned),
            current_cover(&st, Wait::Integrated),
        ],
        (w, Some(i)) => [wait_for_cover(&st, w, i).await, None],
    };
    let responses: Vec<Result<v1::SubmitResponse, ApiError>> = outcomes
        .into_iter()
        .map(|o| {
            o.and_then(|(s, digest)| {
                let cover = covers
                    .iter()
                    .flatten()
                    .find(|p| p.size > s.index)
                    .filter(|_| wait != Wait::None || s.duplicate);
                submit_response(&st, s, digest, cover.map(Arc::as_ref))
            })
        })
        .collect();
    if batch {
        let results: Vec<Value> = responses
            .into_iter()
            .map(|r| match r {
                Ok(r) => serde_json::to_value(&r).unwrap_or(Value::Null),
                Err(e) => {
                    e.log_if_internal();
                    json!({"error": serde_json::to_value(e.body()).unwrap_or(Value::Null), "status": e.status.as_u16()})
                }
            })
            .collect();
        let body =
            serde_json::to_string(&json!({ "results": results })).map_err(ApiError::internal)?;
        Ok(json_response(StatusCode::OK, body))
    } else {
        match responses.into_iter().next() {
            Some(Ok(r)) => Ok(json_response(
                StatusCode::OK,
                serde_json::to_string(&r).map_err(ApiError::internal)?,
            )),
            Some(Err(e)) => Err(e),
            None => Err(ApiError::internal("no response")),
        }
    }
}

fn required_cosigs(st: &AppState) -> usize {
    if st.cfg.witnesses.is_empty() {
        0
    } else {
        st.cfg.required_cosignatures.max(1)
    }
}

fn current_cover(st: &AppState, w: Wait) -> Option<Arc<Published>> {
    match w {
        Wait::Cosigned => st.log.published.borrow().clone(),
        _ => st.log.signed.borrow().clone(),
    }
}

async fn wait_for_cover(st: &AppState, w: Wait, index: u64) -> Option<Arc<Published>> {
    let need = required_cosigs(st);
    let mut rx = match w {
        Wait::Cosigned => st.log.published.clone(),
        _ => st.log.signed.clone(),
    };
    let timeout = Duration::from_millis(st.cfg.max_wait_ms);
    let res = tokio::time::timeout(
        timeout,
        rx.wait_for(|p| {
            p.as_ref()
                .is_some_and(|p| p.size > index && (w != Wait::Cosigned || p.cosignatures >= need))
        }),
    )
    .await;
    match res {
        Ok(Ok(p)) => p.clone(),
        _ => None,
    }
}

fn submit_response(
    st: &AppState,
    s: Sequenced,
    digest: [u8; 32],
    cp: Option<&Published>,
) -> Result<v1::SubmitResponse, ApiError> {
    let (status, proof) = match cp.filter(|p| p.size > s.index) {
        Some(p) => {
            let hashes = st
                .log
                .tree
                .prove_inclusion(p.size, s.index)
                .map_err(ApiError::internal)?;
            let status = if s.duplicate {
                v1::SubmitStatus::Duplicate
            } else {
                v1::SubmitStatus::Sequenced
            };
            (
                status,
                // The note is UTF-8 text, so the formatted proof is too.
                String::from_utf8_lossy(
                    &TlogProof {
                        extra: None,
                        index: s.index,
                        hashes,
                        checkpoint: p.note.as_bytes().to_vec(),
                    }
                    .to_bytes(),
                )
                .into_owned(),
            )
        }
        None if s.duplicate => (v1::SubmitStatus::Duplicate, String::new()),
        None => (v1::SubmitStatus::Pending, String::new()),
    };
    Ok(v1::SubmitResponse {
        index: s.index,
        tlog_proof: proof,
        status: status as i32,
        envelope_digest: digest.to_vec(),
    })
}

// ---------------------------------------------------------------------------------------
// Read API (C2SP tlog-tiles)
// ---------------------------------------------------------------------------------------

async fn get_checkpoint(State(st): State<AppState>) -> Response {
    let p = st.log.published.borrow().clone();
    match p {
        Some(p) => {
            let mut r = (StatusCode::OK, p.note.clone()).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        None => ApiError::not_found("no checkpoint yet").into_response(),
    }
}

fn tile_response(bytes: Bytes, full: bool) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if full {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=1"
        }),
    );
    r
}

async fn get_tile(State(st): State<AppState>, uri: Uri) -> Response {
    st.log.metrics.tile_requests.fetch_add(1, Ordering::Relaxed);
    match serve_tile(&st, uri.path()).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Serves `/tile/...`: full tiles and bundles from the cache when there, else computed
/// (hash tiles from the in-memory tree, bundles from storage) and cached.
async fn serve_tile(st: &AppState, request_path: &str) -> Result<Response, ApiError> {
    let no_such = || ApiError::not_found("no such tile path");
    // The raw path, not percent-decoded: a canonical tile path has nothing to decode.
    let path = request_path.strip_prefix('/').ok_or_else(no_such)?;
    if path.len() > MAX_TILE_PATH {
        return Err(no_such());
    }
    let tile = parse_path(path).map_err(|_| no_such())?;
    let full = match tile {
        TileRef::Hashes(t) => t.is_full(),
        TileRef::Entries(b) => b.is_full(),
    };
    if full && let Some(data) = st.tiles.get(&tile) {
        st.log
            .metrics
            .tile_cache_hits
            .fetch_add(1, Ordering::Relaxed);
        return Ok(tile_response(data, true));
    }
    if !tile.within(st.log.tree.size()) {
        return Err(ApiError::not_found("tile beyond the tree"));
    }
    let data = match tile {
        TileRef::Hashes(t) => {
            tile_data_from_hashes(&t, st.log.tree.as_ref()).map_err(ApiError::internal)?
        }
        TileRef::Entries(b) => {
            let start = b
                .first_entry()
                .ok_or_else(|| ApiError::not_found("tile beyond the tree"))?;
            let entries = st
                .log
                .storage
                .entries_range(start, start + u64::from(b.width))
                .await
                .map_err(ApiError::internal)?;
            encode_entry_bundle(&entries).map_err(ApiError::internal)?
        }
    };
    let data = Bytes::from(data);
    if full {
        st.tiles.insert(tile, data.clone());
    }
    Ok(tile_response(data, full))
}

// ---------------------------------------------------------------------------------------
// Lookups and evidence
// ---------------------------------------------------------------------------------------

/// Query of `GET /v1/statements`.
#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    purl: Option<String>,
    signer: Option<String>,
    after: Option<u64>,
    limit: Option<u32>,
}

async fn lookup_indices(st: &AppState, q: &LookupQuery) -> Result<Vec<u64>, ApiError> {
    let after = match q.after {
        Some(a) => i64::try_from(a).map_err(|_| ApiError::malformed("`after` too large"))?,
        None => -1,
    };
    let limit = q.limit.unwrap_or(MAX_LOOKUP).clamp(1, MAX_LOOKUP);
    match (&q.purl, &q.signer) {
        (Some(purl), None) => {
            if purl.len() > MAX_QUERY_PARAM {
                return Err(ApiError::malformed("`purl` too long"));
            }
            let (package, version) = quorum_verifier::model::statement::parse_purl(purl)
                .map_err(|e| ApiError::malformed(e.to_string()))?;
            st.log
                .storage
                .lookup_package(&package, version.as_deref(), after, limit)
                .await
                .map_err(ApiError::internal)
        }
        (None, Some(signer)) => {
            let key = parse_key_text(signer)
                .ok_or_else(|| ApiError::malformed("`signer` is not an Ed25519 key"))?;
            st.log
                .storage
                .lookup_signer(&key, after, limit)
                .await
                .map_err(ApiError::internal)
        }
        _ => Err(ApiError::malformed(
            "give exactly one of `purl` or `signer`",
        )),
    }
}

async fn get_statements(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<LookupQuery>,
) -> Response {
    let run = async {
        let indices = lookup_indices(&st, &q).await?;
        let entries = st
            .log
            .storage
            .entries_by_index(&indices)
            .await
            .map_err(ApiError::internal)?;
        let mut out = Vec::with_capacity(entries.len());
        for (index, bytes) in &entries {
            let e = LogEntry::decode(bytes).map_err(ApiError::internal)?;
            let env: Value = serde_json::from_str(&e.envelope.to_json()).unwrap_or(Value::Null);
            out.push(json!({
                "index": index,
                "publicKey": format!("ed25519:{}", hex::encode(e.public_key)),
                "receiptTimeMillis": e.receipt_time_millis,
                "envelope": env,
                "logEntry": base64::engine::general_purpose::STANDARD.encode(bytes),
            }));
        }
        let next = entries.last().map(|(i, _)| *i);
        let body = json!({"entries": out, "next": next});
        Ok::<_, ApiError>(json_response(StatusCode::OK, body.to_string()))
    };
    run.await.unwrap_or_else(|e| e.into_response())
}

// ---------------------------------------------------------------------------------------
// Evidence: pages pinned to one tree size (spec/log-server.md "Evidence")
// ---------------------------------------------------------------------------------------

/// The most cursors (keys) one evidence request may carry.
pub const MAX_EVIDENCE_CURSORS: usize = 10_000;
/// Trust-graph cursors checked for entries by one query.
const EXISTENCE_BATCH: usize = 500;
/// The most entries one evidence page holds.
pub const MAX_PAGE_ENTRIES: usize = 8192;
/// The most entry bytes one evidence page holds (a page always holds at least one entry
/// when there is one to give, so a single large entry still goes through).
pub const MAX_PAGE_ENTRY_BYTES: usize = 8 << 20;
/// The largest evidence request body.
const MAX_EVIDENCE_REQUEST_BYTES: usize = 4 << 20;

/// Query of `GET /v1/evidence`: one package, for people and scripts.
#[derive(Debug, Deserialize)]
pub struct EvidenceQuery {
    /// A purl; its version, if any, is ignored (the answer covers every version).
    purl: Option<String>,
    /// The tree size to prove against (default: the published checkpoint's).
    size: Option<u64>,
    /// The first index wanted (default 0).
    start: Option<u64>,
}

/// Whether the client asked for protobuf.
fn wants_protobuf(headers: &axum::http::HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-protobuf"))
}

fn page_response(page: &v1::EvidencePage, protobuf: bool) -> Result<Response, ApiError> {
    if protobuf {
        use quorum_proto::prost::Message as _;
        let mut r = (StatusCode::OK, page.encode_to_vec()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        Ok(r)
    } else {
        let body = serde_json::to_string(page).map_err(ApiError::internal)?;
        Ok(json_response(StatusCode::OK, body))
    }
}

async fn get_evidence(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
) -> Response {
    let run = async {
        let purl = q
            .purl
            .as_deref()
            .ok_or_else(|| ApiError::malformed("`purl` is required"))?;
        if purl.len() > MAX_QUERY_PARAM {
            return Err(ApiError::malformed("`purl` too long"));
        }
        let (package, _) = quorum_verifier::model::statement::parse_purl(purl)
            .map_err(|e| ApiError::malformed(e.to_string()))?;
        let request = v1::EvidenceRequest {
            tree_size: q.size.unwrap_or(0),
            cursors: vec![v1::KeyCursor {
                key: package,
                start: q.start.unwrap_or(0),
                until: 0,
            }],
        };
        let page = evidence_page(&st, request).await?;
        page_response(&page, wants_protobuf(&headers, header::ACCEPT))
    };
    run.await.unwrap_or_else(|e: ApiError| e.into_response())
}

async fn post_evidence(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        let bytes = read_body(body, MAX_EVIDENCE_REQUEST_BYTES).await?;
        let request: v1::EvidenceRequest = if wants_protobuf(&headers, header::CONTENT_TYPE) {
            use quorum_proto::prost::Message as _;
            v1::EvidenceRequest::decode(bytes.as_ref())
                .map_err(|e| ApiError::malformed(format!("not an EvidenceRequest: {e}")))?
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::malformed(format!("not an EvidenceRequest: {e}")))?
        };
        let protobuf = wants_protobuf(&headers, header::ACCEPT)
            || (headers.get(header::ACCEPT).is_none()
                && wants_protobuf(&headers, header::CONTENT_TYPE));
        let page = evidence_page(&st, request).await?;
        page_response(&page, protobuf)
    };
    run.await.unwrap_or_else(|e: ApiError| e.into_response())
}

/// Answers one evidence request with one page: for each cursor in order, as far as the
/// page's budget goes, the range covered and every entry under the key in it, all proven
/// with one batch inclusion proof against the requested tree size, and the checkpoints that
/// date the package entries.
async fn evidence_page(
    st: &AppState,
    request: v1::EvidenceRequest,
) -> Result<v1::EvidencePage, ApiError> {
    use quorum_verifier::model::index::{TRUST_GRAPH_KEY, is_trust_graph_key, is_valid_key};
    let tree_size = st.log.tree.size();
    let size = if request.tree_size == 0 {
        st.log
            .published
            .borrow()
            .as_ref()
            .map(|p| p.size)
            .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?
    } else {
        request.tree_size
    };
    if size > tree_size {
        return Err(ApiError::malformed(format!(
            "tree_size {size} is beyond the log's tree ({tree_size} entries)"
        )));
    }
    if request.cursors.is_empty() || request.cursors.len() > MAX_EVIDENCE_CURSORS {
        return Err(ApiError::malformed(format!(
            "give 1 to {MAX_EVIDENCE_CURSORS} cursors"
        )));
    }
    // A cursor's end: `until`, where 0 means the requested tree size.
    let until_of = |c: &v1::KeyCursor| if c.until == 0 { size } else { c.until };
    let mut keys = std::collections::HashSet::new();
    for c in &request.cursors {
        let until = until_of(c);
        if !is_valid_key(&c.key) {
            return Err(ApiError::malformed(format!(
                "{:?} is neither a purl without version nor {TRUST_GRAPH_KEY} nor {TRUST_GRAPH_KEY}/<signer key in lowercase hex>",
                c.key.chars().take(100).collect::<String>()
            )));
        }
        if c.start >= until || until > size {
            return Err(ApiError::malformed(format!(
                "the cursor for {} asks for [{}, {until}) in a tree of {size}",
                c.key, c.start
            )));
        }
        if !keys.insert(c.key.as_str()) {
            return Err(ApiError::malformed(format!("{} is asked twice", c.key)));
        }
    }

    let mut entries: std::collections::BTreeMap<u64, Vec<u8>> = std::collections::BTreeMap::new();
    let mut ranges = Vec::new();
    let mut dated: Vec<u64> = Vec::new();
    let mut bytes = 0usize;
    // Trust-graph cursors are checked for having any entry at all in batches (one query for
    // the next EXISTENCE_BATCH of them, when the loop reaches the first unchecked one), and
    // only those that have one are read: most keys a client reaches make no trust
    // statement, and one query per key was most of the answer's time.
    let mut with_entries = std::collections::HashSet::new();
    let mut checked_below = 0usize;
    for (cursor_at, c) in request.cursors.iter().enumerate() {
        let until = until_of(c);
        let room = MAX_PAGE_ENTRIES.saturating_sub(entries.len());
        if room == 0 || bytes >= MAX_PAGE_ENTRY_BYTES {
            break;
        }
        let trust_graph = is_trust_graph_key(&c.key);
        if trust_graph && cursor_at >= checked_below {
            let mut batch = Vec::new();
            checked_below = cursor_at;
            for later in &request.cursors[cursor_at..] {
                if batch.len() == EXISTENCE_BATCH {
                    break;
                }
                checked_below += 1;
                if is_trust_graph_key(&later.key) {
                    batch.push((later.key.clone(), later.start, until_of(later)));
                }
            }
            with_entries = st
                .log
                .storage
                .trust_graph_keys_with_entries(&batch)
                .await
                .map_err(ApiError::internal)?;
        }
        let found = if trust_graph && !with_entries.contains(&c.key) {
            Vec::new()
        } else {
            st.log
                .storage
                .evidence_range(&c.key, c.start, until, room as u32 + 1)
                .await
                .map_err(ApiError::internal)?
        };
        let mut end = until;
        let mut indices = Vec::with_capacity(found.len().min(room));
        for (position, (index, entry)) in found.into_iter().enumerate() {
            let fresh = !entries.contains_key(&index);
            let over = position >= room
                || (fresh && bytes + entry.len() > MAX_PAGE_ENTRY_BYTES && !entries.is_empty());
            if over {
                end = index;
                break;
            }
            if fresh {
                bytes += entry.len();
                entries.insert(index, entry);
            }
            indices.push(index);
        }
        if end == c.start {
            // Not even this cursor's first entry fits: the page ends before it.
            break;
        }
        if !trust_graph {
            dated.extend(&indices);
        }
        ranges.push(v1::KeyRange {
            key: c.key.clone(),
            start: c.start,
            end,
            indices,
        });
        if end < until {
            break;
        }
    }
    let indices: Vec<u64> = entries.keys().copied().collect();
    let proof = quorum_c2sp::merkle::prove_batch_inclusion(size, &indices, st.log.tree.as_ref())
        .map_err(ApiError::internal)?;
    dated.sort_unstable();
    dated.dedup();
    let history = entry_history(st, &dated, size).await?;
    st.log
        .metrics
        .evidence_pages
        .fetch_add(1, Ordering::Relaxed);
    st.log
        .metrics
        .evidence_entries
        .fetch_add(entries.len() as u64, Ordering::Relaxed);
    Ok(v1::EvidencePage {
        tree_size: size,
        ranges,
        entries: entries
            .into_iter()
            .map(|(index, log_entry)| v1::PageEntry { index, log_entry })
            .collect(),
        inclusion_proof: proof.iter().map(|h| h.to_vec()).collect(),
        history,
    })
}

/// The earlier cosigned checkpoints that date the entries `indices` (ascending, all below
/// `size`): for each entry the first checkpoint with the cosignatures the log requires
/// that covers it, once each, with a consistency proof to `size`. A client dates an entry by
/// the witness timestamps of the earliest of them that covers it ("minimum provable age");
/// entries that no earlier checkpoint covers are dated by the client's checkpoint itself.
async fn entry_history(
    st: &AppState,
    indices: &[u64],
    size: u64,
) -> Result<Vec<v1::HistoricalCheckpoint>, ApiError> {
    let required = required_cosigs(st);
    let mut history = Vec::new();
    // Entries below this size are covered by the last checkpoint added.
    let mut covered_below = 0;
    for &index in indices {
        if index < covered_below {
            continue;
        }
        let first = st
            .log
            .storage
            .first_cosigned_checkpoint_covering(index, size, required)
            .await
            .map_err(ApiError::internal)?;
        let Some(first) = first else {
            break;
        };
        covered_below = first.size;
        let cosignatures = st
            .log
            .storage
            .cosignatures(first.size)
            .await
            .map_err(ApiError::internal)?;
        let dated = with_cosignatures(&first, &cosignatures).note;
        if first.size >= size {
            // The checkpoint of the requested size is the first to cover this entry and
            // every later one. An idle log serves it with refreshed cosignatures, though:
            // its first ones, which date the entries, go in the history too (consistency
            // proof: empty).
            history.push(v1::HistoricalCheckpoint {
                checkpoint: dated.into_bytes(),
                consistency_proof: Vec::new(),
            });
            break;
        }
        let proof = st
            .log
            .tree
            .prove_consistency(first.size, size)
            .map_err(ApiError::internal)?;
        history.push(v1::HistoricalCheckpoint {
            checkpoint: dated.into_bytes(),
            consistency_proof: proof.iter().map(|h| h.to_vec()).collect(),
        });
    }
    Ok(history)
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

async fn healthz(State(st): State<AppState>) -> Response {
    match st.log.storage.ping().await {
        Ok(()) => json_response(
            StatusCode::OK,
            json!({"status": "ok", "treeSize": st.log.tree.size()}).to_string(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "unavailable"}).to_string(),
            )
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let mut r = (StatusCode::OK, st.log.metrics.render()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
