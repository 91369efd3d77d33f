//! Benchmark: durable add-checkpoint requests per second over loopback HTTP.
//!
//! Starts a witness in this process (SQLite in a temporary directory by default, WAL,
//! synchronous=FULL; or `--database-url`), registers `--logs` logs, pre-signs a chain of
//! `--per-log` checkpoints with consistency proofs for each, then has one client task per
//! log push its chain in order over HTTP. Every counted request is a 200 whose new state
//! was committed before the answer.
//!
//! ```sh
//! cargo run --release -p quorum-witness --bin quorum-witness-bench -- --logs 64 --per-log 100
//! ```

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::merkle::MemoryTree;
use quorum_c2sp::note::Ed25519Signer;
use quorum_witness::config::Limits;
use quorum_witness::ratelimit::RateLimiter;
use quorum_witness::storage::Store;
use quorum_witness::witness::Witness;

#[derive(Parser, Debug)]
#[command(about = "Measure durable add-checkpoint requests/s over loopback")]
struct Args {
    /// Logs pushing concurrently (one client task each).
    #[arg(long, default_value_t = 64)]
    logs: usize,
    /// Checkpoints each log pushes, in order.
    #[arg(long, default_value_t = 100)]
    per_log: u64,
    /// Database URL (default: a fresh SQLite file in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
}

fn b64(h: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-witness-bench-{}", std::process::id()));
    let store = match &args.database_url {
        Some(u) => Store::connect(u).await?,
        None => Store::open_data_dir(&dir).await?,
    };
    let signer = CosignatureSigner::generate("bench.example/witness")?;
    let witness = Arc::new(Witness::new(store.clone(), signer, RateLimiter::new(0, 0)));
    let limits = Limits {
        requests_per_minute_per_log: 0,
        max_concurrent_requests: 4096,
        ..Limits::default()
    };

    eprintln!(
        "preparing {} logs x {} checkpoints...",
        args.logs, args.per_log
    );
    let mut chains = Vec::new();
    for l in 0..args.logs {
        let origin = format!("bench.example/log{l}");
        let log = Ed25519Signer::generate(&origin)?;
        witness.add_log(&origin, &log.vkey(), None).await?;
        let mut tree = MemoryTree::new();
        for i in 0..args.per_log {
            tree.append(format!("{origin}/{i}").as_bytes());
        }
        let mut bodies = Vec::new();
        for n in 1..=args.per_log {
            let cp = Checkpoint {
                origin: origin.clone(),
                size: n,
                root_hash: tree.root_at(n)?,
                extensions: vec![],
            };
            let note = String::from_utf8(cp.sign(&[&log])?)?;
            let mut body = format!("old {}\n", n - 1);
            for h in tree.prove_consistency(n - 1, n)? {
                body.push_str(&b64(&h));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&note);
            bodies.push(body);
        }
        chains.push(bodies);
    }

    let router = quorum_witness::server::router(witness.clone(), &limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(quorum_witness::server::serve(listener, router, async {
        let _ = stop_rx.await;
    }));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.logs)
        .build()?;
    let url = format!("http://{addr}/add-checkpoint");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for bodies in chains {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u64;
            for b in bodies {
                let r = client.post(&url).body(b).send().await?;
                let status = r.status();
                let text = r.text().await?;
                if status != 200 {
                    bail!("unexpected {status}: {text}");
                }
                ok += 1;
            }
            Ok::<u64, anyhow::Error>(ok)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.context("client task")??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{total} durable add-checkpoint requests in {secs:.2} s = {:.0} requests/s ({} backend, {} concurrent logs)",
        total as f64 / secs,
        store.backend(),
        args.logs
    );
    let _ = stop_tx.send(());
    server.await??;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
