//! `quorum-witness`: a C2SP tlog-witness for any log.
//!
//! It cosigns checkpoints of the logs it knows (C2SP tlog-cosignature v1, Ed25519) after
//! checking the log's signature and a consistency proof from the last checkpoint it
//! cosigned, keeps that state in SQLite or PostgreSQL with a compare-and-swap, stores
//! conflicting checkpoints as evidence, and can pull logs that do not push (tlog-tiles).

#![warn(missing_docs)]

pub mod config;
pub mod metrics;
pub mod pull;
pub mod ratelimit;
pub mod server;
pub mod storage;
pub mod witness;
