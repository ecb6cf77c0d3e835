//! The example profile (profiles/an-cluster.toml) as the helper's tests
//! use it: each node's first-boot config is made from it by
//! `clusterkick render` (the bytes its overlay ships), never retyped, so
//! what the tests run, and their goldens, move when the profile does.

use super::{repo, Workspace};
use clusterkick::firstboot::config::FirstbootConfig;
use std::process::Command;
use std::sync::OnceLock;

/// The example's nodes, in profile order (node01 is the DRBD primary).
pub const SHORTS: [&str; 2] = ["an-node01", "an-node02"];

/// Each node's first-boot config as `clusterkick render` writes it into
/// the node's overlay (made once per test process).
pub fn example_configs() -> &'static [FirstbootConfig; 2] {
    static CONFIGS: OnceLock<[FirstbootConfig; 2]> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let ws = Workspace::new();
        SHORTS.map(|short| {
            let o = Command::new(super::CLUSTERKICK)
                .arg("render")
                .arg(ws.profile())
                .args(["--node", short, "etc/clusterkick/firstboot.toml"])
                .output()
                .expect("run clusterkick render");
            assert!(
                o.status.success(),
                "clusterkick render failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let cfg = FirstbootConfig::parse(&String::from_utf8_lossy(&o.stdout))
                .expect("the rendered firstboot.toml parses");
            assert_eq!(
                cfg.node.short, short,
                "the example's nodes are no longer {SHORTS:?}"
            );
            cfg
        })
    })
}

/// The example's first-boot key (hex), as committed beside the profile.
pub fn example_key_hex() -> String {
    std::fs::read_to_string(repo().join("profiles/an-cluster.secrets/firstboot.key"))
        .expect("the example's first-boot key")
        .trim()
        .to_string()
}
