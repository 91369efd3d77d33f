//! Quorum's verification core.
//!
//! Everything here is pure: no network, no files, no clocks. Callers hand in bytes
//! and get back verified values or a typed error. The log server, the witness and the
//! `quorum` CLI all verify through this crate, so each rule is written once.

#![warn(missing_docs)]

pub mod checkpoint;
pub mod cosignature;
pub mod decision;
pub mod dsse;
pub mod evidence;
pub mod lockfile;
pub mod log_entry;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod predicates;
pub mod statement;
pub mod tiles;
pub mod tlog_proof;
pub mod trust;
pub mod witness_policy;
