//! How the client layer reads a log: a narrow trait over the log's read API, so the same
//! verification runs over HTTP (the CLI's implementation, which owns the HTTP client), in a
//! browser, or over an in-memory log in tests.

use quorum_c2sp::tiles::TileRef;
use thiserror::Error;

/// The largest checkpoint note read (C2SP signed notes are at most 1 MiB).
pub const MAX_CHECKPOINT_BYTES: u64 = quorum_c2sp::note::MAX_NOTE_SIZE as u64;
/// The largest tile or entry bundle read: 256 entries of at most 65,535 bytes, each with a
/// 2-byte length prefix.
pub const MAX_TILE_BYTES: u64 = 256 * (65_535 + 2);
/// The largest evidence page read. A log keeps the entries of a page to 8 MiB; the batch
/// inclusion proof and the dating checkpoints come on top.
pub const MAX_PAGE_BYTES: u64 = 48 << 20;

/// Why the log's answer could not be had. Every variant means "the log could not be
/// asked", never "the log's answer is wrong": the client then gives no verdict (exit 69).
#[derive(Debug, Clone, Error)]
pub enum FetchError {
    /// The log could not be reached, or the connection failed or timed out.
    #[error("cannot reach the log: {0}")]
    Unreachable(String),
    /// The log answered with an error status.
    #[error("the log answered HTTP {status} for {what}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// What was asked for.
        what: String,
        /// The log's error message.
        message: String,
    },
    /// The answer was larger than the limit for its kind.
    #[error("the log's answer for {what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was asked for.
        what: String,
        /// The limit.
        limit: u64,
    },
}

/// Read access to one log. Implementations enforce the size limits above and time out.
pub trait LogFetcher: Sync {
    /// `GET /checkpoint`: the latest checkpoint note, with its cosignatures.
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError>;

    /// `GET /tile/...`: a hash tile or an entry bundle, at the width asked for.
    fn tile(&self, tile: &TileRef) -> Result<Vec<u8>, FetchError>;

    /// `POST /v1/evidence` with a protobuf `EvidenceRequest`: the raw protobuf
    /// `EvidencePage`.
    fn evidence(&self, request: &[u8]) -> Result<Vec<u8>, FetchError>;

    /// A name for the log in messages and in recorded conflicts (its URL).
    fn describe(&self) -> String;
}
