//! Decisions: from proven statements and a policy to `allow`, `deny` or
//! `insufficient-evidence` for one package version.
//!
//! The input is the set of statements that already passed every evidence check of
//! `spec/verifier-semantics.md` §1 (checkpoint, witness quorum, consistency, inclusion,
//! envelope signature, well-formed statement), reduced to [`Claim`]s. The module applies the
//! rest, one job per file:
//!
//! * [`claims`]: what each predicate type means for decisions ([`claims_from_statement`]);
//! * [`cargo_vet`]: cargo-vet's audit resolution over imported entries (delta chains,
//!   criteria implications, wildcard audits and trusted entries, violations);
//! * `assembly.rs`: revocations, the trust graph and its weights, who holds which power, hub
//!   scores in mode `hits` ([`Evaluation`], computed once per log prefix and policy);
//! * `tally.rs`: the statements about one package counted into one [`Signals`] value, with
//!   every statement set aside listed and why;
//! * [`signals`]: the one [`Signals`] type, whose field list also gives the expression
//!   variables, the JSON and the documentation table;
//! * `rules.rs`: thresholds, vetoes, expressions and the fallback, into a verdict with
//!   reasons.
//!
//! It reads no clock: "now" is the cosignature time of the checkpoint the decision rests on,
//! so the same log prefix and the same policy always give the same decision.
//!
//! # Adding a predicate type
//!
//! Besides the predicate itself (`model/predicates.rs`: its struct, its URI in
//! `PREDICATE_TYPES`, a `Predicate` variant and its validation), a new predicate touches:
//!
//! 1. [`Claim`]: a variant for what it says, and [`Claim::package`] (the compiler points
//!    here from the variant);
//! 2. [`claims_from_statement`]: how a statement becomes claims (the compiler points here
//!    from the `Predicate` variant);
//! 3. `tally.rs` `Tally::count`: how a claim counts (the compiler points here from the
//!    `Claim` variant);
//! 4. if it gives a new signal: one line in the `signals!` list of `signals.rs`, and its row
//!    in `spec/verifier-semantics.md` (a test fails until the spec lists it);
//! 5. if it lets a principal decide alone: a [`crate::policy::Power`] variant (the compiler
//!    points at `Power::name` and `PowersFile::get`), and its use in `tally.rs`;
//! 6. if it decides: its reason in `rules.rs`.

mod assembly;
pub mod cargo_vet;
pub mod claims;
mod rules;
pub mod signals;
mod tally;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

pub use assembly::Evaluation;
pub use claims::{Affected, Artifact, Claim, ProvenStatement, claims_from_statement};
pub use signals::Signals;

use crate::policy::{PolicyError, Power};
use crate::trust::TrustError;

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Install or update.
    Allow,
    /// Do not: a veto applies, or the policy's fallback denies.
    Deny,
    /// Not yet: thresholds are unmet (or no rule speaks for the package), nothing vetoes.
    InsufficientEvidence,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::InsufficientEvidence => "insufficient-evidence",
        })
    }
}

/// A statement that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Its log index.
    pub index: u64,
    /// Why it does not count.
    pub reason: String,
}

/// A power exercised in a decision: who, through which entry, and why the policy lets them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exercise {
    /// The power.
    pub power: Power,
    /// The signer's key, hex.
    pub signer: String,
    /// The entry that exercised it.
    pub entry: u64,
    /// Why the signer holds the power (a root, named on a policy line, or within the
    /// policy's hop limit and weight floor).
    pub grant: String,
}

/// Which artifact a decision is about (`spec/verifier-semantics.md` §"Artifact binding").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "binding", rename_all = "kebab-case")]
pub enum ArtifactBinding {
    /// No artifact was given (a bare `purl@version`): statements about any artifact of the
    /// version count, and the decision says so in its warnings.
    Unbound,
    /// A lockfile entry from the registry with these pinned digests (algorithm → hex
    /// values): a statement about an artifact counts only when its digest is one of them.
    Pinned {
        /// The pinned SHA-256/384/512 digests by algorithm.
        digests: BTreeMap<String, Vec<String>>,
    },
    /// A lockfile entry from the registry pinned by nothing comparable (SHA-1 only, Yarn
    /// Berry's cache checksum, no digest): no statement about an artifact can count.
    Unverifiable,
    /// A lockfile entry that is not the registry's artifact (git, path, URL, patched):
    /// statements about the registry's version do not speak of it.
    NotRegistry {
        /// Where it comes from, as [`crate::lockfile::Source::describe`] says.
        source: String,
    },
}

/// The decision for one package version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Package purl without version.
    pub package: String,
    /// The version decided on.
    pub version: String,
    /// The outcome.
    pub verdict: Verdict,
    /// Why, one line per veto or unmet threshold, or one line saying why it is allowed.
    pub reasons: Vec<String>,
    /// What a person should know that does not change the verdict: advisories of a kind
    /// that does not veto (`unmaintained`, `notice`), a decision not bound to an artifact.
    pub warnings: Vec<String>,
    /// The artifact the decision is about.
    pub artifact: ArtifactBinding,
    /// Which rule applied: `rule N (pattern, policy line L)` or the fallback.
    pub rule: String,
    /// Indices of the statements that counted towards this decision, ascending.
    pub counted: Vec<u64>,
    /// Statements about this package that did not count, and why.
    pub rejected: Vec<Rejected>,
    /// The computed signals.
    pub signals: Signals,
    /// Each counted signer's trust weight (hex key → fraction of all weight), for `quorum
    /// explain`.
    pub weights: BTreeMap<String, f64>,
    /// The powers exercised, by whom and on what grant.
    pub powers: Vec<Exercise>,
}

/// Errors while evaluating.
#[derive(Debug, Error)]
pub enum DecisionError {
    /// The policy could not be applied.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Trust propagation failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
}
