//! The HTTP API: C2SP tlog-witness `POST /add-checkpoint`, the latest cosigned checkpoint
//! per log, evidence of conflicts, health and metrics.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Limits;
use crate::witness::{AddError, Witness};

/// Content type of a 409 response body (C2SP tlog-witness).
pub const TLOG_SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn add_error_response(e: AddError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match e {
        AddError::SizeMismatch(size) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(TLOG_SIZE_CONTENT_TYPE),
            )],
            format!("{size}\n"),
        )
            .into_response(),
        AddError::Internal(detail) => {
            tracing::error!(error = %detail, "add-checkpoint failed");
            text(status, "internal error\n".into())
        }
        AddError::RateLimited => {
            let mut r = text(status, format!("{e}\n"));
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        other => text(status, format!("{other}\n")),
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    match w.add_checkpoint(&body).await {
        Ok(c) => text(StatusCode::OK, c.lines),
        Err(e) => {
            tracing::debug!(status = e.status(), error = %e, "add-checkpoint refused");
            add_error_response(e)
        }
    }
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn checkpoint(State(w): State<Arc<Witness>>, Path(hash): Path<String>) -> Response {
    if !is_hex_sha256(&hash) {
        return text(
            StatusCode::NOT_FOUND,
            "expected /<lower-case hex SHA-256 of the origin>/checkpoint\n".into(),
        );
    }
    match w.store().checkpoint_by_origin_hash(&hash).await {
        Ok(Some(note)) => text(StatusCode::OK, note),
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            "no cosigned checkpoint for this origin\n".into(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "reading checkpoint failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into())
        }
    }
}

async fn evidence_response(w: &Witness, origin: Option<&str>) -> Response {
    match w.store().evidence(origin).await {
        Ok(ev) => match serde_json::to_string_pretty(&ev) {
            Ok(json) => (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                json,
            )
                .into_response(),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        Err(e) => {
            tracing::error!(error = %e, "reading evidence failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into())
        }
    }
}

async fn all_evidence(State(w): State<Arc<Witness>>) -> Response {
    evidence_response(&w, None).await
}

async fn origin_evidence(State(w): State<Arc<Witness>>, Path(hash): Path<String>) -> Response {
    if !is_hex_sha256(&hash) {
        return text(
            StatusCode::NOT_FOUND,
            "expected /evidence/<lower-case hex SHA-256 of the origin>\n".into(),
        );
    }
    match w.store().origin_by_hash(&hash).await {
        Ok(Some(origin)) => evidence_response(&w, Some(&origin)).await,
        Ok(None) => text(StatusCode::NOT_FOUND, "unknown origin\n".into()),
        Err(e) => {
            tracing::error!(error = %e, "reading origin failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into())
        }
    }
}

async fn healthz(State(w): State<Arc<Witness>>) -> Response {
    match w.store().ping().await {
        Ok(()) => text(StatusCode::OK, "ok\n".into()),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")),
    }
}

async fn metrics(State(w): State<Arc<Witness>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        w.metrics.render(),
    )
        .into_response()
}

async fn witness_key(State(w): State<Arc<Witness>>) -> Response {
    text(StatusCode::OK, format!("{}\n", w.vkey()))
}

async fn payload_too_large(State(w): State<Arc<Witness>>, r: Response) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        w.metrics.count_add(413);
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n".into(),
        );
    }
    r
}

/// The witness's HTTP routes with body-size, time and concurrency limits.
pub fn router(witness: Arc<Witness>, limits: &Limits) -> Router {
    let add = Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::middleware::map_response_with_state(
            witness.clone(),
            payload_too_large,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));
    Router::new()
        .merge(add)
        .route("/{hash}/checkpoint", get(checkpoint))
        .route("/evidence", get(all_evidence))
        .route("/evidence/{hash}", get(origin_evidence))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/witness-key", get(witness_key))
        .with_state(witness)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs.max(1)),
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests.max(1),
        ))
        .layer(TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes in-flight
/// requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
