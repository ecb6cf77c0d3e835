//! The pacemaker-family examples (profiles/an-cluster-el9.toml,
//! profiles/an-cluster-debian12.toml): every generated file byte for byte
//! against reviewed golden files, the overlay's modes, and each file
//! checked by the tool that reads it on a node, or by the closest real
//! tool that runs here: crm_verify, drbdadm (DRBD 9) and drbdadm-84,
//! corosync -t, lvmconfig, systemd-analyze verify, nmcli --offline,
//! shellcheck, ksvalidator -v RHEL9, debconf-set-selections; the preseed's
//! lines and partman recipes by a parser of our own.

mod support;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const NODES: [&str; 2] = ["an-node01", "an-node02"];

/// One example: its profile, its cluster's name, its platform.
#[derive(Clone, Copy, PartialEq)]
enum Example {
    El9,
    Debian12,
}

impl Example {
    fn profile(self) -> &'static str {
        match self {
            Example::El9 => "an-cluster-el9",
            Example::Debian12 => "an-cluster-debian12",
        }
    }
    fn cluster(self) -> &'static str {
        match self {
            Example::El9 => "an-cluster-el9",
            Example::Debian12 => "an-cluster-deb12",
        }
    }
}

const BOTH: [Example; 2] = [Example::El9, Example::Debian12];

struct Built {
    _ws: Workspace,
    out: PathBuf,
    overlays: Vec<(&'static str, tempfile::TempDir)>,
}

impl Built {
    fn overlay(&self, node: &str) -> &Path {
        self.overlays
            .iter()
            .find(|(n, _)| *n == node)
            .map(|(_, d)| d.path())
            .expect("node")
    }
}

fn built(ex: Example) -> Built {
    let ws = Workspace::new();
    let profile = ws.path().join(format!("profiles/{}.toml", ex.profile()));
    let out = ws.build_cluster(&profile, ex.cluster());
    let overlays = NODES
        .iter()
        .map(|n| (*n, untar(&out.join(format!("overlay/{n}.tar.gz")))))
        .collect();
    Built {
        _ws: ws,
        out,
        overlays,
    }
}

/// Runs `cmd`; it must exit 0. Returns stdout and stderr together.
fn ok(cmd: &mut Command, what: &str) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "{what} rejected it (exit {:?}):\n{text}",
        o.status.code()
    );
    text
}

/// Every regular file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .expect("prefix")
                .display()
                .to_string()
        })
        .collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn test_pcmk_builds_match_golden_files() {
    for ex in BOTH {
        let b = built(ex);
        let c = ex.cluster();
        for f in files(&b.out.join("ks")) {
            golden(
                &format!("{c}/ks/{f}"),
                &std::fs::read(b.out.join("ks").join(&f)).unwrap(),
            );
        }
        for (node, x) in &b.overlays {
            let all = files(x.path());
            assert!(
                all.len() >= 15,
                "{c} {node}: only {} overlay files",
                all.len()
            );
            for f in all {
                golden(
                    &format!("{c}/overlay/{node}/{f}"),
                    &std::fs::read(x.path().join(&f)).unwrap(),
                );
            }
        }
        for f in [
            "SUMMARY.md",
            "network-map.svg",
            "nginx-clusterkick.conf",
            "tftpboot/pxelinux.cfg/default",
            "tftpboot/pxelinux.cfg/01-00-0e-0c-59-45-78",
            "tftpboot/pxelinux.cfg/01-00-0e-0c-59-45-79",
        ] {
            golden(&format!("{c}/{f}"), &std::fs::read(b.out.join(f)).unwrap());
        }
    }
}

#[test]
fn test_pcmk_overlay_modes_are_the_contract() {
    // The contract's modes (brief-p11-contract): secrets root-only, the
    // authkey read-only, everything else world-readable.
    for ex in BOTH {
        let b = built(ex);
        for node in NODES {
            let list = ok(
                Command::new("tar")
                    .arg("-tvzf")
                    .arg(b.out.join(format!("overlay/{node}.tar.gz"))),
                "tar -tv",
            );
            let modes: BTreeMap<String, String> = list
                .lines()
                .map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    assert_eq!(w[1], "root/root", "{l}");
                    (w[5].to_string(), w[0].to_string())
                })
                .collect();
            let mut want = vec![
                ("etc/corosync/corosync.conf", "-rw-r--r--"),
                ("etc/corosync/authkey", "-r--------"),
                ("etc/drbd.d/global_common.conf", "-rw-r--r--"),
                // It holds the peers' shared secret.
                ("etc/drbd.d/r0.res", "-rw-------"),
                ("etc/lvm/lvmlocal.conf", "-rw-r--r--"),
                ("etc/dlm/dlm.conf", "-rw-r--r--"),
                (
                    "etc/systemd/system/resource-agents-deps.target.d/99-clusterkick.conf",
                    "-rw-r--r--",
                ),
                ("etc/clusterkick/cib.xml", "-rw-------"),
                ("etc/clusterkick/fence/ipmi_n01.passwd", "-rw-------"),
                ("etc/clusterkick/fence/ipmi_n02.passwd", "-rw-------"),
                ("etc/clusterkick/firstboot.toml", "-rw-------"),
                ("etc/clusterkick/firstboot.key", "-rw-------"),
                (
                    "etc/systemd/system/clusterkick-firstboot.service",
                    "-rw-r--r--",
                ),
            ];
            match ex {
                Example::El9 => {
                    for nic in ["bcn0", "ifn0", "sn0"] {
                        want.push((
                            match nic {
                                "bcn0" => "etc/NetworkManager/system-connections/clusterkick-bcn0.nmconnection",
                                "ifn0" => "etc/NetworkManager/system-connections/clusterkick-ifn0.nmconnection",
                                _ => "etc/NetworkManager/system-connections/clusterkick-sn0.nmconnection",
                            },
                            "-rw-------",
                        ));
                    }
                    assert!(!modes.contains_key("etc/modules-load.d/drbd.conf"));
                    assert!(!modes.contains_key("etc/network/interfaces"));
                }
                Example::Debian12 => {
                    want.push(("etc/modules-load.d/drbd.conf", "-rw-r--r--"));
                    want.push(("etc/network/interfaces", "-rw-r--r--"));
                    assert!(!modes.keys().any(|k| k.contains("NetworkManager")));
                }
            }
            for (path, mode) in want {
                assert_eq!(
                    modes.get(path).map(String::as_str),
                    Some(mode),
                    "{} {node}: {path}",
                    ex.cluster()
                );
            }
            // No secret in a world-readable file.
            for (path, mode) in &modes {
                if mode.ends_with("r--") {
                    let text = std::fs::read(b.overlay(node).join(path)).unwrap();
                    let text = String::from_utf8_lossy(&text);
                    assert!(!text.contains("changeme"), "{path} holds a password");
                }
            }
        }
    }
}

#[test]
fn test_pcmk_firstboot_toml_is_what_the_helper_accepts() {
    use clusterkick::firstboot::config::{DrbdGeneration, FirstbootConfig};
    for ex in BOTH {
        let b = built(ex);
        for node in NODES {
            let text = read(&b.overlay(node).join("etc/clusterkick/firstboot.toml"));
            let cfg = FirstbootConfig::parse(&text).expect("parses");
            cfg.check().expect("the helper's own check accepts it");
            let p = cfg.pacemaker.as_ref().expect("[pacemaker]");
            assert_eq!(
                p.drbd_generation,
                match ex {
                    Example::El9 => DrbdGeneration::V9,
                    Example::Debian12 => DrbdGeneration::V84,
                }
            );
            // Every id the helper is told about is a resource of the CIB
            // the same overlay ships.
            let cib = read(&b.overlay(node).join("etc/clusterkick/cib.xml"));
            for id in [&p.drbd_clone, &p.locking_clone]
                .into_iter()
                .chain(p.start_after_storage.iter())
            {
                assert!(cib.contains(&format!("<clone id=\"{id}\">")), "{id}");
            }
            assert_eq!(
                p.cib_file,
                Path::new("/etc/clusterkick/cib.xml"),
                "{}",
                ex.cluster()
            );
        }
    }
}

/// The CIB as pacemaker holds it once both nodes are members: quorum and a
/// node_state per node (without them crm_verify warns about the lack of
/// quorum and exits 78; docs/evidence/pacemaker-platforms.md §3).
fn cib_with_members(cib: &str) -> String {
    let nodes = "<node id=\"1\" uname=\"an-node01.alteeve.com\"/><node id=\"2\" uname=\"an-node02.alteeve.com\"/>";
    let states: String = [(1, "an-node01"), (2, "an-node02")]
        .iter()
        .map(|(id, n)| format!("<node_state id=\"{id}\" uname=\"{n}.alteeve.com\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>"))
        .collect();
    assert!(cib.contains("<cib ") && cib.contains("<nodes/>") && cib.contains("<status/>"));
    cib.replacen("<cib ", "<cib have-quorum=\"1\" ", 1)
        .replacen("<nodes/>", &format!("<nodes>{nodes}</nodes>"), 1)
        .replacen("<status/>", &format!("<status>{states}</status>"), 1)
}

#[test]
fn test_pcmk_cib_passes_crm_verify() {
    let crm_verify = require("crm_verify", "pacemaker-cli-utils");
    let t = tempfile::tempdir().unwrap();
    for ex in BOTH {
        let b = built(ex);
        let cibs: Vec<String> = NODES
            .iter()
            .map(|n| read(&b.overlay(n).join("etc/clusterkick/cib.xml")))
            .collect();
        assert_eq!(cibs[0], cibs[1], "both nodes must get the same CIB");
        // As written: pacemaker's schema and its checks, no warning.
        let text = ok(
            Command::new(&crm_verify)
                .arg("-V")
                .arg("--xml-file")
                .arg(b.overlay("an-node01").join("etc/clusterkick/cib.xml")),
            "crm_verify --xml-file",
        );
        assert!(text.is_empty(), "{}: {text}", ex.cluster());
        // As it runs, with both nodes members: still nothing to say.
        let live = t.path().join(format!("{}-live.xml", ex.cluster()));
        std::fs::write(&live, cib_with_members(&cibs[0])).unwrap();
        let text = ok(
            Command::new(&crm_verify)
                .arg("-V")
                .arg("--xml-file")
                .arg(&live),
            "crm_verify --xml-file (both nodes members)",
        );
        assert!(text.is_empty(), "{}: {text}", ex.cluster());
        // The harness is not lenient: the same copy with an element the
        // schema does not know is refused.
        let bad = t.path().join("bad.xml");
        std::fs::write(
            &bad,
            cib_with_members(&cibs[0]).replacen("<op_defaults>", "<op_defaults><bogus/>", 1),
        )
        .unwrap();
        let o = Command::new(&crm_verify)
            .arg("--xml-file")
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!o.status.success(), "crm_verify accepted a broken CIB");
        // The survivor's device waits; the other fences at once.
        assert!(cibs[0].contains("name=\"pcmk_delay_base\" value=\"15s\""));
        assert_eq!(cibs[0].matches("name=\"pcmk_delay_base\"").count(), 1);
        assert!(!cibs[0].contains("changeme"), "a password in the CIB");
    }
}

#[test]
fn test_pcmk_drbd_files_parse_with_their_generations_drbdadm() {
    // /etc/drbd.conf as drbd-utils ships it includes drbd.d/global_common.conf
    // and drbd.d/*.res: the same here, on the overlay's files.
    for ex in BOTH {
        let (tool, package) = match ex {
            Example::El9 => ("drbdadm", "drbd-utils"),
            Example::Debian12 => ("/lib/drbd/drbdadm-84", "drbd-utils"),
        };
        let drbdadm = require(tool, package);
        let b = built(ex);
        for (i, node) in NODES.iter().enumerate() {
            let x = b.overlay(node);
            let conf = x.join("drbd.conf");
            std::fs::write(
                &conf,
                format!(
                    "include \"{d}/global_common.conf\";\ninclude \"{d}/*.res\";\n",
                    d = x.join("etc/drbd.d").display()
                ),
            )
            .unwrap();
            let run = |args: &[&str], what: &str| {
                let o = Command::new(&drbdadm)
                    .arg("-d")
                    .arg("-c")
                    .arg(&conf)
                    .args(args)
                    .env("__DRBD_NODE__", format!("{node}.alteeve.com"))
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&o.stdout).to_string();
                assert!(
                    o.status.success(),
                    "{} {node}: {tool} {what} (exit {:?}):\n{stdout}{}",
                    ex.cluster(),
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                );
                stdout
            };
            let dump = run(&["dump", "all"], "dump all");
            assert!(dump.contains("resource r0"), "{dump}");
            // The exact drbdsetup calls this node would make.
            let up = run(&["up", "r0"], "up r0");
            let n = i + 1;
            let me = format!("ipv4:10.0.0.7{n}:7789");
            let disk = format!("/dev/an-lvm0{n}/lv02");
            for must in [
                me.as_str(),
                disk.as_str(),
                "--fencing=resource-and-stonith",
                "--allow-two-primaries=yes",
                "--after-sb-0pri=discard-zero-changes",
                "--after-sb-1pri=discard-secondary",
                "--after-sb-2pri=disconnect",
                "--protocol=C",
                "--resync-rate=33M",
            ] {
                assert!(
                    up.contains(must),
                    "{} {node}: no {must} in\n{up}",
                    ex.cluster()
                );
            }
            let handlers = run(&["dump", "r0"], "dump r0");
            assert!(handlers.contains("crm-fence-peer.9.sh"), "{handlers}");
            match ex {
                Example::El9 => {
                    assert!(up.contains("drbdmeta 0 v09"), "{up}");
                    assert!(handlers.contains("unfence-peer"), "{handlers}");
                }
                Example::Debian12 => {
                    assert!(up.contains("drbdsetup-84"), "{up}");
                    assert!(up.contains("drbdmeta 0 v08"), "{up}");
                    assert!(handlers.contains("after-resync-target"), "{handlers}");
                }
            }
        }
    }
}

#[test]
fn test_pcmk_corosync_conf_passes_corosync_t() {
    let corosync = require("corosync", "corosync");
    for ex in BOTH {
        let b = built(ex);
        let confs: Vec<String> = NODES
            .iter()
            .map(|n| read(&b.overlay(n).join("etc/corosync/corosync.conf")))
            .collect();
        assert_eq!(
            confs[0], confs[1],
            "both nodes must get the same corosync.conf"
        );
        for (i, node) in NODES.iter().enumerate() {
            let x = b.overlay(node);
            // corosync -t must find itself in the nodelist, and reads the
            // key: a copy with this node's address on loopback and the
            // overlay's authkey where the real one would be.
            let addr = format!("ring0_addr: 10.0.1.7{}\n", i + 1);
            assert!(confs[i].contains(&addr));
            let copy = confs[i]
                .replacen(&addr, "ring0_addr: 127.0.0.1\n", 1)
                .replacen(
                    "\tcrypto_hash: sha256\n",
                    &format!(
                        "\tcrypto_hash: sha256\n\tkeyfile: {}\n",
                        x.join("etc/corosync/authkey").display()
                    ),
                    1,
                );
            let path = x.join("corosync-check.conf");
            std::fs::write(&path, copy).unwrap();
            ok(
                Command::new(&corosync).arg("-c").arg(&path).arg("-t"),
                "corosync -t",
            );
            // The key: corosync-keygen's size (256 bytes).
            let key = std::fs::read(x.join("etc/corosync/authkey")).unwrap();
            assert_eq!(key.len(), 256);
        }
        for must in [
            "transport: knet",
            "two_node: 1",
            "token: 3000",
            "crypto_cipher: aes256",
        ] {
            assert!(confs[0].contains(must), "{must}");
        }
        assert!(!confs[0].contains("wait_for_all: 0"));
        assert!(!confs[0].contains("ring1_addr"), "dlm: one link");
    }
}

#[test]
fn test_pcmk_lvmlocal_conf_passes_lvmconfig_validate() {
    let lvmconfig = require("lvmconfig", "lvm2");
    for ex in BOTH {
        let b = built(ex);
        for node in NODES {
            // lvm.conf as both distributions ship it sets nothing that
            // matters here (every setting commented out): an empty one, and
            // the overlay's lvmlocal.conf beside it, read after it.
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("lvm.conf"), "").unwrap();
            std::fs::copy(
                b.overlay(node).join("etc/lvm/lvmlocal.conf"),
                dir.path().join("lvmlocal.conf"),
            )
            .unwrap();
            let lvm = |args: &[&str]| {
                ok(
                    Command::new(&lvmconfig)
                        .args(args)
                        .env("LVM_SYSTEM_DIR", dir.path())
                        .env("LVM_SUPPRESS_FD_WARNINGS", "1"),
                    "lvmconfig",
                )
            };
            let v = lvm(&["--validate"]);
            assert!(v.contains("LVM configuration valid"), "{v}");
            let got = lvm(&[
                "global/use_lvmlockd",
                "devices/use_devicesfile",
                "devices/global_filter",
            ]);
            assert_eq!(
                got,
                "use_lvmlockd=1\nuse_devicesfile=0\nglobal_filter=[\"a|^/dev/drbd[0-9]+$|\",\"a|^/dev/md[0-9]+$|\",\"a|^/dev/md/[^/]+$|\",\"r|.*|\"]\n",
                "{} {node}",
                ex.cluster()
            );
        }
    }
}

#[test]
fn test_pcmk_units_pass_systemd_analyze_verify() {
    let analyze = require("systemd-analyze", "systemd");
    // The units the nodes' systemd would load them with: the host's (Debian
    // 12: systemd 252 with resource-agents, as on the debian12 nodes) under
    // a root that holds the overlay and the helper where the %post puts it.
    let units = Path::new("/usr/lib/systemd/system");
    require(
        "/usr/lib/systemd/system/resource-agents-deps.target",
        "resource-agents",
    );
    for ex in BOTH {
        let b = built(ex);
        let root = b.overlay("an-node01");
        let dest = root.join("usr/lib/systemd/system");
        std::fs::create_dir_all(&dest).unwrap();
        for e in std::fs::read_dir(units).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dest.join(e.file_name())).unwrap();
            }
        }
        let helper = root.join("usr/sbin/clusterkick-firstboot");
        std::fs::create_dir_all(helper.parent().unwrap()).unwrap();
        std::fs::copy(b._ws.helper(), &helper).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        for unit in [
            "/etc/systemd/system/clusterkick-firstboot.service",
            // With the overlay's drop-in (99-clusterkick.conf) applied.
            "resource-agents-deps.target",
        ] {
            // systemd-analyze verify exits 0 on unknown keys and bad values:
            // any output at all is a failure.
            let text = ok(
                Command::new(&analyze)
                    .arg("verify")
                    .arg(format!("--root={}", root.display()))
                    .arg(unit),
                "systemd-analyze verify",
            );
            assert!(text.is_empty(), "{} {unit}:\n{text}", ex.cluster());
        }
        let unit = read(&root.join("etc/systemd/system/clusterkick-firstboot.service"));
        assert!(unit.contains("After=network-online.target"));
        // A helper that may succeed on a second try is started again; one
        // that refused never is: the no-restart list is exactly the
        // documented refusals and usage errors.
        assert!(unit.contains("\nRestart=on-failure\n"), "{unit}");
        let prevent: Vec<i32> = unit
            .lines()
            .find_map(|l| l.strip_prefix("RestartPreventExitStatus="))
            .expect("RestartPreventExitStatus")
            .split_whitespace()
            .map(|c| c.parse().expect("an exit code"))
            .collect();
        assert_eq!(
            prevent,
            [
                exit::USAGE,
                exit::CONFIG,
                exit::LOCKED,
                exit::REFUSED,
                exit::SURVIVOR_NOT_READY
            ]
        );
        let dropin = read(
            &root.join("etc/systemd/system/resource-agents-deps.target.d/99-clusterkick.conf"),
        );
        assert!(dropin.contains("After=remote-fs.target"), "{dropin}");
    }
}

/// A keyfile as sections of key=value, comments and blank lines left out.
fn keyfile(text: &str) -> BTreeMap<(String, String), String> {
    let mut section = String::new();
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        map.insert((section.clone(), k.to_string()), v.to_string());
    }
    map
}

#[test]
fn test_pcmk_el9_keyfiles_pass_nmcli_offline() {
    // NetworkManager's own keyfile reader and writer, with no daemon:
    // nmcli --offline reads the file, checks every setting (a bad value is
    // refused), and writes what it understood. A key it does not know is
    // dropped silently: every key we wrote must come back with its value.
    let nmcli = require("nmcli", "network-manager");
    let b = built(Example::El9);
    for node in NODES {
        let dir = b
            .overlay(node)
            .join("etc/NetworkManager/system-connections");
        let names = files(&dir);
        assert_eq!(names.len(), 6, "{names:?}");
        for name in names {
            let text = read(&dir.join(&name));
            let o = Command::new(&nmcli)
                .args([
                    "--offline",
                    "connection",
                    "modify",
                    "connection.id",
                    "checked",
                ])
                .stdin(std::fs::File::open(dir.join(&name)).unwrap())
                .output()
                .unwrap();
            let back = String::from_utf8_lossy(&o.stdout).to_string();
            assert!(
                o.status.success() && o.stderr.is_empty(),
                "{node} {name}: nmcli --offline refused it:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let ours = keyfile(&text);
            let theirs = keyfile(&back);
            for ((section, key), value) in &ours {
                let k = (section.clone(), key.clone());
                match (section.as_str(), key.as_str()) {
                    ("connection", "id") => assert_eq!(theirs.get(&k).unwrap(), "checked"),
                    // The default: nmcli leaves it out.
                    ("connection", "autoconnect") => assert_eq!(value, "true"),
                    // nmcli writes the gateway into address1 (",gateway").
                    ("ipv4", "gateway") => {
                        let a = theirs
                            .get(&("ipv4".into(), "address1".into()))
                            .expect("address1");
                        assert!(a.ends_with(&format!(",{value}")), "{name}: {a}");
                    }
                    ("ipv4", "address1") => {
                        let a = theirs.get(&k).expect("address1");
                        assert!(a.starts_with(value.as_str()), "{name}: {a}");
                    }
                    _ => assert_eq!(
                        theirs.get(&k),
                        Some(value),
                        "{node} {name}: [{section}] {key} did not survive nmcli:\n{back}"
                    ),
                }
            }
        }
    }
}

fn shellcheck(path: &Path, shell: &str, exclude: &[&str]) {
    let sc = require("shellcheck", "shellcheck");
    let mut cmd = Command::new(&sc);
    cmd.args(["-s", shell, "-S", "style"]);
    for code in exclude {
        cmd.args(["-e", code]);
    }
    ok(
        cmd.arg(path),
        &format!("shellcheck -s {shell} {}", path.display()),
    );
    ok(
        Command::new(shell).arg("-n").arg(path),
        &format!("{shell} -n"),
    );
}

/// The body of a kickstart's `%post` section (after its header line, up to
/// `%end`).
fn ks_post(ks: &str) -> String {
    let start = ks.find("\n%post ").expect("a %post section");
    let rest = &ks[start + 1..];
    let body = &rest[rest.find('\n').expect("newline") + 1..];
    body.split("\n%end").next().expect("%end").to_string()
}

#[test]
fn test_pcmk_scripts_pass_shellcheck() {
    let t = tempfile::tempdir().unwrap();
    let b = built(Example::El9);
    for node in NODES {
        let ks = read(&b.out.join(format!("ks/{node}.ks")));
        let post = t.path().join(format!("el9-{node}-post.sh"));
        std::fs::write(&post, ks_post(&ks)).unwrap();
        shellcheck(&post, "bash", &[]);
    }
    let b = built(Example::Debian12);
    for node in NODES {
        shellcheck(&b.out.join(format!("ks/{node}.post.sh")), "bash", &[]);
        // The late_command: d-i runs it with its own sh, and in-target runs
        // the quoted script with the installed system's sh.
        let preseed = read(&b.out.join(format!("ks/{node}.preseed")));
        let line = preseed
            .lines()
            .find(|l| l.starts_with("d-i preseed/late_command string "))
            .expect("late_command");
        let cmd = &line["d-i preseed/late_command string ".len()..];
        let outer = t.path().join(format!("deb-{node}-late.sh"));
        std::fs::write(&outer, format!("{cmd}\n")).unwrap();
        // SC2016: the single quotes are meant, the quoted script expands
        // its own variables; it is checked on its own just below.
        shellcheck(&outer, "sh", &["SC2016"]);
        let inner = cmd
            .strip_prefix("in-target sh -c '")
            .and_then(|s| s.strip_suffix('\''))
            .expect("in-target sh -c '...'");
        assert!(!inner.contains('\''), "{inner}");
        let inner_path = t.path().join(format!("deb-{node}-late-inner.sh"));
        std::fs::write(&inner_path, format!("{inner}\n")).unwrap();
        shellcheck(&inner_path, "sh", &[]);
        // It runs the post-install script only if it has the sha256 that
        // the same build wrote into SHA256SUMS.
        let sums = read(&b.out.join("SHA256SUMS"));
        let sum = sums
            .lines()
            .find(|l| l.ends_with(&format!("  ks/{node}.post.sh")))
            .expect("post.sh in SHA256SUMS");
        assert!(inner.contains(&sum[..64]), "{inner}");
    }
}

#[test]
fn test_pcmk_el9_kickstarts_pass_ksvalidator_rhel9() {
    let ksv = require("ksvalidator", "pykickstart (pip, in /opt/ksvenv)");
    let b = built(Example::El9);
    for node in NODES {
        let ks = b.out.join(format!("ks/{node}.ks"));
        let text = ok(
            Command::new(&ksv).args(["-v", "RHEL9"]).arg(&ks),
            "ksvalidator -v RHEL9",
        );
        // It names the file it checks, and nothing else when all is well.
        let said: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("Checking kickstart file "))
            .collect();
        assert!(said.is_empty(), "{node}: {text}");
        // The overlay and the helper are pinned in the %post.
        let ks = read(&ks);
        let sums = read(&b.out.join("SHA256SUMS"));
        let sum = sums
            .lines()
            .find(|l| l.ends_with(&format!("  overlay/{node}.tar.gz")))
            .expect("overlay in SHA256SUMS");
        assert!(
            ks.contains(&format!("OVERLAY_SHA256={}", &sum[..64])),
            "{node}: overlay not pinned"
        );
    }
}

/// d-i's types for the questions the preseed sets (tests/fixtures/INDEX).
fn question_types() -> BTreeMap<String, (String, String)> {
    read(&fixtures().join("debian12/d-i-question-types.txt"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 3, "{l}");
            (w[1].to_string(), (w[0].to_string(), w[2].to_string()))
        })
        .collect()
}

/// Questions the preseed sets that the fixture's source does not list: their
/// lines are checked for form only (tests/fixtures/INDEX).
const UNLISTED: [&str; 5] = [
    "apt-setup/security_path",
    "grub-installer/bootdev",
    "partman-auto-lvm/guided_size",
    "partman-auto-lvm/new_vg_name",
    "partman-md/confirm_nooverwrite",
];

/// partman-auto's expert recipe: `name ::` then stanzas ending in `.`,
/// each `min priority max fs` followed by `$flag{ }` and `key{ value }`
/// specifiers. Returns the stanzas as (sizes, fs, specifiers).
type Stanza = ([i64; 3], String, BTreeMap<String, String>);

fn expert_recipe(recipe: &str) -> Vec<Stanza> {
    let (name, body) = recipe.split_once(" :: ").expect("`name ::`");
    assert!(!name.trim().is_empty() && !name.contains(' '), "{name}");
    let mut out = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        let mut words = rest.splitn(5, ' ');
        let mut sizes = [0i64; 3];
        for s in &mut sizes {
            *s = words
                .next()
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("stanza without three sizes: {rest}"));
        }
        let fs = words.next().expect("fs").to_string();
        let mut tail = words.next().unwrap_or("").trim_start();
        let mut spec = BTreeMap::new();
        loop {
            if let Some(r) = tail
                .strip_prefix(". ")
                .or(if tail == "." { Some("") } else { None })
            {
                tail = r;
                break;
            }
            let open = tail
                .find("{ ")
                .unwrap_or_else(|| panic!("no `{{ ` in {tail}"));
            let key = &tail[..open];
            assert!(
                !key.is_empty() && !key.contains(' ') && !key.contains('}'),
                "bad specifier name {key:?}"
            );
            let close = tail[open..].find('}').expect("`}`") + open;
            let value = tail[open + 2..close].trim().to_string();
            assert!(spec.insert(key.to_string(), value).is_none(), "{key} twice");
            tail = tail[close + 1..].trim_start();
        }
        assert!(sizes[0] > 0 && sizes[1] >= sizes[0], "{sizes:?}");
        assert!(sizes[2] == -1 || sizes[2] >= sizes[0], "{sizes:?}");
        out.push((sizes, fs, spec));
        rest = tail.trim();
    }
    out
}

#[test]
fn test_pcmk_debian12_preseeds_are_well_formed() {
    let dss = require("debconf-set-selections", "debconf");
    let types = question_types();
    let b = built(Example::Debian12);
    for (i, node) in NODES.iter().enumerate() {
        let path = b.out.join(format!("ks/{node}.preseed"));
        // debconf's own syntax gate (it warns on an unknown type, exit 0).
        let text = ok(
            Command::new(&dss).arg("--checkonly").arg(&path),
            "debconf-set-selections --checkonly",
        );
        assert!(text.is_empty(), "{text}");
        let preseed = read(&path);
        assert!(preseed.starts_with("#_preseed_V1\n"));
        let mut set = BTreeMap::new();
        for (n, line) in preseed.lines().enumerate() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            assert!(!line.ends_with('\\'), "line {}: continued", n + 1);
            // owner question type value (the value may be empty).
            let mut w = line.splitn(4, ' ');
            let (owner, question, ty) = (
                w.next().unwrap(),
                w.next().expect("question"),
                w.next().expect("type"),
            );
            let value = w.next().unwrap_or("");
            assert!(
                [
                    "string",
                    "boolean",
                    "select",
                    "multiselect",
                    "password",
                    "note",
                    "text"
                ]
                .contains(&ty),
                "line {}: type {ty}",
                n + 1
            );
            if ty == "boolean" {
                assert!(
                    value == "true" || value == "false",
                    "line {}: {line}",
                    n + 1
                );
            }
            match types.get(question) {
                Some((o, t)) => {
                    assert_eq!(
                        (owner, ty),
                        (o.as_str(), t.as_str()),
                        "line {}: {line}",
                        n + 1
                    )
                }
                None => assert!(
                    UNLISTED.contains(&question) && owner == "d-i",
                    "line {}: question {question} is neither in d-i's list nor known unlisted",
                    n + 1
                ),
            }
            assert!(
                set.insert(question.to_string(), value.to_string())
                    .is_none(),
                "{question} set twice"
            );
        }
        // The partman recipes: RAID 1 on both disks for /boot and the PV,
        // the node's VG with swap and root, space left for DRBD's LV.
        assert_eq!(set["partman-auto/method"], "raid");
        assert_eq!(set["partman-auto/disk"], "/dev/sda /dev/sdb");
        assert_eq!(
            set["partman-auto-lvm/new_vg_name"],
            format!("an-lvm0{}", i + 1)
        );
        let stanzas = expert_recipe(&set["partman-auto/expert_recipe"]);
        let raid_ids: Vec<&str> = stanzas
            .iter()
            .filter(|(_, fs, s)| {
                fs == "raid" && s.get("method").map(String::as_str) == Some("raid")
            })
            .map(|(_, _, s)| s.get("raidid").expect("raidid").as_str())
            .collect();
        assert_eq!(raid_ids, ["1", "2"]);
        let lvs: Vec<(&str, &str)> = stanzas
            .iter()
            .filter(|(_, _, s)| s.contains_key("$lvmok"))
            .map(|(_, fs, s)| (s["lv_name"].as_str(), fs.as_str()))
            .collect();
        assert_eq!(lvs, [("lv00", "linux-swap"), ("lv01", "ext4")]);
        for (_, _, s) in &stanzas {
            if s.get("method").map(String::as_str) == Some("format") {
                assert!(
                    s.contains_key("mountpoint") && s.contains_key("filesystem"),
                    "{s:?}"
                );
            }
        }
        // partman-auto-raid: level devices spares fs mountpoint raidid=N .
        let raid: Vec<Vec<&str>> = set["partman-auto-raid/recipe"]
            .split(" .")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.split(' ').collect())
            .collect();
        assert_eq!(raid.len(), 2, "{raid:?}");
        for (r, id) in raid.iter().zip(["1", "2"]) {
            assert_eq!(r.len(), 6, "{r:?}");
            assert_eq!((r[0], r[1], r[2]), ("1", "2", "0"), "RAID 1 on two disks");
            assert_eq!(r[5], format!("raidid={id}"));
        }
        assert_eq!((raid[0][3], raid[0][4]), ("ext4", "/boot"));
        assert_eq!((raid[1][3], raid[1][4]), ("lvm", "-"));
    }
}

/// `clusterkick check` on the example with `edit` applied: exit code and
/// diagnostics.
fn check_variant(ex: Example, edit: &str, with: &str) -> (i32, String) {
    let ws = Workspace::new();
    let dir = ws.path().join("profiles");
    let text = read(&dir.join(format!("{}.toml", ex.profile())));
    assert!(text.contains(edit), "the example no longer has {edit:?}");
    std::fs::write(
        dir.join(format!("{}.toml", ex.profile())),
        text.replacen(edit, with, 1),
    )
    .unwrap();
    let o = ws.run(&["check", &format!("profiles/{}.toml", ex.profile())]);
    (
        o.status.code().expect("exit code"),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn test_pcmk_bad_profiles_get_a_positioned_sentence() {
    let file = |ex: Example| format!("profiles/{}.toml:", ex.profile());
    // (example, text, replacement, exit code, line:col, what is said)
    let cases: [(Example, &str, &str, i32, &str, &str); 9] = [
        (
            Example::El9,
            "agent = \"fence_ipmilan\"",
            "agent = \"fence_na\"",
            1,
            "81:9: error: `fence_devices[0].agent`: el9-kvm ships no fence_na",
            "use an agent of RHEL 9's fence-agents-* packages",
        ),
        (
            Example::El9,
            "fence = [ { method = \"ipmi\", device = \"ipmi_n02\" } ]",
            "",
            1,
            "error: `nodes[1].fence`: this node has no fence method",
            "add fence = [",
        ),
        (
            Example::El9,
            ", delay = 15",
            "",
            0,
            "warning: `fence_devices`: no fence device has a delay",
            "give one node's fence entry delay = 15",
        ),
        (
            Example::Debian12,
            "device = \"ipmi_n02\" }",
            "device = \"ipmi_n02\", delay = 5 }",
            0,
            "warning: `nodes[1].fence`: both an-node01 and an-node02 are fenced with a delay",
            "give it to that node's fence entry only",
        ),
        (
            Example::El9,
            "[drbd]\n",
            "[drbd]\nversion = \"8.4\"\n",
            1,
            "error: `drbd.version`: el9-kvm has no DRBD \"8.4\"",
            "write version = \"9\" or leave the key out",
        ),
        (
            Example::Debian12,
            "[drbd]\n",
            "[drbd]\nversion = \"9\"\n",
            1,
            "error: `drbd.version`: debian12-kvm has no DRBD \"9\"",
            "write version = \"8.4\" or leave the key out",
        ),
        (
            Example::El9,
            "[cluster]",
            "[dom0]\nmemory = \"2G\"\n\n[cluster]",
            1,
            "19:2: error: `dom0` is a table of platform el5-xen",
            "remove it",
        ),
        (
            Example::Debian12,
            "links = [\"back_channel\"]",
            "links = [\"back_channel\", \"drbd\"]",
            0,
            "warning: `corosync.links[1]`: only the first link (back_channel) is used",
            "dlm (GFS2, lvmlockd) supports one corosync link",
        ),
        (
            Example::El9,
            "links = [\"back_channel\"]",
            "links = [\"internet\"]",
            0,
            "warning: `corosync.links[0]`: corosync on the Internet-facing network",
            "use back_channel",
        ),
    ];
    for (ex, edit, with, code, head, advice) in cases {
        let (got, err) = check_variant(ex, edit, with);
        assert_eq!(got, code, "{with:?}:\n{err}");
        let line = err
            .lines()
            .find(|l| l.contains(head))
            .unwrap_or_else(|| panic!("{with:?}: no {head:?} in:\n{err}"));
        assert!(line.starts_with(&file(ex)), "{line}");
        assert!(line.contains(advice), "{line}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
