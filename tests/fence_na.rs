//! The Node Assassin agent as fenced runs it: the real helper binary (as
//! `clusterkick-firstboot fence-na`, and under the name `fence_na`), fed
//! fenced's stdin, against a simulated Node Assassin on loopback
//! (tests/support/node_assassin.rs). Every run is also checked for the password on
//! stdout and stderr.
//!
//! Times: no test bounds how fast anything runs. The one limit,
//! HANG_LIMIT, only catches an agent that would never exit; the delay test
//! asserts a lower bound.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::musl_helper;
use support::node_assassin::{Fault, NodeAssassin};

const HELPER: &str = env!("CARGO_BIN_EXE_clusterkick-firstboot");
const PASSWORD: &str = "Zq7-fence-pass-91x";
const WRONG: &str = "Wr0ng-guess-55k";
/// An agent still running after this is hung (its own limits are seconds).
const HANG_LIMIT: Duration = Duration::from_secs(90);

fn config_text(tcp_port: u16) -> String {
    format!(
        r#"# fence_na test config
[[device]]
name = "motoko"
ipaddr = "127.0.0.1"
tcp_port = {tcp_port}
login = "motoko"
passwd = "{PASSWORD}"

[device.aliases]
1 = "an-node01.alteeve.com"
2 = "an-node02.alteeve.com"

[timeouts]
connect_secs = 2
read_secs = 2
power_off_secs = 3
power_on_secs = 3
total_secs = 30
poll_ms = 50
settle_ms = 50
"#
    )
}

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    fn new(tcp_port: u16) -> Self {
        Self::with_config(&config_text(tcp_port))
    }

    fn with_config(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("fence_na.toml");
        std::fs::write(&config, text).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self { dir, config }
    }
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// fenced's stdin for `action` on `port`, as EL5 fenced writes it: the
/// <device> attributes, then the <fencedevice>'s.
fn fenced_stdin(action: &str, port: &str, passwd: &str, extra: &str) -> String {
    format!(
        "port={port}\naction={action}\n{extra}agent=fence_na\nipaddr=127.0.0.1\n\
         login=motoko\npasswd={passwd}\n"
    )
}

/// Runs `program args`, feeding `stdin`; fails the test if it hangs or
/// prints either password.
fn run(mut cmd: Command, stdin: Option<&str>) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the agent");
    if let Some(text) = stdin {
        let mut w = child.stdin.take().unwrap();
        // An agent that stops early (bad options) may not read it all.
        if let Err(e) = w.write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let o = match rx.recv_timeout(HANG_LIMIT) {
        Ok(o) => o.expect("wait for the agent"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("the agent did not exit within {HANG_LIMIT:?}: it hangs");
        }
    };
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    for secret in [PASSWORD, WRONG] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "a password was printed: {out:?}"
        );
    }
    out
}

fn agent(setup: &Setup, args: &[&str], stdin: Option<&str>) -> Out {
    agent_with_config(&setup.config, args, stdin)
}

fn agent_with_config(config: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut c = Command::new(HELPER);
    c.arg("fence-na").arg("--config").arg(config).args(args);
    run(c, stdin)
}

fn fenced(setup: &Setup, stdin: &str) -> Out {
    agent(setup, &[], Some(stdin))
}

#[test]
fn test_off_fences_the_port_and_verifies_its_power_is_gone() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    // The node takes a moment to lose power: the agent must wait for it.
    sim.lag(Duration::from_millis(300));
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("Success: port 02 is off"), "{o:?}");
    let p2 = sim.port(2);
    assert!(p2.power && !p2.feed, "{p2:?}");
    assert_eq!(p2.power_offs, 1);
    assert_eq!(sim.sets(), ["02:1"]);
    // Read, fence, then reads until the feed was seen gone.
    let cmds = sim.commands();
    assert_eq!(cmds[..2], ["00:0", "02:1"]);
    assert!(
        cmds.len() >= 3 && cmds[2..].iter().all(|c| c == "00:0"),
        "{cmds:?}"
    );
    let p1 = sim.port(1);
    assert!(p1.feed && !p1.power && p1.power_offs == 0, "{p1:?}");
}

#[test]
fn test_on_releases_the_fence_and_boots_the_node() {
    let sim = NodeAssassin::start(&[true, false, true, true]);
    sim.lag(Duration::from_millis(200));
    sim.edit_port(2, |p| p.power = true);
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("on", "2", PASSWORD, ""));
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(sim.sets(), ["02:0", "02:2"]);
    let p2 = sim.port(2);
    assert!(p2.feed && !p2.power && p2.boots == 1, "{p2:?}");

    // Already on: nothing is sent.
    let o = fenced(&s, &fenced_stdin("on", "1", PASSWORD, ""));
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(sim.sets(), ["02:0", "02:2"]);
}

#[test]
fn test_reboot_is_a_verified_off_then_on() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    sim.lag(Duration::from_millis(200));
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("reboot", "02", PASSWORD, ""));
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("rebooted"), "{o:?}");
    assert_eq!(sim.sets(), ["02:1", "02:0", "02:2"]);
    let p2 = sim.port(2);
    assert_eq!((p2.power_offs, p2.boots), (1, 1), "{p2:?}");
    assert!(p2.feed && !p2.power, "{p2:?}");
    // The release came only after a read that followed the fence.
    let cmds = sim.commands();
    let fence = cmds.iter().position(|c| c == "02:1").unwrap();
    let release = cmds.iter().position(|c| c == "02:0").unwrap();
    assert!(
        cmds[fence + 1..release].contains(&"00:0".to_string()),
        "{cmds:?}"
    );

    // A node that stays off after the boot press: the fence worked, so
    // reboot still succeeds (FenceAgentAPI), with a warning.
    sim.edit_port(3, |p| p.never_boots = true);
    let o = fenced(&s, &fenced_stdin("reboot", "03", PASSWORD, ""));
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("did not come back on"), "{o:?}");
    assert!(!sim.port(3).feed);
}

#[test]
fn test_status_is_0_with_power_2_without_and_changes_nothing() {
    let sim = NodeAssassin::start(&[true, false, true, true]);
    let s = Setup::new(sim.port_number());
    let on = fenced(&s, &fenced_stdin("status", "01", PASSWORD, ""));
    assert_eq!((on.code, on.stdout.trim()), (0, "Status: ON"), "{on:?}");
    let off = fenced(&s, &fenced_stdin("status", "02", PASSWORD, ""));
    assert_eq!((off.code, off.stdout.trim()), (2, "Status: OFF"), "{off:?}");
    assert!(sim.sets().is_empty(), "{:?}", sim.commands());
    // A port the device does not have is a failure, not "off".
    let s3 = Setup::with_config(
        &config_text(sim.port_number())
            .replace("[device.aliases]", "max_nodes = 6\n[device.aliases]"),
    );
    let o = fenced(&s3, &fenced_stdin("status", "05", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("not 05"), "{o:?}");
}

#[test]
fn test_wrong_password_or_login_is_refused_before_the_device_is_touched() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("off", "02", WRONG, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr
            .contains("login or password does not match device `motoko`"),
        "{o:?}"
    );
    let o = fenced(
        &s,
        &fenced_stdin("off", "02", PASSWORD, "").replace("login=motoko", "login=admin"),
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(sim.connections().is_empty(), "the device was contacted");
    assert!(sim.port(2).feed);
}

#[test]
fn test_closed_port_fails_with_a_clear_error() {
    let port = support::free_port("127.0.0.1");
    let s = Setup::new(port);
    let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("connection refused"), "{o:?}");
    assert!(
        o.stderr
            .starts_with("fence_na: error: Node Assassin `motoko`"),
        "{o:?}"
    );
}

/// A listening socket whose accept queue is full: Linux drops further
/// SYNs, so a connect gets no answer at all, like an address that is gone.
fn silent_address() -> (rustix::fd::OwnedFd, Vec<std::net::TcpStream>, u16) {
    use rustix::net::{AddressFamily, SocketType};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    let any = std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0);
    rustix::net::bind(&fd, &any).unwrap();
    rustix::net::listen(&fd, 0).unwrap();
    let bound = rustix::net::getsockname(&fd).unwrap();
    let port = std::net::SocketAddrV4::try_from(bound).unwrap().port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(c) => fillers.push(c),
            Err(_) => return (fd, fillers, port),
        }
    }
    panic!("the accept queue never filled");
}

#[test]
fn test_address_that_never_answers_times_out() {
    let (_listener, _fillers, port) = silent_address();
    let s = Setup::new(port);
    let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("no answer within 2 s"), "{o:?}");
}

#[test]
fn test_device_that_accepts_but_never_answers_times_out() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    sim.fault(Fault::Hang);
    let s = Setup::new(sim.port_number());
    for action in ["off", "status"] {
        let o = fenced(&s, &fenced_stdin(action, "02", PASSWORD, ""));
        assert_eq!(o.code, 1, "{action}: {o:?}");
        assert!(
            o.stderr.contains("no complete answer to `00:0` within 2 s"),
            "{o:?}"
        );
    }
}

#[test]
fn test_dropped_connection_is_a_failure_at_every_step() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    let s = Setup::new(sim.port_number());
    sim.fault(Fault::DropOnConnect);
    let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("closed the connection"), "{o:?}");
    // 1: the first read, 2: the fence, 3: the read that verifies it.
    for (n, at) in [(2, "`02:1`"), (3, "`00:0`")] {
        let sim = NodeAssassin::start(&[true, true, true, true]);
        sim.fault(Fault::DropAtCommand(n));
        let s = Setup::new(sim.port_number());
        let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
        assert_eq!(o.code, 1, "drop at {n}: {o:?}");
        assert!(
            o.stderr
                .contains(&format!("closed the connection before answering {at}")),
            "{o:?}"
        );
    }
}

#[test]
fn test_delay_is_waited_before_off_and_reboot() {
    for action in ["off", "reboot"] {
        let sim = NodeAssassin::start(&[true, true, true, true]);
        let s = Setup::new(sim.port_number());
        let start = Instant::now();
        let o = fenced(&s, &fenced_stdin(action, "02", PASSWORD, "delay=2\n"));
        assert_eq!(o.code, 0, "{action}: {o:?}");
        let first = sim.connections()[0];
        assert!(
            first.duration_since(start) >= Duration::from_secs(2),
            "{action}: contacted the device after {:?}",
            first.duration_since(start)
        );
    }
}

#[test]
fn test_delay_does_not_hold_up_status() {
    // Were status to wait, it would wait 600 s and hit HANG_LIMIT.
    let sim = NodeAssassin::start(&[true, true, true, true]);
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("status", "02", PASSWORD, "delay=600\n"));
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(sim.connections().len(), 1);
}

#[test]
fn test_garbage_from_the_device_is_an_error_never_a_fence() {
    for fault in [
        Fault::GarbageStates,
        Fault::BadStateLine,
        Fault::NoEom,
        Fault::OldFirmware,
        Fault::GarbageAfterFence,
    ] {
        let sim = NodeAssassin::start(&[true, true, true, true]);
        sim.fault(fault);
        let s = Setup::new(sim.port_number());
        let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
        assert_eq!(o.code, 1, "{fault:?}: {o:?}");
        assert!(
            o.stderr
                .starts_with("fence_na: error: Node Assassin `motoko`"),
            "{fault:?}: {o:?}"
        );
        // The device's bytes reach the terminal only made printable.
        assert!(
            !o.stderr.contains(['\x1b', '\x07', '\0']),
            "{fault:?}: {o:?}"
        );
        if fault == Fault::GarbageAfterFence {
            assert_eq!(sim.sets(), ["02:1"]);
        } else {
            assert!(
                sim.sets().is_empty(),
                "{fault:?}: nothing is sent to a device that does not answer a read properly: {:?}",
                sim.commands()
            );
        }
    }
}

#[test]
fn test_node_that_keeps_power_is_not_reported_fenced() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    sim.edit_port(2, |p| p.stuck_on = true);
    let s = Setup::new(sim.port_number());
    let o = fenced(&s, &fenced_stdin("off", "02", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr
            .contains("still has power 3 s after the fence command"),
        "{o:?}"
    );
    let o = fenced(&s, &fenced_stdin("reboot", "02", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        !sim.sets().contains(&"02:2".to_string()),
        "{:?}",
        sim.sets()
    );
}

#[test]
fn test_config_must_be_private_regular_and_valid() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    let good = config_text(sim.port_number());
    let stdin = fenced_stdin("off", "02", PASSWORD, "");

    let s = Setup::with_config(&good);
    std::fs::set_permissions(&s.config, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = fenced(&s, &stdin);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("has mode 0640"), "{o:?}");
    assert!(o.stderr.contains("chmod 600"), "{o:?}");

    let s = Setup::with_config(&good);
    let link = s.dir.path().join("link.toml");
    std::os::unix::fs::symlink(&s.config, &link).unwrap();
    let o = agent_with_config(&link, &[], Some(&stdin));
    assert!(o.code == 1 && o.stderr.contains("symbolic link"), "{o:?}");

    let o = agent_with_config(s.dir.path(), &[], Some(&stdin));
    assert!(
        o.code == 1 && o.stderr.contains("not a regular file"),
        "{o:?}"
    );

    let missing = s.dir.path().join("missing.toml");
    let o = agent_with_config(&missing, &[], Some(&stdin));
    assert!(o.code == 1 && o.stderr.contains("cannot open"), "{o:?}");

    let s = Setup::with_config(&format!("{good}\n# {}\n", "x".repeat(70_000)));
    let o = fenced(&s, &stdin);
    assert!(
        o.code == 1 && o.stderr.contains("larger than 65536 bytes"),
        "{o:?}"
    );

    let s = Setup::with_config(&good.replace("login =", "logn ="));
    let o = fenced(&s, &stdin);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("fence_na.toml:6:1: unknown field `logn`"),
        "{o:?}"
    );

    // A broken passwd line: position, no value.
    let s = Setup::with_config(&good.replace(&format!("\"{PASSWORD}\""), PASSWORD));
    let o = fenced(&s, &stdin);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("fence_na.toml:7:"), "{o:?}");
    assert!(o.stderr.contains("the value is not shown"), "{o:?}");

    // fenced's ipaddr must be one the config knows.
    let s = Setup::with_config(&good);
    let o = fenced(
        &s,
        &stdin.replace("ipaddr=127.0.0.1", "ipaddr=motoko.example"),
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr
            .contains("no [[device]] has ipaddr `motoko.example` (it has: 127.0.0.1)"),
        "{o:?}"
    );
    assert!(sim.connections().is_empty());
}

#[test]
fn test_fenced_input_as_the_seed_writes_it_and_unknown_keys() {
    let sim = NodeAssassin::start(&[true, true, true, true]);
    sim.crlf();
    let s = Setup::new(sim.port_number());
    // The seed's cluster.conf: <device name="motoko" port="02" action="off"/>,
    // <fencedevice ... quiet="true">; the 2010 agent ignored what it did not
    // know, and fenced of cluster 3 adds nodename.
    let stdin = "# from fenced\nport=02\naction=off\nagent=fence_na\n\
                 ipaddr=127.0.0.1\nlogin=motoko\npasswd=Zq7-fence-pass-91x\nquiet=true\n\
                 nodename=an-node02.alteeve.com\nsomething_new=1\n";
    assert!(stdin.contains(PASSWORD));
    let o = fenced(&s, stdin);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout, "", "quiet: {o:?}");
    assert!(!sim.port(2).feed);

    // `option` is the old name of `action`; no action at all is reboot.
    let o = fenced(
        &s,
        &fenced_stdin("status", "02", PASSWORD, "").replace("action=", "option="),
    );
    assert_eq!(o.code, 2, "{o:?}");
    let no_action = fenced_stdin("x", "01", PASSWORD, "").replace("action=x\n", "");
    let o = fenced(&s, &no_action);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("rebooted"), "{o:?}");

    // Bad input: exit 1, the line named, never 2 (a status caller's "off").
    let o = fenced(&s, &fenced_stdin("halt", "01", PASSWORD, ""));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("stdin line 2: `action` is not an action"),
        "{o:?}"
    );
}

#[test]
fn test_command_line_passwd_script_and_the_fence_na_name() {
    let sim = NodeAssassin::start(&[true, false, true, true]);
    let s = Setup::new(sim.port_number());
    let base = ["-a", "127.0.0.1", "-l", "motoko"];

    let o = agent(
        &s,
        &[&base[..], &["-p", PASSWORD, "-n", "1", "-o", "status"]].concat(),
        None,
    );
    assert_eq!((o.code, o.stdout.trim()), (0, "Status: ON"), "{o:?}");

    // -S: the first line a command prints.
    let script = s.dir.path().join("pw.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho '{PASSWORD}'\necho more\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let sc = script.to_str().unwrap();
    let o = agent(
        &s,
        &[&base[..], &["-S", sc, "-n", "2", "-o", "status"]].concat(),
        None,
    );
    assert_eq!((o.code, o.stdout.trim()), (2, "Status: OFF"), "{o:?}");
    let o = agent(
        &s,
        &[&base[..], &["-S", "exit 3", "-n", "2", "-o", "status"]].concat(),
        None,
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("passwd_script `exit 3`: failed"), "{o:?}");

    // list: aliases from the config.
    let o = agent(
        &s,
        &[&base[..], &["-p", PASSWORD, "-o", "list"]].concat(),
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        o.stdout,
        "1,an-node01.alteeve.com\n2,an-node02.alteeve.com\n3,--\n4,--\n"
    );

    // Usage errors are 1, not clap's 2.
    let o = agent(
        &s,
        &[&base[..], &["-p", PASSWORD, "-n", "1"]].concat(),
        None,
    );
    assert!(o.code == 1 && o.stderr.contains("-o is required"), "{o:?}");
    let o = agent(&s, &["-Z"], None);
    assert_eq!(o.code, 1, "{o:?}");

    // Installed as /sbin/fence_na: a link whose name selects the agent.
    let link = s.dir.path().join("fence_na");
    std::os::unix::fs::symlink(HELPER, &link).unwrap();
    let mut c = Command::new(&link);
    c.arg("--config").arg(&s.config);
    let o = run(c, Some(&fenced_stdin("status", "01", PASSWORD, "")));
    assert_eq!((o.code, o.stdout.trim()), (0, "Status: ON"), "{o:?}");
    let mut c = Command::new(&link);
    c.arg("-V");
    let o = run(c, None);
    assert!(
        o.code == 0 && o.stdout.starts_with("fence_na (clusterkick"),
        "{o:?}"
    );
}

#[test]
fn test_password_is_never_printed_even_verbose() {
    // Every run() checks stdout and stderr; these are the runs most likely
    // to show it: verbose, a wrong password, a password in the wrong place.
    let sim = NodeAssassin::start(&[true, true, true, true]);
    let s = Setup::new(sim.port_number());
    let o = agent(
        &s,
        &["-v"],
        Some(&fenced_stdin("reboot", "02", PASSWORD, "")),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("sending 02:1"), "{o:?}");
    let o = agent(&s, &["-v"], Some(&fenced_stdin("off", "02", WRONG, "")));
    assert_eq!(o.code, 1, "{o:?}");
    let o = agent(
        &s,
        &["-v"],
        Some(&format!(
            "port={PASSWORD}\n{}",
            fenced_stdin("off", "02", PASSWORD, "").replace("port=02\n", "")
        )),
    );
    assert_eq!(o.code, 1, "{o:?}");
    let o = agent(
        &s,
        &["-v"],
        Some(&format!(
            "{WRONG}\n{WRONG}=1\n{PASSWORD}=2\nx={WRONG}\n{}",
            fenced_stdin("off", "02", PASSWORD, "")
        )),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("ignoring stdin lines 1, 2, 3, 4, 7"),
        "{o:?}"
    );
    let o = agent(
        &s,
        &[
            "-v",
            "-a",
            "127.0.0.1",
            "-l",
            "motoko",
            "-p",
            WRONG,
            "-n",
            "2",
            "-o",
            "off",
        ],
        None,
    );
    assert_eq!(o.code, 1, "{o:?}");
}

#[test]
fn test_static_agent_fences_under_centos5_syscalls() {
    // The helper as it ships, named fence_na, as CentOS 5's 2.6.18 kernel
    // would answer its system calls (scripts/el5-syscalls.py).
    let seccomp = Command::new("/usr/bin/python3")
        .args(["-c", "import seccomp"])
        .status()
        .expect("python3");
    assert!(
        seccomp.success(),
        "python3-seccomp is missing: run scripts/test-deps.sh"
    );
    let sim = NodeAssassin::start(&[true, true, true, true]);
    sim.lag(Duration::from_millis(200));
    let s = Setup::new(sim.port_number());
    let link = s.dir.path().join("fence_na");
    std::os::unix::fs::symlink(musl_helper(), &link).unwrap();
    let mut c = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/el5-syscalls.py"));
    c.arg(&link).arg("--config").arg(&s.config);
    let o = run(
        c,
        Some(&fenced_stdin("reboot", "02", PASSWORD, "delay=1\n")),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(sim.sets(), ["02:1", "02:0", "02:2"]);
    let p2 = sim.port(2);
    assert_eq!((p2.power_offs, p2.boots), (1, 1), "{p2:?}");

    // A host name, as the seed's cluster.conf gives one: musl's resolver
    // reads /etc/hosts (localhost may come first as ::1, where nothing
    // listens: the next address is tried).
    let named = Setup::with_config(
        &config_text(sim.port_number()).replace("\"127.0.0.1\"", "\"localhost\""),
    );
    let link = named.dir.path().join("fence_na");
    std::os::unix::fs::symlink(musl_helper(), &link).unwrap();
    let mut c = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/el5-syscalls.py"));
    c.arg(&link).arg("--config").arg(&named.config);
    let stdin = fenced_stdin("status", "02", PASSWORD, "").replace("127.0.0.1", "localhost");
    let o = run(c, Some(&stdin));
    assert_eq!((o.code, o.stdout.trim()), (0, "Status: ON"), "{o:?}");
}
