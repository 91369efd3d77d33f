//! The physical ceilings on this machine: SHA-256 and memory-copy throughput, Ed25519 sign,
//! verify and batch-verify rates. Single-threaded, with the same crates Quorum uses.

use std::hint::black_box;
use std::time::Duration;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::measure::{Measurement, rate_for};

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct CeilingPlan {
    /// Repetitions (samples) of each measurement.
    pub reps: usize,
    /// Time each sample runs for.
    pub sample_time: Duration,
    /// Size of the buffer the memory-copy ceiling reads from (beyond the caches).
    pub copy_source_bytes: usize,
}

const SECTION: &str = "ceilings";
/// Implementation label of the ceilings.
pub const MACHINE: &str = "machine";
/// Ed25519 message length: about a DSSE pre-authentication encoding of a small statement.
const MESSAGE_LEN: usize = 256;
/// Signatures per batch verification.
pub const BATCH: usize = 64;

/// Names of the ceiling measurements the report relates other rates to.
pub mod names {
    /// SHA-256 of 9-byte inputs: an RFC 6962 leaf hash of an 8-byte record.
    pub const LEAF_HASH: &str = "SHA-256 leaf-shaped input (0x00 + 8 bytes)";
    /// SHA-256 of 65-byte inputs: an RFC 6962 node hash.
    pub const NODE_HASH: &str = "SHA-256 node-shaped input (0x01 + 64 bytes), sha2 0.11";
    /// The same with sha2 0.10 (the version `tlog_tiles` uses).
    pub const NODE_HASH_SHA2_010: &str = "SHA-256 node-shaped input, sha2 0.10";
    /// SHA-256 over 64-byte buffers, in MB/s.
    pub const SHA_64: &str = "SHA-256 over 64-byte buffers";
    /// SHA-256 over 1 MiB buffers, in MB/s.
    pub const SHA_LARGE: &str = "SHA-256 over 1 MiB buffers";
    /// Copying 8 KiB chunks out of a buffer larger than the caches.
    pub const MEMCPY: &str = "memory copy, 8 KiB chunks from a large buffer";
    /// Ed25519 signing.
    pub const SIGN: &str = "Ed25519 sign (256-byte message)";
    /// Ed25519 strict verification, as Quorum verifies.
    pub const VERIFY: &str = "Ed25519 verify_strict (256-byte message)";
    /// Ed25519 batch verification.
    pub const VERIFY_BATCH: &str = "Ed25519 verify_batch (64 signatures)";
}

fn repeat(plan: &CeilingPlan, mut sample: impl FnMut() -> f64) -> Vec<f64> {
    (0..plan.reps).map(|_| sample()).collect()
}

/// Runs every ceiling measurement.
pub fn run(plan: &CeilingPlan) -> anyhow::Result<Vec<Measurement>> {
    let mut out = Vec::new();
    let t = plan.sample_time;

    let leaf_input = [0u8; 9];
    let samples = repeat(plan, || {
        rate_for(t, || {
            for _ in 0..1024 {
                black_box(Sha256::digest(black_box(&leaf_input)));
            }
            1024
        })
    });
    out.push(Measurement::new(
        SECTION,
        names::LEAF_HASH,
        MACHINE,
        None,
        "hashes/s",
        samples,
    ));

    let node_input = [1u8; 65];
    let samples = repeat(plan, || {
        rate_for(t, || {
            for _ in 0..1024 {
                black_box(Sha256::digest(black_box(&node_input)));
            }
            1024
        })
    });
    out.push(Measurement::new(
        SECTION,
        names::NODE_HASH,
        MACHINE,
        None,
        "hashes/s",
        samples,
    ));

    let samples = repeat(plan, || {
        rate_for(t, || {
            for _ in 0..1024 {
                use sha2_010::Digest as _;
                black_box(sha2_010::Sha256::digest(black_box(&node_input)));
            }
            1024
        })
    });
    out.push(Measurement::new(
        SECTION,
        names::NODE_HASH_SHA2_010,
        MACHINE,
        None,
        "hashes/s",
        samples,
    ));

    let small = [2u8; 64];
    let samples = repeat(plan, || {
        rate_for(t, || {
            for _ in 0..1024 {
                black_box(Sha256::digest(black_box(&small)));
            }
            1024 * 64
        }) / 1e6
    });
    out.push(Measurement::new(
        SECTION,
        names::SHA_64,
        MACHINE,
        None,
        "MB/s",
        samples,
    ));

    let large = vec![3u8; 1 << 20];
    let samples = repeat(plan, || {
        rate_for(t, || {
            black_box(Sha256::digest(black_box(&large)));
            1 << 20
        }) / 1e6
    });
    out.push(Measurement::new(
        SECTION,
        names::SHA_LARGE,
        MACHINE,
        None,
        "MB/s",
        samples,
    ));

    let chunk = 8192;
    let source = vec![4u8; plan.copy_source_bytes.max(chunk)];
    let mut destination = vec![0u8; chunk];
    let samples = repeat(plan, || {
        let mut offset = 0;
        rate_for(t, || {
            for _ in 0..64 {
                if offset + chunk > source.len() {
                    offset = 0;
                }
                destination.copy_from_slice(&source[offset..offset + chunk]);
                black_box(&mut destination);
                offset += chunk;
            }
            64 * chunk as u64
        }) / 1e6
    });
    out.push(Measurement::new(
        SECTION,
        names::MEMCPY,
        MACHINE,
        None,
        "MB/s",
        samples,
    ));

    let keys: Vec<SigningKey> = (0..BATCH as u8)
        .map(|i| SigningKey::from_bytes(&[i.wrapping_add(1); 32]))
        .collect();
    let messages: Vec<Vec<u8>> = (0..BATCH).map(|i| vec![i as u8; MESSAGE_LEN]).collect();
    let signatures: Vec<Signature> = keys
        .iter()
        .zip(&messages)
        .map(|(key, message)| key.sign(message))
        .collect();
    let verifying: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();

    let samples = repeat(plan, || {
        rate_for(t, || {
            for (key, message) in keys.iter().zip(&messages).take(16) {
                black_box(key.sign(black_box(message)));
            }
            16
        })
    });
    out.push(Measurement::new(
        SECTION,
        names::SIGN,
        MACHINE,
        None,
        "signatures/s",
        samples,
    ));

    let mut failures = 0u64;
    let samples = repeat(plan, || {
        rate_for(t, || {
            for ((key, message), signature) in
                verifying.iter().zip(&messages).zip(&signatures).take(16)
            {
                if key.verify_strict(black_box(message), signature).is_err() {
                    failures += 1;
                }
            }
            16
        })
    });
    anyhow::ensure!(
        failures == 0,
        "{failures} Ed25519 signatures failed to verify"
    );
    out.push(Measurement::new(
        SECTION,
        names::VERIFY,
        MACHINE,
        None,
        "signatures/s",
        samples,
    ));

    let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let samples = repeat(plan, || {
        rate_for(t, || {
            if ed25519_dalek::verify_batch(&message_refs, &signatures, &verifying).is_err() {
                failures += 1;
            }
            BATCH as u64
        })
    });
    anyhow::ensure!(
        failures == 0,
        "{failures} Ed25519 batch verifications failed"
    );
    out.push(Measurement::new(
        SECTION,
        names::VERIFY_BATCH,
        MACHINE,
        None,
        "signatures/s",
        samples,
    ));

    Ok(out)
}
