//! Shared test helpers: a scratch copy of the example profile, the real
//! binary, golden files, and required external tools.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_clusterkick");

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
        Command::new(BIN)
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run clusterkick")
    }

    /// Builds `profile` into <ws>/out and returns out/<cluster>.
    pub fn build(&self, profile: &Path) -> PathBuf {
        let out = self.path().join("out");
        let o = Command::new(BIN)
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
        out.join("an-cluster")
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from).sort_by_file_name() {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
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

/// Compares `actual` with tests/golden/<rel>; UPDATE_GOLDEN=1 rewrites it.
pub fn golden(rel: &str, actual: &[u8]) {
    let path = repo().join("tests/golden").join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {} ({e}); run UPDATE_GOLDEN=1 cargo test and review the diff",
            path.display()
        )
    });
    if expected != actual {
        let exp = String::from_utf8_lossy(&expected);
        let act = String::from_utf8_lossy(actual);
        let line = exp
            .lines()
            .zip(act.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || exp.lines().count().min(act.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{} differs from the golden file at line {line}:\n  golden: {:?}\n  actual: {:?}\nIf the change is intended: UPDATE_GOLDEN=1 cargo test, then review `git diff tests/golden`.",
            path.display(),
            exp.lines().nth(line - 1).unwrap_or(""),
            act.lines().nth(line - 1).unwrap_or("")
        );
    }
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

/// The %post body of a kickstart: everything after the `%post --log=` line
/// that runs in the installed system.
pub fn post_body(ks: &str) -> String {
    let start = ks
        .find("\n%post --log=/root/")
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

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Waits (up to 5 s) until something listens on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

pub fn serve(dir: &Path) -> Server {
    let port = free_port();
    let child = Command::new(require("python3", "python3"))
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 -m http.server");
    wait_for_port(port);
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Stock EL5 files (tests/fixtures/el5/stock) laid out where
/// CentOS puts them, /etc/init.d symlink included. The hosts file is the one anaconda writes when the
/// node's name did not resolve at install time, with this node's name in
/// place of the reference's placeholder.
pub fn fixture_root(dir: &Path, node: &str) {
    let stock = fixtures().join("el5/stock");
    for (from, to) in [
        ("grub.conf", "boot/grub/grub.conf"),
        ("inittab", "etc/inittab"),
        ("xend.init", "etc/rc.d/init.d/xend"),
        ("xend-config.sxp", "etc/xen/xend-config.sxp"),
        ("lvm.conf", "etc/lvm/lvm.conf"),
        ("ifcfg-eth0", "etc/sysconfig/network-scripts/ifcfg-eth0"),
        ("network", "etc/sysconfig/network"),
    ] {
        let dest = dir.join(to);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(stock.join(from), &dest).expect("copy stock file");
    }
    // drbd83's init script (its header: see tests/fixtures/INDEX).
    std::fs::copy(
        repo().join("tests/fixtures/el5/drbd.init"),
        dir.join("etc/rc.d/init.d/drbd"),
    )
    .expect("copy drbd init fixture");
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

/// A `chkconfig` on PATH that records its arguments in $CHKCONFIG_LOG (the
/// real one edits the rc.d links of the system it runs on, which a fixture
/// root does not have). Returns the folder to put first on PATH.
pub fn fake_chkconfig(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = bin.join("chkconfig");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"chkconfig $*\" >>\"$CHKCONFIG_LOG\"\n",
    )
    .expect("write chkconfig");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
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
        Command::new("bash")
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
