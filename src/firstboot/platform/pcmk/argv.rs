//! Every command line the pacemaker-family steps run, built in one place so
//! that `plan` prints exactly what `run` runs: systemctl, corosync 3's and
//! pacemaker's tools, DRBD 8.4 / 9 through drbd-utils 9's `drbdadm`, LVM
//! with lvmlockd, wipefs, mkfs.gfs2. What every Linux spells the same way
//! (lvs, pvs, pvcreate, rm) is in [`crate::firstboot::platform::common`].

use crate::firstboot::config::DrbdGeneration;
use crate::firstboot::host::Argv;

/// The helper's own unit.
pub const FIRSTBOOT_UNIT: &str = "clusterkick-firstboot.service";
pub const COROSYNC: &str = "corosync.service";
pub const PACEMAKER: &str = "pacemaker.service";

pub fn is_active(unit: &str) -> Argv {
    Argv::new(["systemctl", "is-active", "--quiet", unit])
}

pub fn start(unit: &str) -> Argv {
    Argv::new(["systemctl", "start", unit])
}

/// `--no-reload`: the units are loaded already; the links are for the next
/// boot (a daemon-reload costs tens of seconds on a loaded node).
pub fn enable(units: &[&str]) -> Argv {
    Argv::new(["systemctl", "enable", "--no-reload"].iter().chain(units))
}

pub fn disable(unit: &str) -> Argv {
    Argv::new(["systemctl", "disable", "--no-reload", unit])
}

pub fn quorumtool() -> Argv {
    Argv::new(["corosync-quorumtool", "-s"])
}

pub fn crm_mon() -> Argv {
    Argv::new(["crm_mon", "--one-shot", "--inactive", "--output-as=xml"])
}

pub fn cib_query_resources() -> Argv {
    Argv::new(["cibadmin", "--query", "--scope", "resources"])
}

/// Replaces only the configuration section (no epoch comparison; the
/// status and version stay the cluster's).
pub fn cib_replace_configuration(file: &str) -> Argv {
    Argv::new([
        "cibadmin",
        "--replace",
        "--scope",
        "configuration",
        "--xml-file",
        file,
    ])
}

/// Hands a resource held `target-role=Stopped` to pacemaker.
pub fn clear_target_role(id: &str) -> Argv {
    Argv::new([
        "crm_resource",
        "--resource",
        id,
        "--meta",
        "--delete-parameter",
        "target-role",
    ])
}

pub fn drbdadm(cmd: &str, res: &str) -> Argv {
    Argv::new(["drbdadm", cmd, res])
}

/// `drbdadm create-md <res>` without `--force`: drbdmeta asks before it
/// overwrites anything it recognizes, and with stdin closed the question
/// fails the command (our guards come first).
pub fn create_md(res: &str) -> Argv {
    drbdadm("create-md", res)
}

/// The status of one resource: DRBD 9 only (8.4 is read from /proc/drbd).
pub fn drbdsetup_status_json(res: &str) -> Argv {
    Argv::new(["drbdsetup", "status", res, "--json"])
}

/// The full initial sync from this node: force it Primary (8.4 and 9 spell
/// it the same with drbd-utils 9).
pub fn force_primary(_gen: DrbdGeneration, res: &str) -> Argv {
    Argv::new(["drbdadm", "primary", "--force", res])
}

/// Skips the initial sync of two brand-new disks (evidence §5).
pub fn clear_bitmap(gen: DrbdGeneration, res: &str) -> Argv {
    match gen {
        DrbdGeneration::V84 => {
            Argv::new(["drbdadm", "--", "--clear-bitmap", "new-current-uuid", res])
        }
        DrbdGeneration::V9 => Argv::new(["drbdadm", "new-current-uuid", "--clear-bitmap", res]),
    }
}

pub fn wipefs(dev: &str) -> Argv {
    Argv::new(["wipefs", "--json", dev])
}

/// VGs with their lock type (`dlm` for a shared VG under lvmlockd).
pub fn vgs_locked() -> Argv {
    Argv::new(["vgs", "--noheadings", "-o", "vg_name,vg_attr,vg_lock_type"])
}

pub fn vgcreate_shared(vg: &str, pv: &str) -> Argv {
    Argv::new(["vgcreate", "--shared", vg, pv])
}

pub fn lock_start(vg: &str) -> Argv {
    Argv::new(["vgchange", "--lock-start", vg])
}

/// An LV in the shared VG, left inactive (pacemaker's LVM-activate
/// activates it).
pub fn lvcreate_inactive(size: &str, name: &str, vg: &str) -> Argv {
    Argv::new(["lvcreate", "--activate", "n", "-L", size, "-n", name, vg])
}

/// `sy`: shared activation (mkfs on the initial primary); `n`: off again.
pub fn lvchange(mode: &str, vg: &str, lv: &str) -> Argv {
    Argv::new(["lvchange", "--activate", mode, &format!("{vg}/{lv}")])
}

/// `-O`: no confirmation question (stdin is closed).
pub fn mkfs_gfs2(journals: u32, lock_table: &str, dev: &str) -> Argv {
    Argv::new([
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            clear_bitmap(DrbdGeneration::V84, "r0").to_string(),
            "drbdadm -- --clear-bitmap new-current-uuid r0"
        );
        assert_eq!(
            clear_bitmap(DrbdGeneration::V9, "r0").to_string(),
            "drbdadm new-current-uuid --clear-bitmap r0"
        );
        assert_eq!(
            enable(&[COROSYNC, PACEMAKER]).to_string(),
            "systemctl enable --no-reload corosync.service pacemaker.service"
        );
        assert_eq!(
            cib_replace_configuration("/x.xml").to_string(),
            "cibadmin --replace --scope configuration --xml-file /x.xml"
        );
        assert_eq!(
            lvchange("sy", "drbd_vg0", "iso_store").to_string(),
            "lvchange --activate sy drbd_vg0/iso_store"
        );
    }
}
