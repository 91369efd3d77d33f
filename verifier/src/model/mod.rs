//! Quorum's statement model: DSSE envelopes, in-toto statements with purl subjects, Quorum's
//! predicates (and OpenVEX advisories), and the log entry that carries an envelope with its
//! signer's key.

pub mod dsse;
pub mod index;
pub mod log_entry;
pub mod predicates;
pub mod principal;
pub mod statement;
