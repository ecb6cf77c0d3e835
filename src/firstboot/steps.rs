//! The steps and barriers, in the seed's order (sections 5.4, 6, 7) with its
//! mistakes corrected, each with its guards; and, next to each step, the
//! lines `plan` prints for it, built from the same [`commands`].
//!
//! Items run in order. Barriers and one-shot steps are recorded in the state
//! file once passed. "Service" steps (those that start or activate
//! something) are re-checked on every run, so a resumed helper first makes
//! sure what earlier steps started is still running.

use crate::firstboot::barrier;
use crate::firstboot::commands::{self as cmd, Argv};
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::{Ctx, Found, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::node::cmdline;
use crate::firstboot::parse::{self, DrbdDevice, Gi};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierId {
    Meet,
    Inspected,
    DrbdMd,
    DrbdConnected,
    SyncStarted,
    Clvmd,
    VgCreated,
    FsMade,
    FsWritten,
    FsChecked,
}

impl BarrierId {
    pub fn index(self) -> u32 {
        self as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            BarrierId::Meet => "meet",
            BarrierId::Inspected => "inspected",
            BarrierId::DrbdMd => "drbd-md",
            BarrierId::DrbdConnected => "drbd-connected",
            BarrierId::SyncStarted => "sync-started",
            BarrierId::Clvmd => "clvmd",
            BarrierId::VgCreated => "vg-created",
            BarrierId::FsMade => "fs-made",
            BarrierId::FsWritten => "fs-written",
            BarrierId::FsChecked => "fs-checked",
        }
    }

    /// What both nodes have done when they pass it.
    pub fn meaning(self) -> &'static str {
        match self {
            BarrierId::Meet => "both helpers are up and authenticated",
            BarrierId::Inspected => {
                "both found no data on their disks; both start cman right after it"
            }
            BarrierId::DrbdMd => "both have DRBD metadata; both start drbd right after it",
            BarrierId::DrbdConnected => "DRBD is connected on both",
            BarrierId::SyncStarted => "the primary started the initial sync",
            BarrierId::Clvmd => "clvmd runs on both and both are DRBD Primary",
            BarrierId::VgCreated => "the clustered VG and its LVs exist",
            BarrierId::FsMade => "the GFS2 file systems exist",
            BarrierId::FsWritten => "each node wrote its check file on GFS2",
            BarrierId::FsChecked => "each node read the other's check file",
        }
    }

    pub fn timeout(self, cfg: &FirstbootConfig) -> u64 {
        match self {
            BarrierId::Meet => cfg.timeouts.peer_secs,
            _ => cfg.timeouts.barrier_secs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepId {
    Inspect,
    Cman,
    BackingLv,
    DrbdMd,
    DrbdStart,
    InitialSync,
    DrbdPrimary,
    Clvmd,
    ClusteredVg,
    LvActivate,
    Gfs2Mkfs,
    Gfs2Mount,
    FsWrite,
    FsRead,
    Finish,
    Disable,
}

impl StepId {
    pub fn name(self) -> &'static str {
        match self {
            StepId::Inspect => "inspect",
            StepId::Cman => "cman",
            StepId::BackingLv => "backing-lv",
            StepId::DrbdMd => "drbd-md",
            StepId::DrbdStart => "drbd-start",
            StepId::InitialSync => "initial-sync",
            StepId::DrbdPrimary => "drbd-primary",
            StepId::Clvmd => "clvmd",
            StepId::ClusteredVg => "clustered-vg",
            StepId::LvActivate => "lv-activate",
            StepId::Gfs2Mkfs => "gfs2-mkfs",
            StepId::Gfs2Mount => "gfs2-mount",
            StepId::FsWrite => "fs-write",
            StepId::FsRead => "fs-read",
            StepId::Finish => "finish",
            StepId::Disable => "disable",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            StepId::Inspect => "look for existing data before anything is written",
            StepId::Cman => "start cman, wait for both members and quorum, enable at boot",
            StepId::BackingLv => "create the DRBD backing LV if it does not exist",
            StepId::DrbdMd => "create DRBD metadata where there is none",
            StepId::DrbdStart => "start drbd and wait until both sides are connected",
            StepId::InitialSync => "start the initial sync of a brand-new pair",
            StepId::DrbdPrimary => "become Primary and wait for Primary/Primary",
            StepId::Clvmd => "start clvmd, enable at boot",
            StepId::ClusteredVg => "create the PV, the clustered VG and its LVs",
            StepId::LvActivate => "rescan and activate the clustered LVs",
            StepId::Gfs2Mkfs => "make the GFS2 file systems",
            StepId::Gfs2Mount => "add the fstab entries, mount, enable gfs2 at boot",
            StepId::FsWrite => "write a check file on each GFS2 mount",
            StepId::FsRead => "read the peer's check file on each GFS2 mount",
            StepId::Finish => "clean up, enable drbd at boot, mark done",
            StepId::Disable => "disable this helper at boot",
        }
    }

    /// Re-checked on every run, even when done (they start things).
    pub fn service(self) -> bool {
        matches!(
            self,
            StepId::Cman
                | StepId::DrbdStart
                | StepId::DrbdPrimary
                | StepId::Clvmd
                | StepId::LvActivate
                | StepId::Gfs2Mount
        )
    }

    /// Runs only on the profile's DRBD primary.
    pub fn primary_only(self) -> bool {
        matches!(
            self,
            StepId::InitialSync | StepId::ClusteredVg | StepId::Gfs2Mkfs
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Barrier(BarrierId),
    Step(StepId),
}

impl Item {
    /// The id recorded in the state file.
    pub fn id(self) -> String {
        match self {
            Item::Barrier(b) => format!("barrier:{}", b.name()),
            Item::Step(s) => format!("step:{}", s.name()),
        }
    }
}

use BarrierId as B;
use StepId as S;

pub const ITEMS: &[Item] = &[
    Item::Barrier(B::Meet),
    Item::Step(S::Inspect),
    Item::Barrier(B::Inspected),
    Item::Step(S::Cman),
    Item::Step(S::BackingLv),
    Item::Step(S::DrbdMd),
    Item::Barrier(B::DrbdMd),
    Item::Step(S::DrbdStart),
    Item::Barrier(B::DrbdConnected),
    Item::Step(S::InitialSync),
    Item::Barrier(B::SyncStarted),
    Item::Step(S::DrbdPrimary),
    Item::Step(S::Clvmd),
    Item::Barrier(B::Clvmd),
    Item::Step(S::ClusteredVg),
    Item::Barrier(B::VgCreated),
    Item::Step(S::LvActivate),
    Item::Step(S::Gfs2Mkfs),
    Item::Barrier(B::FsMade),
    Item::Step(S::Gfs2Mount),
    Item::Step(S::FsWrite),
    Item::Barrier(B::FsWritten),
    Item::Step(S::FsRead),
    Item::Barrier(B::FsChecked),
    Item::Step(S::Finish),
    Item::Step(S::Disable),
];

/// The last barrier: after it nothing needs the peer.
pub const FINAL_BARRIER: BarrierId = BarrierId::FsChecked;

pub fn run_step(step: StepId, ctx: &mut Ctx) -> Result<()> {
    match step {
        S::Inspect => inspect(ctx),
        S::Cman => cman(ctx),
        S::BackingLv => backing_lv(ctx),
        S::DrbdMd => drbd_md(ctx),
        S::DrbdStart => drbd_start(ctx),
        S::InitialSync => initial_sync(ctx),
        S::DrbdPrimary => drbd_primary(ctx),
        S::Clvmd => clvmd(ctx),
        S::ClusteredVg => clustered_vg(ctx),
        S::LvActivate => lv_activate(ctx),
        S::Gfs2Mkfs => gfs2_mkfs(ctx),
        S::Gfs2Mount => gfs2_mount(ctx),
        S::FsWrite => fs_write(ctx),
        S::FsRead => fs_read(ctx),
        S::Finish => finish(ctx),
        S::Disable => disable(ctx),
    }
}

// ------------------------------------------------------------------ helpers

fn gfs2_volumes(cfg: &FirstbootConfig) -> impl Iterator<Item = &VolumeConfig> {
    cfg.clvm.volumes.iter().filter(|v| v.gfs2.is_some())
}

fn query_ok(ctx: &mut Ctx, argv: &Argv) -> Result<String> {
    let r = ctx.query(argv);
    if !r.success() {
        return Err(Error::Command {
            command: argv.join(" "),
            code: r.code,
            detail: r.last_line(),
        });
    }
    Ok(r.stdout)
}

fn get_gi(ctx: &mut Ctx) -> Result<Gi> {
    let out = query_ok(ctx, &cmd::drbdadm("get-gi", &ctx.cfg.drbd.resource))?;
    Ok(parse::parse_gi(&out)?)
}

/// Bytes read from the start of a device for the signature probe.
pub const PROBE_LEN: usize = 68 * 1024;

/// A signature at the start of a device that EL5's blkid would not report:
/// LVM2 label (sectors 0-3), GFS/GFS2 superblock (64 KiB), ext2/3, swap.
pub fn detect_signature(head: &[u8]) -> Option<&'static str> {
    for sector in 0..4 {
        let at = sector * 512;
        if head.get(at..at + 8) == Some(b"LABELONE") {
            return Some("an LVM2 physical volume label");
        }
    }
    if head.get(65536..65540) == Some(&[0x01, 0x16, 0x19, 0x70]) {
        return Some("a GFS/GFS2 superblock");
    }
    if head.get(1080..1082) == Some(&[0x53, 0xEF]) {
        return Some("an ext2/ext3 superblock");
    }
    if head.get(4086..4096) == Some(b"SWAPSPACE2") {
        return Some("a swap signature");
    }
    None
}

fn probe(ctx: &mut Ctx, dev: &str) -> Result<Option<&'static str>> {
    let head = ctx
        .node
        .read_head(dev, PROBE_LEN)
        .map_err(|e| Error::io(format!("reading the start of {dev}"), e))?;
    Ok(detect_signature(&head))
}

/// What is on the backing LV: (metadata, signature).
fn backing_contents(ctx: &mut Ctx) -> Result<(Option<Gi>, Option<&'static str>)> {
    let res = ctx.cfg.drbd.resource.clone();
    let backing = cmd::backing_path(ctx.cfg);
    let attached = ctx.drbd_device()?.is_some_and(|d| d.is_configured());
    let gi = if attached {
        Some(get_gi(ctx)?)
    } else {
        let r = ctx.query(&cmd::drbdadm("dump-md", &res));
        match r.code {
            0 => Some(parse::parse_dump_md(&r.stdout)?),
            255 => None,
            code => {
                return Err(Error::Command {
                    command: format!("drbdadm dump-md {res}"),
                    code,
                    detail: r.last_line(),
                })
            }
        }
    };
    let sig = probe(ctx, &backing)?;
    Ok((gi, sig))
}

fn lv_exists(ctx: &mut Ctx, vg: &str, lv: &str) -> Result<bool> {
    let out = query_ok(ctx, &cmd::lvs(vg))?;
    Ok(parse::parse_lvs(&out)
        .iter()
        .any(|r| r.lv == lv && r.vg == vg))
}

fn drbd_now(ctx: &mut Ctx) -> Result<DrbdDevice> {
    ctx.drbd_device()?.ok_or_else(|| {
        Error::Unexpected(format!(
            "{} is not configured (no minor {} in /proc/drbd)",
            ctx.cfg.drbd.device, ctx.minor
        ))
    })
}

// -------------------------------------------------------------------- steps

/// Read-only: refuses when the backing LV holds metadata with history or a
/// signature, before anything is written on either node.
fn inspect(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.drbd.backing_vg.clone();
    let lv = ctx.cfg.drbd.backing_lv.clone();
    let backing = cmd::backing_path(ctx.cfg);
    if !lv_exists(ctx, &vg, &lv)? {
        ctx.log.info(format!(
            "inspect: {backing} does not exist yet: nothing on it"
        ));
    } else {
        match backing_contents(ctx)? {
            (Some(gi), _) if !gi.is_brand_new() => {
                return Err(Error::Refused(format!(
                "DRBD metadata on {backing} has a data generation history ({}): it may hold data",
                gi.line()
            )))
            }
            (_, Some(sig)) => {
                return Err(Error::Refused(format!(
                    "{backing} carries {sig}: it may hold data"
                )))
            }
            (Some(_), None) => ctx.log.info(format!(
                "inspect: {backing} has brand-new DRBD metadata and no data"
            )),
            (None, None) => ctx.log.info(format!(
                "inspect: {backing} has no DRBD metadata and no known signature"
            )),
        }
    }
    ctx.announce("inspect", "clean");
    Ok(())
}

fn cman(ctx: &mut Ctx) -> Result<()> {
    let status = ctx.query(&cmd::init("cman", "status"));
    if status.success() {
        ctx.log.info("cman is already running");
    } else {
        ctx.change(&cmd::init("cman", "start"))?;
    }
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    ctx.wait(
        "cman to show both members and quorum",
        ctx.cfg.timeouts.cman_secs,
        |ctx| {
            let st = ctx.query(&cmd::cman_tool_status());
            if !st.success() {
                return Ok(Poll::Pending(format!(
                    "cman_tool status: {}",
                    st.last_line()
                )));
            }
            let status = parse::parse_cman_status(&st.stdout)?;
            let nodes = ctx.query(&cmd::cman_tool_nodes());
            let rows = parse::parse_cman_nodes(&nodes.stdout)?;
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
    ctx.change(&cmd::chkconfig("cman", true))?;
    Ok(())
}

fn backing_lv(ctx: &mut Ctx) -> Result<()> {
    let d = ctx.cfg.drbd.clone();
    let found = if lv_exists(ctx, &d.backing_vg, &d.backing_lv)? {
        Found::Harmless(format!("{} exists", cmd::backing_path(ctx.cfg)))
    } else {
        Found::Nothing
    };
    ctx.destructive(
        "backing-lv",
        &cmd::lvcreate(&d.backing_size, &d.backing_lv, &d.backing_vg),
        found,
    )
}

fn drbd_md(ctx: &mut Ctx) -> Result<()> {
    let backing = cmd::backing_path(ctx.cfg);
    let found = match backing_contents(ctx)? {
        (_, Some(sig)) => Found::Data(format!("{backing} carries {sig}")),
        (Some(gi), None) if gi.is_brand_new() => {
            Found::Harmless(format!("{backing} already has brand-new DRBD metadata"))
        }
        (Some(gi), None) => Found::Data(format!(
            "DRBD metadata on {backing} has a data generation history ({})",
            gi.line()
        )),
        (None, None) => Found::Nothing,
    };
    ctx.destructive("create-md", &cmd::create_md(&ctx.cfg.drbd.resource), found)
}

fn drbd_start(ctx: &mut Ctx) -> Result<()> {
    let configured = ctx.drbd_device()?.is_some_and(|d| d.is_configured());
    if configured {
        ctx.log
            .info(format!("{} is already up", ctx.cfg.drbd.resource));
    } else {
        ctx.change(&cmd::init("drbd", "start"))?;
    }
    let what = format!(
        "DRBD {} to connect to {}",
        ctx.cfg.drbd.resource, ctx.cfg.peer.name
    );
    ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        let Some(dev) = ctx.drbd_device()? else {
            return Ok(Poll::Pending("not in /proc/drbd".into()));
        };
        if dev.cs == "StandAlone" {
            return Err(Error::Unexpected(format!(
                "DRBD {} went StandAlone ({}): split brain or unrelated data; see `clusterkick-firstboot recover`",
                ctx.cfg.drbd.resource,
                dev.summary()
            )));
        }
        if dev.is_connected() {
            return Ok(Poll::Ready(()));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;
    let gi = get_gi(ctx)?;
    ctx.announce("gi", &gi.line());
    Ok(())
}

fn initial_sync(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let dev = drbd_now(ctx)?;
    let gi = get_gi(ctx)?;
    let peer_gi = ctx.peer_fact("gi").and_then(|g| parse::parse_gi(&g).ok());
    let (local, peer) = (dev.local_disk().to_string(), dev.peer_disk().to_string());
    let reason = if local == "UpToDate" && peer == "UpToDate" {
        Some("both sides are UpToDate (possible split brain)".to_string())
    } else if !gi.is_brand_new() {
        Some(format!(
            "this node's DRBD metadata has a data generation history ({})",
            gi.line()
        ))
    } else if let Some(p) = peer_gi.as_ref().filter(|p| !p.is_brand_new()) {
        Some(format!(
            "{}'s DRBD metadata has a data generation history ({})",
            ctx.cfg.peer.name,
            p.line()
        ))
    } else if peer_gi.is_none() {
        Some(format!(
            "{} did not report its data generation identifiers",
            ctx.cfg.peer.name
        ))
    } else if local != "Inconsistent" || peer != "Inconsistent" {
        Some(format!(
            "disk states are {local}/{peer}, not Inconsistent/Inconsistent"
        ))
    } else {
        None
    };
    let found = match reason {
        None => Found::Nothing,
        Some(r) => Found::Data(r),
    };
    let argv = if ctx.cfg.drbd.skip_initial_sync {
        cmd::clear_bitmap_new_uuid(&res)
    } else {
        cmd::overwrite_peer_primary(&res)
    };
    ctx.destructive("initial-sync", &argv, found)
}

fn drbd_primary(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let dev = drbd_now(ctx)?;
    if dev.local_role() != "Primary" {
        if !ctx.is_primary() {
            ctx.wait(
                "the initial sync to start (peer Primary)",
                ctx.cfg.timeouts.drbd_primary_secs,
                |ctx| {
                    let dev = drbd_now(ctx)?;
                    if matches!(dev.cs.as_str(), "SyncTarget" | "PausedSyncT")
                        || dev.local_disk() == "UpToDate"
                    {
                        return Ok(Poll::Ready(()));
                    }
                    Ok(Poll::Pending(dev.summary()))
                },
            )?;
        }
        ctx.change(&cmd::drbdadm("primary", &res))?;
    }
    let what = format!("DRBD {res} to be Primary/Primary");
    let dev = ctx.wait(&what, ctx.cfg.timeouts.drbd_primary_secs, |ctx| {
        let dev = drbd_now(ctx)?;
        if dev.local_role() == "Primary" && dev.peer_role() == "Primary" {
            return Ok(Poll::Ready(dev));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;
    ctx.log.info(format!("DRBD {res}: {}", dev.summary()));
    ctx.report_sync(&dev);
    Ok(())
}

fn clvmd(ctx: &mut Ctx) -> Result<()> {
    if ctx.query(&cmd::init("clvmd", "status")).success() {
        ctx.log.info("clvmd is already running");
    } else {
        ctx.change(&cmd::init("clvmd", "start"))?;
    }
    ctx.change(&cmd::chkconfig("clvmd", true))?;
    Ok(())
}

fn clustered_vg(ctx: &mut Ctx) -> Result<()> {
    let dev = ctx.cfg.drbd.device.clone();
    let vg = ctx.cfg.clvm.vg.clone();

    let pvs = parse::parse_pvs(&query_ok(ctx, &cmd::pvs())?);
    let found = match pvs.iter().find(|p| p.pv == dev) {
        Some(p) => Found::Data(format!(
            "{dev} already carries an LVM2 PV signature{}",
            p.vg.as_ref()
                .map(|v| format!(" (VG {v})"))
                .unwrap_or_default()
        )),
        None => Found::Nothing,
    };
    ctx.destructive("pvcreate", &cmd::pvcreate(&dev), found)?;

    let vgs = parse::parse_vgs(&query_ok(ctx, &cmd::vgs())?);
    let found = match vgs.iter().find(|v| v.vg == vg) {
        Some(v) => Found::Data(format!(
            "volume group {vg} already exists (attr {})",
            v.attr
        )),
        None => Found::Nothing,
    };
    ctx.destructive("vgcreate", &cmd::vgcreate_clustered(&vg, &dev), found)?;
    if !ctx.dry_run {
        let vgs = parse::parse_vgs(&query_ok(ctx, &cmd::vgs())?);
        match vgs.iter().find(|v| v.vg == vg) {
            Some(v) if v.clustered() => {}
            Some(v) => {
                return Err(Error::Unexpected(format!(
                    "volume group {vg} is not clustered (attr {})",
                    v.attr
                )))
            }
            None => return Err(Error::Unexpected(format!("volume group {vg} is missing"))),
        }
    }

    let volumes = ctx.cfg.clvm.volumes.clone();
    let lvs = if ctx.dry_run {
        Vec::new()
    } else {
        parse::parse_lvs(&query_ok(ctx, &cmd::lvs(&vg))?)
    };
    for vol in &volumes {
        let found = if lvs.iter().any(|l| l.lv == vol.name) {
            Found::Data(format!("logical volume {vg}/{} already exists", vol.name))
        } else {
            Found::Nothing
        };
        ctx.destructive(
            &format!("lvcreate:{}", vol.name),
            &cmd::lvcreate(&vol.size, &vol.name, &vg),
            found,
        )?;
    }
    Ok(())
}

fn lv_activate(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.clvm.vg.clone();
    ctx.change(&cmd::vgscan())?;
    let volumes = ctx.cfg.clvm.volumes.clone();
    for vol in &volumes {
        ctx.change(&cmd::lvchange_activate(&cmd::volume_path(ctx.cfg, vol)))?;
    }
    if ctx.dry_run {
        return Ok(());
    }
    let lvs = parse::parse_lvs(&query_ok(ctx, &cmd::lvs(&vg))?);
    for vol in &volumes {
        if !lvs.iter().any(|l| l.lv == vol.name && l.active()) {
            return Err(Error::Unexpected(format!(
                "{} is not active after lvchange",
                cmd::volume_path(ctx.cfg, vol)
            )));
        }
    }
    Ok(())
}

fn gfs2_mkfs(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = cmd::volume_path(ctx.cfg, vol);
        let r = ctx.query(&cmd::gfs2_sb(&path, "proto"));
        let found = if r.success() {
            let proto = parse::parse_gfs2_sb_value(&r.stdout).unwrap_or_default();
            let table =
                parse::parse_gfs2_sb_value(&ctx.query(&cmd::gfs2_sb(&path, "table")).stdout)
                    .unwrap_or_default();
            Found::Data(format!(
                "{path} already holds a GFS2 file system (lock protocol {proto:?}, lock table {table:?})"
            ))
        } else if format!("{}{}", r.stdout, r.stderr).contains("there isn't a GFS2 filesystem") {
            Found::Nothing
        } else if ctx.dry_run {
            // The LV does not exist yet in a dry run.
            Found::Nothing
        } else {
            return Err(Error::Command {
                command: cmdline(&["gfs2_tool", "sb", &path, "proto"]),
                code: r.code,
                detail: r.last_line(),
            });
        };
        ctx.destructive(
            &format!("mkfs:{}", vol.name),
            &cmd::mkfs_gfs2(g.journals, &g.lock_table, &path),
            found,
        )?;
    }
    Ok(())
}

fn gfs2_mount(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    if vols.is_empty() {
        return Ok(());
    }
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = cmd::volume_path(ctx.cfg, vol);
        ctx.change(&cmd::mkdir_p(&g.mountpoint))?;
        let fstab = match ctx.read("/etc/fstab") {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("reading /etc/fstab", e)),
        };
        match parse::parse_mounts(&fstab)
            .into_iter()
            .find(|e| e.dir == g.mountpoint)
        {
            Some(e) if e.device == path && e.fstype == "gfs2" => ctx.log.info(format!(
                "/etc/fstab already mounts {path} on {}",
                g.mountpoint
            )),
            Some(e) => {
                return Err(Error::Unexpected(format!(
                    "/etc/fstab already mounts {} ({}) on {}; not changing it",
                    e.device, e.fstype, g.mountpoint
                )))
            }
            None => {
                let mut text = fstab;
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&cmd::fstab_line(&path, &g.mountpoint));
                text.push('\n');
                ctx.write("/etc/fstab", &text)?;
            }
        }
        let mounts = ctx
            .read("/proc/mounts")
            .map_err(|e| Error::io("reading /proc/mounts", e))?;
        if parse::parse_mounts(&mounts)
            .iter()
            .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2")
        {
            ctx.log.info(format!("{} is already mounted", g.mountpoint));
        } else {
            ctx.change(&cmd::mount(&g.mountpoint))?;
        }
    }
    ctx.change(&cmd::chkconfig("gfs2", true))?;
    Ok(())
}

fn check_tag(ctx: &Ctx, node: &str, mountpoint: &str) -> String {
    format!(
        "{}\n",
        barrier::tag(&ctx.key, &format!("fs-check:{node}:{mountpoint}"))
    )
}

fn fs_write(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = cmd::check_file(&g.mountpoint, &ctx.cfg.node.short);
        let body = check_tag(ctx, &ctx.cfg.node.name, &g.mountpoint);
        ctx.write(&path, &body)?;
    }
    Ok(())
}

fn fs_read(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = cmd::check_file(&g.mountpoint, &ctx.cfg.peer.short);
        let want = check_tag(ctx, &ctx.cfg.peer.name, &g.mountpoint);
        let what = format!(
            "{path}, written on {}, to be visible here",
            ctx.cfg.peer.name
        );
        ctx.wait(&what, ctx.cfg.timeouts.barrier_secs, |ctx| {
            match ctx.read(&path) {
                Ok(got) if got == want => Ok(Poll::Ready(())),
                Ok(_) => Ok(Poll::Pending("content differs".into())),
                Err(e) => Ok(Poll::Pending(e.to_string())),
            }
        })?;
        ctx.log.info(format!(
            "GFS2 {}: a file written on {} is visible here",
            g.mountpoint, ctx.cfg.peer.name
        ));
    }
    Ok(())
}

fn finish(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        ctx.change(&cmd::rm_f(&cmd::check_file(
            &g.mountpoint,
            &ctx.cfg.node.short,
        )))?;
    }
    ctx.change(&cmd::chkconfig("drbd", true))?;
    if !ctx.dry_run {
        ctx.state.done = true;
        ctx.save()?;
    }
    ctx.log.info("first-boot setup is done on this node");
    Ok(())
}

fn disable(ctx: &mut Ctx) -> Result<()> {
    ctx.change(&cmd::chkconfig(cmd::FIRSTBOOT_SERVICE, false))?;
    Ok(())
}

// --------------------------------------------------------------------- plan

/// One line of `plan`: a command as it would be run, or a `#` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanLine {
    Command(String),
    Note(String),
}

fn c(argv: Argv) -> PlanLine {
    PlanLine::Command(cmdline(
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
}

fn check(argv: Argv, means: &str) -> PlanLine {
    PlanLine::Note(format!(
        "  check: {}{}",
        cmdline(&argv.iter().map(String::as_str).collect::<Vec<_>>()),
        if means.is_empty() {
            String::new()
        } else {
            format!("  ({means})")
        }
    ))
}

fn note(s: impl Into<String>) -> PlanLine {
    PlanLine::Note(format!("  {}", s.into()))
}

/// The lines of one step for this node (empty when it does not run here).
pub fn plan_step(step: StepId, cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    let backing = cmd::backing_path(cfg);
    let t = &cfg.timeouts;
    match step {
        S::Inspect => vec![
            check(cmd::lvs(&cfg.drbd.backing_vg), "does the backing LV exist?"),
            check(
                cmd::drbdadm("dump-md", res),
                "exit 255 = no metadata; `drbdadm get-gi` when attached",
            ),
            note(format!(
                "check: no LVM2 label, GFS/GFS2, ext2/3 or swap signature at the start of {backing}"
            )),
            note("refuse if metadata has a data generation history or a signature is found"),
        ],
        S::Cman => vec![
            check(cmd::init("cman", "status"), "skip the start if running"),
            c(cmd::init("cman", "start")),
            note(format!(
                "wait up to {} s: {} and {} show both members and quorum",
                t.cman_secs,
                cmdline(&["cman_tool", "status"]),
                cmdline(&["cman_tool", "nodes"])
            )),
            c(cmd::chkconfig("cman", true)),
        ],
        S::BackingLv => vec![
            check(cmd::lvs(&cfg.drbd.backing_vg), "only if the LV is missing"),
            c(cmd::lvcreate(
                &cfg.drbd.backing_size,
                &cfg.drbd.backing_lv,
                &cfg.drbd.backing_vg,
            )),
        ],
        S::DrbdMd => vec![
            check(
                cmd::drbdadm("dump-md", res),
                "only if it exits 255: no metadata",
            ),
            note(format!("check: no signature at the start of {backing}")),
            c(cmd::create_md(res)),
        ],
        S::DrbdStart => vec![
            note("check: /proc/drbd (skip the start if the resource is up)"),
            c(cmd::init("drbd", "start")),
            note(format!(
                "wait up to {} s: /proc/drbd shows {res} connected",
                t.drbd_connect_secs
            )),
            check(cmd::drbdadm("get-gi", res), "sent to the peer"),
        ],
        S::InitialSync if !cfg.drbd.initial_primary => Vec::new(),
        S::InitialSync => {
            let mut v = vec![
                check(cmd::drbdadm("get-gi", res), ""),
                note("guard: both sides Inconsistent in /proc/drbd, both get-gi brand new (0000000000000004:0...:0)"),
            ];
            if cfg.drbd.skip_initial_sync {
                v.push(c(cmd::clear_bitmap_new_uuid(res)));
            } else {
                v.push(c(cmd::overwrite_peer_primary(res)));
            }
            v
        }
        S::DrbdPrimary => {
            let mut v = Vec::new();
            if !cfg.drbd.initial_primary {
                v.push(note(format!(
                    "wait up to {} s: /proc/drbd shows SyncTarget (the sync started)",
                    t.drbd_primary_secs
                )));
                v.push(c(cmd::drbdadm("primary", res)));
            } else if cfg.drbd.skip_initial_sync {
                v.push(c(cmd::drbdadm("primary", res)));
            } else {
                v.push(note(format!(
                    "`{}` only if not Primary (after a reboot)",
                    cmdline(&["drbdadm", "primary", res])
                )));
            }
            v.push(note(format!(
                "wait up to {} s: /proc/drbd shows ro:Primary/Primary (sync progress logged, not waited for)",
                t.drbd_primary_secs
            )));
            v
        }
        S::Clvmd => vec![
            check(cmd::init("clvmd", "status"), "skip the start if running"),
            c(cmd::init("clvmd", "start")),
            c(cmd::chkconfig("clvmd", true)),
        ],
        S::ClusteredVg if !cfg.drbd.initial_primary => Vec::new(),
        S::ClusteredVg => {
            let mut v = vec![
                check(
                    cmd::pvs(),
                    &format!("only if {} is not a PV", cfg.drbd.device),
                ),
                c(cmd::pvcreate(&cfg.drbd.device)),
                check(
                    cmd::vgs(),
                    &format!("only if {} does not exist", cfg.clvm.vg),
                ),
                c(cmd::vgcreate_clustered(&cfg.clvm.vg, &cfg.drbd.device)),
                check(cmd::lvs(&cfg.clvm.vg), "only the missing LVs"),
            ];
            for vol in &cfg.clvm.volumes {
                v.push(c(cmd::lvcreate(&vol.size, &vol.name, &cfg.clvm.vg)));
            }
            v
        }
        S::LvActivate => {
            let mut v = vec![c(cmd::vgscan())];
            for vol in &cfg.clvm.volumes {
                v.push(c(cmd::lvchange_activate(&cmd::volume_path(cfg, vol))));
            }
            v.push(check(cmd::lvs(&cfg.clvm.vg), "all active"));
            v
        }
        S::Gfs2Mkfs if !cfg.drbd.initial_primary => Vec::new(),
        S::Gfs2Mkfs => {
            let mut v = Vec::new();
            for vol in gfs2_volumes(cfg) {
                let Some(g) = &vol.gfs2 else { continue };
                let path = cmd::volume_path(cfg, vol);
                v.push(check(
                    cmd::gfs2_sb(&path, "proto"),
                    "only if there is no GFS2 file system",
                ));
                v.push(c(cmd::mkfs_gfs2(g.journals, &g.lock_table, &path)));
            }
            v
        }
        S::Gfs2Mount => {
            let mut v = Vec::new();
            for vol in gfs2_volumes(cfg) {
                let Some(g) = &vol.gfs2 else { continue };
                let path = cmd::volume_path(cfg, vol);
                v.push(c(cmd::mkdir_p(&g.mountpoint)));
                v.push(note(format!(
                    "write /etc/fstab if missing: {}",
                    cmd::fstab_line(&path, &g.mountpoint).replace('\t', " ")
                )));
                v.push(note("check: /proc/mounts (skip the mount if mounted)"));
                v.push(c(cmd::mount(&g.mountpoint)));
            }
            if !v.is_empty() {
                v.push(c(cmd::chkconfig("gfs2", true)));
            }
            v
        }
        S::FsWrite => gfs2_volumes(cfg)
            .filter_map(|vol| vol.gfs2.as_ref())
            .map(|g| {
                note(format!(
                    "write {}",
                    cmd::check_file(&g.mountpoint, &cfg.node.short)
                ))
            })
            .collect(),
        S::FsRead => gfs2_volumes(cfg)
            .filter_map(|vol| vol.gfs2.as_ref())
            .map(|g| {
                note(format!(
                    "read {} (written by {})",
                    cmd::check_file(&g.mountpoint, &cfg.peer.short),
                    cfg.peer.name
                ))
            })
            .collect(),
        S::Finish => {
            let mut v: Vec<PlanLine> = gfs2_volumes(cfg)
                .filter_map(|vol| vol.gfs2.as_ref())
                .map(|g| c(cmd::rm_f(&cmd::check_file(&g.mountpoint, &cfg.node.short))))
                .collect();
            v.push(c(cmd::chkconfig("drbd", true)));
            v.push(note("mark done in the state file"));
            v
        }
        S::Disable => vec![c(cmd::chkconfig(cmd::FIRSTBOOT_SERVICE, false))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_unique_and_barriers_in_order() {
        let ids: Vec<String> = ITEMS.iter().map(|i| i.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        let idx: Vec<u32> = ITEMS
            .iter()
            .filter_map(|i| match i {
                Item::Barrier(b) => Some(b.index()),
                _ => None,
            })
            .collect();
        assert_eq!(idx, (0..idx.len() as u32).collect::<Vec<_>>());
        assert_eq!(
            ITEMS
                .iter()
                .filter(|i| **i == Item::Barrier(FINAL_BARRIER))
                .count(),
            1
        );
    }

    #[test]
    fn signatures() {
        let mut b = vec![0u8; PROBE_LEN];
        assert_eq!(detect_signature(&b), None);
        b[512..520].copy_from_slice(b"LABELONE");
        assert_eq!(detect_signature(&b), Some("an LVM2 physical volume label"));
        let mut b = vec![0u8; PROBE_LEN];
        b[65536..65540].copy_from_slice(&[0x01, 0x16, 0x19, 0x70]);
        assert_eq!(detect_signature(&b), Some("a GFS/GFS2 superblock"));
        assert_eq!(detect_signature(&[]), None);
    }
}
