//! The client layer every front end uses (the `quorum` CLI, the explorer, tests): how to
//! read a log ([`fetch::LogFetcher`]), which checkpoints to believe ([`checkpoint`]), the
//! one memory of the last checkpoint seen that refuses rollback and fork ([`memory`]),
//! evidence that is complete for a question or no evidence at all ([`evidence`], [`online`],
//! [`trust_graph`], [`verified_entries`]), receipts ([`receipt`]), and the mirror ([`mirror`], [`mirror_store`]).
//!
//! Front ends keep arguments, output and exit codes; every check is here, once. Errors carry
//! an [`ErrorClass`] that says which exit code a command-line front end gives them.

pub mod bundle;
pub mod checkpoint;
pub mod evidence;
pub mod fetch;
pub mod memory;
pub mod mirror;
pub mod mirror_store;
pub mod online;
pub mod receipt;
pub mod tiles;
pub mod trust_graph;
pub mod verified_entries;

use thiserror::Error;

pub use checkpoint::{CheckpointRef, LogTrust, VerifiedCheckpoint};
pub use fetch::{FetchError, LogFetcher};
pub use memory::{CheckpointMemory, DirStore, MemoryError};

/// What kind of failure an error is, for front ends that map failures to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input or unusable local state: a policy without a log, a damaged file (exit 64).
    Input,
    /// What the log served does not verify, contradicts itself or an earlier view (exit 3).
    Evidence,
    /// The log could not be asked: unreachable, timed out, or answered with an error (exit 69).
    Unavailable,
}

/// A failure of the client layer.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The policy cannot be applied to a log.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    /// The checkpoint memory refused the log's checkpoint, or could not be read.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// The log could not be asked.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// What the log served does not verify or contradicts itself.
    #[error("{0}")]
    Evidence(String),
    /// Local files (caches, mirrors) could not be used.
    #[error("{0}")]
    Local(String),
    /// No verdict: evidence needed for the question is missing.
    #[error("no verdict: the evidence is incomplete ({missing}): {cause}")]
    Incomplete {
        /// What is missing, e.g. "the trust graph from index 41000 of 1048576".
        missing: String,
        /// Why it could not be had.
        cause: Box<ClientError>,
    },
}

impl ClientError {
    /// The class of the failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            ClientError::Checkpoint(checkpoint::CheckpointError::Policy(_)) => ErrorClass::Input,
            ClientError::Checkpoint(_) | ClientError::Evidence(_) => ErrorClass::Evidence,
            ClientError::Memory(e) => e.class(),
            ClientError::Fetch(_) => ErrorClass::Unavailable,
            ClientError::Local(_) => ErrorClass::Input,
            ClientError::Incomplete { cause, .. } => cause.class(),
        }
    }

    /// An evidence failure with this message.
    pub fn evidence(message: impl Into<String>) -> ClientError {
        ClientError::Evidence(message.into())
    }
}
