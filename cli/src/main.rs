//! `quorum`: publish signed statements about packages to a Quorum log, and verify package
//! versions against a personal trust policy from evidence the log proves.
//!
//! The verification rules live in the `quorum_verifier` library; this binary adds the edges:
//! key files, the state directory, HTTP, lockfiles on disk, tables and JSON, exit codes.
//!
//! Exit codes: [`error::EXIT_CODES_HELP`] (also printed by `quorum --help`;
//! `spec/verifier-semantics.md` §6). With `--json`, errors are JSON on standard output too.

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
use crate::error::{Kind, exit_code_of, json_error, json_usage_error};

fn main() -> ExitCode {
    restore_default_sigpipe();
    // Before parsing: a script that asked for JSON gets JSON even for bad arguments.
    let wants_json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; real usage errors exit 64, not
            // clap's default 2 (which means "insufficient evidence" here).
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if wants_json {
                println!("{}", json_usage_error(&e.render().to_string()));
            } else {
                let _ = e.print();
            }
            return ExitCode::from(Kind::Usage.exit_code());
        }
    };
    let json = cli.global.json;
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if json {
                println!("{}", json_error(&err));
            } else {
                eprintln!("error: {err}");
                for cause in err.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            ExitCode::from(exit_code_of(&err))
        }
    }
}

/// Lets a closed standard output end the process quietly, as it ends `cat` or `grep`
/// (`quorum verify … | head -1`): Rust ignores SIGPIPE, so every later `println!` would
/// panic on EPIPE instead.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; setting a
    // signal's disposition to its default has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
