//! Shared by the `firstboot_*` integration tests: a pair of node configs in
//! a temp dir, a simulated world for them, and helpers to run the helper's
//! test-only twin `clusterkick-firstboot-sim` (the same command line and
//! engine, acting on the world) against it: two processes, one per node, on
//! 127.0.1.71 and 127.0.1.72. Needs `--features sim` (scripts/test.sh).
//!
//! Golden files live in tests/golden/firstboot/; set `UPDATE_GOLDEN=1` to
//! rewrite them instead of comparing.
#![allow(dead_code)]

use clusterkick::firstboot::config::{
    ClvmConfig, DrbdConfig, FirstbootConfig, Gfs2Config, NodeRef, Timeouts, VolumeConfig,
};
use clusterkick::firstboot::sim::{World, WORLD_ENV};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The helper as it ships (built for this host): for what needs no node
/// (`plan`, a bad config).
pub const BIN: &str = env!("CARGO_BIN_EXE_clusterkick-firstboot");
/// The helper's twin acting on the simulated world (`--features sim`).
pub const SIM_BIN: &str = env!(
    "CARGO_BIN_EXE_clusterkick-firstboot-sim",
    "the simulator tests need the sim feature: run scripts/test.sh (cargo test --features sim)"
);
pub const SHORTS: [&str; 2] = ["an-node01", "an-node02"];
pub const ADDRS: [&str; 2] = ["127.0.1.71", "127.0.1.72"];
/// Hex key used by every test pair.
pub const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// Upper bound for one helper run in the tests.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Lines that a helper reads while polling: their number depends on timing,
/// so golden files leave them out.
pub const POLLS: &[&str] = &["read /proc/drbd", "cman_tool status", "cman_tool nodes"];

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

fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on the loopback address")
}

pub fn node_config(i: usize, dir: &Path, ports: [u16; 2]) -> FirstbootConfig {
    let j = 1 - i;
    let nd = dir.join(SHORTS[i]);
    let noderef = |k: usize| NodeRef {
        name: format!("{}.alteeve.com", SHORTS[k]),
        short: SHORTS[k].to_string(),
        id: k as u32 + 1,
    };
    FirstbootConfig {
        cluster: "an-cluster".into(),
        platform: clusterkick::firstboot::platform::PlatformId::El5Xen,
        node: noderef(i),
        peer: noderef(j),
        listen: format!("{}:{}", ADDRS[i], ports[i]),
        peer_addr: format!("{}:{}", ADDRS[j], ports[j]),
        key_file: dir.join("firstboot.key"),
        state_file: nd.join("firstboot.state"),
        log_file: nd.join("clusterkick-firstboot.log"),
        post_join_delay_secs: 60,
        drbd: DrbdConfig {
            resource: "r0".into(),
            device: "/dev/drbd0".into(),
            initial_primary: i == 0,
            backing_vg: format!("an-lvm0{}", i + 1),
            backing_lv: "lv02".into(),
            backing_size: "400G".into(),
            skip_initial_sync: false,
        },
        clvm: ClvmConfig {
            vg: "drbd_vg0".into(),
            volumes: vec![
                VolumeConfig {
                    name: "iso_store".into(),
                    size: "20G".into(),
                    gfs2: Some(Gfs2Config {
                        mountpoint: "/xen_shared".into(),
                        journals: 2,
                        lock_table: "an-cluster:iso_store".into(),
                    }),
                },
                VolumeConfig {
                    name: "vm01".into(),
                    size: "20G".into(),
                    gfs2: None,
                },
            ],
        },
        timeouts: Timeouts {
            peer_secs: 30,
            cman_secs: 30,
            drbd_connect_secs: 30,
            drbd_primary_secs: 30,
            barrier_secs: 30,
            retry_initial_ms: 10,
            retry_max_ms: 100,
        },
    }
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
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = [free_port(ADDRS[0]), free_port(ADDRS[1])];
        let mut cfgs = Vec::new();
        let mut cfg_paths = Vec::new();
        for (i, short) in SHORTS.iter().enumerate() {
            let mut cfg = node_config(i, dir.path(), ports);
            tweak(i, &mut cfg);
            let p = dir.path().join(format!("{short}.toml"));
            std::fs::write(&p, toml::to_string(&cfg).expect("config serializes"))
                .expect("write config");
            cfgs.push(cfg);
            cfg_paths.push(p);
        }
        std::fs::write(dir.path().join("firstboot.key"), format!("{KEY_HEX}\n"))
            .expect("write key");
        let world_dir = dir.path().join("world");
        World::new_pair(&cfgs[0], &cfgs[1])
            .save(&world_dir)
            .expect("save world");
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
        let mut c = Command::new(SIM_BIN);
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

    /// Runs both helpers to the end; returns their exit codes.
    pub fn run_both(&self) -> [i32; 2] {
        let a = self.spawn(0, &[]);
        let b = self.spawn(1, &[]);
        let ca = wait(a, RUN_TIMEOUT);
        let cb = wait(b, RUN_TIMEOUT);
        [code(ca), code(cb)]
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

pub fn golden_dir() -> PathBuf {
    let f = Path::new(file!());
    let base = if f.is_absolute() {
        PathBuf::new()
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    };
    let tests = base
        .join(f)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("tests dir");
    tests.join("golden").join("firstboot")
}

/// Compares `actual` with tests/golden/firstboot/<name>, or writes it when
/// UPDATE_GOLDEN=1.
pub fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).expect("golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} missing ({e}); run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if want != actual {
        let (w, a): (Vec<&str>, Vec<&str>) = (want.lines().collect(), actual.lines().collect());
        let first = (0..w.len().max(a.len()))
            .find(|i| w.get(*i) != a.get(*i))
            .unwrap_or(0);
        panic!(
            "{} differs at line {}:\n  golden: {:?}\n  actual: {:?}\nwhole actual:\n{actual}\n(UPDATE_GOLDEN=1 rewrites golden files)",
            path.display(),
            first + 1,
            w.get(first),
            a.get(first)
        );
    }
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
/// GFS2 mounted, services enabled, helper disabled, state done.
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
            n.mounts.iter().any(|m| m.dir == "/xen_shared"),
            "{short} mounted"
        );
        assert!(n.files["/etc/fstab"]
            .contains("/dev/drbd_vg0/iso_store\t/xen_shared\tgfs2\tdefaults,noatime\t0 0"));
        for svc in ["cman", "clvmd", "drbd", "gfs2"] {
            assert!(n.chkconfig[svc], "{short}: chkconfig {svc} on");
        }
        assert!(
            !n.chkconfig["clusterkick-firstboot"],
            "{short}: helper disabled"
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
