//! Which files each node's %post overlay holds, with owners and modes.

pub use crate::archive::OverlayFile;
use crate::model::Node;
use crate::render::context::with_secrets;
use crate::render::{session::RenderSession, RenderError};
use minijinja::context;
use minijinja::Value;

/// The overlay files that are the same on every node of the cluster
/// (cluster.conf, openais.conf, drbd.conf: cman and DRBD want them
/// identical): rendered once per cluster. `ctx` may be any node's context.
pub fn cluster_files(s: &RenderSession<'_>, ctx: &Value) -> Result<Vec<OverlayFile>, RenderError> {
    let mut files = vec![OverlayFile {
        // cluster.conf carries the fence passwords: 0640 root:root.
        path: "etc/cluster/cluster.conf".into(),
        mode: 0o640,
        contents: s
            .render("etc/cluster/cluster.conf.j2", &with_secrets(ctx, s.secrets))?
            .into_bytes(),
    }];
    for (path, template) in [
        ("etc/ais/openais.conf", "etc/ais/openais.conf.j2"),
        ("etc/drbd.conf", "etc/drbd.conf.j2"),
    ] {
        files.push(OverlayFile {
            path: path.into(),
            mode: 0o644,
            contents: s.render(template, ctx)?.into_bytes(),
        });
    }
    Ok(files)
}

/// Every overlay file for one node, sorted by path: the cluster-wide files
/// (from [`cluster_files`]) and the node's own, rendered with its context.
pub fn node_files(
    s: &RenderSession<'_>,
    node: &Node,
    ctx: &Value,
    shared: &[OverlayFile],
) -> Result<Vec<OverlayFile>, RenderError> {
    let cluster = s.cluster;
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
        add(path, mode, s.render(template, ctx)?.into_bytes());
    }
    if cluster.drbd.fencing {
        add(
            "usr/lib/drbd/clusterkick-fence-peer.sh",
            0o755,
            s.render("usr/lib/drbd/clusterkick-fence-peer.sh.j2", ctx)?
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
            s.render("etc/sysconfig/network-scripts/ifcfg-NIC.j2", &nic_ctx)?
                .into_bytes(),
        );
    }
    add(
        "etc/clusterkick/firstboot.key",
        0o600,
        format!("{}\n", s.secrets.firstboot_key).into_bytes(),
    );
    add(
        // The real path: on EL5 /etc/init.d is a symlink to rc.d/init.d.
        "etc/rc.d/init.d/clusterkick-firstboot",
        0o755,
        s.raw("etc/rc.d/init.d/clusterkick-firstboot")?.to_vec(),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
