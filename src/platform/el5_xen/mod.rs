//! el5-xen: CentOS/RHEL 5 dom0 on Xen, cman 2 + openais 0.80, DRBD 8.3,
//! clvmd, GFS2, SysV init, anaconda kickstarts. The seed's platform.
//!
//! Its own profile tables are `[dom0]` and `[totem]` (raw.rs, validate.rs),
//! plus `install.extras_url`; its templates are in overlays/el5-xen/.

mod helper;
mod kickstart;
mod model;
mod raw;
mod validate;

pub use helper::{check_helper, HELPER_TARGET};
pub use model::{Bridge, El5Xen, Ring, Totem};

use super::{FileSpec, KeyRule, MapNotes, PackageSet, Platform, Spec, SummaryText};
use crate::firstboot::platform::id::PlatformId;
use crate::installer::Media;
use crate::model::{Cluster, NetRole};
use crate::render::{RenderError, Renderer};
use minijinja::{context, Value};
use std::collections::BTreeMap;

pub const ID: &str = "el5-xen";

pub const SPEC: Spec = Spec {
    id: ID,
    tables: &["dom0", "totem"],
    interface_problem: validate::interface_problem,
    parse: raw::parse,
    // cman runs any fence_* agent named in cluster.conf; fence_na is the
    // helper itself (README, "Node Assassin fencing on EL5").
    agent_problem: |_| None,
    fence_actions: &["off", "reboot", "on", "disable", "enable"],
    device_per_resource: false,
    delay_on_one_node: false,
    drbd_versions: &["8.3"],
    drbd_source: "CentOS 5 extras ship drbd83 and kmod-drbd83-xen",
    keys: &[(
        "cluster.post_join_delay",
        KeyRule::Required("give the seconds fenced waits for the other node when the cluster starts (cluster.conf's post_join_delay), e.g. post_join_delay = 60"),
    )],
    pxe_defaults: ("images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"),
    table_hints: &[
        ("corosync", "openais's settings are in [totem] on el5-xen"),
        ("pacemaker", "cman has no pacemaker: cluster.conf's fencing comes from [[fence_devices]] and the nodes' fence entries"),
    ],
};

/// Templates: overlays/el5-xen/, then overlays/common/.
const TEMPLATE_DIRS: &[&str] = &[ID];

/// xend's network-script (named in xend-config.sxp by the %post): one
/// bridge per NIC, not only eth0's.
pub const NETWORK_SCRIPT: &str = "an-network-script";

/// The overlay's el5-xen files. Templates are `rootfs/<path>.j2` under
/// overlays/el5-xen/.
const FILES: &[FileSpec] = &[
    // cman and DRBD want these identical on both nodes; cluster.conf
    // carries the fence passwords.
    FileSpec::template("etc/cluster/cluster.conf", 0o640)
        .cluster_wide()
        .with_secrets(),
    FileSpec::template("etc/ais/openais.conf", 0o644).cluster_wide(),
    FileSpec::template("etc/drbd.conf", 0o644).cluster_wide(),
    FileSpec::template("etc/sysconfig/network", 0o644),
    FileSpec::template("etc/sysconfig/network-scripts/ifcfg-{nic}", 0o644).per_nic(),
    FileSpec::template("etc/xen/scripts/an-network-script", 0o755),
    FileSpec::template("usr/lib/drbd/clusterkick-fence-peer.sh", 0o755).only_if(|c| c.drbd.fencing),
    // The real path: on EL5 /etc/init.d is a symlink to rc.d/init.d.
    FileSpec::verbatim("etc/rc.d/init.d/clusterkick-firstboot", 0o755),
];

/// lvm.conf filter: DRBD devices and the PV that holds the node's own VG;
/// everything else (including the DRBD backing LV, which carries the same PV
/// signature as /dev/drbd0) is rejected.
pub fn lvm_filter(cluster: &Cluster) -> String {
    let local = if cluster.disks.mirrored() {
        "a|md.*|".to_string()
    } else {
        format!("a|{}.*|", cluster.disks.devices[0])
    };
    format!("[ \"a|drbd.*|\", \"{local}\", \"r|.*|\" ]")
}

impl Platform for El5Xen {
    fn id(&self) -> &'static str {
        ID
    }

    fn template_dirs(&self) -> &'static [&'static str] {
        TEMPLATE_DIRS
    }

    fn firstboot_platform(&self) -> PlatformId {
        PlatformId::El5Xen
    }

    fn helper_target(&self) -> &'static str {
        HELPER_TARGET
    }

    fn check_helper(&self, elf: &[u8]) -> Result<(), String> {
        check_helper(elf)
    }

    fn packages(&self) -> PackageSet {
        PackageSet {
            groups: vec!["core", "base", "xen", "clustering", "cluster-storage"],
            packages: vec![
                "cman",
                "openais",
                "gfs2-utils",
                "lvm2-cluster",
                "drbd83",
                "kmod-drbd83-xen",
                "wget",
            ],
        }
    }

    fn overlay_files(&self) -> &'static [FileSpec] {
        FILES
    }

    fn context(&self, cluster: &Cluster) -> Value {
        context! {
            id => ID,
            packages => Value::from_serialize(self.packages()),
            lvm_filter => lvm_filter(cluster),
            network_script => NETWORK_SCRIPT,
            ..Value::from_serialize(self)
        }
    }

    fn installer_ext(&self) -> &'static str {
        "ks"
    }

    fn installer_file(
        &self,
        r: &Renderer,
        ctx: &Value,
        media: Media,
    ) -> Result<String, RenderError> {
        kickstart::kickstart(r, ctx, media)
    }

    fn post_script(&self, r: &Renderer, ctx: &Value) -> Result<String, RenderError> {
        kickstart::post_script(r, ctx)
    }

    fn summary(&self, c: &Cluster) -> SummaryText {
        let d = &c.disks;
        let t = &self.totem;
        SummaryText {
            disk_layout: format!(
                "{}: /boot {} MiB ext3{}; LVM PV with swap `lv00` {} MiB, / `lv01` {} MiB ext3, and DRBD backing `{}` {} MiB (made at first boot).",
                d.devices.join(" + "),
                d.boot.0,
                if d.mirrored() { " on md0 (RAID 1), PV on md1 (RAID 1)" } else { "" },
                d.swap.0,
                d.root.0,
                c.drbd.backing_lv,
                d.drbd.0,
            ),
            stack: vec![
                format!(
                    "cman two_node, post_join_delay {} s, config_version {}",
                    c.post_join_delay, c.config_version
                ),
                format!(
                    "totem rrp_mode {}, secauth {}: {}",
                    t.rrp_mode,
                    if t.secauth { "on" } else { "off" },
                    t.rings
                        .iter()
                        .map(|r| format!(
                            "ring {} on {} ({}:{})",
                            r.number,
                            r.network.key(),
                            r.mcastaddr,
                            r.mcastport
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ],
            first_boot: "starts cman on both together, then DRBD, clvmd, the clustered VG and GFS2"
                .into(),
            passwords_in: "cluster.conf".into(),
            installer_files: "Kickstarts".into(),
            installer_file: "kickstart".into(),
            sync_source: "initial sync source (`--overwrite-data-of-peer`, brand-new pair only)"
                .into(),
        }
    }

    fn map_notes(&self, _: &Cluster) -> MapNotes {
        let mut links: BTreeMap<NetRole, Vec<String>> = BTreeMap::new();
        for r in &self.totem.rings {
            links.entry(r.network).or_default().push(format!(
                "totem ring {}: {}:{}",
                r.number, r.mcastaddr, r.mcastport
            ));
        }
        MapNotes {
            node: Some(format!("dom0 {}", self.dom0_memory)),
            nic: self
                .bridges
                .iter()
                .map(|b| {
                    let note = format!(
                        "Xen: p{} → bridge {} (domU vifN.{})",
                        b.interface, b.bridge, b.vifnum
                    );
                    (b.role, note)
                })
                .collect(),
            links,
            traffic: BTreeMap::from([(
                NetRole::Internet,
                "domU traffic; no cluster traffic".to_string(),
            )]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_overlay_file_has_its_template_in_the_platform_tree() {
        let r = Renderer::for_platform(TEMPLATE_DIRS);
        for f in FILES {
            let name = f.template_name();
            assert!(
                name.starts_with("rootfs/") && r.raw(&name).is_ok(),
                "{} has no {name} under overlays/{ID}/ or overlays/common/",
                f.path
            );
        }
        for name in ["kickstart/node.ks.j2", "kickstart/post.sh.j2"] {
            assert!(r.raw(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_network_script_named_in_the_post_is_in_the_overlay() {
        assert!(FILES
            .iter()
            .any(|f| f.path == format!("etc/xen/scripts/{NETWORK_SCRIPT}")));
    }
}
