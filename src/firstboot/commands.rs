//! Every command line the helper runs, built in one place so that `plan` and
//! `run` cannot disagree. EL5 spellings: `/etc/init.d/<svc> start`,
//! `chkconfig <svc> on`, `lvcreate -L 400G`, DRBD 8.3 `drbdadm -- <backend
//! options> <cmd> <res>`.

use crate::firstboot::config::{FirstbootConfig, VolumeConfig};

pub type Argv = Vec<String>;

fn v(parts: &[&str]) -> Argv {
    parts.iter().map(|s| s.to_string()).collect()
}

pub fn init(service: &str, action: &str) -> Argv {
    vec![format!("/etc/init.d/{service}"), action.to_string()]
}

pub fn chkconfig(service: &str, on: bool) -> Argv {
    v(&["chkconfig", service, if on { "on" } else { "off" }])
}

pub fn cman_tool_status() -> Argv {
    v(&["cman_tool", "status"])
}

pub fn cman_tool_nodes() -> Argv {
    v(&["cman_tool", "nodes"])
}

/// LVs of one VG, sizes in MiB without suffix.
pub fn lvs(vg: &str) -> Argv {
    v(&[
        "lvs",
        "--noheadings",
        "-o",
        "lv_name,vg_name,lv_attr,lv_size",
        "--units",
        "m",
        "--nosuffix",
        vg,
    ])
}

pub fn pvs() -> Argv {
    v(&["pvs", "--noheadings", "-o", "pv_name,vg_name"])
}

pub fn vgs() -> Argv {
    v(&["vgs", "--noheadings", "-o", "vg_name,vg_attr"])
}

/// `lvcreate -L <size> -n <name> <vg>`, as the seed's 6.1.2 and 7.1.5.
pub fn lvcreate(size: &str, name: &str, vg: &str) -> Argv {
    v(&["lvcreate", "-L", size, "-n", name, vg])
}

pub fn pvcreate(dev: &str) -> Argv {
    v(&["pvcreate", dev])
}

/// `vgcreate -c y <vg> <pv>`: a clustered VG (seed 7.1.4).
pub fn vgcreate_clustered(vg: &str, pv: &str) -> Argv {
    v(&["vgcreate", "-c", "y", vg, pv])
}

pub fn pvscan() -> Argv {
    v(&["pvscan"])
}

pub fn vgscan() -> Argv {
    v(&["vgscan"])
}

pub fn lvscan() -> Argv {
    v(&["lvscan"])
}

pub fn lvchange_activate(lv_path: &str) -> Argv {
    v(&["lvchange", "-a", "y", lv_path])
}

/// Deactivates an LV on this node only (clustered VG).
pub fn lvchange_deactivate_local(lv_path: &str) -> Argv {
    v(&["lvchange", "-a", "ln", lv_path])
}

pub fn drbdadm(cmd: &str, res: &str) -> Argv {
    v(&["drbdadm", cmd, res])
}

/// `drbdadm -- <backend option> <cmd> <res>`: options after `--` go to
/// drbdsetup / drbdmeta.
pub fn drbdadm_backend(opt: &str, cmd: &str, res: &str) -> Argv {
    v(&["drbdadm", "--", opt, cmd, res])
}

/// Unattended create-md: `--force` answers drbdmeta's `yes` prompt; only run
/// after dump-md proved there is no metadata.
pub fn create_md(res: &str) -> Argv {
    drbdadm_backend("--force", "create-md", res)
}

/// The initial full sync from this node (seed 6.3, Primary).
pub fn overwrite_peer_primary(res: &str) -> Argv {
    drbdadm_backend("--overwrite-data-of-peer", "primary", res)
}

/// Skip the initial sync of a brand-new pair (DRBD 8.3 user guide,
/// "Skipping initial resynchronization").
pub fn clear_bitmap_new_uuid(res: &str) -> Argv {
    drbdadm_backend("--clear-bitmap", "new-current-uuid", res)
}

/// Split-brain victim reconnect (DRBD 8.3): discard this node's changes.
pub fn discard_my_data_connect(res: &str) -> Argv {
    drbdadm_backend("--discard-my-data", "connect", res)
}

pub fn gfs2_sb(dev: &str, field: &str) -> Argv {
    v(&["gfs2_tool", "sb", dev, field])
}

/// `mkfs.gfs2 -O -p lock_dlm -j N -t cluster:fs <lv>`. `-O` because EL5's
/// mkfs.gfs2 asks "Are you sure you want to proceed? [y/n]" otherwise.
pub fn mkfs_gfs2(journals: u32, lock_table: &str, dev: &str) -> Argv {
    v(&[
        "mkfs.gfs2",
        "-O",
        "-p",
        "lock_dlm",
        "-j",
        &journals.to_string(),
        "-t",
        lock_table,
        dev,
    ])
}

pub fn mkdir_p(dir: &str) -> Argv {
    v(&["mkdir", "-p", dir])
}

pub fn mount(dir: &str) -> Argv {
    v(&["mount", dir])
}

pub fn umount(dir: &str) -> Argv {
    v(&["umount", dir])
}

pub fn rm_f(path: &str) -> Argv {
    v(&["rm", "-f", path])
}

/// `/dev/<vg>/<lv>`.
pub fn lv_path(vg: &str, lv: &str) -> String {
    format!("/dev/{vg}/{lv}")
}

pub fn backing_path(cfg: &FirstbootConfig) -> String {
    lv_path(&cfg.drbd.backing_vg, &cfg.drbd.backing_lv)
}

pub fn volume_path(cfg: &FirstbootConfig, vol: &VolumeConfig) -> String {
    lv_path(&cfg.clvm.vg, &vol.name)
}

/// The fstab line for a GFS2 volume (mounted by the `gfs2` init script at
/// boot; EL5's rc.sysinit skips gfs2 in `mount -a`).
pub fn fstab_line(dev: &str, mountpoint: &str) -> String {
    format!("{dev}\t{mountpoint}\tgfs2\tdefaults,noatime\t0 0")
}

/// The file each node writes on a GFS2 mount for the other to read.
pub fn check_file(mountpoint: &str, short: &str) -> String {
    format!(
        "{}/.clusterkick-firstboot.{short}",
        mountpoint.trim_end_matches('/')
    )
}

/// The DRBD minor of `/dev/drbdN`.
pub fn drbd_minor(device: &str) -> Option<u32> {
    device.strip_prefix("/dev/drbd")?.parse().ok()
}

pub const FIRSTBOOT_SERVICE: &str = "clusterkick-firstboot";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_spellings() {
        assert_eq!(create_md("r0").join(" "), "drbdadm -- --force create-md r0");
        assert_eq!(
            overwrite_peer_primary("r0").join(" "),
            "drbdadm -- --overwrite-data-of-peer primary r0"
        );
        assert_eq!(
            discard_my_data_connect("r0").join(" "),
            "drbdadm -- --discard-my-data connect r0"
        );
        assert_eq!(
            mkfs_gfs2(2, "an-cluster:iso_store", "/dev/drbd_vg0/iso_store").join(" "),
            "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store"
        );
        assert_eq!(
            lvcreate("400G", "lv02", "an-lvm01").join(" "),
            "lvcreate -L 400G -n lv02 an-lvm01"
        );
        assert_eq!(drbd_minor("/dev/drbd0"), Some(0));
        assert_eq!(drbd_minor("/dev/sda"), None);
        assert_eq!(
            check_file("/xen_shared/", "an-node01"),
            "/xen_shared/.clusterkick-firstboot.an-node01"
        );
    }
}
