//! `xend-order`: at every start, before the meeting and before anything of
//! the cluster, check that xend still starts at 11, before the network
//! daemons and cman (the seed's 4.2.4: xend restarting the network after
//! cman makes the peer fence this node), and repair it with chkconfig.
//!
//! The %post edits the package's header to `# chkconfig: 2345 11 89` and
//! re-adds xend, which gives S11xend in runlevels 2-5 and K89xend in 0, 1
//! and 6. An update of the xen package puts its own script back (header
//! `2345 98 01`); the links stay until the next `chkconfig xend
//! on|off|reset|resetpriorities` or `--del`/`--add`, which rewrite them from
//! the header (chkconfig 1.3.30, which reads no overrides from
//! /etc/chkconfig.d). So this step puts the header back first, then fixes
//! the links with chkconfig itself. xend's own on/off choice per runlevel
//! is kept; a repair that does not take is logged and does not stop the
//! cluster (xend has started already at this boot; the order matters at
//! the next).

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::el5::argv;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static XEND_ORDER: Step = Step {
    name: "xend-order",
    title: "check that xend still starts at 11 (before cman); repair it with chkconfig",
    role: Role::Both,
    runs: Runs::EveryRun,
    run,
    plan,
};

const SERVICE: &str = "xend";
/// The header the %post writes (the seed's edit).
const WANT: (&str, u32, u32) = ("2345", 11, 89);
/// The header xen's package ships.
const STOCK: (&str, u32, u32) = ("2345", 98, 1);

fn script() -> String {
    format!("{}/{SERVICE}", argv::INIT_DIR)
}

fn rc_dir(level: u8) -> String {
    format!("/etc/rc.d/rc{level}.d")
}

/// `# chkconfig: <levels> <start> <stop>`.
fn parse_header(line: &str) -> Option<(String, u32, u32)> {
    let rest = line
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("chkconfig:")?;
    let mut w = rest.split_whitespace();
    let levels = w.next()?.to_string();
    let start = w.next()?.parse().ok()?;
    let stop = w.next()?.parse().ok()?;
    w.next().is_none().then_some((levels, start, stop))
}

fn header_line(text: &str) -> Option<&str> {
    text.lines().find(|l| parse_header(l).is_some())
}

/// xend's links in each runlevel 0-6: (level, name).
fn links(ctx: &mut Ctx) -> Result<Vec<(u8, String)>> {
    let mut found = Vec::new();
    for level in 0..=6u8 {
        let dir = rc_dir(level);
        let names = ctx
            .host
            .list_dir(&dir)
            .map_err(|e| Error::io(format!("listing {dir}"), e))?;
        for n in names {
            let b = n.as_bytes();
            if b.len() == 3 + SERVICE.len()
                && (b[0] == b'S' || b[0] == b'K')
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
                && &n[3..] == SERVICE
            {
                found.push((level, n));
            }
        }
    }
    Ok(found)
}

/// What is wrong with the links, if anything: every level has exactly one
/// xend link, and it carries the wanted priority (S11 or K89).
fn wrong(found: &[(u8, String)]) -> Option<String> {
    let want_s = format!("S{:02}{SERVICE}", WANT.1);
    let want_k = format!("K{:02}{SERVICE}", WANT.2);
    for level in 0..=6u8 {
        let here: Vec<&str> = found
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, n)| n.as_str())
            .collect();
        match here.as_slice() {
            [one] if *one == want_s || *one == want_k => {}
            [] => return Some(format!("runlevel {level} has no xend link")),
            _ => return Some(format!("runlevel {level} has {}", here.join(", "))),
        }
    }
    None
}

fn describe(found: &[(u8, String)]) -> String {
    if found.is_empty() {
        return "none".into();
    }
    found
        .iter()
        .map(|(l, n)| format!("rc{l}.d/{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(ctx: &mut Ctx) -> Result<()> {
    let path = script();
    let text = match ctx.read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ctx.log.info(format!(
                "xend: {path} is missing (is xen installed?); nothing to check"
            ));
            return Ok(());
        }
        Err(e) => return Err(Error::io(format!("reading {path}"), e)),
    };
    let want_line = format!("# chkconfig: {} {} {}", WANT.0, WANT.1, WANT.2);
    match header_line(&text).map(|l| (l, parse_header(l))) {
        Some((_, Some((levels, start, stop)))) if (levels.as_str(), start, stop) == WANT => {}
        Some((line, Some((levels, start, stop)))) if (levels.as_str(), start, stop) == STOCK => {
            ctx.log.info(format!(
                "xend: {path} says `{line}` again (an update of xen put the package's script \
                 back); setting it to `{want_line}`, as the %post did"
            ));
            let fixed: String = text
                .split_inclusive('\n')
                .map(|l| {
                    if l.trim_end_matches('\n') == line {
                        format!("{want_line}\n")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            ctx.write(&path, &fixed)?;
        }
        other => {
            ctx.log.info(format!(
                "xend: {path} has {}; not touching it or its links (check xend's start \
                 position by hand: it must start before cman, seed 4.2.4)",
                match other {
                    Some((line, _)) => format!("the unexpected line `{line}`"),
                    None => "no `# chkconfig:` line".to_string(),
                }
            ));
            return Ok(());
        }
    }
    let found = links(ctx)?;
    let Some(why) = wrong(&found) else {
        report_off(ctx, &found);
        ctx.log.info(format!(
            "xend: starts at S{:02} ({})",
            WANT.1,
            describe(&found)
        ));
        return Ok(());
    };
    ctx.log.info(format!(
        "xend: its rc links are {} ({why}); want S{:02}xend / K{:02}xend: repairing with chkconfig",
        describe(&found),
        WANT.1,
        WANT.2
    ));
    // Rewrites the links of every configured level from the header,
    // keeping on/off; `--add` then links the levels that have none.
    ctx.change(&argv::chkconfig(&[SERVICE, "resetpriorities"]))?;
    ctx.change(&argv::chkconfig(&["--add", SERVICE]))?;
    if ctx.dry_run {
        return Ok(());
    }
    let after = links(ctx)?;
    match wrong(&after) {
        None => {
            report_off(ctx, &after);
            ctx.log.info(format!(
                "xend: repaired: {} (in effect from the next boot)",
                describe(&after)
            ));
        }
        Some(why) => ctx.log.info(format!(
            "xend: NOT repaired: {} ({why}); fix xend's links by hand (chkconfig --del xend; \
             chkconfig --add xend) so that it starts before cman",
            describe(&after)
        )),
    }
    Ok(())
}

/// Warns when xend is off in one of the multi-user runlevels (someone's
/// choice, which this step keeps).
fn report_off(ctx: &mut Ctx, found: &[(u8, String)]) {
    let off: Vec<String> = found
        .iter()
        .filter(|(l, n)| (2..=5).contains(l) && n.starts_with('K'))
        .map(|(l, _)| l.to_string())
        .collect();
    if !off.is_empty() {
        ctx.log.info(format!(
            "xend: note: xend is off in runlevel(s) {}; left as it is",
            off.join(", ")
        ));
    }
}

fn plan(_: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::note(format!(
            "check: {} says `# chkconfig: {} {} {}` (set back if an update restored `{} {} {:02}`)",
            script(),
            WANT.0,
            WANT.1,
            WANT.2,
            STOCK.0,
            STOCK.1,
            STOCK.2
        )),
        PlanLine::note(format!(
            "check: /etc/rc.d/rc[0-6].d hold S{:02}xend / K{:02}xend, one per runlevel",
            WANT.1, WANT.2
        )),
        PlanLine::note(format!(
            "only if not: {}; {}",
            argv::chkconfig(&[SERVICE, "resetpriorities"]),
            argv::chkconfig(&["--add", SERVICE])
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            parse_header("# chkconfig: 2345 98 01"),
            Some(("2345".into(), 98, 1))
        );
        assert_eq!(
            parse_header("#chkconfig:  - 70 08"),
            Some(("-".into(), 70, 8))
        );
        assert_eq!(parse_header("# chkconfig: 2345 98"), None);
        assert_eq!(parse_header("# description: x"), None);
    }

    #[test]
    fn links_are_judged_per_runlevel() {
        let l = |v: &[(u8, &str)]| -> Vec<(u8, String)> {
            v.iter().map(|(a, b)| (*a, b.to_string())).collect()
        };
        let good = l(&[
            (0, "K89xend"),
            (1, "K89xend"),
            (2, "S11xend"),
            (3, "S11xend"),
            (4, "K89xend"),
            (5, "S11xend"),
            (6, "K89xend"),
        ]);
        assert_eq!(wrong(&good), None);
        let mut moved = good.clone();
        moved[3].1 = "S98xend".into();
        assert_eq!(wrong(&moved).as_deref(), Some("runlevel 3 has S98xend"));
        let mut missing = good.clone();
        missing.remove(0);
        assert_eq!(
            wrong(&missing).as_deref(),
            Some("runlevel 0 has no xend link")
        );
        let mut two = good;
        two.push((3, "K01xend".into()));
        assert_eq!(
            wrong(&two).as_deref(),
            Some("runlevel 3 has S11xend, K01xend")
        );
    }
}
