//! el5-xen: CentOS/RHEL 5 dom0 on Xen, cman 2 + openais 0.80, DRBD 8.3,
//! clvmd, GFS2, SysV init, anaconda kickstarts. The seed's platform.
//!
//! Its own profile tables are `[dom0]` and `[totem]` (raw.rs, validate.rs),
//! plus `install.extras_url`; its templates are in overlays/el5-xen/.

pub mod fence;
mod helper;
mod kickstart;
mod model;
mod raw;
mod validate;

pub use helper::{check_helper, HELPER_TARGET};
pub use model::{Bridge, El5Xen, Ring, Totem};

use super::{
    AuthkeySpec, FileSpec, KeyRule, MapNotes, PackageSet, Platform, Source, Spec, SummaryText,
};
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
    // It carries the peers' shared secret (cram-hmac-alg).
    FileSpec::template("etc/drbd.conf", 0o600)
        .cluster_wide()
        .with_secrets(),
    // cman's openais key (`<cman keyfile>` in cluster.conf).
    FileSpec::made(CMAN_KEYFILE, 0o600, Source::ClusterAuthkey).cluster_wide(),
    FileSpec::template("etc/sysconfig/network", 0o644),
    FileSpec::template("etc/sysconfig/network-scripts/ifcfg-{nic}", 0o644).per_nic(),
    FileSpec::template("etc/xen/scripts/an-network-script", 0o755),
    // The Node Assassin agent's config (it holds the device password).
    FileSpec::made(
        fence::FENCE_NA_CONFIG,
        0o600,
        Source::Made(fence::fence_na_toml),
    )
    .cluster_wide()
    .only_if(fence::uses_fence_na),
    // The real path: on EL5 /etc/init.d is a symlink to rc.d/init.d.
    FileSpec::verbatim("etc/rc.d/init.d/clusterkick-firstboot", 0o755),
    FileSpec::verbatim("etc/rc.d/init.d/clusterkick-drbd", 0o755),
];

/// Where cluster.conf's `<cman keyfile>` points (without the leading /).
pub const CMAN_KEYFILE: &str = "etc/cluster/cman_authkey";

/// cman's openais key: cman reads at most 128 bytes of the key file into
/// totem's private key (the same size openais's own ais-keygen makes).
pub const AUTHKEY: AuthkeySpec = AuthkeySpec {
    file: "cman.authkey",
    what: "cman authkey",
    min: 16,
    max: 128,
    new: 128,
};

/// The node's own LVM PV, as the kickstart lays the disks out: md1 (RAID 1
/// over the second partition of each disk) or, with one disk, its second
/// partition (after /boot; the kernel names it `sda2`, or `<disk>p2` when
/// the disk's name ends in a digit).
pub fn local_pv(cluster: &Cluster) -> String {
    if cluster.disks.mirrored() {
        return "/dev/md1".to_string();
    }
    let disk = &cluster.disks.devices[0];
    let sep = if disk.ends_with(|c: char| c.is_ascii_digit()) {
        "p"
    } else {
        ""
    };
    format!("/dev/{disk}{sep}2")
}

/// lvm.conf filter: the DRBD devices and the PV that holds the node's own
/// VG, each by its exact name; everything else is rejected: the DRBD
/// backing LV (which carries the same PV signature as /dev/drbd0), the
/// clustered LVs and whatever a guest put inside them. LVM accepts a
/// device when any one of its names matches an `a` pattern first, and an
/// unanchored pattern matches any part of a name (`a|drbd.*|` accepts
/// /dev/drbd_vg0/vm01), so each accept is anchored at both ends
/// (docs/evidence/el5.md §4).
pub fn lvm_filter(cluster: &Cluster) -> String {
    format!(
        "[ \"a|^/dev/drbd[0-9]+$|\", \"a|^{}$|\", \"r|.*|\" ]",
        local_pv(cluster)
    )
}

impl El5Xen {
    /// How long fencing `n` waits before the agent acts (the delays on the
    /// devices of its first method, where the agent reading them knows
    /// them), and the program that applies the first of them.
    fn fence_wait(&self, n: &crate::model::Node) -> (u32, Option<String>) {
        let mut wait = 0;
        let mut by = None;
        for r in n.fence.first().into_iter().flat_map(|m| &m.devices) {
            let Some(fa) = self.fence_agents.get(&r.device) else {
                continue;
            };
            if let (Some(x), true) = (r.delay, fa.takes_delay) {
                wait += x;
                if x > 0 && by.is_none() {
                    by.clone_from(&fa.delay_by);
                }
            }
        }
        (wait, by)
    }

    /// SUMMARY.md's sentence on who survives a split and what makes it so.
    fn split(&self, c: &Cluster) -> String {
        let [a, b] = c.nodes.as_slice() else {
            return String::new();
        };
        let (wa, by_a) = self.fence_wait(a);
        let (wb, by_b) = self.fence_wait(b);
        let (winner, loser, w, l, by) = match wa.cmp(&wb) {
            std::cmp::Ordering::Greater => (a, b, wa, wb, by_a),
            std::cmp::Ordering::Less => (b, a, wb, wa, by_b),
            std::cmp::Ordering::Equal => {
                return format!(
                    "split (the nodes lose each other): fencing either node waits {wa} s, so both fence at once and both may die; give the fence entry of the node that should survive a delay"
                )
            }
        };
        format!(
            "split (the nodes lose each other): {} survives. Fencing it waits {w} s, the delay on its own fence entry: {}. Fencing {} waits {l} s, so {} is fenced first. It holds through fenced (cman lost the peer) and through DRBD's fence-peer handler alike: fenced and fence_node (which the handler runs) run the same agent with the same entry",
            winner.name,
            by.unwrap_or_default(),
            loser.name,
            loser.name,
        )
    }
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
            agent_links => fence::AGENT_LINKS,
            fence_na_config => fence::uses_fence_na(cluster).then_some(fence::FENCE_NA_CONFIG),
            cman_keyfile => format!("/{CMAN_KEYFILE}"),
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

    fn cluster_authkey(&self) -> &'static AuthkeySpec {
        &AUTHKEY
    }

    fn versioned_config(&self) -> &'static str {
        "etc/cluster/cluster.conf"
    }

    fn summary(&self, c: &Cluster) -> SummaryText {
        let d = &c.disks;
        let mut stack = vec![format!(
            "cman two_node, post_join_delay {} s, config_version {}",
            c.post_join_delay, c.config_version
        )];
        if let Some(r) = self.totem.rings.first() {
            stack.push(format!(
                "one totem ring, on the {} network: multicast {}, port {} (cluster.conf's `<cman port>` and `<multicast addr>`; the nodes' names resolve to their {} addresses through /etc/hosts). cman encrypts and signs it with the cluster's own authkey (/{CMAN_KEYFILE}, `<cman keyfile>`; without one cman would use the cluster name, which is no secret). /etc/ais/openais.conf is written, as in the seed, but cman does not read it",
                r.network.title(),
                r.mcastaddr,
                r.mcastport,
                r.network.title(),
            ));
        }
        for r in self.totem.rings.iter().skip(1) {
            stack.push(format!(
                "the profile's ring {} (the {} network, {}:{}) is not used: CentOS 5 cannot run a second ring safely (see `clusterkick check`); it is only in openais.conf",
                r.number,
                r.network.title(),
                r.mcastaddr,
                r.mcastport
            ));
        }
        stack.push(self.split(c));
        SummaryText {
            disk_layout: format!(
                "{}: /boot {} MiB ext3{}; LVM PV with swap `lv00` {} MiB, / `lv01` {} MiB ext3, and DRBD backing `{}` {} MiB (made at first boot). dom0's LVM sees only `/dev/drbdN` and `{}` (lvm.conf's filter).",
                d.devices.join(" + "),
                d.boot.0,
                if d.mirrored() { " on md0 (RAID 1), PV on md1 (RAID 1)" } else { "" },
                d.swap.0,
                d.root.0,
                c.drbd.backing_lv,
                d.drbd.0,
                local_pv(c),
            ),
            stack,
            first_boot: "starts cman on both together, then DRBD (clusterkick-drbd), promotes it once both disks are UpToDate, then clvmd, the clustered VG and GFS2. It does the same at every later boot: cman, clvmd, drbd and gfs2 are off in the runlevels. A node whose peer stays away waits for it, starts nothing and fences nobody, until the operator runs `clusterkick-firstboot start-alone --yes-fence-the-peer` on it".into(),
            passwords_in: if fence::uses_fence_na(c) {
                "cluster.conf and, for the Node Assassin agent, /etc/clusterkick/fence_na.toml".into()
            } else {
                "cluster.conf".into()
            },
            keys: "the first-boot key".into(),
            vg_kind: "clustered VG".into(),
            installer_files: "Kickstarts".into(),
            installer_file: "kickstart".into(),
            sync_source: "initial sync source (`--overwrite-data-of-peer`, brand-new pair only)"
                .into(),
        }
    }

    fn map_notes(&self, _: &Cluster) -> MapNotes {
        // cman runs ring 0 only (a second ring is in openais.conf, which it
        // does not read).
        let mut links: BTreeMap<NetRole, Vec<String>> = BTreeMap::new();
        for r in self.totem.rings.iter().take(1) {
            links.entry(r.network).or_default().push(format!(
                "cman's totem ring: {}:{}",
                r.mcastaddr, r.mcastport
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
        for f in FILES
            .iter()
            .filter(|f| !matches!(f.source, Source::Made(_) | Source::ClusterAuthkey))
        {
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
