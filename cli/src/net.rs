//! HTTP to the log, with a size limit on every response read.

use std::io::Read;
use std::time::Duration;

use crate::error::unavailable;

/// Largest evidence bundle read.
pub const MAX_BUNDLE: u64 = 16 << 20;
/// Largest checkpoint read.
pub const MAX_CHECKPOINT: u64 = 1 << 20;
/// Largest tile or entry bundle read (256 entries of at most 64 KiB plus prefixes).
pub const MAX_TILE: u64 = 256 * (65_535 + 2);
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
    /// A client for the log at `base` (an http or https URL).
    pub fn new(base: &str) -> anyhow::Result<LogClient> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(crate::error::usage(format!(
                "log URL {base:?} must start with http:// or https://"
            )));
        }
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("quorum/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
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

    /// GET `path` (starting with `/`), reading at most `limit` bytes of body.
    pub fn get(&self, path: &str, limit: u64) -> anyhow::Result<Response> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .get(&url)
            .send()
            .map_err(|e| unreachable(&url, &e))?;
        read_limited(&url, resp, limit)
    }

    /// POST a JSON body to `path`, reading at most `limit` bytes of body.
    pub fn post_json(&self, path: &str, body: Vec<u8>, limit: u64) -> anyhow::Result<Response> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .send()
            .map_err(|e| unreachable(&url, &e))?;
        read_limited(&url, resp, limit)
    }

    /// GET that must answer 200.
    pub fn get_ok(&self, path: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let r = self.get(path, limit)?;
        if r.status != 200 {
            return Err(unavailable(format!(
                "the log answered {} for {}{}: {}",
                r.status,
                self.base,
                path,
                error_text(&r.body)
            )));
        }
        Ok(r.body)
    }
}

fn read_limited(
    url: &str,
    resp: reqwest::blocking::Response,
    limit: u64,
) -> anyhow::Result<Response> {
    let status = resp.status().as_u16();
    let limit = if (200..300).contains(&status) {
        limit
    } else {
        MAX_ERROR_BODY
    };
    if let Some(len) = resp.content_length()
        && len > limit
        && (200..300).contains(&status)
    {
        return Err(unavailable(format!(
            "{url} answered with {len} bytes, more than the limit of {limit}"
        )));
    }
    let mut body = Vec::new();
    resp.take(limit + 1).read_to_end(&mut body).map_err(|e| {
        let cause = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<reqwest::Error>())
            .map_or_else(|| e.to_string(), real_cause);
        unavailable(format!("reading the answer from {url}: {cause}"))
    })?;
    if body.len() as u64 > limit {
        if (200..300).contains(&status) {
            return Err(unavailable(format!(
                "{url} answered with more than the limit of {limit} bytes"
            )));
        }
        body.truncate(limit as usize);
    }
    Ok(Response { status, body })
}

/// The error for a request that got no answer, naming the URL and the real cause.
fn unreachable(url: &str, e: &reqwest::Error) -> anyhow::Error {
    unavailable(format!("cannot reach the log at {url}: {}", real_cause(e)))
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
