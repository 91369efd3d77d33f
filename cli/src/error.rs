//! Error classes and the exit codes they map to.

use std::fmt;

/// The class of a failure, attached to an error as context; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad arguments or bad input files (policy, lockfile, bundle, key): exit 64.
    Usage,
    /// The evidence failed verification (signature, witness quorum, proof, rollback, fork):
    /// exit 3.
    Evidence,
    /// The log could not be reached or answered with an error: exit 69.
    Unavailable,
}

/// A classified failure with a message that says what went wrong and what to do.
#[derive(Debug)]
pub struct Failure {
    /// Its class.
    pub kind: Kind,
    /// The message.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage or input error (exit 64).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        kind: Kind::Usage,
        message: message.into(),
    })
}

/// An evidence verification failure (exit 3).
pub fn evidence(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        kind: Kind::Evidence,
        message: message.into(),
    })
}

/// The log was unreachable or refused (exit 69).
pub fn unavailable(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        kind: Kind::Unavailable,
        message: message.into(),
    })
}

/// The exit code for an error: the outermost classified failure decides; anything else
/// (file system, unexpected) is an input error, 64.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return match f.kind {
                Kind::Usage => 64,
                Kind::Evidence => 3,
                Kind::Unavailable => 69,
            };
        }
    }
    64
}
