//! The client layer every front end uses: the mirror store on disk.

pub mod mirror_store;
