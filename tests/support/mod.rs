//! The one test-support module of the integration tests (`mod support;
//! use support::*;` in each). This file: the repository, the binaries, a
//! scratch copy of the example profile, required external tools, tarballs,
//! the %post against stock EL5 files, an HTTP server. Beside it:
//! - [`golden`]: the one golden-file rule (`UPDATE_GOLDEN=1` rewrites,
//!   anything else compares);
//! - [`net`]: a free port, waiting for a listener;
//! - [`exit`]: the helper's exit codes, the documented contract, listed once;
//! - [`example`]: the example profile's first-boot configs, made from it by
//!   `clusterkick render` (never retyped);
//! - `firstboot` (feature `sim`): two helpers run against the simulator;
//! - `pcmk` (feature `sim`): the pacemaker family against its simulator;
//! - [`node_assassin`]: a simulated Node Assassin for the fence_na tests.
#![allow(dead_code, unused_imports)]

pub mod example;
pub mod exit;
#[cfg(feature = "sim")]
pub mod firstboot;
pub mod golden;
pub mod net;
pub mod node_assassin;
#[cfg(feature = "sim")]
pub mod pcmk;

pub use example::*;
#[cfg(feature = "sim")]
pub use firstboot::*;
pub use golden::golden;
pub use net::{free_port, wait_for_port};
#[cfg(feature = "sim")]
pub use pcmk::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `clusterkick`, built for this host.
pub const CLUSTERKICK: &str = env!("CARGO_BIN_EXE_clusterkick");
/// `clusterkick-firstboot` as it is built for this host: the helper's code
/// as it ships (no simulator), for what needs no node (plan, bad configs).
pub const HELPER: &str = env!("CARGO_BIN_EXE_clusterkick-firstboot");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fixtures copied into the repository, each with its source in
/// tests/fixtures/INDEX: a clone of the project alone runs every test.
pub fn fixtures() -> PathBuf {
    repo().join("tests").join("fixtures")
}

/// A scratch folder holding a copy of profiles/ (example profile and its
/// committed example secrets) and a stand-in helper binary.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&repo().join("profiles"), &dir.path().join("profiles"));
        // A static ELF that passes build's platform check; its bytes are
        // fixed, so goldens do not move when the real helper is rebuilt.
        std::fs::write(
            dir.path().join("helper"),
            clusterkick::helper_blob::minimal_static_elf(b"clusterkick test helper"),
        )
        .expect("write helper");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn profile(&self) -> PathBuf {
        self.path().join("profiles/an-cluster.toml")
    }

    pub fn helper(&self) -> PathBuf {
        self.path().join("helper")
    }

    /// Writes a variant of the example profile and returns its path.
    pub fn variant(&self, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
        let text = std::fs::read_to_string(self.profile()).expect("read profile");
        let p = self.path().join("profiles").join(format!("{name}.toml"));
        std::fs::write(&p, edit(text)).expect("write variant");
        // Reuse the example's secrets for the variant.
        let secrets = self.path().join("profiles").join(format!("{name}.secrets"));
        if !secrets.exists() {
            copy_dir(&self.path().join("profiles/an-cluster.secrets"), &secrets);
        }
        p
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(CLUSTERKICK)
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run clusterkick")
    }

    /// Builds `profile` into <ws>/out and returns out/an-cluster.
    pub fn build(&self, profile: &Path) -> PathBuf {
        self.build_cluster(profile, "an-cluster")
    }

    /// Builds `profile` (whose cluster is `cluster`) into <ws>/out and
    /// returns out/<cluster>.
    pub fn build_cluster(&self, profile: &Path, cluster: &str) -> PathBuf {
        let out = self.path().join("out");
        let o = Command::new(CLUSTERKICK)
            .arg("build")
            .arg(profile)
            .arg("--out")
            .arg(&out)
            .arg("--helper")
            .arg(self.helper())
            .output()
            .expect("run clusterkick build");
        assert!(
            o.status.success(),
            "build failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out.join(cluster)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from).sort_by_file_name() {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            // 0755 whatever the umask: under umask 002 a group-writable
            // secrets folder would be refused (rightly) for its key.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// Fails (never skips) when an external tool is missing.
pub fn require(tool: &str, package: &str) -> PathBuf {
    let found = if tool.contains('/') {
        Path::new(tool).exists().then(|| PathBuf::from(tool))
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(tool))
                .chain([PathBuf::from("/opt/ksvenv/bin").join(tool)])
                .find(|p| p.is_file())
        })
    };
    found.unwrap_or_else(|| {
        panic!("required tool {tool} is missing: run scripts/test-deps.sh (it installs {package})")
    })
}

/// Extracts a .tar.gz with GNU tar into a new temp dir.
pub fn untar(tgz: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = Command::new("tar")
        .arg("-xzpf")
        .arg(tgz)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(st.success(), "GNU tar could not extract {}", tgz.display());
    dir
}

/// The %post body of a kickstart: everything after the `%post` line of the
/// one that runs in the installed system (not `--nochroot`).
pub fn post_body(ks: &str) -> String {
    let start = ks
        .match_indices("\n%post")
        .map(|(i, _)| i)
        .find(|&i| {
            let line = ks[i + 1..].lines().next().unwrap_or("");
            !line.contains("--nochroot")
        })
        .expect("kickstart has a chroot %post");
    let rest = &ks[start + 1..];
    let body_start = rest.find('\n').expect("newline") + 1;
    let body = &rest[body_start..];
    body.split("\n%").next().unwrap_or(body).to_string()
}

/// python3's http.server on a free loopback port, serving `dir`.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// python3's http.server serving `dir` on 127.0.0.1.
pub fn serve(dir: &Path) -> Server {
    let port = free_port("127.0.0.1");
    let child = Command::new(require("python3", "python3"))
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 -m http.server");
    wait_for_port("127.0.0.1", port);
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// The services whose init scripts a fixture root has (besides the
/// overlay's own), with the fixture each comes from: their packages'
/// %post ran `chkconfig --add` for each.
pub const FIXTURE_INIT_SCRIPTS: [(&str, &str); 7] = [
    ("xend", "el5/stock/xend.init"),
    ("cman", "el5/init.d/cman"),
    ("clvmd", "el5/init.d/clvmd"),
    ("gfs2", "el5/init.d/gfs2"),
    ("drbd", "el5/init.d/drbd-8.3.8"),
    ("iptables", "el5/init.d/iptables"),
    ("ip6tables", "el5/init.d/ip6tables"),
];

/// The chkconfig 1.3.30 model (tests/support/el5_chkconfig.py).
pub fn chkconfig_model() -> PathBuf {
    repo().join("tests/support/el5_chkconfig.py")
}

/// Runs the chkconfig model on the fixture root `root`.
pub fn chkconfig_in(root: &Path, args: &[&str]) -> Output {
    Command::new(require("python3", "python3"))
        .arg(chkconfig_model())
        .args(args)
        .env("ROOT", root)
        .env_remove("CHKCONFIG_LOG")
        .env_remove("CHKCONFIG_FAIL")
        .output()
        .expect("run the chkconfig model")
}

/// Stock EL5 files (tests/fixtures/el5/stock) laid out where
/// CentOS puts them, /etc/init.d symlink included; the init scripts of
/// [`FIXTURE_INIT_SCRIPTS`] with the rc links their packages' `chkconfig
/// --add` made. The hosts file is the one anaconda writes when the
/// node's name did not resolve at install time, with this node's name in
/// place of the reference's placeholder.
pub fn fixture_root(dir: &Path, node: &str) {
    let stock = fixtures().join("el5/stock");
    for (from, to) in [
        ("grub.conf", "boot/grub/grub.conf"),
        ("inittab", "etc/inittab"),
        ("xend-config.sxp", "etc/xen/xend-config.sxp"),
        ("lvm.conf", "etc/lvm/lvm.conf"),
        ("ifcfg-eth0", "etc/sysconfig/network-scripts/ifcfg-eth0"),
        ("network", "etc/sysconfig/network"),
    ] {
        let dest = dir.join(to);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(stock.join(from), &dest).expect("copy stock file");
    }
    let initd = dir.join("etc/rc.d/init.d");
    std::fs::create_dir_all(&initd).expect("mkdir init.d");
    for (name, from) in FIXTURE_INIT_SCRIPTS {
        std::fs::copy(fixtures().join(from), initd.join(name)).expect("copy init script");
        let o = chkconfig_in(dir, &["--add", name]);
        assert!(
            o.status.success(),
            "chkconfig --add {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // As on EL5: /etc/init.d is a symlink to rc.d/init.d.
    std::os::unix::fs::symlink("rc.d/init.d", dir.join("etc/init.d")).expect("symlink etc/init.d");
    let hosts = std::fs::read_to_string(stock.join("hosts")).expect("stock hosts");
    let hosts = hosts.replace(
        "node1.example.com node1",
        &format!("{node}.alteeve.com {node}"),
    );
    std::fs::write(dir.join("etc/hosts"), hosts).expect("write hosts");
    std::fs::create_dir_all(dir.join("etc/lvm/cache")).expect("mkdir");
    std::fs::write(dir.join("etc/lvm/cache/.cache"), "stale\n").expect("write cache");
}

/// `chkconfig` for a fixture root: the chkconfig 1.3.30 model, which keeps
/// the rc links under $ROOT/etc/rc.d and records its arguments in
/// $CHKCONFIG_LOG (the real one edits the rc.d links of the system it runs
/// on). Returns the folder to put first on PATH.
pub fn fake_chkconfig(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = bin.join("chkconfig");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            require("python3", "python3").display(),
            chkconfig_model().display()
        ),
    )
    .expect("write chkconfig");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// The rc links of a fixture root, one line per runlevel:
/// `rc3.d: K01foo S11xend ...` (sorted, as rc runs them).
pub fn rc_links(root: &Path) -> String {
    let mut out = String::new();
    for level in 0..=6 {
        let d = root.join(format!("etc/rc.d/rc{level}.d"));
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .map(|r| {
                r.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        out.push_str(&format!("rc{level}.d: {}\n", names.join(" ")));
    }
    out
}

/// A node's %post (taken from its built kickstart) ready to run against a
/// new fixture root of stock EL5 files, with the fake `chkconfig` on PATH.
pub struct PostRun {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub body: PathBuf,
    pub chkconfig_log: PathBuf,
    bin: PathBuf,
}

impl PostRun {
    /// `out` is a built DIR/<cluster>/.
    pub fn new(out: &Path, node: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        fixture_root(&root, node);
        let bin = fake_chkconfig(dir.path());
        let ks = std::fs::read_to_string(out.join(format!("ks/{node}.ks"))).expect("read ks");
        let body = dir.path().join("post.sh");
        std::fs::write(&body, post_body(&ks)).expect("write post body");
        let chkconfig_log = dir.path().join("chkconfig.log");
        Self {
            dir,
            root,
            body,
            chkconfig_log,
            bin,
        }
    }

    /// Runs the %post with SOURCE (where it fetches from) set to `source`.
    pub fn run(&self, source: &str) -> Output {
        self.run_env(source, &[])
    }

    /// The same, with more environment (e.g. CHKCONFIG_FAIL).
    pub fn run_env(&self, source: &str, env: &[(&str, &str)]) -> Output {
        Command::new("bash")
            .envs(env.iter().copied())
            .arg(&self.body)
            .env("ROOT", &self.root)
            .env("SOURCE", source)
            .env("CHKCONFIG_LOG", &self.chkconfig_log)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .expect("run bash")
    }
}

/// A release build for x86_64-unknown-linux-musl, as scripts/build-helper.sh
/// makes it (scripts/test.sh runs that first).
fn musl_release(name: &str) -> PathBuf {
    let p = repo()
        .join("target/x86_64-unknown-linux-musl/release")
        .join(name);
    assert!(
        p.is_file(),
        "{} is missing: scripts/test.sh builds it (scripts/build-helper.sh --sim)",
        p.display()
    );
    p
}

/// The helper exactly as it ships to the nodes: static, musl, no features.
pub fn musl_helper() -> PathBuf {
    musl_release("clusterkick-firstboot")
}

/// Its test-only twin acting on the simulator, built the same way.
pub fn musl_helper_sim() -> PathBuf {
    musl_release("clusterkick-firstboot-sim")
}
