//! Trust computation on a large random graph: 1,000,000 principals, 10,000,000 edges.
//!
//! Run: `cargo bench -p quorum-verifier --bench trust`. `QUORUM_BENCH_TRUST_PRINCIPALS` and
//! `QUORUM_BENCH_TRUST_EDGES` shrink the graph (the CI smoke run of `scripts/bench.sh --quick`).

use criterion::{Criterion, criterion_group, criterion_main};
use quorum_verifier::trust::{TrustGraph, TrustGraphBuilder, TrustLevel, TrustMode, TrustParams};

const PRINCIPALS: u32 = 1_000_000;
const EDGES: usize = 10_000_000;

/// A size from the environment, or the default.
fn size_from_env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// 1000000 → "1M", 100000 → "100k".
fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// SplitMix64: a fixed, dependency-free generator so every run measures the same graph.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_graph(principals: u32, edges: usize) -> TrustGraph {
    let mut state = 42u64;
    let mut builder = TrustGraphBuilder::new(principals as usize);
    builder.reserve(edges);
    let levels = [TrustLevel::Low, TrustLevel::Medium, TrustLevel::High];
    for _ in 0..edges {
        let r = splitmix(&mut state);
        let from = (r % u64::from(principals)) as u32;
        let to = ((r >> 32) % u64::from(principals)) as u32;
        let level = levels[(splitmix(&mut state) % 3) as usize];
        builder
            .trust(from, to, level)
            .expect("generated ids are in range");
    }
    builder.build().expect("graph fits")
}

fn bench_trust(c: &mut Criterion) {
    let principals = size_from_env("QUORUM_BENCH_TRUST_PRINCIPALS", PRINCIPALS).max(10);
    let edges = size_from_env("QUORUM_BENCH_TRUST_EDGES", EDGES);
    let graph = random_graph(principals, edges);
    let roots: Vec<u32> = (0..10).collect();
    let mut group = c.benchmark_group(format!(
        "trust_{}_principals_{}_edges",
        short(u64::from(principals)),
        short(edges as u64)
    ));
    group.sample_size(10);
    for (name, mode) in [
        ("flow_depth6", TrustMode::Flow),
        ("best_path_depth6", TrustMode::BestPath),
    ] {
        let params = TrustParams {
            mode,
            damping: 0.85,
            max_depth: 6,
        };
        group.bench_function(name, |b| {
            b.iter(|| graph.compute(&roots, &params).expect("valid roots"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_trust);
criterion_main!(benches);
