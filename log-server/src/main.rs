//! `quorum-log`: Quorum's log server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use quorum_log::config::Config;
use quorum_log::server;

#[derive(Parser)]
#[command(
    name = "quorum-log",
    version,
    about = "Quorum's transparency log server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the log's signing key (written with mode 0600); prints the verifier key.
    Keygen {
        /// The log's origin (the first line of its checkpoints), e.g. `quorum.example/log`.
        #[arg(long)]
        origin: String,
        /// Where to write the private key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the server.
    Serve(ServeArgs),
}

#[derive(Parser)]
struct ServeArgs {
    /// TOML configuration file; flags override its values.
    #[arg(long, env = "QUORUM_LOG_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory for the SQLite database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (postgres://... or sqlite://...); overrides --data-dir.
    #[arg(long, env = "QUORUM_LOG_DATABASE_URL")]
    database_url: Option<String>,
    /// The log's private key file.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Checkpoint interval in milliseconds.
    #[arg(long)]
    checkpoint_interval_ms: Option<u64>,
    /// Cosignatures required before a checkpoint is published.
    #[arg(long)]
    required_cosignatures: Option<usize>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Keygen { origin, out } => {
            let vkey = server::keygen(&origin, &out)?;
            println!("{vkey}");
            Ok(())
        }
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let mut cfg = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(v) = args.listen {
        cfg.listen = v;
    }
    if let Some(v) = args.data_dir {
        cfg.data_dir = v;
    }
    if let Some(v) = args.database_url {
        cfg.database_url = Some(v);
    }
    if let Some(v) = args.key_file {
        cfg.key_file = v;
    }
    if let Some(v) = args.checkpoint_interval_ms {
        cfg.checkpoint_interval_ms = v;
    }
    if let Some(v) = args.required_cosignatures {
        cfg.required_cosignatures = v;
    }
    cfg.validate()?;
    let signer = server::load_key(&cfg.key_file)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let running = server::start(cfg, signer).await?;
        tracing::info!(addr = %running.addr, "listening");
        let trigger = running.trigger();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested");
            let _ = trigger.send(true);
        });
        running.wait().await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
