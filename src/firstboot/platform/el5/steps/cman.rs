//! `cman`: started on both nodes at about the same moment (right after the
//! `inspected` barrier at first boot, right after the meeting at every
//! boot: well inside `post_join_delay`). It stays off in the runlevels: a
//! node that started cman alone would fence its absent peer after
//! `post_join_delay` (fenced's startup fencing).

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::Result;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::platform::el5::parse::cman_tool;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static CMAN: Step = Step {
    name: "cman",
    title: "start cman, wait for both members and quorum",
    role: Role::Both,
    runs: Runs::EveryRun,
    run,
    plan,
};

fn run(ctx: &mut Ctx) -> Result<()> {
    let status = ctx.query(&argv::init("cman", "status"));
    if status.success() {
        ctx.log.info("cman is already running");
    } else {
        ctx.change(&argv::init("cman", "start"))?;
    }
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    ctx.wait(
        "cman to show both members and quorum",
        ctx.cfg.timeouts.cman_secs,
        |ctx| {
            let st = ctx.query(&argv::cman_tool_status());
            if !st.success() {
                return Ok(Poll::Pending(format!(
                    "cman_tool status: {}",
                    st.last_line()
                )));
            }
            let status = cman_tool::parse_cman_status(&st.stdout)?;
            let nodes = ctx.query(&argv::cman_tool_nodes());
            let rows = cman_tool::parse_cman_nodes(&nodes.stdout)?;
            let missing: Vec<String> = [&me, &peer]
                .iter()
                .filter(|n| {
                    !rows
                        .iter()
                        .any(|r| r.status == 'M' && (r.name == n.name || r.name == n.short))
                })
                .map(|n| n.name.clone())
                .collect();
            if status.quorate && status.nodes.unwrap_or(0) >= 2 && missing.is_empty() {
                return Ok(Poll::Ready(()));
            }
            Ok(Poll::Pending(format!(
                "{} member(s), {}, missing: {}",
                status.nodes.unwrap_or(0),
                if status.quorate {
                    "quorate"
                } else {
                    "not quorate"
                },
                if missing.is_empty() {
                    "none".to_string()
                } else {
                    missing.join(", ")
                }
            )))
        },
    )?;
    Ok(())
}

fn plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::check(&argv::init("cman", "status"), "skip the start if running"),
        PlanLine::run(&argv::init("cman", "start")),
        PlanLine::note(format!(
            "wait up to {} s: {} and {} show both members and quorum",
            cfg.timeouts.cman_secs,
            argv::cman_tool_status(),
            argv::cman_tool_nodes()
        )),
    ]
}
