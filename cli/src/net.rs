//! HTTP to the log, with a size limit on every response read and a timeout on every
//! request; [`LogClient`] is the CLI's [`LogFetcher`] for the library's client layer.

use std::io::Read;
use std::time::Duration;

use quorum_c2sp::tiles::TileRef;
use quorum_verifier::client::fetch::{
    FetchError, LogFetcher, MAX_CHECKPOINT_BYTES, MAX_PAGE_BYTES, MAX_TILE_BYTES,
};

use crate::error::unavailable;

/// Largest submission response read.
pub const MAX_SUBMIT_RESPONSE: u64 = 1 << 20;
/// Largest error body shown.
const MAX_ERROR_BODY: u64 = 4096;

/// A client for one log.
pub struct LogClient {
    base: String,
    http: reqwest::blocking::Client,
}

/// A response body with its status.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The body, at most the limit given.
    pub body: Vec<u8>,
}

impl LogClient {
    /// A client for the log at `base` (an http or https URL); each request times out after
    /// `timeout`.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<LogClient> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(crate::error::usage(format!(
                "log URL {base:?} must start with http:// or https://"
            )));
        }
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("quorum/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(15)))
            .timeout(timeout)
            .build()
            .map_err(|e| unavailable(format!("cannot build an HTTP client: {e}")))?;
        Ok(LogClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// The log's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn send(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &str,
        limit: u64,
    ) -> Result<Response, FetchError> {
        let resp = request
            .send()
            .map_err(|e| FetchError::Unreachable(format!("{url}: {}", real_cause(&e))))?;
        read_limited(url, resp, limit)
    }

    /// POST a JSON body to `path`, reading at most `limit` bytes of body.
    pub fn post_json(&self, path: &str, body: Vec<u8>, limit: u64) -> anyhow::Result<Response> {
        let url = format!("{}{}", self.base, path);
        let request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body);
        self.send(request, &url, limit)
            .map_err(|e| unavailable(e.to_string()))
    }

    /// GET `path` (starting with `/`), which must answer 200, reading at most `limit` bytes.
    pub fn get_ok(&self, path: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}{}", self.base, path);
        self.ok(self.http.get(url), path, limit)
            .map_err(|e| unavailable(e.to_string()))
    }

    /// A request that must answer 200.
    fn ok(
        &self,
        request: reqwest::blocking::RequestBuilder,
        path: &str,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}{}", self.base, path);
        let r = self.send(request, &url, limit)?;
        if r.status != 200 {
            return Err(FetchError::Status {
                status: r.status,
                what: url,
                message: error_text(&r.body),
            });
        }
        Ok(r.body)
    }
}

impl LogFetcher for LogClient {
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/checkpoint", self.base);
        self.ok(self.http.get(url), "/checkpoint", MAX_CHECKPOINT_BYTES)
    }

    fn tile(&self, tile: &TileRef) -> Result<Vec<u8>, FetchError> {
        let path = format!("/{}", tile.path());
        let url = format!("{}{path}", self.base);
        self.ok(self.http.get(url), &path, MAX_TILE_BYTES)
    }

    fn evidence(&self, request: &[u8]) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/v1/evidence", self.base);
        let builder = self
            .http
            .post(url)
            .header("content-type", "application/x-protobuf")
            .header("accept", "application/x-protobuf")
            .body(request.to_vec());
        self.ok(builder, "/v1/evidence", MAX_PAGE_BYTES)
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}

/// An error with its causes (reqwest hides "connection reset", "timed out" in its sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn read_limited(
    url: &str,
    resp: reqwest::blocking::Response,
    limit: u64,
) -> Result<Response, FetchError> {
    let status = resp.status().as_u16();
    let ok = (200..300).contains(&status);
    let limit = if ok { limit } else { MAX_ERROR_BODY };
    if let Some(len) = resp.content_length()
        && len > limit
        && ok
    {
        return Err(FetchError::TooLarge {
            what: url.to_string(),
            limit,
        });
    }
    let mut body = Vec::new();
    resp.take(limit + 1).read_to_end(&mut body).map_err(|e| {
        let cause = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<reqwest::Error>())
            .map_or_else(|| error_chain(&e), real_cause);
        FetchError::Unreachable(format!("reading the answer from {url}: {cause}"))
    })?;
    if body.len() as u64 > limit {
        if ok {
            return Err(FetchError::TooLarge {
                what: url.to_string(),
                limit,
            });
        }
        body.truncate(limit as usize);
    }
    Ok(Response { status, body })
}

/// What actually went wrong under reqwest's "error sending request": the innermost cause
/// (`connection refused`, `timed out`, the resolver's or TLS library's words).
fn real_cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out (no answer within the time limit)".into();
    }
    let mut innermost: Option<&(dyn std::error::Error + 'static)> = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        innermost = Some(s);
        source = s.source();
    }
    let Some(cause) = innermost else {
        return e.to_string();
    };
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind;
        let plain = match io.kind() {
            ErrorKind::ConnectionRefused => Some("connection refused (is the log running there?)"),
            ErrorKind::ConnectionReset => Some("connection reset by the server"),
            ErrorKind::TimedOut => Some("timed out"),
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                Some("no route to the host")
            }
            _ => None,
        };
        if let Some(plain) = plain {
            return plain.into();
        }
    }
    cause.to_string()
}

/// A short printable form of an error body (a quorum.v1.Error JSON's message, or the text).
pub fn error_text(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(m) = v.get("message").and_then(|m| m.as_str())
    {
        return m.chars().take(500).collect();
    }
    String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(500)
        .collect()
}

/// Percent-encodes a query parameter value.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
