//! Quorum test vectors.
