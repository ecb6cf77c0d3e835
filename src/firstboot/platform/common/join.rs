//! A replacement node joining its survivor: what the survivor says about
//! its DRBD on the back channel, and whether that lets this node join.
//! The platforms spell DRBD's states the same way here (8.3, 8.4 and 9 all
//! call a current disk `UpToDate`); each fills the facts from its own tools.

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::step::{FACT_ROLE, FACT_SETUP, SETUP_DONE};

/// The survivor's DRBD connection state (`cs`: `WFConnection`,
/// `Connected`, ...; DRBD 9: the connection's state), or `Unconfigured`
/// when its resource is down.
pub const FACT_DRBD_CS: &str = "drbd-cs";
/// The survivor's DRBD role (`Primary`, `Secondary`).
pub const FACT_DRBD_ROLE: &str = "drbd-role";
/// The survivor's own disk state (`UpToDate`, `Outdated`, ...).
pub const FACT_DRBD_DISK: &str = "drbd-disk";

/// What a node reports about its DRBD resource: connection state, role,
/// disk state; `Unconfigured` for all three when it is down.
pub fn drbd_facts(cs: &str, role: &str, disk: &str) -> Vec<(&'static str, String)> {
    vec![
        (FACT_DRBD_CS, cs.to_string()),
        (FACT_DRBD_ROLE, role.to_string()),
        (FACT_DRBD_DISK, disk.to_string()),
    ]
}

/// Connection states in which the survivor's DRBD has a peer already.
const HAS_PEER: &[&str] = &[
    "Connected",
    "StartingSyncS",
    "StartingSyncT",
    "WFBitMapS",
    "WFBitMapT",
    "WFSyncUUID",
    "SyncSource",
    "SyncTarget",
    "PausedSyncS",
    "PausedSyncT",
    "VerifyS",
    "VerifyT",
];

/// Disk states a survivor's disk passes through while it attaches.
const ATTACHING: &[&str] = &["Attaching", "Negotiating", "Diskless", "Unconfigured"];

/// What the survivor's facts mean for a replacement node about to connect
/// to it: ready (its disk is UpToDate and it waits for its peer), not yet
/// (it is coming up), or never (its data may be stale, or it has a peer).
pub fn survivor_verdict(
    cfg: &FirstbootConfig,
    cs: Option<&str>,
    role: Option<&str>,
    disk: Option<&str>,
) -> std::result::Result<Poll<()>, String> {
    let (peer, res) = (&cfg.peer.name, &cfg.drbd.resource);
    let (Some(cs), Some(role), Some(disk)) = (cs, role, disk) else {
        return Ok(Poll::Pending(format!(
            "{peer} has not reported its DRBD state"
        )));
    };
    let seen = format!("cs:{cs} ro:{role} ds:{disk}");
    if cs == "Unconfigured" || ATTACHING.contains(&disk) {
        return Ok(Poll::Pending(format!(
            "DRBD {res} is not up on {peer} ({seen})"
        )));
    }
    if disk != "UpToDate" {
        return Err(format!(
            "{peer}'s DRBD disk is {disk}, not UpToDate ({seen}): its data may be stale, and \
             this node would copy it. Nothing was changed on either node. Find the node with \
             the current data first (if {peer} is it: `drbdadm primary r0` there after checking \
             why it is {disk}), then start this helper again"
        ));
    }
    if HAS_PEER.contains(&cs) {
        // Not refused at once: what the survivor said may be a second old
        // (this node's own DRBD, restarted, may just have left it).
        return Ok(Poll::Pending(format!(
            "{peer}'s DRBD {res} is connected to a peer already ({seen}): is the node this one \
             replaces still running? Power it off for good before this node joins"
        )));
    }
    if cs == "StandAlone" {
        return Ok(Poll::Pending(format!(
            "{peer}'s DRBD {res} is StandAlone and accepts no connection ({seen}); on {peer}: \
             `drbdadm connect {res}`"
        )));
    }
    Ok(Poll::Ready(()))
}

/// Refuses unless the peer is a survivor: a node whose first-boot setup is
/// done and which is no replacement itself. Asks the peer once more if it
/// has not said.
pub fn check_survivor_is_set_up(ctx: &mut Ctx) -> Result<()> {
    if ctx.dry_run {
        ctx.log.info(format!(
            "dry-run: would check that {} (the survivor) says its setup is done",
            ctx.cfg.peer.name
        ));
        return Ok(());
    }
    if ctx.peer_fact(FACT_SETUP).is_none() {
        ctx.ask_peer();
    }
    let peer = ctx.cfg.peer.name.clone();
    let setup = ctx.peer_fact(FACT_SETUP);
    let role = ctx.peer_fact(FACT_ROLE);
    if setup.as_deref() != Some(SETUP_DONE) {
        return Err(Error::SurvivorNotReady(format!(
            "{peer} says its first-boot setup is not done (role {}): a replacement node joins \
             a cluster that was set up and holds data. If both nodes are new, build both as \
             initial nodes. Nothing was changed",
            role.as_deref().unwrap_or("not said")
        )));
    }
    ctx.log.info(format!(
        "{peer} (the survivor) says its setup is done; this node joins it"
    ));
    Ok(())
}

/// Waits up to `drbd_connect_secs` until the survivor reports its DRBD up
/// with an UpToDate disk and no peer; refuses ([`Error::SurvivorNotReady`])
/// at once when it reports a disk that is not UpToDate, and when the time
/// runs out with DRBD still down, StandAlone or connected to another peer
/// there.
pub fn wait_for_survivor_disk(ctx: &mut Ctx) -> Result<()> {
    let peer = ctx.cfg.peer.name.clone();
    if ctx.dry_run {
        ctx.log.info(format!(
            "dry-run: would wait for {peer} to report its DRBD disk UpToDate"
        ));
        return Ok(());
    }
    let secs = ctx.cfg.timeouts.drbd_connect_secs;
    let what =
        format!("{peer} (the survivor) to report its DRBD disk UpToDate, waiting for its peer");
    let outcome = ctx.wait(&what, secs, |ctx| {
        ctx.ask_peer();
        let verdict = survivor_verdict(
            ctx.cfg,
            ctx.peer_fact(FACT_DRBD_CS).as_deref(),
            ctx.peer_fact(FACT_DRBD_ROLE).as_deref(),
            ctx.peer_fact(FACT_DRBD_DISK).as_deref(),
        );
        verdict.map_err(Error::SurvivorNotReady)
    });
    match outcome {
        Ok(()) => {
            ctx.log.info(format!(
                "{peer}'s DRBD disk is UpToDate and waits for its peer: this node connects as \
                 its sync target"
            ));
            Ok(())
        }
        Err(Error::Timeout { secs, last, .. }) => Err(Error::SurvivorNotReady(format!(
            "{peer} did not report an UpToDate DRBD disk within {secs} s (last seen: {last}). \
             Nothing that touches shared data ran"
        ))),
        Err(e) => Err(e),
    }
}

/// Whether this node's connected DRBD is what a replacement must be: the
/// sync target of UpToDate data (or, once the resync is over, UpToDate on
/// both). Never a sync source: its disk is empty.
pub fn join_state(
    cs: &str,
    local: &str,
    peer: &str,
    res: &str,
) -> std::result::Result<bool, String> {
    match cs {
        "SyncSource" | "PausedSyncS" | "StartingSyncS" | "WFBitMapS" => Err(format!(
            "DRBD made this node the sync source ({cs}): its empty disk would overwrite the \
             survivor's data. Disconnect at once (`drbdadm disconnect {res}`) and call a human"
        )),
        _ if peer != "UpToDate" && peer != "DUnknown" => Err(format!(
            "the survivor's disk is {peer}, not UpToDate: this node would copy stale data"
        )),
        "SyncTarget" | "PausedSyncT" => Ok(true),
        "Connected" if local == "UpToDate" && peer == "UpToDate" => Ok(true),
        "Connected" => Err(format!(
            "connected without a resync and disks {local}/{peer}: this node's disk is not a \
             copy of the survivor's"
        )),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> FirstbootConfig {
        let text = r#"
cluster = "an-cluster"
platform = "el5-xen"
role = "replacement"
listen = "10.0.1.72:7790"
peer_addr = "10.0.1.71:7790"
key_file = "/etc/clusterkick/firstboot.key"
state_file = "/var/lib/clusterkick/firstboot.state"
log_file = "/var/log/clusterkick-firstboot.log"
post_join_delay_secs = 60
[node]
name = "an-node02.alteeve.com"
short = "an-node02"
id = 2
[peer]
name = "an-node01.alteeve.com"
short = "an-node01"
id = 1
[drbd]
resource = "r0"
device = "/dev/drbd0"
initial_primary = false
backing_vg = "an-lvm02"
backing_lv = "lv02"
backing_size = "400G"
skip_initial_sync = false
[clvm]
vg = "drbd_vg0"
volumes = []
[timeouts]
peer_secs = 600
cman_secs = 600
drbd_connect_secs = 600
drbd_primary_secs = 600
barrier_secs = 600
retry_initial_ms = 500
retry_max_ms = 10000
"#;
        let cfg = FirstbootConfig::parse(text).expect("parses");
        assert_eq!(cfg.role, crate::firstboot::config::NodeRole::Replacement);
        cfg
    }

    fn verdict(cs: &str, role: &str, disk: &str) -> std::result::Result<bool, String> {
        survivor_verdict(&cfg(), Some(cs), Some(role), Some(disk))
            .map(|p| matches!(p, Poll::Ready(())))
    }

    #[test]
    fn only_an_uptodate_survivor_waiting_for_its_peer_is_joined() {
        assert_eq!(verdict("WFConnection", "Primary", "UpToDate"), Ok(true));
        assert_eq!(verdict("WFConnection", "Secondary", "UpToDate"), Ok(true));
        // Coming up, or StandAlone (the operator can connect it): not yet.
        assert_eq!(
            verdict("Unconfigured", "Unconfigured", "Unconfigured"),
            Ok(false)
        );
        assert_eq!(verdict("WFConnection", "Secondary", "Attaching"), Ok(false));
        assert_eq!(verdict("StandAlone", "Primary", "UpToDate"), Ok(false));
        assert!(
            survivor_verdict(&cfg(), None, None, None).is_ok_and(|p| matches!(p, Poll::Pending(_)))
        );
        // Never: stale data, or a peer already there.
        for disk in ["Outdated", "Inconsistent", "Consistent", "Failed"] {
            let e = verdict("WFConnection", "Secondary", disk).unwrap_err();
            assert!(e.contains(&format!("disk is {disk}, not UpToDate")), "{e}");
        }
        // A peer there already: not yet (refused when the wait runs out).
        assert_eq!(verdict("Connected", "Primary", "UpToDate"), Ok(false));
        assert_eq!(verdict("SyncSource", "Primary", "UpToDate"), Ok(false));
    }

    fn join_state_r0(cs: &str, local: &str, peer: &str) -> std::result::Result<bool, String> {
        join_state(cs, local, peer, "r0")
    }

    #[test]
    fn a_replacement_is_only_ever_the_target_of_uptodate_data() {
        assert_eq!(
            join_state_r0("SyncTarget", "Inconsistent", "UpToDate"),
            Ok(true)
        );
        assert_eq!(
            join_state_r0("PausedSyncT", "Inconsistent", "UpToDate"),
            Ok(true)
        );
        assert_eq!(join_state_r0("Connected", "UpToDate", "UpToDate"), Ok(true));
        assert_eq!(
            join_state_r0("WFConnection", "Inconsistent", "DUnknown"),
            Ok(false)
        );
        assert_eq!(
            join_state_r0("WFBitMapT", "Inconsistent", "UpToDate"),
            Ok(false)
        );
        assert!(join_state_r0("SyncSource", "UpToDate", "Inconsistent")
            .unwrap_err()
            .contains("sync source"));
        assert!(join_state_r0("SyncTarget", "Inconsistent", "Outdated")
            .unwrap_err()
            .contains("not UpToDate"));
        assert!(join_state_r0("Connected", "Inconsistent", "Inconsistent").is_err());
    }
}
