//! The transparency-log formats Quorum speaks, each parsed and written in exactly one place.
//!
//! What is here, one module per specification, with no Quorum types:
//!
//! * [`merkle`]: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs,
//!   stored-hash arithmetic, an in-memory tree.
//! * [`tiles`]: C2SP tlog-tiles: hash tile and entry-bundle paths (full and partial), the
//!   arithmetic that says which tiles hold which hashes and entries, tile and bundle codecs.
//! * [`note`]: C2SP signed-note (signers, verifiers, key strings, limits).
//! * [`checkpoint`]: C2SP tlog-checkpoint bodies and signed checkpoints.
//! * [`cosignature`]: C2SP tlog-cosignature v1 (Ed25519, type 0x04, timestamped).
//! * [`tlog_proof`]: C2SP tlog-proof, the offline inclusion proof format.
//! * [`witness_policy`]: C2SP tlog-policy (k-of-n witness quorums, groups).
//! * [`witness_request`]: the C2SP tlog-witness `add-checkpoint` request body, parsed and
//!   written.
//!
//! What is not here: anything about statements, principals, trust or decisions (that is
//! `quorum-verifier`), HTTP, files or clocks. Every function takes bytes or values and
//! returns a verified value or a typed error.

#![warn(missing_docs)]

pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod tiles;
pub mod tlog_proof;
pub mod witness_policy;
pub mod witness_request;
