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

/// Every exit code, for `quorum --help` and the README (`spec/verifier-semantics.md` §6).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   every package allowed, or the command succeeded
  1   at least one package denied
  2   none denied, but some with insufficient evidence
  3   the evidence failed verification (signature, witness quorum, proof, rollback, fork)
  64  usage or input error (arguments, policy, lockfile, bundle, key)
  69  the log could not be reached or answered with an error

With --json, results and errors are JSON on standard output; an error is
{\"error\": {\"kind\": ..., \"exit_code\": ..., \"message\": ..., \"causes\": [...]}}.";

/// The class of an error: the outermost classified failure decides; anything else (file
/// system, unexpected) is an input error.
pub fn kind_of(err: &anyhow::Error) -> Kind {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Failure>().map(|f| f.kind))
        .unwrap_or(Kind::Usage)
}

impl Kind {
    /// The exit code of this class.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => 64,
            Kind::Evidence => 3,
            Kind::Unavailable => 69,
        }
    }

    /// The class's name in JSON errors.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Usage => "usage",
            Kind::Evidence => "evidence",
            Kind::Unavailable => "unavailable",
        }
    }
}

/// The exit code for an error (see [`kind_of`]).
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    kind_of(err).exit_code()
}

/// An error as the JSON object `--json` prints.
pub fn json_error(err: &anyhow::Error) -> serde_json::Value {
    let kind = kind_of(err);
    serde_json::json!({
        "error": {
            "kind": kind.name(),
            "exit_code": kind.exit_code(),
            "message": err.to_string(),
            "causes": err.chain().skip(1).map(ToString::to_string).collect::<Vec<_>>(),
        }
    })
}

/// A usage error found by the argument parser, as JSON (clap's message, first line).
pub fn json_usage_error(message: &str) -> serde_json::Value {
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim_start_matches("error: ");
    serde_json::json!({
        "error": {
            "kind": Kind::Usage.name(),
            "exit_code": Kind::Usage.exit_code(),
            "message": first,
            "causes": [],
        }
    })
}
