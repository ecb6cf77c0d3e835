//! Which files each node's %post overlay holds, with owners and modes.

use crate::model::{Cluster, Node, Secrets};
use crate::render::context::{node_context, with_secrets};
use crate::render::{RenderError, Renderer};
use minijinja::context;
use minijinja::Value;

/// One file as it will be on the node (path without a leading '/').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayFile {
    pub path: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// Every overlay file for one node, sorted by path.
pub fn node_files(
    r: &Renderer,
    cluster: &Cluster,
    secrets: &Secrets,
    node: &Node,
) -> Result<Vec<OverlayFile>, RenderError> {
    let ctx = node_context(cluster, node, None);
    let shared = cluster_files(r, secrets, &ctx)?;
    node_files_with(r, cluster, secrets, node, &ctx, &shared)
}

/// The overlay files that are the same on every node of the cluster
/// (cluster.conf, openais.conf, drbd.conf: cman and DRBD want them
/// identical): rendered once per cluster. `ctx` may be any node's context.
pub fn cluster_files(
    r: &Renderer,
    secrets: &Secrets,
    ctx: &Value,
) -> Result<Vec<OverlayFile>, RenderError> {
    let mut files = vec![OverlayFile {
        // cluster.conf carries the fence passwords: 0640 root:root.
        path: "etc/cluster/cluster.conf".into(),
        mode: 0o640,
        contents: r
            .render("etc/cluster/cluster.conf.j2", &with_secrets(ctx, secrets))?
            .into_bytes(),
    }];
    for (path, template) in [
        ("etc/ais/openais.conf", "etc/ais/openais.conf.j2"),
        ("etc/drbd.conf", "etc/drbd.conf.j2"),
    ] {
        files.push(OverlayFile {
            path: path.into(),
            mode: 0o644,
            contents: r.render(template, ctx)?.into_bytes(),
        });
    }
    Ok(files)
}

/// [`node_files`] with the node's template context and the cluster-wide
/// files (from [`cluster_files`]) already made.
pub fn node_files_with(
    r: &Renderer,
    cluster: &Cluster,
    secrets: &Secrets,
    node: &Node,
    ctx: &Value,
    shared: &[OverlayFile],
) -> Result<Vec<OverlayFile>, RenderError> {
    let mut files = shared.to_vec();
    let mut add = |path: &str, mode: u32, contents: Vec<u8>| {
        files.push(OverlayFile {
            path: path.to_string(),
            mode,
            contents,
        })
    };
    for (path, template, mode) in [
        ("etc/sysconfig/network", "etc/sysconfig/network.j2", 0o644),
        (
            "etc/xen/scripts/an-network-script",
            "etc/xen/scripts/an-network-script.j2",
            0o755,
        ),
        (
            "etc/clusterkick/firstboot.toml",
            "etc/clusterkick/firstboot.toml.j2",
            0o600,
        ),
    ] {
        add(path, mode, r.render(template, ctx)?.into_bytes());
    }
    if cluster.drbd.fencing {
        add(
            "usr/lib/drbd/clusterkick-fence-peer.sh",
            0o755,
            r.render("usr/lib/drbd/clusterkick-fence-peer.sh.j2", ctx)?
                .into_bytes(),
        );
    }
    for nic in &node.nics {
        let nic_ctx = context! {
            nic => minijinja::Value::from_serialize(nic),
            nic_net => minijinja::Value::from_serialize(cluster.network(nic.role)),
            ..ctx.clone()
        };
        add(
            &format!("etc/sysconfig/network-scripts/ifcfg-{}", nic.interface),
            0o644,
            r.render("etc/sysconfig/network-scripts/ifcfg-NIC.j2", &nic_ctx)?
                .into_bytes(),
        );
    }
    add(
        "etc/clusterkick/firstboot.key",
        0o600,
        format!("{}\n", secrets.firstboot_key).into_bytes(),
    );
    add(
        // The real path: on EL5 /etc/init.d is a symlink to rc.d/init.d.
        "etc/rc.d/init.d/clusterkick-firstboot",
        0o755,
        r.raw("etc/rc.d/init.d/clusterkick-firstboot")?.to_vec(),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
