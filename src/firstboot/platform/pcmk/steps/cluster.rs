//! corosync and pacemaker: started on both nodes right after the
//! `inspected` barrier, both members and quorum, then the CIB, loaded once
//! on the initial primary while the live CIB has no resources.

use super::{crm_mon, names, pcmk, watches_pacemaker};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Found, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::pcmk::argv::{self, COROSYNC, PACEMAKER};
use crate::firstboot::platform::pcmk::parse::{cib, quorumtool};
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static CLUSTER: Step = Step {
    name: "cluster",
    title: "start corosync and pacemaker, wait for quorum and both nodes online",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: cluster,
    plan: cluster_plan,
};

pub static CIB_LOAD: Step = Step {
    name: "cib-load",
    title: "load the cluster configuration (CIB) once",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: cib_load,
    plan: cib_load_plan,
};

fn cluster(ctx: &mut Ctx) -> Result<()> {
    for unit in [COROSYNC, PACEMAKER] {
        if ctx.query(&argv::is_active(unit)).success() {
            ctx.log.info(format!("{unit} is already running"));
        } else {
            ctx.change(&argv::start(unit))?;
        }
    }
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    let watch = watches_pacemaker(ctx.cfg);
    ctx.wait(
        if watch {
            "corosync quorum with both members and both nodes online in pacemaker"
        } else {
            "corosync quorum with both members (the initial primary checks pacemaker for both nodes)"
        },
        ctx.cfg.timeouts.cman_secs,
        |ctx| {
            let r = ctx.query(&argv::quorumtool());
            // Exit 2: not quorate (yet); anything else but 0: not running.
            if r.code != 0 && r.code != 2 {
                return Ok(Poll::Pending(format!(
                    "corosync-quorumtool: {}",
                    r.last_line()
                )));
            }
            let q = quorumtool::parse(&r.stdout)?;
            let missing: Vec<&str> = [&me, &peer]
                .into_iter()
                .filter(|n| !q.members.iter().any(|m| names(n).contains(&m.as_str())))
                .map(|n| n.name.as_str())
                .collect();
            if !q.quorate || !missing.is_empty() {
                return Ok(Poll::Pending(format!(
                    "corosync: {} member(s), {}, missing: {}",
                    q.nodes,
                    if q.quorate { "quorate" } else { "not quorate" },
                    if missing.is_empty() {
                        "none".into()
                    } else {
                        missing.join(", ")
                    }
                )));
            }
            if !watch {
                return Ok(Poll::Ready(()));
            }
            let mon = match crm_mon(ctx)? {
                Ok(m) => m,
                Err(why) => return Ok(Poll::Pending(why)),
            };
            let offline: Vec<&str> = [&me, &peer]
                .into_iter()
                .filter(|n| !mon.online(&names(n)))
                .map(|n| n.name.as_str())
                .collect();
            if !mon.dc || !offline.is_empty() {
                return Ok(Poll::Pending(format!(
                    "pacemaker: {}, offline: {}",
                    if mon.dc { "DC elected" } else { "no DC yet" },
                    if offline.is_empty() {
                        "none".into()
                    } else {
                        offline.join(", ")
                    }
                )));
            }
            Ok(Poll::Ready(()))
        },
    )
}

fn cluster_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v = Vec::new();
    for unit in [COROSYNC, PACEMAKER] {
        v.push(PlanLine::check(
            &argv::is_active(unit),
            "skip the start if running",
        ));
        v.push(PlanLine::run(&argv::start(unit)));
    }
    v.push(PlanLine::note(if watches_pacemaker(cfg) {
        format!(
            "wait up to {} s: `{}` quorate with both members, `{}` both nodes online and a DC",
            cfg.timeouts.cman_secs,
            argv::quorumtool(),
            argv::crm_mon()
        )
    } else {
        format!(
            "wait up to {} s: `{}` quorate with both members (pacemaker: the initial primary checks both nodes before the next barrier)",
            cfg.timeouts.cman_secs,
            argv::quorumtool()
        )
    }));
    v
}

/// The configuration section cibadmin loads, cut out of the CIB file.
pub fn configuration_file(cfg: &FirstbootConfig) -> String {
    cfg.state_file
        .parent()
        .unwrap_or(std::path::Path::new("/var/lib/clusterkick"))
        .join("cib-configuration.xml")
        .display()
        .to_string()
}

fn cib_load(ctx: &mut Ctx) -> Result<()> {
    let p = pcmk(ctx.cfg).clone();
    let file = p.cib_file.display().to_string();
    let text = ctx
        .read(&file)
        .map_err(|e| Error::io(format!("reading {file}"), e))?;
    let mut held: Vec<&str> = vec![p.drbd_clone.as_str()];
    held.extend(p.start_after_storage.iter().map(String::as_str));
    cib::check_document(&text, &held, &[p.locking_clone.as_str()])
        .map_err(|e| Error::Unexpected(format!("{file} is not what this helper can load: {e}")))?;
    let configuration = cib::configuration(&text)?;
    let live = super::query_ok(ctx, &argv::cib_query_resources())?;
    let ids = cib::live_resource_ids(&live)?;
    let found = if ids.is_empty() {
        Found::Nothing
    } else {
        Found::Data(format!(
            "the live CIB already holds resources ({})",
            ids.join(", ")
        ))
    };
    let out = configuration_file(ctx.cfg);
    if found == Found::Nothing {
        ctx.write(&out, &configuration)?;
    }
    ctx.destructive("cib-load", &argv::cib_replace_configuration(&out), found)
}

fn cib_load_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let p = pcmk(cfg);
    let out = configuration_file(cfg);
    vec![
        PlanLine::note(format!(
            "check: {} holds {} and, at target-role=Stopped, {}",
            p.cib_file.display(),
            p.locking_clone,
            std::iter::once(&p.drbd_clone)
                .chain(&p.start_after_storage)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )),
        PlanLine::check(
            &argv::cib_query_resources(),
            "only if the live CIB has no resources",
        ),
        PlanLine::note(format!(
            "write {out}: the <configuration> of {}",
            p.cib_file.display()
        )),
        PlanLine::run(&argv::cib_replace_configuration(&out)),
    ]
}
