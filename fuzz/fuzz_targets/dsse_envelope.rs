//! DSSE envelopes in JSON and protobuf form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_proto::prost::Message as _;
use quorum_verifier::model::dsse::Envelope;

fuzz_target!(|data: &[u8]| {
    let key = quorum_fuzz::with_cosigner(|cosigner| *cosigner.public_key());
    if let Ok(envelope) = Envelope::from_json(data) {
        let json = envelope.to_json();
        assert_eq!(
            Envelope::from_json(json.as_bytes()).expect("re-encoded JSON parses"),
            envelope
        );
        assert_eq!(
            Envelope::from_proto(envelope.to_proto()).expect("proto form is within limits"),
            envelope
        );
        let _ = envelope.verify(&key);
    }
    if let Ok(proto) = quorum_proto::v1::Envelope::decode(data)
        && let Ok(envelope) = Envelope::from_proto(proto)
    {
        let _ = envelope.verify(&key);
        let _ = envelope.digest();
    }
});
