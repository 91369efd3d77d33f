//! Quorum's log server: submission, sequencing, durable storage, checkpoint signing,
//! witness cosignatures and the C2SP tlog-tiles read API.

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod log;
pub mod metrics;
pub mod ratelimit;
pub mod server;
pub mod storage;
pub mod tiles;
pub mod witness;
