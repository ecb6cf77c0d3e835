//! `fence_clusterkick`: a fence agent that gives the agents CentOS 5 ships
//! the `delay` none of them honours (see docs/firstboot.md, "Fencing").
//!
//! fenced and fence_node run an agent with `key=value` lines on its stdin:
//! every attribute of the victim's `<device>`, then every attribute of the
//! `<fencedevice>` (`name=` left out). The 2009 Python agents exit 2 on a
//! key they do not know, so `delay` cannot go to them. cluster.conf names
//! this wrapper as the agent instead, with the real one in `wrap_agent`:
//!
//! ```text
//! <device name="ipmi_n01" action="off" delay="15"/>
//! <fencedevice name="ipmi_n01" agent="fence_clusterkick" wrap_agent="fence_ipmilan" .../>
//! ```
//!
//! It runs as `/sbin/fence_clusterkick` (a link to `clusterkick-firstboot`:
//! the name picks this mode) or as `clusterkick-firstboot fence-wrap`. It
//! reads stdin, takes out `delay=`, `wrap_agent=` and `agent=`, checks the
//! name (a plain `fence_*` word, `/sbin/<name>` a regular executable file),
//! sleeps `delay` seconds before a fencing action (off, reboot, disable:
//! never before status, monitor, list or on), then runs `/sbin/<name>` with
//! the other lines on its stdin, at most [`AGENT_LIMIT`], and passes its
//! exit code and (a bounded amount of) its output through, with the
//! password blanked out. Its own messages name keys and line numbers,
//! never values.
//!
//! [`wrap`] is the whole decision, over an [`Env`] (the clock and the
//! agent): [`RealEnv`] on a node, the simulator's in the tests.

use crate::fence_na::secret::Secret;
use crate::firstboot::real::{run_child, Child, Ended};
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The program name that selects this mode, and the helper's subcommand.
pub const PROGRAM: &str = "fence_clusterkick";
pub const SUBCOMMAND: &str = "fence-wrap";

/// Where the wrapped agents live: cman installs them in /sbin.
pub const AGENT_DIR: &str = "/sbin";

/// fenced passes a few hundred bytes (its buffer is 512); more is refused.
/// (Also small enough to be written to the agent's stdin pipe at once.)
pub const MAX_STDIN_BYTES: usize = 16 * 1024;

/// The longest `delay` accepted, as for `fence_na`: fenced has no timeout
/// on its agents, so a larger value would only stall fencing.
pub const MAX_DELAY_SECS: u64 = crate::fence_na::input::MAX_DELAY_SECS;

/// How long the wrapped agent may run (after the delay) before it is
/// killed with its process group and the fence counts as failed. fenced
/// waits for an agent without any limit; a hung agent would hang fencing,
/// and with it every DLM lockspace, for good.
pub const AGENT_LIMIT: Duration = Duration::from_secs(120);

/// At most this much of the agent's stdout and of its stderr is passed on:
/// fenced reads an agent's output only after it exits, from one pipe.
pub const MAX_OUTPUT_BYTES: usize = 4096;

pub const EXIT_OK: i32 = 0;
/// Bad input, an agent that cannot be run or ran too long.
pub const EXIT_FAILED: i32 = 1;

/// The arguments for [`main`] when the helper was started as the wrapper:
/// under the name `fence_clusterkick` (any directory), or as
/// `... fence-wrap ARGS`.
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

/// What the wrapper was asked to do, from fenced's stdin.
#[derive(Debug, Clone)]
pub struct Request {
    /// The agent to run, e.g. `fence_ipmilan` (checked: a plain `fence_*`
    /// word).
    pub agent: String,
    pub delay: Duration,
    /// `action=` (or the older `option=`), lower case; `reboot` when absent,
    /// the default of every EL5 agent.
    pub action: String,
    /// The lines the agent gets: all of stdin but `delay=`, `wrap_agent=`
    /// and `agent=`.
    pub agent_stdin: Vec<u8>,
    /// `passwd=`, to blank out of what the agent prints.
    pub passwd: Option<Secret>,
}

impl Request {
    /// Whether this action waits `delay` first: the ones that take a node
    /// down (off, reboot; disable for fabric agents), never a status
    /// query or an `on`.
    pub fn fences(&self) -> bool {
        matches!(self.action.as_str(), "off" | "reboot" | "disable")
    }

    /// Where the agent is.
    pub fn agent_path(&self) -> PathBuf {
        Path::new(AGENT_DIR).join(&self.agent)
    }
}

/// Bad input; the message names the key and the stdin line, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Parses fenced's stdin. Per the FenceAgentAPI: `#` lines are comments, the
/// last of repeated keys wins. Lines other than the three keys this wrapper
/// takes out are passed on unchanged, in order.
pub fn parse(bytes: &[u8]) -> Result<Request, InputError> {
    if bytes.len() > MAX_STDIN_BYTES {
        return Err(InputError(format!(
            "stdin: more than {MAX_STDIN_BYTES} bytes; fenced passes a few key=value lines"
        )));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| InputError("stdin: not UTF-8 text".into()))?;
    let mut agent: Option<(usize, String)> = None;
    let mut delay: Option<(usize, String)> = None;
    let mut action: Option<String> = None;
    let mut passwd = None;
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        let kv = (!t.starts_with('#'))
            .then(|| t.split_once('='))
            .flatten()
            .map(|(k, v)| (k.trim(), v.trim()));
        match kv {
            Some(("wrap_agent", v)) => agent = Some((n, v.to_string())),
            Some(("delay", v)) => delay = Some((n, v.to_string())),
            // fenced's own `agent=` names this wrapper, not the agent.
            Some(("agent", _)) => {}
            Some((key, v)) => {
                if key == "action" || key == "option" {
                    action = Some(v.to_ascii_lowercase());
                }
                if key == "passwd" {
                    passwd = Some(Secret::new(v.to_string()));
                }
                out.push_str(line);
                out.push('\n');
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let (n, agent) = agent.ok_or_else(|| {
        InputError(
            "stdin: no `wrap_agent=` line: cluster.conf's fencedevice must name the agent to \
             run, e.g. wrap_agent=\"fence_ipmilan\""
                .into(),
        )
    })?;
    check_agent_name(&agent)
        .map_err(|why| InputError(format!("stdin line {n}: `wrap_agent` {why}")))?;
    let delay = match delay {
        None => Duration::ZERO,
        Some((n, v)) => match v.parse::<u64>() {
            Ok(s) if s <= MAX_DELAY_SECS => Duration::from_secs(s),
            _ => {
                return Err(InputError(format!(
                    "stdin line {n}: `delay` must be whole seconds from 0 to {MAX_DELAY_SECS}"
                )))
            }
        },
    };
    Ok(Request {
        agent,
        delay,
        action: action.unwrap_or_else(|| "reboot".to_string()),
        agent_stdin: out.into_bytes(),
        passwd,
    })
}

/// A plain agent name: `fence_` and then lower-case letters, digits and
/// `_`, not this wrapper itself. (No path, no `..`, nothing a shell reads.)
pub fn check_agent_name(name: &str) -> Result<(), String> {
    let rest = name
        .strip_prefix("fence_")
        .ok_or("must start with `fence_` (the name of a fence agent in /sbin)")?;
    if rest.is_empty()
        || name.len() > 64
        || !rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(
            "must be a plain agent name: `fence_` and then lower-case letters, digits or `_`"
                .into(),
        );
    }
    if name == PROGRAM {
        return Err(format!("names {PROGRAM} itself, which would run itself"));
    }
    Ok(())
}

/// What running the agent gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRun {
    /// None: it could not be started (the reason).
    pub ended: Result<Ended, String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Where the wrapper acts: the clock and the agents.
pub trait Env {
    /// `path` is a regular file someone may execute.
    fn agent_exists(&mut self, path: &Path) -> bool;
    fn sleep(&mut self, d: Duration);
    /// Runs the agent with `stdin`, killing it (and its process group)
    /// after `limit`.
    fn run_agent(&mut self, path: &Path, stdin: &[u8], limit: Duration) -> AgentRun;
}

/// The wrapper's exit code and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    fn failed(message: String) -> Self {
        Outcome {
            code: EXIT_FAILED,
            stdout: Vec::new(),
            stderr: format!("{PROGRAM}: error: {message}\n").into_bytes(),
        }
    }
}

/// The whole wrapper: parse, check the agent, wait `delay` before a
/// fencing action, run the agent under [`AGENT_LIMIT`], pass its exit code
/// and output through.
pub fn wrap(stdin: &[u8], env: &mut dyn Env) -> Outcome {
    let req = match parse(stdin) {
        Ok(r) => r,
        Err(e) => return Outcome::failed(e.to_string()),
    };
    let path = req.agent_path();
    // Checked before the delay: a bad name fails at once, not 15 s later.
    if !env.agent_exists(&path) {
        return Outcome::failed(format!(
            "wrap_agent `{}`: {} is not an executable file (is the agent's package installed?)",
            req.agent,
            path.display()
        ));
    }
    if req.fences() && !req.delay.is_zero() {
        env.sleep(req.delay);
    }
    let run = env.run_agent(&path, &req.agent_stdin, AGENT_LIMIT);
    let redact = |bytes: &[u8]| redacted(bytes, req.passwd.as_ref());
    let mut stdout = redact(&run.stdout);
    let mut stderr = redact(&run.stderr);
    let code = match run.ended {
        Ok(Ended::Exited(c)) => c,
        Ok(Ended::Signaled(s)) => {
            stderr.extend_from_slice(
                format!("{PROGRAM}: {} was killed by signal {s}\n", req.agent).as_bytes(),
            );
            EXIT_FAILED
        }
        Ok(Ended::TimedOut) => {
            stderr.extend_from_slice(
                format!(
                    "{PROGRAM}: error: {} did not finish within {} s; killed: the node is NOT fenced\n",
                    req.agent,
                    AGENT_LIMIT.as_secs()
                )
                .as_bytes(),
            );
            EXIT_FAILED
        }
        Err(why) => {
            stdout.clear();
            stderr =
                format!("{PROGRAM}: error: cannot run {}: {why}\n", path.display()).into_bytes();
            EXIT_FAILED
        }
    };
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// At most [`MAX_OUTPUT_BYTES`] of `bytes`, with every occurrence of the
/// password replaced.
fn redacted(bytes: &[u8], passwd: Option<&Secret>) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let text = match passwd {
        Some(p) if p.appears_in(&text) => p.replace_in(&text, "XXXX"),
        _ => text.into_owned(),
    };
    let mut out = text.into_bytes();
    if out.len() > MAX_OUTPUT_BYTES {
        out.truncate(MAX_OUTPUT_BYTES);
        out.extend_from_slice(b"\n[output cut]\n");
    }
    out
}

/// The node: real sleeps, agents run as children.
pub struct RealEnv;

impl Env for RealEnv {
    fn agent_exists(&mut self, path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn run_agent(&mut self, path: &Path, stdin: &[u8], limit: Duration) -> AgentRun {
        let Some(program) = path.to_str() else {
            return AgentRun {
                ended: Err("the path is not UTF-8".into()),
                stdout: Vec::new(),
                stderr: Vec::new(),
            };
        };
        match run_child(&Child {
            program,
            args: &[],
            stdin: Some(stdin),
            path: None,
            c_locale: false,
            limit,
        }) {
            Ok(f) => AgentRun {
                ended: Ok(f.ended),
                stdout: f.stdout,
                stderr: f.stderr,
            },
            Err(e) => AgentRun {
                ended: Err(e.to_string()),
                stdout: Vec::new(),
                stderr: Vec::new(),
            },
        }
    }
}

/// Runs the wrapper as fenced starts it; returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    if args.len() > 1 {
        let want_help = args.iter().skip(1).any(|a| a == "-h" || a == "--help");
        let usage = format!(
            "usage: {PROGRAM} < key=value lines (as fenced and fence_node write them)\n\
             Runs /sbin/<wrap_agent> with the lines but delay=, wrap_agent= and agent=, after \
             waiting delay seconds before off, reboot or disable. See docs/firstboot.md.\n"
        );
        if want_help {
            print!("{usage}");
            return EXIT_OK;
        }
        eprint!("{PROGRAM}: error: this agent takes no arguments\n{usage}");
        return EXIT_FAILED;
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("{PROGRAM}: error: stdin is a terminal: pipe key=value lines as fenced does");
        return EXIT_FAILED;
    }
    let mut bytes = Vec::new();
    if let Err(e) = stdin
        .lock()
        .take(MAX_STDIN_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
    {
        eprintln!("{PROGRAM}: error: reading stdin: {e}");
        return EXIT_FAILED;
    }
    let out = wrap(&bytes, &mut RealEnv);
    let _ = std::io::stdout().lock().write_all(&out.stdout);
    let _ = std::io::stderr().lock().write_all(&out.stderr);
    out.code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_name_or_the_subcommand_selects_the_wrapper() {
        assert_eq!(
            invocation(os(&["/sbin/fence_clusterkick"]).into_iter()),
            Some(os(&["/sbin/fence_clusterkick"]))
        );
        assert_eq!(
            invocation(os(&["/usr/sbin/clusterkick-firstboot", "fence-wrap"]).into_iter()),
            Some(os(&["fence_clusterkick"]))
        );
        assert_eq!(
            invocation(os(&["clusterkick-firstboot", "run"]).into_iter()),
            None
        );
        assert_eq!(invocation(os(&["fence_na"]).into_iter()), None);
    }

    #[test]
    fn strips_its_keys_and_passes_the_rest_in_order() {
        let input = b"# from fenced\naction=off\nport=2\ndelay=15\nagent=fence_clusterkick\n\
wrap_agent=fence_ipmilan\nipaddr=10.20.0.2\nlogin=admin\npasswd=Zq7-pass\nlanplus=1\n";
        let r = parse(input).unwrap();
        assert_eq!(r.agent, "fence_ipmilan");
        assert_eq!(r.delay, Duration::from_secs(15));
        assert_eq!(r.action, "off");
        assert!(r.fences());
        assert_eq!(
            String::from_utf8(r.agent_stdin.clone()).unwrap(),
            "# from fenced\naction=off\nport=2\nipaddr=10.20.0.2\nlogin=admin\npasswd=Zq7-pass\nlanplus=1\n"
        );
        assert_eq!(r.agent_path(), PathBuf::from("/sbin/fence_ipmilan"));
    }

    #[test]
    fn defaults_and_last_key_wins() {
        let r = parse(b"wrap_agent=fence_apc\nwrap_agent=fence_wti\noption=Status\n").unwrap();
        assert_eq!(
            (r.agent.as_str(), r.action.as_str()),
            ("fence_wti", "status")
        );
        assert!(!r.fences());
        assert_eq!(r.delay, Duration::ZERO);
        let r = parse(b"wrap_agent=fence_apc\n").unwrap();
        assert_eq!(r.action, "reboot");
        assert!(r.fences());
    }

    #[test]
    fn refuses_bad_names_and_delays_without_showing_values() {
        for (input, want) in [
            ("action=off\n", "no `wrap_agent=` line"),
            (
                "wrap_agent=/sbin/fence_apc\n",
                "line 1: `wrap_agent` must start with `fence_`",
            ),
            (
                "wrap_agent=fence_../../bin/sh\n",
                "line 1: `wrap_agent` must be a plain agent name",
            ),
            ("wrap_agent=fence_APC\n", "must be a plain agent name"),
            ("wrap_agent=fence_\n", "must be a plain agent name"),
            ("wrap_agent=fence_a b\n", "must be a plain agent name"),
            ("wrap_agent=fence_clusterkick\n", "which would run itself"),
            (
                "wrap_agent=fence_apc\ndelay=secret99\n",
                "line 2: `delay` must be whole seconds",
            ),
            (
                "wrap_agent=fence_apc\ndelay=601\n",
                "`delay` must be whole seconds from 0 to 600",
            ),
            (
                "wrap_agent=fence_apc\ndelay=-1\n",
                "`delay` must be whole seconds",
            ),
        ] {
            let e = parse(input.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{input:?}: {e}");
            assert!(!e.contains("secret99") && !e.contains("../"), "{e}");
        }
        assert!(parse(&[0xff, b'\n']).is_err());
        assert!(parse(&vec![b'a'; MAX_STDIN_BYTES + 1]).is_err());
    }

    /// An [`Env`] that records what happens.
    struct Fake {
        exists: bool,
        run: AgentRun,
        log: Vec<String>,
    }

    impl Env for Fake {
        fn agent_exists(&mut self, path: &Path) -> bool {
            self.log.push(format!("exists {}", path.display()));
            self.exists
        }
        fn sleep(&mut self, d: Duration) {
            self.log.push(format!("sleep {}", d.as_secs()));
        }
        fn run_agent(&mut self, path: &Path, stdin: &[u8], limit: Duration) -> AgentRun {
            self.log.push(format!(
                "run {} limit {} stdin {:?}",
                path.display(),
                limit.as_secs(),
                String::from_utf8_lossy(stdin)
            ));
            self.run.clone()
        }
    }

    fn fake(ended: Result<Ended, String>, stdout: &str, stderr: &str) -> Fake {
        Fake {
            exists: true,
            run: AgentRun {
                ended,
                stdout: stdout.as_bytes().to_vec(),
                stderr: stderr.as_bytes().to_vec(),
            },
            log: Vec::new(),
        }
    }

    #[test]
    fn sleeps_before_fencing_actions_only_then_passes_the_exit_code() {
        for (action, sleeps) in [
            ("off", true),
            ("reboot", true),
            ("disable", true),
            ("on", false),
            ("status", false),
            ("monitor", false),
            ("list", false),
        ] {
            let mut env = fake(Ok(Ended::Exited(3)), "out\n", "err\n");
            let input = format!("action={action}\ndelay=15\nwrap_agent=fence_apc\npasswd=p\n");
            let out = wrap(input.as_bytes(), &mut env);
            assert_eq!(out.code, 3, "{action}");
            assert_eq!(
                (out.stdout.as_slice(), out.stderr.as_slice()),
                (&b"out\n"[..], &b"err\n"[..])
            );
            let slept = env.log.iter().any(|l| l == "sleep 15");
            assert_eq!(slept, sleeps, "{action}: {:?}", env.log);
            // The check comes first, the sleep before the run.
            assert_eq!(env.log[0], "exists /sbin/fence_apc");
            assert!(env
                .log
                .last()
                .unwrap()
                .starts_with("run /sbin/fence_apc limit 120"));
        }
    }

    #[test]
    fn a_missing_agent_fails_at_once_without_waiting() {
        let mut env = fake(Ok(Ended::Exited(0)), "", "");
        env.exists = false;
        let out = wrap(b"action=off\ndelay=15\nwrap_agent=fence_nope\n", &mut env);
        assert_eq!(out.code, EXIT_FAILED);
        assert_eq!(env.log, vec!["exists /sbin/fence_nope"]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("/sbin/fence_nope is not an executable file"),
            "{err}"
        );
    }

    #[test]
    fn timeouts_signals_and_start_failures_are_failures() {
        for (ended, want) in [
            (Ok(Ended::TimedOut), "did not finish within 120 s"),
            (Ok(Ended::Signaled(9)), "killed by signal 9"),
            (
                Err("Permission denied".to_string()),
                "cannot run /sbin/fence_apc: Permission denied",
            ),
        ] {
            let mut env = fake(ended, "", "");
            let out = wrap(b"wrap_agent=fence_apc\naction=off\n", &mut env);
            assert_eq!(out.code, EXIT_FAILED);
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn the_password_never_comes_back_out() {
        let mut env = fake(
            Ok(Ended::Exited(1)),
            "login with Zq7-pass failed\n",
            "debug: passwd=Zq7-pass\n",
        );
        let out = wrap(
            b"wrap_agent=fence_apc\npasswd=Zq7-pass\nbogus=Zq7-pass\n",
            &mut env,
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("Zq7-pass"), "{all}");
        assert!(all.contains("login with XXXX failed"), "{all}");
        // Long output is cut.
        let mut env = fake(Ok(Ended::Exited(0)), &"x".repeat(10_000), "");
        let out = wrap(b"wrap_agent=fence_apc\n", &mut env);
        assert!(out.stdout.len() < MAX_OUTPUT_BYTES + 32);
    }
}
