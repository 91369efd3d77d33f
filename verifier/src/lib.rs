//! Quorum's library: the statement model, trust, policy, decisions, evidence, lockfiles and
//! the client layer that every front end (the `quorum` CLI, the explorer, tests) shares.
//!
//! What is here:
//!
//! * [`model`]: DSSE envelopes, in-toto statements with purl subjects, Quorum's predicates,
//!   the log entry;
//! * [`trust`]: personalized trust propagation from a client's roots;
//! * [`policy`]: the client's policy file (log, witnesses, roots, rules);
//! * [`decision`]: from proven statements and a policy to a verdict per package version;
//! * [`ecosystem`]: one canonical name per package, version order and ranges per ecosystem;
//! * [`lockfile`]: the package versions a lockfile pins, their digests and sources;
//! * [`client`]: the client layer every front end uses: reading a log, the checkpoint memory
//!   that refuses rollback and fork, evidence complete for a question (online pages, offline
//!   sets, the mirror), the trust graph and its cache, receipts;
//! * `import` (feature `import`): cargo-vet audit sets, RustSec and OSV advisories turned
//!   into statements an importer signs, and the comparison of a source with the log.
//!
//! What is not here: the transparency-log wire formats (Merkle proofs, tiles, signed notes,
//! checkpoints, cosignatures, tlog-proof, tlog-policy, the tlog-witness request), which live
//! in `quorum-c2sp`; argument parsing, terminal output and exit codes (the `quorum` CLI in
//! `quorum-cli`); servers and their storage (`quorum-log`, `quorum-witness`).

#![warn(missing_docs)]

pub mod client;
pub mod decision;
pub mod ecosystem;
#[cfg(feature = "import")]
pub mod import;
pub mod lockfile;
pub mod model;
pub mod policy;
pub mod trust;
