//! Quorum's protobuf wire types.
//!
//! The schemas live in `proto/quorum/v1/*.proto`; `build.rs` compiles them with
//! [protox](https://docs.rs/protox) (pure Rust, no `protoc` needed) into
//! [prost](https://docs.rs/prost) types, and [pbjson](https://docs.rs/pbjson) adds the
//! proto3 JSON mapping (serde `Serialize`/`Deserialize`) for the API messages.
//!
//! | message | role |
//! |---|---|
//! | [`v1::LogEntry`] | one log entry (leaf data): receipt time, DSSE envelope, signer key |
//! | [`v1::Envelope`], [`v1::Signature`] | a DSSE envelope in protobuf form |
//! | [`v1::EvidenceBundle`], [`v1::BundleEntry`], [`v1::ConsistencyProof`] | offline evidence |
//! | [`v1::EvidenceRequest`], [`v1::EvidencePage`], [`v1::KeyRange`], [`v1::EvidenceSet`] | paged evidence pinned to one tree size, and its offline form |
//! | [`v1::SubmitRequest`], [`v1::SubmitResponse`], [`v1::SubmitStatus`] | submission API |
//! | [`v1::Error`], [`v1::ErrorCode`] | API errors |
//!
//! Field numbers are stable: they are never renumbered or reused.

#![warn(missing_docs)]

/// The `quorum` protobuf package.
pub mod quorum {
    /// Version 1 of Quorum's wire types (`package quorum.v1`).
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/quorum.v1.rs"));
        include!(concat!(env!("OUT_DIR"), "/quorum.v1.serde.rs"));
    }
}

pub use quorum::v1;

/// Re-exported so that users encode and decode with the same prost version.
pub use prost;

/// The largest encoded [`v1::LogEntry`], in bytes: the tlog-tiles entry-bundle length
/// prefix is a big-endian `uint16`.
pub const MAX_LOG_ENTRY_SIZE: usize = 65_535;

#[cfg(test)]
mod tests {
    use super::v1;
    use prost::Message;

    #[test]
    fn log_entry_round_trips() {
        let entry = v1::LogEntry {
            receipt_time_millis: 1_700_000_000_000,
            envelope: Some(v1::Envelope {
                payload: b"{}".to_vec(),
                payload_type: "application/vnd.in-toto+json".into(),
                signatures: vec![v1::Signature {
                    sig: vec![7; 64],
                    keyid: "k".into(),
                }],
            }),
            public_key: vec![1; 32],
        };
        let bytes = entry.encode_to_vec();
        assert_eq!(v1::LogEntry::decode(bytes.as_slice()), Ok(entry));
    }

    #[test]
    fn field_numbers_are_stable() {
        // receipt_time_millis = 1 (varint), envelope = 2 (len), public_key = 3 (len).
        let entry = v1::LogEntry {
            receipt_time_millis: 1,
            envelope: Some(v1::Envelope::default()),
            public_key: vec![9],
        };
        assert_eq!(
            entry.encode_to_vec(),
            vec![0x08, 0x01, 0x12, 0x00, 0x1a, 0x01, 0x09]
        );
    }

    #[test]
    fn json_mapping() {
        let resp = v1::SubmitResponse {
            index: 5,
            tlog_proof: "p".into(),
            status: v1::SubmitStatus::Sequenced as i32,
            envelope_digest: vec![0xff],
        };
        let json = serde_json::to_string(&resp).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"index":"5","tlogProof":"p","status":"SUBMIT_STATUS_SEQUENCED","envelopeDigest":"/w=="}"#
        );
        let back: Result<v1::SubmitResponse, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(resp));
    }
}
