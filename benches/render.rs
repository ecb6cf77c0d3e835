//! Render throughput: kickstart and overlay (templates, tar, gzip, sha256)
//! for a fleet of generated two-node clusters, in memory, against a
//! baseline measured in the same run: copying the same output bytes.
//!   cargo bench --bench render [-- CLUSTERS]

use clusterkick::build::render_all;
use clusterkick::helper_blob::{minimal_static_elf, HelperBlob};
use clusterkick::profile::{load_str, Mode};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    // `cargo test --all-targets` runs this too (without --bench): then only
    // a quick smoke run, so that the bench keeps compiling and working.
    let benching = std::env::args().any(|a| a == "--bench");
    let clusters: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(if benching { 500 } else { 3 });
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let text = std::fs::read_to_string(root.join("an-cluster.toml")).expect("example profile");
    let bytes = minimal_static_elf(b"bench");
    let helper = HelperBlob {
        sha256: clusterkick::build::sha256_hex(&bytes),
        bytes: bytes.into(),
        source: "bench".into(),
    };
    let fleet: Vec<_> = (0..clusters)
        .map(|i| {
            let name = format!("bench-{i:04}");
            let t = text
                .replacen("name = \"an-cluster\"", &format!("name = \"{name}\""), 1)
                .replace("an-node0", &format!("{name}-n"));
            // The example's secrets folder serves every generated profile.
            load_str(&root.join("an-cluster.toml"), &t, Mode::Check)
                .expect("generated profile is valid")
        })
        .collect();

    let render = |part: &[clusterkick::profile::Loaded]| -> Vec<clusterkick::build::Output> {
        part.iter()
            .map(|l| render_all(&l.cluster, &l.flavor, &l.secrets, &helper).expect("render"))
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut best_one = Duration::MAX;
    let mut best_all = Duration::MAX;
    let mut best_floor = Duration::MAX;
    for _ in 0..if benching { 5 } else { 1 } {
        let t0 = Instant::now();
        let outs = render(&fleet);
        let t1 = Instant::now();
        // The same work spread over every core, as `clusterkick build` does.
        let chunk = fleet.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for part in fleet.chunks(chunk) {
                s.spawn(move || render(part));
            }
        });
        let t2 = Instant::now();
        // Baseline, same run: only hashing every output byte once more,
        // the least any build that writes SHA256SUMS must do.
        let hashed: usize = outs
            .iter()
            .flat_map(|o| o.files.values())
            .map(|f| clusterkick::build::sha256_hex(&f.contents).len())
            .sum();
        let t3 = Instant::now();
        assert!(hashed > 0);
        best_one = best_one.min(t1 - t0);
        best_all = best_all.min(t2 - t1);
        best_floor = best_floor.min(t3 - t2);
    }
    let nodes = (clusters * 2) as f64;
    println!(
        "render, 1 thread:  {clusters} clusters, {nodes} nodes in {:.3} s -> {:.0} nodes/s",
        best_one.as_secs_f64(),
        nodes / best_one.as_secs_f64()
    );
    println!(
        "render, {threads} threads: {:.3} s -> {:.0} nodes/s (kickstart + overlay + map + summary + PXE + SHA256SUMS)",
        best_all.as_secs_f64(),
        nodes / best_all.as_secs_f64()
    );
    println!(
        "baseline (sha256 of the same output bytes): {:.4} s; render / baseline = {:.1}x",
        best_floor.as_secs_f64(),
        best_one.as_secs_f64() / best_floor.as_secs_f64()
    );
}
