//! The helper's two fencing modes, run as the real binary, as a node runs
//! them:
//! - `fence_clusterkick` (fence-wrap), the wrapper fenced runs for a shipped
//!   agent: its stdin as fenced writes it, the agent at its real path,
//!   /sbin/<name> (in a private mount namespace whose /sbin holds a fake
//!   agent): it strips its own keys, waits `delay` before a fence only,
//!   passes the rest, the exit code and the output, kills an agent that
//!   hangs (with its children) after its limit, refuses a bad name, and
//!   never lets the password out;
//! - `drbd-fence-peer`, DRBD's handler, with a fake `fence_node` on PATH
//!   that succeeds, fails or hangs: exit 7 only when fence_node exited 0,
//!   else 1, never a code DRBD reads as a peer state; its lines in the
//!   helper's log and in syslog (a socket in place of /dev/log).
//!
//! Both also run as the static helper that ships, under
//! scripts/el5-syscalls.py (CentOS 5's kernel's system calls). Time is
//! asserted as lower bounds; the hang tests have a generous outer bound.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const PASSWORD: &str = "Ilo-Zq7-pass-31";

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A fake shipped agent: records its stdin and its child's pid, prints a
/// line with the password in it (as a verbose agent might), and then does
/// what $FAKE_MODE says: `ok`, `exit:N`, or `hang` (with a child of its
/// own that must die with it).
const FAKE_AGENT: &str = r#"#!/bin/sh
cat > "$FAKE_DIR/stdin"
date +%s.%N > "$FAKE_DIR/started"
echo "logged in with password $(grep ^passwd= "$FAKE_DIR/stdin" | cut -d= -f2-)"
case "$FAKE_MODE" in
ok) echo "Success: Powered OFF"; exit 0 ;;
exit:*) echo "failed" >&2; exit "${FAKE_MODE#exit:}" ;;
hang) sleep 1000 & echo $! > "$FAKE_DIR/child"; wait ;;
esac
"#;

/// A fake `fence_node`: records its arguments, then `ok`, `fail` or `hang`
/// as $FAKE_MODE says.
const FAKE_FENCE_NODE: &str = r#"#!/bin/sh
echo "$*" >> "$FAKE_DIR/fence_node.calls"
case "$FAKE_MODE" in
ok) exit 0 ;;
fail) echo "Fence of \"$1\" was unsuccessful" >&2; exit 1 ;;
hang) sleep 1000 & echo $! > "$FAKE_DIR/child"; wait ;;
esac
"#;

/// A scratch /sbin with the fake agent (as `fence_fake`), a link
/// `fence_clusterkick` to the helper, and a folder for what the fakes
/// record.
struct Sbin {
    dir: tempfile::TempDir,
}

impl Sbin {
    fn new(helper: &Path) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sbin")).expect("mkdir");
        std::fs::create_dir(dir.path().join("rec")).expect("mkdir");
        write_exec(&dir.path().join("sbin/fence_fake"), FAKE_AGENT);
        std::os::unix::fs::symlink(helper, dir.path().join("sbin/fence_clusterkick"))
            .expect("symlink");
        std::fs::write(dir.path().join("sbin/fence_noexec"), "#!/bin/sh\n").expect("write");
        Sbin { dir }
    }

    fn rec(&self, name: &str) -> PathBuf {
        self.dir.path().join("rec").join(name)
    }
}

/// Runs `argv` in a private mount namespace where /sbin is `sbin` (if
/// given) and /dev/log is the socket `log` (if given); stdin is `input`.
fn in_namespace(
    sbin: Option<&Path>,
    log: Option<&Path>,
    argv: &[&str],
    envs: &[(&str, &str)],
    input: &str,
) -> (Output, Duration) {
    require("unshare", "util-linux");
    let script = r#"set -e
if [ -n "$NS_SBIN" ]; then mount --bind "$NS_SBIN" /sbin; fi
if [ -n "$NS_LOG" ]; then
	d=$NS_DEV
	mount -t tmpfs none "$d"
	for n in null zero urandom random; do touch "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
	ln -s "$NS_LOG" "$d/log"
	mount --move "$d" /dev
fi
exec "$@"
"#;
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut c = Command::new("unshare");
    c.args(["--mount", "sh", "-c", script, "sh"])
        .args(argv)
        .env(
            "NS_SBIN",
            sbin.map(|p| p.display().to_string()).unwrap_or_default(),
        )
        .env(
            "NS_LOG",
            log.map(|p| p.display().to_string()).unwrap_or_default(),
        )
        .env("NS_DEV", scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let start = Instant::now();
    let mut child = c.spawn().expect("spawn unshare");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (out, start.elapsed())
}

/// fenced's stdin for the victim's device (delay on it) and the wrapper's
/// fencedevice.
fn fenced_stdin(action: &str, delay: u64, agent: &str) -> String {
    format!(
        "port=2\naction={action}\ndelay={delay}\nagent=fence_clusterkick\nwrap_agent={agent}\n\
         ipaddr=10.20.1.72\nlogin=admin\npasswd={PASSWORD}\nlanplus=1\n"
    )
}

/// The process `pid` (a killed agent's child) is gone or a zombie within
/// a few seconds: SIGKILL to its group reached it. (Death is asynchronous:
/// the generous bound only catches a process nobody killed.)
fn assert_dies(pid: &str) {
    let start = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "process {pid} outlived its killed parent: {stat}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn wrap(sb: &Sbin, helper_argv: &[&str], input: &str, mode: &str) -> (Output, Duration) {
    let rec = sb.dir.path().join("rec");
    in_namespace(
        Some(&sb.dir.path().join("sbin")),
        None,
        helper_argv,
        &[
            ("FAKE_MODE", mode),
            ("FAKE_DIR", rec.to_str().expect("utf-8")),
        ],
        input,
    )
}

fn assert_no_password(o: &Output) {
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!all.contains(PASSWORD), "the password came out: {all}");
}

#[test]
fn fence_wrap_strips_its_keys_waits_the_delay_and_passes_the_rest() {
    let sb = Sbin::new(Path::new(HELPER));
    // As fenced runs it: /sbin/fence_clusterkick, the name picks the mode.
    let (o, took) = wrap(
        &sb,
        &["/sbin/fence_clusterkick"],
        &fenced_stdin("off", 2, "fence_fake"),
        "ok",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(took >= Duration::from_secs(2), "no delay: {took:?}");
    assert_eq!(
        std::fs::read_to_string(sb.rec("stdin")).expect("the agent ran"),
        format!(
            "port=2\naction=off\nipaddr=10.20.1.72\nlogin=admin\npasswd={PASSWORD}\nlanplus=1\n"
        )
    );
    let out = text(&o.stdout);
    assert!(
        out.contains("logged in with password XXXX") && out.contains("Success: Powered OFF"),
        "{out}"
    );
    assert_no_password(&o);

    // The agent's exit code is the wrapper's, whatever it is.
    for code in [1, 2, 5] {
        let (o, _) = wrap(
            &sb,
            &[HELPER, "fence-wrap"],
            &fenced_stdin("reboot", 0, "fence_fake"),
            &format!("exit:{code}"),
        );
        assert_eq!(o.status.code(), Some(code), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("failed"));
        assert_no_password(&o);
    }
}

#[test]
fn fence_wrap_never_waits_before_a_status() {
    let sb = Sbin::new(Path::new(HELPER));
    // delay=600 would be ten minutes: a status returns long before.
    let (o, took) = wrap(
        &sb,
        &["/sbin/fence_clusterkick"],
        &fenced_stdin("status", 600, "fence_fake"),
        "ok",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        took < Duration::from_secs(300),
        "a status waited for the delay: {took:?}"
    );
}

#[test]
fn fence_wrap_refuses_a_bad_wrap_agent_at_once() {
    let sb = Sbin::new(Path::new(HELPER));
    for (agent, want) in [
        ("", "`wrap_agent` must start with `fence_`"),
        ("../../bin/sh", "`wrap_agent` must start with `fence_`"),
        ("fence_../x", "must be a plain agent name"),
        ("fence_clusterkick", "which would run itself"),
        (
            "fence_missing",
            "/sbin/fence_missing is not an executable file",
        ),
        (
            "fence_noexec",
            "/sbin/fence_noexec is not an executable file",
        ),
    ] {
        // delay=600: a refusal must not wait for it.
        let (o, took) = wrap(
            &sb,
            &["/sbin/fence_clusterkick"],
            &fenced_stdin("off", 600, agent),
            "ok",
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{agent}: {err}");
        assert!(err.contains(want), "{agent}: {err}");
        assert!(took < Duration::from_secs(300), "{agent}: waited {took:?}");
        assert!(!sb.rec("stdin").exists(), "{agent}: an agent ran");
        assert_no_password(&o);
    }
    let (o, _) = wrap(
        &sb,
        &["/sbin/fence_clusterkick"],
        "action=off\nport=2\n",
        "ok",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no `wrap_agent=` line"));
}

#[test]
fn fence_wrap_kills_an_agent_that_hangs_with_its_children() {
    let sb = Sbin::new(Path::new(HELPER));
    let (o, took) = wrap(
        &sb,
        &["/sbin/fence_clusterkick"],
        &fenced_stdin("off", 0, "fence_fake"),
        "hang",
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("fence_fake did not finish within 120 s; killed: the node is NOT fenced"),
        "{err}"
    );
    assert!(took >= clusterkick::fence_wrap::AGENT_LIMIT, "{took:?}");
    assert!(took < Duration::from_secs(600), "{took:?}");
    let child = std::fs::read_to_string(sb.rec("child")).expect("the agent's child pid");
    assert_dies(child.trim());
    assert_no_password(&o);
}

/// The example's an-node01 config with its files in `dir`.
fn handler_config(dir: &Path) -> PathBuf {
    let mut cfg = example_configs()[0].clone();
    cfg.key_file = dir.join("firstboot.key");
    cfg.state_file = dir.join("firstboot.state");
    cfg.log_file = dir.join("clusterkick-firstboot.log");
    let p = dir.join("firstboot.toml");
    std::fs::write(&p, toml::to_string(&cfg).expect("serialize")).expect("write config");
    p
}

/// Runs `helper drbd-fence-peer` as drbdadm does (DRBD_* set, PATH with the
/// fake fence_node first), in a namespace whose /dev/log is a socket the
/// test reads; returns the output, the time, and the syslog lines.
fn handler(
    helper: &Path,
    mode: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, Duration, String, String, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    write_exec(&bin.join("fence_node"), FAKE_FENCE_NODE);
    let cfg = handler_config(dir.path());
    let sock = dir.path().join("log.sock");
    let syslog = UnixDatagram::bind(&sock).expect("bind the syslog socket");
    syslog.set_nonblocking(true).expect("nonblocking");
    let path = format!("{}:/sbin:/usr/sbin:/bin:/usr/bin", bin.display());
    let mut argv: Vec<&str> = vec![helper.to_str().expect("utf-8"), "--config"];
    let cfg_s = cfg.display().to_string();
    argv.push(&cfg_s);
    argv.push("drbd-fence-peer");
    argv.extend_from_slice(extra);
    let fake_dir = dir.path().display().to_string();
    let mut envs = vec![
        ("PATH", path.as_str()),
        ("FAKE_MODE", mode),
        ("FAKE_DIR", fake_dir.as_str()),
        ("HOME", "/"),
        ("TERM", "linux"),
    ];
    envs.extend_from_slice(env);
    let (o, took) = in_namespace(None, Some(&sock), &argv, &envs, "");
    let mut lines = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = syslog.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let calls = std::fs::read_to_string(dir.path().join("fence_node.calls")).unwrap_or_default();
    let log =
        std::fs::read_to_string(dir.path().join("clusterkick-firstboot.log")).unwrap_or_default();
    if let Ok(pid) = std::fs::read_to_string(dir.path().join("child")) {
        assert_dies(pid.trim());
    }
    (o, took, calls, log, lines)
}

const DRBD_ENV: &[(&str, &str)] = &[
    ("DRBD_RESOURCE", "r0"),
    ("DRBD_PEER", "an-node02.alteeve.com"),
    ("DRBD_MINOR", "0"),
    ("DRBD_CONF", "/etc/drbd.conf"),
];

#[test]
fn drbd_fence_peer_exits_7_only_when_fence_node_fenced() {
    let (o, _, calls, log, syslog) = handler(Path::new(HELPER), "ok", &[], DRBD_ENV);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    assert_eq!(calls, "an-node02.alteeve.com\n");
    assert!(
        log.contains("drbd-fence-peer: an-node02.alteeve.com was fenced"),
        "{log}"
    );
    assert!(
        syslog.iter().any(|l| l.starts_with("<30>")
            && l.contains(" clusterkick-firstboot[")
            && l.contains("drbd-fence-peer: an-node02.alteeve.com was fenced")),
        "syslog got: {syslog:#?}"
    );
}

#[test]
fn drbd_fence_peer_exits_1_when_fence_node_fails() {
    // Fails at once, every time: tried again every 5 s while the limit
    // allows, then 1.
    let (o, took, calls, log, _) =
        handler(Path::new(HELPER), "fail", &["--timeout", "12"], DRBD_ENV);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(calls.lines().count(), 3, "{calls}");
    assert!(took >= Duration::from_secs(10), "{took:?}");
    assert!(
        log.contains("`fence_node an-node02.alteeve.com` failed (exit 1)"),
        "{log}"
    );
    assert!(
        log.contains(
            "could not fence an-node02.alteeve.com within 12 s: DRBD keeps r0's I/O frozen"
        ),
        "{log}"
    );
}

#[test]
fn drbd_fence_peer_exits_1_when_fence_node_hangs() {
    // Without a quorate cluster fence_node waits for ever: killed at the
    // limit, with its children.
    let (o, took, calls, log, _) =
        handler(Path::new(HELPER), "hang", &["--timeout", "3"], DRBD_ENV);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(calls.lines().count(), 1);
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(took < Duration::from_secs(120), "{took:?}");
    assert!(
        log.contains("did not finish within the limit and was killed"),
        "{log}"
    );
}

#[test]
fn drbd_fence_peer_refuses_what_does_not_add_up() {
    // DRBD names another peer than the helper's config: fence nobody.
    let env = [
        ("DRBD_RESOURCE", "r0"),
        ("DRBD_PEER", "an-node09.alteeve.com"),
    ];
    let (o, _, calls, log, _) = handler(Path::new(HELPER), "ok", &[], &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(calls.is_empty(), "{calls}");
    assert!(
        log.contains("REFUSED: DRBD names the peer an-node09.alteeve.com"),
        "{log}"
    );
    // A config that cannot be read: 1, not the helper's 3 (which DRBD
    // would read as "peer is inconsistent" and resume I/O).
    let o = Command::new(HELPER)
        .args(["--config", "/nonexistent/firstboot.toml", "drbd-fence-peer"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // A bad --timeout: clap's 2 ("helper broken": frozen as well).
    let o = Command::new(HELPER)
        .args(["drbd-fence-peer", "--timeout", "900"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}

/// The static helper as it ships, under CentOS 5's system-call semantics.
fn el5(helper: &Path) -> Vec<String> {
    let py = require("/usr/bin/python3", "python3");
    let ok = Command::new(&py)
        .args(["-c", "import seccomp"])
        .status()
        .expect("python3");
    assert!(
        ok.success(),
        "python3-seccomp is missing: run scripts/test-deps.sh"
    );
    vec![
        py.display().to_string(),
        repo().join("scripts/el5-syscalls.py").display().to_string(),
        helper.display().to_string(),
    ]
}

#[test]
fn fencing_modes_of_the_shipped_helper_under_2_6_18_syscalls() {
    // The filter holds for every process the helper starts, so the agents
    // here are programs that run under it: the wrapped agent is the static
    // helper itself under another name (no mode by that name: it exits 2
    // with its usage, which the wrapper must pass on), fence_node is
    // /usr/bin/true (a glibc shell would not start under the filter).
    let helper = musl_helper();
    let sb = Sbin::new(&helper);
    std::fs::remove_file(sb.dir.path().join("sbin/fence_fake")).expect("rm");
    std::os::unix::fs::symlink(&helper, sb.dir.path().join("sbin/fence_fake")).expect("symlink");
    let pre = el5(&helper);
    let mut argv: Vec<&str> = pre.iter().map(String::as_str).collect();
    argv.push("fence-wrap");
    let (o, took) = wrap(&sb, &argv, &fenced_stdin("off", 1, "fence_fake"), "ok");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Usage:"), "{err}");
    assert!(took >= Duration::from_secs(1));
    assert_no_password(&o);

    // The handler: it spawns fence_node the same way.
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    std::os::unix::fs::symlink(
        require("/usr/bin/true", "coreutils"),
        bin.join("fence_node"),
    )
    .expect("symlink");
    let cfg = handler_config(dir.path());
    let o = Command::new(&pre[0])
        .args(&pre[1..])
        .arg("--config")
        .arg(&cfg)
        .arg("drbd-fence-peer")
        .env("PATH", format!("{}:/usr/sbin:/usr/bin", bin.display()))
        .env("DRBD_RESOURCE", "r0")
        .env("DRBD_PEER", "an-node02.alteeve.com")
        .output()
        .expect("run under el5-syscalls");
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let log = std::fs::read_to_string(dir.path().join("clusterkick-firstboot.log")).expect("log");
    assert!(
        log.contains("drbd-fence-peer: an-node02.alteeve.com was fenced"),
        "{log}"
    );
}
