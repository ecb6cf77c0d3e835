//! The pacemaker family: what el9-kvm and debian12-kvm share. One runtime
//! (corosync 3 with one knet link, pacemaker, dlm, lvmlockd, GFS2 on
//! dual-primary DRBD, the CIB in Red Hat's GFS2 layout), one set of tables
//! (`[corosync]`, `[pacemaker]`), one NIC-name rule, and the overlay files
//! whose templates are in overlays/pcmk/. The platforms differ in their
//! installer file, packages and repositories, networking and DRBD version;
//! each has its folder beside this one.

pub mod agents;
mod helper;
pub mod model;
pub mod raw;
pub mod text;
pub mod validate;

pub use helper::check_helper;
pub use model::Pcmk;
pub use text::{map_notes, summary};

use super::{AuthkeySpec, FileSpec, KeyRule, Source};
use crate::firstboot::config::{DrbdGeneration, PacemakerConfig};
use crate::model::Cluster;
use minijinja::{context, Value};
use std::collections::BTreeMap;

/// The family's template folder under overlays/.
pub const FAMILY: &str = "pcmk";

/// Where the overlay puts the fence devices' passwords (one root-only file
/// each), which the CIB's stonith resources read with `password_script`.
pub const FENCE_DIR: &str = "/etc/clusterkick/fence";

/// Where the overlay puts the CIB the first-boot helper loads.
pub const CIB_FILE: &str = "/etc/clusterkick/cib.xml";

/// The helper is the same static x86-64 binary as on el5-xen.
pub const HELPER_TARGET: &str = "x86_64-unknown-linux-musl";

/// Keys of the common tables the family refuses or needs true.
pub const KEYS: &[(&str, KeyRule)] = &[
    (
        "cluster.post_join_delay",
        KeyRule::Refused("it is cman's fence_daemon setting; pacemaker's nodes wait for each other through corosync's two_node/wait_for_all"),
    ),
    (
        "install.extras_url",
        KeyRule::Refused("CentOS 5 extras are el5-xen's; this platform's repositories are in its own table"),
    ),
    (
        "drbd.become_primary_on_both",
        KeyRule::Refused("pacemaker promotes DRBD on both nodes (a promotable clone with promoted-max=2), not DRBD's init script"),
    ),
    (
        "drbd.allow_two_primaries",
        KeyRule::NotFalse("GFS2 is mounted on both nodes, so DRBD is Primary on both; remove the key"),
    ),
    (
        "drbd.fencing",
        KeyRule::NotFalse("without fencing resource-and-stonith and the crm-fence-peer handlers both nodes keep writing when they lose each other, and DRBD reports a split brain (seen in the test VMs); remove the key"),
    ),
];

/// What the family says about another platform's tables.
pub const TABLE_HINTS: &[(&str, &str)] = &[
    (
        "dom0",
        "a KVM host has no dom0: its memory is the host's; guests are sized by libvirt",
    ),
    (
        "totem",
        "corosync 3's totem is made from [corosync]: links (one network) and token",
    ),
];

/// The fence actions a stonith device takes instead of a reboot
/// (`pcmk_reboot_action`).
pub const FENCE_ACTIONS: &[&str] = &["off", "reboot"];

/// corosync 3's authkey: knet takes 1024 to 32768 bits (`corosync-keygen`
/// makes 2048 by default).
pub const AUTHKEY: AuthkeySpec = AuthkeySpec {
    file: "corosync.authkey",
    what: "corosync authkey",
    min: 128,
    max: 4096,
    new: 256,
};

/// The family's overlay files; each platform lists them with its own.
pub const COROSYNC_CONF: FileSpec =
    FileSpec::template("etc/corosync/corosync.conf", 0o644).cluster_wide();
pub const COROSYNC_KEY: FileSpec =
    FileSpec::made("etc/corosync/authkey", 0o400, Source::ClusterAuthkey).cluster_wide();
pub const DRBD_GLOBAL: FileSpec =
    FileSpec::template("etc/drbd.d/global_common.conf", 0o644).cluster_wide();
/// The resource file: each platform has its own template (DRBD 9 or 8.4).
/// It holds the peers' shared secret: root only.
pub const DRBD_RESOURCE: FileSpec = FileSpec::template("etc/drbd.d/{resource}.res", 0o600)
    .cluster_wide()
    .with_secrets();
pub const LVM_LOCAL: FileSpec = FileSpec::template("etc/lvm/lvmlocal.conf", 0o644);
pub const DLM_CONF: FileSpec = FileSpec::verbatim("etc/dlm/dlm.conf", 0o644).cluster_wide();
pub const RESOURCE_AGENTS_DEPS: FileSpec = FileSpec::verbatim(
    "etc/systemd/system/resource-agents-deps.target.d/99-clusterkick.conf",
    0o644,
)
.cluster_wide();
pub const CIB: FileSpec = FileSpec::template("etc/clusterkick/cib.xml", 0o600).cluster_wide();
pub const FENCE_PASSWORDS: FileSpec = FileSpec::made(
    "etc/clusterkick/fence/{device}.passwd",
    0o600,
    Source::FencePassword,
)
.per_fence_device();
pub const HELPER_UNIT: FileSpec =
    FileSpec::verbatim("etc/systemd/system/clusterkick-firstboot.service", 0o644).cluster_wide();
/// Each NIC named after its MAC address.
pub const NIC_NAME: FileSpec =
    FileSpec::template("etc/systemd/network/10-clusterkick-{nic}.link", 0o644).per_nic();

/// The first-boot helper's `[pacemaker]`: the CIB it loads and the ids of
/// the resources it hands storage to.
pub fn helper_config(p: &Pcmk, cluster: &Cluster) -> PacemakerConfig {
    PacemakerConfig {
        cib_file: CIB_FILE.into(),
        drbd_clone: p.cib.drbd_clone.clone(),
        locking_clone: p.cib.locking_clone.clone(),
        start_after_storage: p.cib.start_after_storage(),
        op_timeout_secs: p.timeouts.op_secs,
        resources_secs: p.timeouts.start_secs,
        drbd_generation: match cluster.drbd.version.as_str() {
            "9" => DrbdGeneration::V9,
            _ => DrbdGeneration::V84,
        },
    }
}

/// A stable UUID for a NetworkManager connection: from the cluster, the
/// node and the connection's name, so that a rebuild gives the same file.
pub fn connection_uuid(cluster: &str, node: &str, connection: &str) -> String {
    let h = crate::output::sha256_hex(
        format!("clusterkick\0{cluster}\0{node}\0{connection}").as_bytes(),
    );
    // Laid out as a version-4 (random) UUID with the RFC 4122 variant.
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        ["8", "9", "a", "b"][usize::from(h.as_bytes()[16] % 4)],
        &h[17..20],
        &h[20..32]
    )
}

/// What the family's templates see under `platform`, besides the payload:
/// the CIB file, the fence folder, and each node's NetworkManager UUIDs.
pub fn context(p: &Pcmk, cluster: &Cluster) -> Value {
    let uuids: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, String>>> = cluster
        .nodes
        .iter()
        .map(|n| {
            let by_nic = n
                .nics
                .iter()
                .map(|nic| {
                    let port = format!("clusterkick-{}", nic.interface);
                    let bridge = format!("clusterkick-br-{}", nic.interface);
                    let ids = BTreeMap::from([
                        ("port", connection_uuid(&cluster.name, &n.name, &port)),
                        ("bridge", connection_uuid(&cluster.name, &n.name, &bridge)),
                    ]);
                    (nic.interface.as_str(), ids)
                })
                .collect();
            (n.name.as_str(), by_nic)
        })
        .collect();
    context! {
        cib_file => CIB_FILE,
        fence_dir => FENCE_DIR,
        uuids => uuids,
        start_after_storage => p.cib.start_after_storage(),
        ..Value::from_serialize(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_uuids_are_stable_and_well_formed() {
        let a = connection_uuid("c", "n1", "clusterkick-ifn0");
        assert_eq!(a, connection_uuid("c", "n1", "clusterkick-ifn0"));
        assert_ne!(a, connection_uuid("c", "n2", "clusterkick-ifn0"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!("89ab".contains(&parts[3][..1]));
    }
}
