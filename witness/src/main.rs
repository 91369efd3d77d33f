//! `quorum-witness`: command-line entry point.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_witness::config::Config;
use quorum_witness::ratelimit::RateLimiter;
use quorum_witness::storage::{AddLogOutcome, Store};
use quorum_witness::witness::{Witness, add_log};

/// A C2SP tlog-witness for any log.
#[derive(Parser, Debug)]
#[command(name = "quorum-witness", version, about)]
struct Cli {
    /// TOML configuration file; flags override it.
    #[arg(long, global = true, env = "QUORUM_WITNESS_CONFIG")]
    config: Option<PathBuf>,
    /// Directory holding the SQLite database (default: ./witness-data).
    #[arg(long, global = true, env = "QUORUM_WITNESS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:<path> or postgres://... (default: SQLite in the data dir).
    #[arg(long, global = true, env = "QUORUM_WITNESS_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate the witness's Ed25519 cosignature key.
    Keygen {
        /// The witness name (a key name, e.g. example.com/witness).
        #[arg(long)]
        name: String,
        /// Where to write the signer key (created with mode 0600, never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Trust a log: its origin and a verifier key for its checkpoints.
    AddLog {
        /// The checkpoint origin line.
        #[arg(long)]
        origin: String,
        /// The log's signed-note verifier key (name+keyid+base64).
        #[arg(long)]
        key: String,
        /// The log's tlog-tiles base URL, to have the witness pull it.
        #[arg(long)]
        url: Option<String>,
    },
    /// List the logs the witness knows, with their latest cosigned size.
    ListLogs,
    /// Refused: a witness never forgets a log (see the message).
    RemoveLog {
        /// The origin.
        #[arg(long)]
        origin: String,
    },
    /// Print the witness's verifier key (type 0x04) from its key file.
    Vkey {
        /// The signer key file.
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Run the witness HTTP server.
    Serve {
        /// Address to listen on (default 127.0.0.1:7380).
        #[arg(long)]
        listen: Option<String>,
        /// The signer key file written by `keygen`.
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
}

fn load_config(cli: &Cli) -> Result<Config> {
    match &cli.config {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

async fn open_store(cli: &Cli, cfg: &Config) -> Result<Store> {
    if let Some(url) = cli.database_url.as_ref().or(cfg.database_url.as_ref()) {
        return Store::connect(url)
            .await
            .context("opening the database given by --database-url");
    }
    let dir = cli
        .data_dir
        .clone()
        .or_else(|| cfg.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("witness-data"));
    Store::open_data_dir(&dir)
        .await
        .with_context(|| format!("opening the SQLite database in {}", dir.display()))
}

fn load_signer(path: &Path) -> Result<CosignatureSigner> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the witness key file is readable by others: chmod 600 it"
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the witness key file {}", path.display()))?;
    // Never include the key text in the error.
    CosignatureSigner::from_skey(text.trim()).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a witness signer key ({e}); create one with `quorum-witness keygen`",
            path.display()
        )
    })
}

fn keygen(name: &str, out: &Path) -> Result<()> {
    let signer = CosignatureSigner::generate(name).context("generating the key")?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(out).with_context(|| {
        format!(
            "creating {} (an existing key file is never overwritten)",
            out.display()
        )
    })?;
    f.write_all(format!("{}\n", signer.skey()).as_bytes())?;
    f.sync_all()?;
    println!("{}", signer.vkey());
    eprintln!(
        "wrote the signer key to {}; give the verifier key above to log operators and clients",
        out.display()
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let cfg = load_config(&cli)?;
    match &cli.command {
        Command::Keygen { name, out } => keygen(name, out),
        Command::Vkey { key_file } => {
            let path = key_file
                .clone()
                .or_else(|| cfg.key_file.clone())
                .context("give --key-file or key_file in the config")?;
            println!("{}", load_signer(&path)?.vkey());
            Ok(())
        }
        Command::RemoveLog { origin } => bail!(
            "refusing to remove {origin:?}: a witness never forgets a log. If it dropped the log's \
             state and the log were added again, the witness would accept a checkpoint from a \
             fork it cannot check against what it cosigned before, and so help the log show a \
             split view. To stop witnessing a log, stop running this witness for it (remove it \
             from your config and keep the database)."
        ),
        Command::AddLog { origin, key, url } => {
            let store = open_store(&cli, &cfg).await?;
            let out = add_log(&store, origin, key, url.as_deref()).await?;
            match out {
                AddLogOutcome::Created => println!("added log {origin:?}"),
                AddLogOutcome::KeyAdded => println!("added another key for log {origin:?}"),
                AddLogOutcome::Unchanged => println!("log {origin:?} already has this key"),
            }
            store.close().await;
            Ok(())
        }
        Command::ListLogs => {
            let store = open_store(&cli, &cfg).await?;
            let logs = store.logs().await?;
            if logs.is_empty() {
                println!("no logs; add one with `quorum-witness add-log --origin ... --key ...`");
            }
            for l in logs {
                println!("{}\tsize {}", l.origin, l.size);
                for k in &l.keys {
                    println!("\tkey {k}");
                }
                if let Some(u) = &l.url {
                    println!("\tpull {u}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Serve { listen, key_file } => {
            let key_path = key_file
                .clone()
                .or_else(|| cfg.key_file.clone())
                .context("give --key-file or key_file in the config (create one with keygen)")?;
            let signer = load_signer(&key_path)?;
            let store = open_store(&cli, &cfg).await?;
            for log in &cfg.logs {
                if log.keys.is_empty() {
                    bail!("config: log {:?} lists no keys", log.origin);
                }
                for k in &log.keys {
                    add_log(&store, &log.origin, k, log.url.as_deref())
                        .await
                        .with_context(|| format!("config: log {:?}", log.origin))?;
                }
            }
            let limiter = RateLimiter::new(
                cfg.limits.requests_per_minute_per_log,
                cfg.limits.burst_per_log,
            );
            let witness = Arc::new(Witness::new(store.clone(), signer, limiter));
            let addr = listen
                .clone()
                .or_else(|| cfg.listen.clone())
                .unwrap_or_else(|| "127.0.0.1:7380".into());
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let mut pollers = Vec::new();
            // Pull every log with a URL, whether it came from the config or from add-log.
            for rec in store.logs().await?.into_iter().filter(|l| l.url.is_some()) {
                let interval = cfg
                    .logs
                    .iter()
                    .find(|l| l.origin == rec.origin)
                    .map(|l| l.poll_interval_secs)
                    .unwrap_or(60);
                let log = quorum_witness::config::LogConfig {
                    origin: rec.origin,
                    keys: rec.keys,
                    url: rec.url,
                    poll_interval_secs: interval,
                };
                pollers.push(quorum_witness::pull::spawn_poller(
                    witness.clone(),
                    log,
                    stop_rx.clone(),
                ));
            }
            tracing::info!(
                %addr,
                witness = witness.name(),
                vkey = %witness.vkey(),
                backend = store.backend(),
                "quorum-witness listening"
            );
            let router = quorum_witness::server::router(witness, &cfg.limits);
            quorum_witness::server::serve(listener, router, shutdown_signal()).await?;
            let _ = stop_tx.send(true);
            for p in pollers {
                let _ = p.await;
            }
            store.close().await;
            Ok(())
        }
    }
}
