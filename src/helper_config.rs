//! The first-boot helper's config for one node
//! (`/etc/clusterkick/firstboot.toml` in the overlay), made from the model
//! and written by serializing [`FirstbootConfig`], the struct the helper
//! reads back: the two sides cannot drift apart.

use crate::firstboot::config::{
    ClvmConfig, DrbdConfig, FirstbootConfig, Gfs2Config, NodeRef, Timeouts, VolumeConfig,
};
use crate::model::{Cluster, NetRole, Node};
use crate::render::context::header;

/// Where the overlay puts the cluster's key on the node.
pub const KEY_FILE: &str = "/etc/clusterkick/firstboot.key";
/// Where the helper keeps its progress (written atomically after each step).
pub const STATE_FILE: &str = "/var/lib/clusterkick/firstboot.state";
/// The helper's log on the node.
pub const LOG_FILE: &str = "/var/log/clusterkick-firstboot.log";
/// The helper's retries back off from this, doubling up to [`RETRY_MAX_MS`].
pub const RETRY_INITIAL_MS: u64 = 500;
pub const RETRY_MAX_MS: u64 = 10_000;

fn node_ref(n: &Node) -> NodeRef {
    NodeRef {
        name: n.fqdn.clone(),
        short: n.name.clone(),
        id: n.id,
    }
}

/// The helper's config for `node` of `cluster` on platform `platform` (its
/// id). Tests use it too, to run the helper on the example profile.
pub fn for_node(cluster: &Cluster, platform: &str, node: &Node) -> FirstbootConfig {
    let peer = cluster.peer_of(node);
    let fb = &cluster.firstboot;
    let bc = |n: &Node| n.nic(NetRole::BackChannel).ip;
    FirstbootConfig {
        cluster: cluster.name.clone(),
        platform: platform.to_string(),
        node: node_ref(node),
        peer: node_ref(peer),
        listen: format!("{}:{}", bc(node), fb.port),
        peer_addr: format!("{}:{}", bc(peer), fb.port),
        key_file: KEY_FILE.into(),
        state_file: STATE_FILE.into(),
        log_file: LOG_FILE.into(),
        post_join_delay_secs: u64::from(cluster.post_join_delay),
        drbd: DrbdConfig {
            resource: cluster.drbd.resource.clone(),
            device: cluster.drbd.device.clone(),
            initial_primary: node.name == cluster.drbd.primary,
            backing_vg: node.vg.clone(),
            backing_lv: cluster.drbd.backing_lv.clone(),
            backing_size: cluster.disks.drbd.lvm_arg(),
            skip_initial_sync: fb.skip_initial_sync,
        },
        clvm: ClvmConfig {
            vg: cluster.clvm.vg.clone(),
            volumes: cluster
                .clvm
                .volumes
                .iter()
                .map(|v| VolumeConfig {
                    name: v.name.clone(),
                    size: v.size.lvm_arg(),
                    gfs2: v.gfs2.as_ref().map(|g| Gfs2Config {
                        mountpoint: g.mountpoint.clone(),
                        journals: g.journals,
                        lock_table: g.lock_table.clone(),
                    }),
                })
                .collect(),
        },
        timeouts: Timeouts {
            peer_secs: fb.peer_timeout_secs,
            cman_secs: fb.cman_timeout_secs,
            drbd_connect_secs: fb.drbd_connect_timeout_secs,
            drbd_primary_secs: fb.drbd_primary_timeout_secs,
            barrier_secs: fb.barrier_timeout_secs,
            retry_initial_ms: RETRY_INITIAL_MS,
            retry_max_ms: RETRY_MAX_MS,
        },
    }
}

/// The file: two comment lines, then the config as `toml` serializes it,
/// with each volume's `gfs2` as an inline table on the volume (one line per
/// volume, rather than a `[clvm.volumes.gfs2]` section after each).
pub fn to_toml(
    cluster: &Cluster,
    platform: &str,
    node: &Node,
) -> Result<String, toml_edit::ser::Error> {
    let cfg = for_node(cluster, platform, node);
    let text = toml::to_string(&cfg).map_err(|e| toml_edit::ser::Error::Custom(e.to_string()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| toml_edit::ser::Error::Custom(e.to_string()))?;
    if let Some(volumes) = doc
        .get_mut("clvm")
        .and_then(|c| c.get_mut("volumes"))
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    {
        for v in volumes.iter_mut() {
            if let Some(item) = v.get_mut("gfs2") {
                if let Some(t) = item.as_table().cloned() {
                    *item = toml_edit::value(t.into_inline_table());
                }
            }
            // Was a table header's key: now a key = value line's.
            if let Some(mut key) = v.key_mut("gfs2") {
                key.leaf_decor_mut().clear();
            }
        }
    }
    Ok(format!(
        "# {}\n# Read by clusterkick-firstboot on {}.\n{doc}",
        header(cluster),
        node.fqdn
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{load, Mode};
    use std::path::Path;

    #[test]
    fn the_file_parses_back_to_the_config_it_was_made_from() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/an-cluster.toml");
        let l = load(&example, Mode::Check).expect("the example profile is valid");
        let id = l.flavor.platform().id();
        for node in &l.cluster.nodes {
            let text = to_toml(&l.cluster, id, node).unwrap();
            assert!(text.starts_with("# Generated by clusterkick "), "{text}");
            let cfg = FirstbootConfig::parse(&text).unwrap();
            assert_eq!(cfg, for_node(&l.cluster, id, node));
            assert_eq!(cfg.node.short, node.name);
            assert_eq!(cfg.platform, "el5-xen");
            // Each volume's gfs2 is inline, on the volume.
            assert!(!text.contains("[clvm.volumes.gfs2]"), "{text}");
            assert!(text.contains("\ngfs2 = { mountpoint = "), "{text}");
        }
    }
}
