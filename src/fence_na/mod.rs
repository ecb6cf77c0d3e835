//! `fence_na`: a Node Assassin fence agent for CentOS 5's fenced, built into
//! the static first-boot helper (see docs/fence_na.md).
//!
//! CentOS 5.4's cman ships no Node Assassin agent ([`agents`]), and the
//! published one (Perl, Net::Telnet, 2010) ignores `delay`. This one runs as
//! `/sbin/fence_na` (a link to `clusterkick-firstboot`: the name picks this
//! mode) or as `clusterkick-firstboot fence-na`.
//!
//! - [`input`]: fenced's stdin (`key=value`) and the command line;
//! - [`config`]: the agent's own root-only config (devices, ports, timeouts);
//! - [`device`]: the Node Assassin protocol, bounded in time;
//! - [`actions`]: off/on/reboot/status/monitor/list and how each is verified.
//!
//! Exit status (FenceAgentAPI): 0 success; 1 failure of any kind (device not
//! reachable, not verified, bad input); for `status`, 0 when the port has
//! power and 2 when it has none. fenced only tells 0 from non-zero.

pub mod actions;
pub mod agents;
pub mod config;
pub mod device;
pub mod error;
pub mod input;
pub mod secret;

use error::Error;
use input::{Cli, Request};
use secret::Secret;
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub use agents::{el5_cman_ships, EL5_CMAN_AGENTS, PROVIDED_AGENT};

/// The program name that selects this mode, and the helper's subcommand.
pub const PROGRAM: &str = "fence_na";
pub const SUBCOMMAND: &str = "fence-na";

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
/// `status` only: the port has no power.
pub const EXIT_STATUS_OFF: i32 = 2;

/// The arguments for [`main`] when the helper was started as the agent:
/// under the name `fence_na` (any directory), or as `... fence-na ARGS`.
pub fn invocation(mut args: impl Iterator<Item = OsString>) -> Option<Vec<OsString>> {
    let argv0 = args.next()?;
    let rest: Vec<OsString> = args.collect();
    if Path::new(&argv0).file_name() == Some(OsStr::new(PROGRAM)) {
        return Some(std::iter::once(argv0).chain(rest).collect());
    }
    if rest.first().map(OsString::as_os_str) == Some(OsStr::new(SUBCOMMAND)) {
        return Some(
            std::iter::once(OsString::from(PROGRAM))
                .chain(rest.into_iter().skip(1))
                .collect(),
        );
    }
    None
}

/// Runs the agent; returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{PROGRAM}: error: {e}");
            EXIT_FAILED
        }
    }
}

fn run(args: Vec<OsString>) -> Result<i32, Error> {
    let cli = match <Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap exits 2 on a usage error; 2 means "off" to a status
            // caller, so usage errors are 1 like every other failure.
            let _ = e.print();
            return Ok(EXIT_FAILED);
        }
        Err(e) => {
            let _ = e.print();
            return Ok(EXIT_OK);
        }
    };
    if cli.version {
        println!(
            "{PROGRAM} (clusterkick {}), Node Assassin protocol 1.1",
            env!("CARGO_PKG_VERSION")
        );
        return Ok(EXIT_OK);
    }
    let started = Instant::now();
    let req = if cli.has_request() {
        cli.request()?
    } else {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(Error::Usage(
                "no options and stdin is a terminal: give -a -l -p -n -o (see -h), or pipe \
                 key=value lines as fenced does"
                    .into(),
            ));
        }
        let mut bytes = Vec::new();
        stdin
            .lock()
            .take(input::MAX_STDIN_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Usage(format!("reading stdin: {e}")))?;
        input::parse_stdin(&bytes)?
    };
    let verbose = cli.verbose;
    if verbose && !req.ignored.is_empty() {
        let lines: Vec<String> = req.ignored.iter().map(|n| n.to_string()).collect();
        eprintln!(
            "{PROGRAM}: ignoring stdin lines {} (keys this agent does not use)",
            lines.join(", ")
        );
    }
    let cfg = config::load(&cli.config)?;
    let mut warn = |w: String| eprintln!("{PROGRAM}: {w}");
    let deadline = started + cfg.timeouts.total();
    let (code, lines) = respond(
        &req,
        || password(&req, deadline),
        &cfg,
        &cli.config,
        &mut actions::RealClock,
        |dev, deadline| {
            device::Connection::open(
                dev.label(),
                &dev.ipaddr,
                dev.tcp_port,
                cfg.timeouts.connect(),
                cfg.timeouts.read(),
                deadline,
                verbose,
            )
        },
        &mut warn,
    )?;
    // fenced reads the agent's output only after it exits, through a pipe:
    // a few short lines, never enough to fill it.
    if !req.quiet || req.action == input::Action::List {
        let mut out = std::io::stdout().lock();
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
    }
    Ok(code)
}

/// What the agent does with one request: finds the device by `ipaddr`,
/// checks the port, gets the password (`passwd`, which may run
/// `passwd_script`) and checks the credentials (before anything is sent,
/// and before `delay`), runs the action against the
/// device `connect` opens, and returns the exit status and the lines for
/// stdout. The agent's `main` runs it with the real clock and a TCP
/// connection; the simulator runs this same code with its own.
#[allow(clippy::too_many_arguments)]
pub fn respond<D: device::Device, C: actions::Clock>(
    req: &Request,
    passwd: impl FnOnce() -> Result<Secret, Error>,
    cfg: &config::Config,
    config_path: &Path,
    clock: &mut C,
    connect: impl FnOnce(&config::DeviceConfig, Instant) -> Result<D, Error>,
    warn: &mut dyn FnMut(String),
) -> Result<(i32, Vec<String>), Error> {
    let dev = cfg.device(&req.ipaddr).ok_or_else(|| Error::Config {
        path: config_path.to_path_buf(),
        message: format!(
            "no [[device]] has ipaddr `{}` (it has: {}); cluster.conf's fencedevice ipaddr \
             must be written the same way here",
            // A password given as ipaddr by mistake stays unprinted.
            if req
                .passwd
                .iter()
                .chain(cfg.devices.iter().map(|d| &d.passwd))
                .any(|p| p.appears_in(&req.ipaddr))
            {
                "(not shown: it holds a password)"
            } else {
                req.ipaddr.as_str()
            },
            cfg.devices
                .iter()
                .map(|d| d.ipaddr.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    if let Some(p) = req.port {
        if p > dev.max_nodes {
            return Err(Error::Usage(format!(
                "port {p:02} is beyond device `{}`: it has max_nodes = {} in {}",
                dev.label(),
                dev.max_nodes,
                config_path.display()
            )));
        }
    }
    let passwd = passwd()?;
    if req.login != dev.login || !passwd.matches(&dev.passwd) {
        return Err(Error::Credentials {
            device: dev.label().to_string(),
            path: config_path.to_path_buf(),
        });
    }
    let job = actions::Job {
        action: req.action,
        port: req.port,
        delay: Duration::from_secs(req.delay_secs),
    };
    let outcome = actions::execute(
        job,
        dev,
        &cfg.timeouts,
        clock,
        |deadline| connect(dev, deadline),
        warn,
    )?;
    Ok(match outcome {
        actions::Outcome::Done(lines) => (EXIT_OK, lines),
        actions::Outcome::PowerOn => (EXIT_OK, vec!["Status: ON".to_string()]),
        actions::Outcome::PowerOff => (EXIT_STATUS_OFF, vec!["Status: OFF".to_string()]),
    })
}

/// The password given, or the first line `passwd_script` prints (run by
/// `/bin/sh -c`, as the EL5 agents' popen did; killed at `deadline`).
fn password(req: &Request, deadline: Instant) -> Result<Secret, Error> {
    if let Some(p) = &req.passwd {
        return Ok(p.clone());
    }
    let script = req.passwd_script.as_deref().unwrap_or_default();
    let fail = |message: String| Error::PasswdScript {
        script: script.to_string(),
        message,
    };
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot run: {e}")))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(
                    "did not finish within timeouts.total_secs; killed".into(),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(fail(format!("waiting for it: {e}"))),
        }
    };
    if !status.success() {
        return Err(fail(format!("failed ({status})")));
    }
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(4096)
            .read_to_end(&mut out)
            .map_err(|e| fail(format!("reading its output: {e}")))?;
    }
    let text = String::from_utf8(out).map_err(|_| fail("printed something not UTF-8".into()))?;
    let first = text.lines().next().unwrap_or("").trim_end();
    if first.is_empty() {
        return Err(fail("printed no password".into()));
    }
    Ok(Secret::new(first.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_name_or_the_subcommand_selects_the_agent() {
        assert_eq!(
            invocation(os(&["/sbin/fence_na", "-o", "status"]).into_iter()),
            Some(os(&["/sbin/fence_na", "-o", "status"]))
        );
        assert_eq!(
            invocation(os(&["fence_na"]).into_iter()),
            Some(os(&["fence_na"]))
        );
        assert_eq!(
            invocation(os(&["/usr/sbin/clusterkick-firstboot", "fence-na", "-V"]).into_iter()),
            Some(os(&["fence_na", "-V"]))
        );
        assert_eq!(
            invocation(os(&["clusterkick-firstboot", "run"]).into_iter()),
            None
        );
        assert_eq!(
            invocation(os(&["clusterkick-firstboot", "--config", "x", "fence-na"]).into_iter()),
            None
        );
        assert_eq!(invocation(os(&["fence_na2"]).into_iter()), None);
    }
}
