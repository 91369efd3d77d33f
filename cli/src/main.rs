//! `quorum`: publish signed statements about packages to a Quorum log, and verify package
//! versions against a personal trust policy from evidence the log proves.
//!
//! The verification rules live in the `quorum_verifier` library; this binary adds the edges:
//! key files, the state directory, HTTP, lockfiles on disk, tables and JSON, exit codes.
//!
//! Exit codes (`spec/verifier-semantics.md` §6): 0 every package allowed (or the command
//! succeeded), 1 at least one denied, 2 none denied but some with insufficient evidence,
//! 3 the evidence failed verification, 64 usage or input error, 69 the log could not be
//! reached or answered with an error.

mod cli;
mod error;
mod glue;
mod import;
mod init;
mod keys;
mod mirror;
mod net;
mod output;
mod publish;
mod receipt;
mod state;
mod timefmt;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::exit_code_of;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; real usage errors exit 64, not
            // clap's default 2 (which means "insufficient evidence" here).
            let code = if e.use_stderr() { 64 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit_code_of(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Keygen(args) => keys::keygen(&global, &args),
        Command::Init(args) => init::init(&global, &args),
        Command::Attest(args) => publish::attest(&global, &args),
        Command::Adopt(args) => publish::adopt(&global, &args),
        Command::Trust(args) => publish::trust(&global, &args),
        Command::Advise(args) => publish::advise(&global, &args),
        Command::Revoke(args) => publish::revoke(&global, &args),
        Command::OwnershipChange(args) => publish::ownership_change(&global, &args),
        Command::Submit(args) => publish::submit_file(&global, &args),
        Command::Verify(args) => verify::verify(&global, &args),
        Command::Explain(args) => verify::explain(&global, &args),
        Command::Fetch(args) => verify::fetch(&global, &args),
        Command::Mirror(args) => mirror::mirror(&global, &args),
        Command::Receipt(args) => receipt::receipt(&global, &args),
        Command::Checkpoint(args) => verify::checkpoint(&global, &args),
        Command::Import(args) => import::import(&global, &args),
    }
}
