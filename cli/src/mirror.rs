//! `quorum mirror`: download every entry of the log through its C2SP tlog-tiles entry
//! bundles, verify and index each, and check the recomputed root against a verified
//! checkpoint that went through the checkpoint memory (`quorum_verifier::client::mirror`).
//! `verify --mirror` then decides from it: completeness `complete`.

use indicatif::{ProgressBar, ProgressStyle};
use quorum_verifier::client::checkpoint::unix_now;
use quorum_verifier::client::mirror::MirrorSync;
use quorum_verifier::client::online::Progress;
use serde_json::json;

use crate::cli::{Global, MirrorArgs};
use crate::error::usage;
use crate::glue;
use crate::state::State;

/// A progress bar over the checkpoint's entries.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn update(&self, _phase: &str, done: u64, total: Option<u64>) {
        if let Some(total) = total {
            self.0.set_length(total);
        }
        self.0.set_position(done);
    }
}

/// `quorum mirror`.
pub fn mirror(global: &Global, args: &MirrorArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = crate::verify::load_policy(&state.policy_path(global))?;
    let trust = glue::log_trust(&policy)?;
    let url = glue::log_url(global, Some(&policy))
        .ok_or_else(|| usage("no log URL: set [log] url in the policy or pass --log <url>"))?;
    let client = glue::log_client(global, &url)?;
    state.ensure()?;
    let bar = if args.quiet || global.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} entries ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let memory = state.memory();
    let report = MirrorSync {
        fetcher: &client,
        trust: &trust,
        memory: &memory,
        dir: state.mirror_dir(trust.origin()),
        now: unix_now(),
        progress: &Bar(bar.clone()),
    }
    .run();
    bar.finish_and_clear();
    let report = report.map_err(glue::client_error)?;
    let cp = &report.checkpoint;
    let rate = if report.seconds > 0.0 {
        report.fetched as f64 / report.seconds
    } else {
        0.0
    };
    use base64::Engine as _;
    let root = base64::engine::general_purpose::STANDARD.encode(cp.root());
    if global.json {
        println!(
            "{}",
            json!({"origin": cp.checkpoint.origin, "size": cp.size(), "fetched": report.fetched,
                   "entries_per_second": rate.round(), "root_hash": root,
                   "completeness": "complete"})
        );
    } else {
        println!(
            "mirrored {} entries of {} ({} new, {rate:.0} entries/s); root {root} verified",
            cp.size(),
            cp.checkpoint.origin,
            report.fetched,
        );
    }
    Ok(0)
}
