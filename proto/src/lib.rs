//! Quorum protobuf types.
