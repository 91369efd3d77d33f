//! Quorum verification core.
