//! `start-alone` on el5: the cluster stack on this node without its peer,
//! in the boot sequence's order: cman (alone it is quorate: two_node), our
//! DRBD init script, the promotion (DRBD calls the fence-peer handler: the
//! peer is fenced before I/O is allowed), clvmd, the clustered LVs, GFS2.

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Argv;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::platform::el5::parse::cman_tool;
use crate::firstboot::platform::el5::steps::{clvm, drbd_device, gfs2};

/// What `start-alone` tells the operator before anything runs.
pub fn warning(cfg: &FirstbootConfig) -> Vec<String> {
    let (me, peer, res) = (&cfg.node.name, &cfg.peer.name, &cfg.drbd.resource);
    vec![
        format!("start-alone: brings the cluster stack up on {me} WITHOUT {peer}:"),
        format!(
            "  cman starts alone: its fence daemon fences {peer} (the fence devices in \
             cluster.conf) after post_join_delay ({} s) unless {peer} joins first;",
            cfg.post_join_delay_secs
        ),
        format!(
            "  DRBD {res} is promoted without its peer: DRBD calls its fence-peer handler, which \
             fences {peer} (fence_node) before it allows any I/O;"
        ),
        "  then clvmd, the clustered LVs and the GFS2 mounts.".to_string(),
        format!(
            "Use it only when {peer} is down and must stay down: it is powered off. When it \
             comes back, its DRBD resyncs from {me}."
        ),
    ]
}

pub fn helper_service_start() -> Argv {
    argv::init(argv::FIRSTBOOT_SERVICE, "start")
}

pub fn start_alone(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let peer = ctx.cfg.peer.name.clone();
    if ctx.query(&argv::init("cman", "status")).success() {
        ctx.log.info("start-alone: cman is already running");
    } else {
        ctx.change(&argv::init("cman", "start"))?;
    }
    ctx.wait("cman to be quorate", ctx.cfg.timeouts.cman_secs, |ctx| {
        let st = ctx.query(&argv::cman_tool_status());
        if !st.success() {
            return Ok(Poll::Pending(format!(
                "cman_tool status: {}",
                st.last_line()
            )));
        }
        let status = cman_tool::parse_cman_status(&st.stdout)?;
        Ok(if status.quorate {
            Poll::Ready(())
        } else {
            Poll::Pending("not quorate".into())
        })
    })?;
    ctx.change(&argv::init(argv::DRBD_SERVICE, "start"))?;
    let dev = ctx.wait(
        &format!("DRBD {res} to attach its disk"),
        ctx.cfg.timeouts.drbd_connect_secs,
        |ctx| {
            Ok(match drbd_device(ctx)? {
                Some(d) if d.is_configured() && d.local_disk() != "Diskless" => Poll::Ready(d),
                Some(d) => Poll::Pending(d.summary()),
                None => Poll::Pending("not in /proc/drbd".into()),
            })
        },
    )?;
    if dev.local_role() == "Primary" {
        ctx.log
            .info(format!("start-alone: DRBD {res} is already Primary"));
    } else {
        if !dev.is_connected() && dev.local_disk() != "UpToDate" && !ctx.dry_run {
            return Err(Error::Unexpected(format!(
                "DRBD {res} on this node is {}: its data is not known to be current, so it \
                 must not run alone (DRBD would refuse too). Nothing after cman was started; \
                 {peer} may hold the current data",
                dev.summary()
            )));
        }
        ctx.log.info(format!(
            "start-alone: promoting DRBD {res} ({}); without the peer DRBD first calls its \
             fence-peer handler, which fences {peer}",
            dev.summary()
        ));
        ctx.change(&argv::drbdadm("primary", &res)).map_err(|e| {
            Error::Unexpected(format!(
                "{e}. DRBD refused to become Primary: {peer} could not be fenced (see the \
                 drbd-fence-peer lines in this log), or this node's data is not current; \
                 clvmd and GFS2 were not started"
            ))
        })?;
    }
    clvm::clvmd(ctx)?;
    clvm::lv_activate(ctx)?;
    gfs2::gfs2_mount(ctx)?;
    ctx.log.info(format!(
        "start-alone: {} runs the cluster stack without {peer}",
        ctx.cfg.node.name
    ));
    Ok(())
}
