//! GFS2: the file systems (on the initial primary), the fstab entries and
//! mounts, and a check that a file written on one node is read on the other.

use super::gfs2_volumes;
use crate::firstboot::barrier;
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::{Ctx, Found, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::{lvm, mkdir_p, mounts};
use crate::firstboot::platform::el5::argv;
use crate::firstboot::platform::el5::parse::gfs2_tool;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static GFS2_MKFS: Step = Step {
    name: "gfs2-mkfs",
    title: "make the GFS2 file systems",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: gfs2_mkfs,
    plan: gfs2_mkfs_plan,
};

pub static GFS2_MOUNT: Step = Step {
    name: "gfs2-mount",
    title: "add the fstab entries, mount them (gfs2 init script)",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: gfs2_mount,
    plan: gfs2_mount_plan,
};

pub static FS_WRITE: Step = Step {
    name: "fs-write",
    title: "write a check file on each GFS2 mount",
    role: Role::Both,
    runs: Runs::Once,
    run: fs_write,
    plan: fs_write_plan,
};

pub static FS_READ: Step = Step {
    name: "fs-read",
    title: "read the peer's check file on each GFS2 mount",
    role: Role::Both,
    runs: Runs::Once,
    run: fs_read,
    plan: fs_read_plan,
};

/// The file each node writes on a GFS2 mount for the other to read.
pub fn check_file(mountpoint: &str, short: &str) -> String {
    format!(
        "{}/.clusterkick-firstboot.{short}",
        mountpoint.trim_end_matches('/')
    )
}

fn gfs2_mkfs(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(ctx.cfg, vol);
        let proto = argv::gfs2_sb(&path, "proto");
        let r = ctx.query(&proto);
        let found = if r.success() {
            let proto = gfs2_tool::parse_gfs2_sb_value(&r.stdout).unwrap_or_default();
            let table =
                gfs2_tool::parse_gfs2_sb_value(&ctx.query(&argv::gfs2_sb(&path, "table")).stdout)
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
                command: proto.to_string(),
                code: r.code,
                detail: r.last_line(),
            });
        };
        ctx.destructive(
            &format!("mkfs:{}", vol.name),
            &argv::mkfs_gfs2(g.journals, &g.lock_table, &path),
            found,
        )?;
    }
    Ok(())
}

fn gfs2_mkfs_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v = Vec::new();
    for vol in gfs2_volumes(cfg) {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(cfg, vol);
        v.push(PlanLine::check(
            &argv::gfs2_sb(&path, "proto"),
            "only if there is no GFS2 file system",
        ));
        v.push(PlanLine::run(&argv::mkfs_gfs2(
            g.journals,
            &g.lock_table,
            &path,
        )));
    }
    v
}

pub(crate) fn gfs2_mount(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    if vols.is_empty() {
        return Ok(());
    }
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(ctx.cfg, vol);
        ctx.change(&mkdir_p(&g.mountpoint))?;
        let fstab = match ctx.read("/etc/fstab") {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("reading /etc/fstab", e)),
        };
        match mounts::parse_mounts(&fstab)
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
                text.push_str(&mounts::fstab_line(&path, &g.mountpoint));
                text.push('\n');
                ctx.write("/etc/fstab", &text)?;
            }
        }
    }
    // The gfs2 init script mounts every gfs2 entry of fstab that is not
    // mounted (`mount -a -t gfs2`) and takes its subsys lock: rc then
    // unmounts them at shutdown, before clvmd and cman stop.
    ctx.change(&argv::init("gfs2", "start"))?;
    if ctx.dry_run {
        return Ok(());
    }
    let mounted = ctx
        .read("/proc/mounts")
        .map_err(|e| Error::io("reading /proc/mounts", e))?;
    let mounted = mounts::parse_mounts(&mounted);
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        if !mounted
            .iter()
            .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2")
        {
            return Err(Error::Unexpected(format!(
                "{} is not mounted after `{}` (see its messages in /var/log/messages)",
                g.mountpoint,
                argv::init("gfs2", "start")
            )));
        }
    }
    Ok(())
}

fn gfs2_mount_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v = Vec::new();
    for vol in gfs2_volumes(cfg) {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(cfg, vol);
        v.push(PlanLine::run(&mkdir_p(&g.mountpoint)));
        v.push(PlanLine::note(format!(
            "write /etc/fstab if missing: {}",
            mounts::fstab_line(&path, &g.mountpoint).replace('\t', " ")
        )));
    }
    if !v.is_empty() {
        v.push(PlanLine::run(&argv::init("gfs2", "start")));
        v.push(PlanLine::note(
            "check: /proc/mounts shows every GFS2 mount point",
        ));
    }
    v
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
        let path = check_file(&g.mountpoint, &ctx.cfg.node.short);
        let body = check_tag(ctx, &ctx.cfg.node.name, &g.mountpoint);
        ctx.write(&path, &body)?;
    }
    Ok(())
}

fn fs_write_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    gfs2_volumes(cfg)
        .filter_map(|vol| vol.gfs2.as_ref())
        .map(|g| {
            PlanLine::note(format!(
                "write {}",
                check_file(&g.mountpoint, &cfg.node.short)
            ))
        })
        .collect()
}

fn fs_read(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = check_file(&g.mountpoint, &ctx.cfg.peer.short);
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

fn fs_read_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    gfs2_volumes(cfg)
        .filter_map(|vol| vol.gfs2.as_ref())
        .map(|g| {
            PlanLine::note(format!(
                "read {} (written by {})",
                check_file(&g.mountpoint, &cfg.peer.short),
                cfg.peer.name
            ))
        })
        .collect()
}
