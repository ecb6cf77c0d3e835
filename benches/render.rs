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

    let mut best_render = Duration::MAX;
    let mut best_copy = Duration::MAX;
    for _ in 0..if benching { 5 } else { 1 } {
        let t0 = Instant::now();
        let outs: Vec<_> = fleet
            .iter()
            .map(|l| render_all(&l.cluster, &l.secrets, &helper).expect("render"))
            .collect();
        let t1 = Instant::now();
        // Baseline: the same bytes copied once more in memory.
        let copied: usize = outs
            .iter()
            .flat_map(|o| o.files.values())
            .map(|f| f.contents.to_vec().len())
            .sum();
        let t2 = Instant::now();
        assert!(copied > 0);
        best_render = best_render.min(t1 - t0);
        best_copy = best_copy.min(t2 - t1);
    }
    let nodes = clusters * 2;
    println!(
        "render: {clusters} clusters, {nodes} nodes in {:.3} s -> {:.0} nodes/s (one thread; kickstart + overlay + SHA256SUMS + map + summary)",
        best_render.as_secs_f64(),
        nodes as f64 / best_render.as_secs_f64()
    );
    println!(
        "baseline memcpy of the same bytes: {:.4} s; ratio {:.1}x",
        best_copy.as_secs_f64(),
        best_render.as_secs_f64() / best_copy.as_secs_f64()
    );
}
