//! debian12-kvm: Debian 12 (bookworm) as KVM hosts, with pacemaker on
//! corosync 3, dlm, lvmlockd, GFS2, the kernel's DRBD 8.4 driven by
//! drbd-utils 9, ifupdown bridges, systemd, debian-installer preseeds. The
//! pacemaker family's runtime (super::pcmk); its own: `[debian]`, the
//! preseed and its post-install script, the DRBD 8.4 resource file,
//! /etc/network/interfaces, in overlays/debian12-kvm/.

mod model;
mod raw;
mod validate;

pub use model::{Debian12Kvm, Mirror};
pub use validate::{agent_problem, mirror, SECURITY_URL};

use super::pcmk::{self, text::PlatformWords};
use super::{AuthkeySpec, FileSpec, MapNotes, PackageSet, Platform, Spec, SummaryText};
use crate::firstboot::config::PacemakerConfig;
use crate::firstboot::platform::id::PlatformId;
use crate::installer::Media;
use crate::model::{Cluster, Mib};
use crate::render::{RenderError, Renderer};
use minijinja::{context, Value};

pub const ID: &str = "debian12-kvm";

pub const SPEC: Spec = Spec {
    id: ID,
    tables: &["corosync", "pacemaker", "debian"],
    interface_problem: pcmk::validate::interface_problem,
    parse: raw::parse,
    agent_problem,
    fence_actions: pcmk::FENCE_ACTIONS,
    device_per_resource: true,
    delay_on_one_node: true,
    drbd_versions: &["8.4"],
    drbd_source: "Debian 12's kernel carries DRBD 8.4, driven by drbd-utils 9",
    keys: pcmk::KEYS,
    pxe_defaults: (
        "dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux",
        "dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/initrd.gz",
    ),
    table_hints: pcmk::TABLE_HINTS,
};

/// Templates: overlays/debian12-kvm/, then the family's overlays/pcmk/,
/// then overlays/common/.
const TEMPLATE_DIRS: &[&str] = &[ID, pcmk::FAMILY];

/// Every DNS server the profile names, once, in order.
fn nameservers(c: &Cluster) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ip in c.networks.iter().flat_map(|n| &n.dns) {
        let ip = ip.to_string();
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// The overlay's debian12-kvm files: the family's, then its own.
const FILES: &[FileSpec] = &[
    pcmk::COROSYNC_CONF,
    pcmk::COROSYNC_KEY,
    pcmk::DRBD_GLOBAL,
    pcmk::DRBD_RESOURCE,
    pcmk::LVM_LOCAL,
    pcmk::DLM_CONF,
    pcmk::RESOURCE_AGENTS_DEPS,
    pcmk::CIB,
    pcmk::FENCE_PASSWORDS,
    pcmk::HELPER_UNIT,
    pcmk::NIC_NAME,
    // The kernel's DRBD is a module nothing else loads at boot.
    FileSpec::verbatim("etc/modules-load.d/drbd.conf", 0o644).cluster_wide(),
    FileSpec::template("etc/network/interfaces", 0o644),
    // ifupdown writes no resolv.conf for a static address (without
    // resolvconf): the profile's servers, if it names any.
    FileSpec::template("etc/resolv.conf", 0o644)
        .cluster_wide()
        .only_if(|c| !nameservers(c).is_empty()),
];

/// partman takes sizes in megabytes (10^6 bytes): a MiB size, rounded up.
fn megabytes(m: Mib) -> u64 {
    (m.0 * 1_048_576).div_ceil(1_000_000)
}

impl Platform for Debian12Kvm {
    fn id(&self) -> &'static str {
        ID
    }

    fn template_dirs(&self) -> &'static [&'static str] {
        TEMPLATE_DIRS
    }

    fn firstboot_platform(&self) -> PlatformId {
        PlatformId::Debian12Kvm
    }

    fn firstboot_pacemaker(&self, cluster: &Cluster) -> Option<PacemakerConfig> {
        Some(pcmk::helper_config(&self.family, cluster))
    }

    fn helper_target(&self) -> &'static str {
        pcmk::HELPER_TARGET
    }

    fn check_helper(&self, elf: &[u8]) -> Result<(), String> {
        pcmk::check_helper(elf)
    }

    fn packages(&self) -> PackageSet {
        let mut packages = vec![
            "pacemaker",
            "pacemaker-cli-utils",
            "pacemaker-resource-agents",
            "corosync",
            "resource-agents",
            "fence-agents",
            "dlm-controld",
            "lvm2",
            "lvm2-lockd",
            "gfs2-utils",
            "drbd-utils",
            "mdadm",
            "ifupdown",
            "bridge-utils",
            "qemu-system-x86",
            "qemu-utils",
            "libvirt-daemon-system",
            "libvirt-clients",
            "wget",
        ];
        if self.ipmitool {
            packages.push("ipmitool");
        }
        PackageSet {
            // tasksel's tasks.
            groups: vec!["standard", "ssh-server"],
            packages,
        }
    }

    fn overlay_files(&self) -> &'static [FileSpec] {
        FILES
    }

    fn context(&self, cluster: &Cluster) -> Value {
        let d = &cluster.disks;
        context! {
            id => ID,
            packages => Value::from_serialize(self.packages()),
            mirror => Value::from_serialize(&self.mirror),
            security => Value::from_serialize(&self.security),
            nameservers => nameservers(cluster),
            partman => context! {
                boot => megabytes(d.boot),
                swap => megabytes(d.swap),
                root => megabytes(d.root),
            },
            ..pcmk::context(&self.family, cluster)
        }
    }

    fn installer_ext(&self) -> &'static str {
        "preseed"
    }

    fn installer_file(
        &self,
        r: &Renderer,
        ctx: &Value,
        _media: Media,
    ) -> Result<String, RenderError> {
        r.render("preseed/node.preseed.j2", ctx)
    }

    fn post_script(&self, r: &Renderer, ctx: &Value) -> Result<String, RenderError> {
        r.render("preseed/post.sh.j2", ctx)
    }

    fn post_script_file(&self) -> bool {
        true
    }

    fn cluster_authkey(&self) -> &'static AuthkeySpec {
        &pcmk::AUTHKEY
    }

    fn versioned_config(&self) -> &'static str {
        pcmk::COROSYNC_CONF.path
    }

    fn summary(&self, c: &Cluster) -> SummaryText {
        let d = &c.disks;
        pcmk::summary(
            &self.family,
            c,
            PlatformWords {
                disk_layout: format!(
                    "{}: /boot {} MiB ext4{}; LVM PV with swap `lv00` {} MiB, / `lv01` {} MiB ext4, and DRBD backing `{}` {} MiB (made at first boot). BIOS boot, GRUB on every disk.",
                    d.devices.join(" + "),
                    d.boot.0,
                    if d.mirrored() { " on md0 (RAID 1), PV on md1 (RAID 1)" } else { "" },
                    d.swap.0,
                    d.root.0,
                    c.drbd.backing_lv,
                    d.drbd.0,
                ),
                drbd: "DRBD 8.4, the kernel's, driven by drbd-utils 9 (drbdadm hands 8.4 resources to drbdadm-84)",
                installer_file: "preseed",
                installer_files: "Preseeds and post-install scripts",
            },
        )
    }

    fn map_notes(&self, _: &Cluster) -> MapNotes {
        pcmk::map_notes(&self.family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_overlay_file_has_its_template_in_the_platform_tree() {
        let r = Renderer::for_platform(TEMPLATE_DIRS);
        for f in FILES {
            if matches!(
                f.source,
                super::super::Source::ClusterAuthkey | super::super::Source::FencePassword
            ) {
                continue;
            }
            let name = f.template_name();
            assert!(r.raw(&name).is_ok(), "{} has no {name}", f.path);
        }
        for name in [
            "preseed/node.preseed.j2",
            "preseed/post.sh.j2",
            "pxe/boot.j2",
            "isolinux/boot.j2",
        ] {
            assert!(r.raw(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn partman_sizes_are_megabytes_rounded_up() {
        assert_eq!(megabytes(Mib(200)), 210);
        assert_eq!(megabytes(Mib(2048)), 2148);
        assert_eq!(megabytes(Mib(1)), 2);
    }
}
