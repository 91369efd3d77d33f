//! Compiles `proto/quorum/v1/*.proto` with protox (pure Rust, no `protoc` binary) and
//! generates prost types plus pbjson proto3-JSON serde impls.

use std::path::PathBuf;

use protox::prost::Message as _;

const PROTOS: &[&str] = &[
    "proto/quorum/v1/envelope.proto",
    "proto/quorum/v1/log_entry.proto",
    "proto/quorum/v1/bundle.proto",
    "proto/quorum/v1/api.proto",
    "proto/quorum/v1/evidence.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let fds = protox::compile(PROTOS, ["proto"])?;
    let descriptor_bytes = fds.encode_to_vec();

    let mut config = prost_build::Config::new();
    config.out_dir(&out_dir);
    config.compile_fds(fds)?;

    pbjson_build::Builder::new()
        .out_dir(&out_dir)
        .register_descriptors(&descriptor_bytes)?
        .build(&[".quorum.v1"])?;
    Ok(())
}
