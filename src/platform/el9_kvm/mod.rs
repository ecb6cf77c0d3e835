//! el9-kvm: RHEL 9 and its rebuilds (Rocky, AlmaLinux) as KVM hosts, with
//! pacemaker on corosync 3, dlm, lvmlockd, GFS2, DRBD 9 from ELRepo,
//! NetworkManager keyfiles with a bridge per NIC, systemd, anaconda
//! kickstarts. The pacemaker family's runtime (super::pcmk); its own:
//! `[el9]` (repositories), the kickstart, the DRBD 9 resource file, the
//! keyfiles and ELRepo's repository file, in overlays/el9-kvm/.

mod kickstart;
mod model;
mod raw;
mod validate;

pub use model::{El9Kvm, Repos};
pub use validate::{agent_problem, package, ELREPO_KEY_URL, ELREPO_URL};

use super::pcmk::{self, text::PlatformWords};
use super::{AuthkeySpec, FileSpec, MapNotes, PackageSet, Platform, Spec, SummaryText};
use crate::firstboot::config::PacemakerConfig;
use crate::firstboot::platform::id::PlatformId;
use crate::installer::Media;
use crate::model::Cluster;
use crate::render::{RenderError, Renderer};
use minijinja::{context, Value};

pub const ID: &str = "el9-kvm";

pub const SPEC: Spec = Spec {
    id: ID,
    tables: &["corosync", "pacemaker", "el9"],
    interface_problem: pcmk::validate::interface_problem,
    parse: raw::parse,
    agent_problem,
    fence_actions: pcmk::FENCE_ACTIONS,
    device_per_resource: true,
    delay_on_one_node: true,
    drbd_versions: &["9"],
    drbd_source: "ELRepo ships DRBD 9 for el9: kmod-drbd9x and drbd9x-utils",
    keys: pcmk::KEYS,
    pxe_defaults: ("images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"),
    table_hints: pcmk::TABLE_HINTS,
};

/// Templates: overlays/el9-kvm/, then the family's overlays/pcmk/, then
/// overlays/common/.
const TEMPLATE_DIRS: &[&str] = &[ID, pcmk::FAMILY];

/// ELRepo's v2 signing key (4096-bit RSA, "elrepo.org (RPM Signing Key v2
/// for elrepo.org)"), as dnf shows it when importing
/// /etc/pki/rpm-gpg/RPM-GPG-KEY-v2-elrepo.org: the %post trusts a fetched
/// key only with this fingerprint. elrepo-release 9.5-2 (January 2025)
/// added this key; ELRepo signs its el9 packages with it since.
pub const ELREPO_FINGERPRINT: &str = "B8A755874DA240C9DAC4E71551600989EAA31D4A";
pub const ELREPO_KEY_FILE: &str = "/etc/pki/rpm-gpg/RPM-GPG-KEY-v2-elrepo.org";

/// The overlay's el9-kvm files: the family's, then its own. Templates are
/// `rootfs/<path>.j2` under overlays/el9-kvm/ or overlays/pcmk/.
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
    // NetworkManager reads only keyfiles that root alone may read.
    FileSpec::template(
        "etc/NetworkManager/system-connections/clusterkick-{nic}.nmconnection",
        0o600,
    )
    .per_nic(),
    FileSpec::template(
        "etc/NetworkManager/system-connections/clusterkick-br-{nic}.nmconnection",
        0o600,
    )
    .per_nic(),
    FileSpec::template("etc/yum.repos.d/clusterkick-elrepo.repo", 0o644).cluster_wide(),
];

impl Platform for El9Kvm {
    fn id(&self) -> &'static str {
        ID
    }

    fn template_dirs(&self) -> &'static [&'static str] {
        TEMPLATE_DIRS
    }

    fn firstboot_platform(&self) -> PlatformId {
        PlatformId::El9Kvm
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
            "corosync",
            "resource-agents",
            "dlm",
            "lvm2",
            "lvm2-lockd",
            "gfs2-utils",
            "mdadm",
            "NetworkManager",
            "qemu-kvm",
            "libvirt",
            "virt-install",
            "tar",
            "curl",
            "gnupg2",
        ];
        packages.extend(&self.fence_packages);
        PackageSet {
            groups: vec!["core"],
            packages,
        }
    }

    fn overlay_files(&self) -> &'static [FileSpec] {
        FILES
    }

    fn context(&self, cluster: &Cluster) -> Value {
        context! {
            id => ID,
            packages => Value::from_serialize(self.packages()),
            repos => Value::from_serialize(&self.repos),
            elrepo_key_file => ELREPO_KEY_FILE,
            elrepo_fingerprint => ELREPO_FINGERPRINT,
            ..pcmk::context(&self.family, cluster)
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
                    "{}: /boot {} MiB xfs{}, and the boot loader's own partition on {} (reqpart); LVM PV with swap `lv00` {} MiB, / `lv01` {} MiB xfs, and DRBD backing `{}` {} MiB (made at first boot).",
                    d.devices.join(" + "),
                    d.boot.0,
                    if d.mirrored() { " on md0 (RAID 1), PV on md1 (RAID 1)" } else { "" },
                    d.devices[0],
                    d.swap.0,
                    d.root.0,
                    c.drbd.backing_lv,
                    d.drbd.0,
                ),
                drbd: "DRBD 9 from ELRepo (kmod-drbd9x, drbd9x-utils), installed by the %post once ELRepo's key matches its pinned fingerprint",
                installer_file: "kickstart",
                installer_files: "Kickstarts",
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
            let name = f.template_name();
            if matches!(
                f.source,
                super::super::Source::ClusterAuthkey | super::super::Source::FencePassword
            ) {
                continue;
            }
            assert!(r.raw(&name).is_ok(), "{} has no {name}", f.path);
        }
        for name in [
            "kickstart/node.ks.j2",
            "kickstart/post.sh.j2",
            "pxe/boot.j2",
        ] {
            assert!(r.raw(name).is_ok(), "{name}");
        }
    }
}
