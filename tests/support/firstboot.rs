//! Two helpers against the simulator (cargo feature `sim`): each node's
//! config is the example profile's ([`super::example_configs`]) with the
//! test's addresses (127.0.1.71 and 127.0.1.72, free ports), files in a
//! temp dir and short timeouts; a simulated world for the pair; and the
//! helper's test-only twin `clusterkick-firstboot-sim` (the same command
//! line and engine, acting on the world) run once per node.

use super::{example_configs, example_key_hex, free_port, SHORTS};
use clusterkick::firstboot::config::{FirstbootConfig, Timeouts};
use clusterkick::firstboot::sim::el5::World;
use clusterkick::firstboot::sim::WORLD_ENV;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The helper's twin acting on the simulated world.
pub const HELPER_SIM: &str = env!(
    "CARGO_BIN_EXE_clusterkick-firstboot-sim",
    "the simulator tests need the sim feature: run scripts/test.sh (cargo test --features sim)"
);
pub const ADDRS: [&str; 2] = ["127.0.1.71", "127.0.1.72"];
/// Upper bound for one helper run in the tests.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Lines that a helper reads while polling: their number depends on timing,
/// so golden files leave them out.
pub const POLLS: &[&str] = &["read /proc/drbd", "cman_tool status", "cman_tool nodes"];

/// The cluster's services (off in every runlevel; the helper starts them).
pub const CLUSTER_SERVICES: &[&str] = &["cman", "clusterkick-drbd", "drbd", "clvmd", "gfs2"];

/// Destructive command lines (the ones that must never run twice).
pub const DESTRUCTIVE: &[&str] = &[
    "lvcreate ",
    "drbdadm -- --force create-md",
    "drbdadm -- --overwrite-data-of-peer",
    "drbdadm -- --clear-bitmap",
    "pvcreate ",
    "vgcreate ",
    "mkfs.gfs2 ",
];

/// Node `i`'s config for a pair in `dir`: the example's, but for the test's
/// addresses and ports, files under `dir` and short waits.
pub fn node_config(i: usize, dir: &Path, ports: [u16; 2]) -> FirstbootConfig {
    let j = 1 - i;
    let mut cfg = example_configs()[i].clone();
    let nd = dir.join(SHORTS[i]);
    cfg.listen = format!("{}:{}", ADDRS[i], ports[i]);
    cfg.peer_addr = format!("{}:{}", ADDRS[j], ports[j]);
    cfg.key_file = dir.join("firstboot.key");
    cfg.state_file = nd.join("firstboot.state");
    cfg.log_file = nd.join("clusterkick-firstboot.log");
    cfg.timeouts = Timeouts {
        peer_secs: 30,
        cman_secs: 30,
        drbd_connect_secs: 30,
        drbd_primary_secs: 30,
        barrier_secs: 30,
        retry_initial_ms: 10,
        retry_max_ms: 100,
    };
    cfg
}

pub struct Pair {
    pub dir: tempfile::TempDir,
    pub world_dir: PathBuf,
    pub cfgs: Vec<FirstbootConfig>,
    pub cfg_paths: Vec<PathBuf>,
}

impl Pair {
    /// Two configs (tweaked by `tweak(i, cfg)`), the key and a fresh world.
    pub fn new(tweak: impl Fn(usize, &mut FirstbootConfig)) -> Pair {
        Pair::build(node_config, tweak, |cfgs, world_dir| {
            World::new_pair(&cfgs[0], &cfgs[1])
                .save(world_dir)
                .expect("save world")
        })
    }

    /// A pair whose configs come from `config(i, dir, ports)` (then
    /// `tweak`), with the world `make_world` saves in the world folder.
    pub fn build(
        config: impl Fn(usize, &Path, [u16; 2]) -> FirstbootConfig,
        tweak: impl Fn(usize, &mut FirstbootConfig),
        make_world: impl FnOnce(&[FirstbootConfig], &Path),
    ) -> Pair {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = [free_port(ADDRS[0]), free_port(ADDRS[1])];
        let mut cfgs = Vec::new();
        let mut cfg_paths = Vec::new();
        for (i, short) in SHORTS.iter().enumerate() {
            let mut cfg = config(i, dir.path(), ports);
            tweak(i, &mut cfg);
            let p = dir.path().join(format!("{short}.toml"));
            std::fs::write(&p, toml::to_string(&cfg).expect("config serializes"))
                .expect("write config");
            cfgs.push(cfg);
            cfg_paths.push(p);
        }
        std::fs::write(
            dir.path().join("firstboot.key"),
            format!("{}\n", example_key_hex()),
        )
        .expect("write key");
        let world_dir = dir.path().join("world");
        make_world(&cfgs, &world_dir);
        Pair {
            dir,
            world_dir,
            cfgs,
            cfg_paths,
        }
    }

    pub fn world(&self) -> World {
        World::load(&self.world_dir).expect("load world")
    }

    pub fn update_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        World::update(&self.world_dir, f).expect("update world")
    }

    /// The helper for node `i` with `args`, against the simulated world.
    pub fn command(&self, i: usize, args: &[&str]) -> Command {
        let mut c = Command::new(HELPER_SIM);
        c.arg("--config")
            .arg(&self.cfg_paths[i])
            .args(args)
            .env(WORLD_ENV, &self.world_dir)
            .stdin(Stdio::null());
        c
    }

    /// Starts `run` for node `i`; stdout and stderr go to files in the
    /// temp dir (`<short>.out`, appended across restarts).
    pub fn spawn(&self, i: usize, extra: &[&str]) -> Child {
        let out = self.dir.path().join(format!("{}.out", SHORTS[i]));
        let f = File::options()
            .create(true)
            .append(true)
            .open(&out)
            .expect("open output file");
        let mut args = extra.to_vec();
        args.push("run");
        self.command(i, &args)
            .stdout(Stdio::from(f.try_clone().expect("dup")))
            .stderr(Stdio::from(f))
            .spawn()
            .expect("spawn clusterkick-firstboot")
    }

    pub fn output(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.out", SHORTS[i])))
            .unwrap_or_default()
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.cfgs[i].log_file).unwrap_or_default()
    }

    /// Runs both helpers to the end; returns their exit codes (0 for one
    /// that brought the stack up and stayed: see [`Pair::finish`]).
    pub fn run_both(&self) -> [i32; 2] {
        let a = self.spawn(0, &[]);
        let b = self.spawn(1, &[]);
        [self.finish(0, a), self.finish(1, b)]
    }

    /// Waits for node `i`'s helper `child`: its exit code when it exits;
    /// 0 when it logged that the cluster stack is up on its node (it then
    /// stays, answering its peer, until stopped): it is stopped with
    /// SIGTERM, as the init script's `stop` does, and its exit checked.
    /// Fails the test after [`RUN_TIMEOUT`].
    pub fn finish(&self, i: usize, mut child: Child) -> i32 {
        let marker = format!(
            "[{}]: {}",
            child.id(),
            clusterkick::firstboot::runner::STACK_UP
        );
        let start = Instant::now();
        loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                return code(st);
            }
            if self.log(i).contains(&marker) {
                terminate(&mut child);
                return 0;
            }
            if start.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{}'s helper neither finished nor brought the stack up within {RUN_TIMEOUT:?}\n{}",
                    SHORTS[i],
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `text` independent of this pair's temp dir and ports (for golden
    /// files): the dir as `<dir>`, each peer address as `<ip>:<port>`.
    pub fn masked(&self, text: &str) -> String {
        let mut text = text.replace(&self.dir.path().display().to_string(), "<dir>");
        for c in &self.cfgs {
            if let Some((ip, _)) = c.peer_addr.rsplit_once(':') {
                text = text.replace(&c.peer_addr, &format!("{ip}:<port>"));
            }
        }
        text
    }

    /// Both helpers' combined logs, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "=== an-node01 log\n{}\n=== an-node01 output\n{}\n=== an-node02 log\n{}\n=== an-node02 output\n{}",
            self.log(0),
            self.output(0),
            self.log(1),
            self.output(1)
        )
    }
}

pub fn code(s: ExitStatus) -> i32 {
    s.code().unwrap_or(-1)
}

/// SIGTERM (what `service clusterkick-firstboot stop` sends), then waits:
/// the helper must die of it, at once.
pub fn terminate(child: &mut Child) {
    use std::os::unix::process::ExitStatusExt;
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let start = Instant::now();
    let st = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the helper outlived SIGTERM by 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        st.signal(),
        Some(15),
        "the helper did not die of SIGTERM: {st:?}"
    );
}

/// Waits for a child, killing it (and failing the test) after `timeout`.
pub fn wait(mut child: Child, timeout: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("clusterkick-firstboot did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A node's commands without the polling reads.
pub fn non_poll_commands(w: &World, short: &str) -> Vec<String> {
    w.commands(short, "")
        .into_iter()
        .filter(|l| !POLLS.contains(&l.as_str()))
        .collect()
}

pub fn destructive_lines(w: &World, short: &str) -> Vec<String> {
    w.commands(short, "change")
        .into_iter()
        .filter(|l| DESTRUCTIVE.iter().any(|d| l.starts_with(d)))
        .collect()
}

/// The node ran nothing but the read-only check of xend's start position
/// (which every start makes before meeting the peer).
pub fn assert_only_the_xend_check(pair: &Pair, short: &str) {
    let cmds = pair.world().commands(short, "");
    assert!(
        !cmds.is_empty()
            && cmds
                .iter()
                .all(|l| l == "read /etc/rc.d/init.d/xend" || l.starts_with("list /etc/rc.d/rc")),
        "{short} ran more than the xend check: {cmds:#?}"
    );
}

/// Position of the first line starting with `prefix`.
pub fn pos(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no command starting with {prefix:?} in {lines:#?}"))
}

/// Global sequence number of a node's first command starting with `prefix`.
pub fn seq_of(w: &World, short: &str, prefix: &str) -> u64 {
    w.node(short)
        .log
        .iter()
        .find(|e| e.line.starts_with(prefix))
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("{short} never ran {prefix:?}"))
}

/// Asserts both nodes ended set up: Primary/Primary UpToDate, VG and LVs,
/// GFS2 mounted; the cluster's services off in the runlevels but started
/// through their init scripts (they hold their subsys locks, so rc stops
/// them at shutdown, in order), DRBD through ours, never the package's;
/// the helper on at boot; state done.
pub fn assert_finished(pair: &Pair) {
    let w = pair.world();
    for (i, short) in SHORTS.iter().enumerate() {
        let n = w.node(short);
        assert_eq!(n.drbd.role, "Primary", "{short} role\n{}", pair.dump());
        assert_eq!(n.drbd.net, "Connected", "{short} net");
        assert_eq!(n.drbd.disk, "UpToDate", "{short} disk (resync over)");
        let vg = n.data.vg.as_ref().expect("clustered VG");
        assert!(vg.clustered);
        let names: Vec<&str> = vg.lvs.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, vec!["iso_store", "vm01"]);
        assert!(vg.lvs[0]
            .gfs2
            .as_ref()
            .is_some_and(|s| s.table == "an-cluster:iso_store" && s.journals == 2));
        assert!(
            n.mounts.iter().any(|m| m.dir == "/shared/iso_store"),
            "{short} mounted"
        );
        assert!(n.files["/etc/fstab"]
            .contains("/dev/drbd_vg0/iso_store\t/shared/iso_store\tgfs2\tdefaults,noatime\t0 0"));
        for svc in ["cman", "clvmd", "drbd", "clusterkick-drbd", "gfs2"] {
            for level in 2..=5 {
                assert!(
                    !n.is_on(svc, level),
                    "{short}: {svc} on in runlevel {level}"
                );
            }
        }
        assert!(
            n.is_on("clusterkick-firstboot", 3),
            "{short}: helper off at boot"
        );
        let cluster = |name: &str| CLUSTER_SERVICES.contains(&name);
        let locks: Vec<&str> = n
            .subsys
            .iter()
            .map(String::as_str)
            .filter(|s| cluster(s))
            .collect();
        assert_eq!(
            locks,
            ["clusterkick-drbd", "clvmd", "cman", "gfs2"],
            "{short}: subsys locks"
        );
        let stops: Vec<String> = w
            .shutdown_order(short)
            .into_iter()
            .filter(|l| cluster(&l[3..]))
            .collect();
        assert_eq!(
            stops,
            ["K74gfs2", "K76clvmd", "K78clusterkick-drbd", "K79cman"],
            "{short}: what rc stops at shutdown, in order"
        );
        assert!(
            !w.commands(short, "")
                .iter()
                .any(|l| l.starts_with("/etc/init.d/drbd ")),
            "{short} ran the package's drbd init script"
        );
        let state = std::fs::read_to_string(&pair.cfgs[i].state_file).expect("state file");
        assert!(
            state.contains("done = true"),
            "{short} state done:\n{state}"
        );
        // Check files cleaned up.
        assert!(
            vg.lvs[0].files.is_empty(),
            "check files removed: {:?}",
            vg.lvs[0].files
        );
    }
}
