//! Every EL5-only command line the el5 steps run, built in one place so that
//! `plan` prints exactly what `run` runs. EL5 spellings:
//! `/etc/init.d/<svc> start`, `chkconfig <svc> on`, cman_tool, DRBD 8.3
//! `drbdadm -- <backend options> <cmd> <res>`, gfs2_tool, `vgcreate -c y`.
//! What any Linux platform spells the same way (LVM2, mount) is in
//! [`crate::firstboot::platform::common`].

use crate::firstboot::host::Argv;

/// The helper's own init script, as chkconfig knows it.
pub const FIRSTBOOT_SERVICE: &str = "clusterkick-firstboot";

/// Our init script for DRBD (`drbdadm adjust all`, its own subsys lock, at
/// 22/78 between cman and clvmd). The package's /etc/init.d/drbd is never
/// run: its subsys lock would make rc run its K08 first at shutdown.
pub const DRBD_SERVICE: &str = "clusterkick-drbd";

/// Where the init scripts are (/etc/init.d is a link to it on EL5).
pub const INIT_DIR: &str = "/etc/rc.d/init.d";

/// `/etc/init.d/<service> <action>`. Started this way, a service holds its
/// /var/lock/subsys lock, so that rc's K links stop it at shutdown, in
/// their order, although it is off in every runlevel.
pub fn init(service: &str, action: &str) -> Argv {
    Argv::new([format!("/etc/init.d/{service}").as_str(), action])
}

/// `chkconfig <cmd> <service>` (`--add`, `--del`) or `chkconfig <service>
/// <state>` (`resetpriorities`, ...), as chkconfig 1.3.30 takes them.
pub fn chkconfig(words: &[&str]) -> Argv {
    Argv::new(std::iter::once("chkconfig").chain(words.iter().copied()))
}

/// `fence_node <node>`: cman fences a node with the devices cluster.conf
/// gives it (the same agents, and the same `delay`, fenced uses). Looked up
/// on PATH, as DRBD's handlers get it (/sbin first).
pub fn fence_node(node: &str) -> Argv {
    Argv::new(["fence_node", node])
}

pub fn cman_tool_status() -> Argv {
    Argv::new(["cman_tool", "status"])
}

pub fn cman_tool_nodes() -> Argv {
    Argv::new(["cman_tool", "nodes"])
}

/// `vgcreate -c y <vg> <pv>`: a clustered VG for clvmd (seed 7.1.4).
pub fn vgcreate_clustered(vg: &str, pv: &str) -> Argv {
    Argv::new(["vgcreate", "-c", "y", vg, pv])
}

pub fn drbdadm(cmd: &str, res: &str) -> Argv {
    Argv::new(["drbdadm", cmd, res])
}

/// `drbdadm -- <backend option> <cmd> <res>`: options after `--` go to
/// drbdsetup / drbdmeta.
pub fn drbdadm_backend(opt: &str, cmd: &str, res: &str) -> Argv {
    Argv::new(["drbdadm", "--", opt, cmd, res])
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
    Argv::new(["gfs2_tool", "sb", dev, field])
}

/// `mkfs.gfs2 -O -p lock_dlm -j N -t cluster:fs <lv>`. `-O` because EL5's
/// mkfs.gfs2 asks "Are you sure you want to proceed? [y/n]" otherwise.
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
    fn argv_spellings() {
        assert_eq!(
            create_md("r0").to_string(),
            "drbdadm -- --force create-md r0"
        );
        assert_eq!(
            overwrite_peer_primary("r0").to_string(),
            "drbdadm -- --overwrite-data-of-peer primary r0"
        );
        assert_eq!(
            discard_my_data_connect("r0").to_string(),
            "drbdadm -- --discard-my-data connect r0"
        );
        assert_eq!(
            mkfs_gfs2(2, "an-cluster:iso_store", "/dev/drbd_vg0/iso_store").to_string(),
            "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store"
        );
        assert_eq!(init("cman", "start").to_string(), "/etc/init.d/cman start");
        assert_eq!(
            chkconfig(&["xend", "resetpriorities"]).to_string(),
            "chkconfig xend resetpriorities"
        );
        assert_eq!(
            fence_node("an-node02.alteeve.com").to_string(),
            "fence_node an-node02.alteeve.com"
        );
    }
}
