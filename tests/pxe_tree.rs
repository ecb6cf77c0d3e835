//! The PXE side of a build: pxelinux.cfg/ files named as pxelinux looks
//! them up, each booting the local disk unless a node's entry is picked, and
//! an nginx snippet that lets each node fetch only its own files (read back
//! by a parser here, and enforced by a real nginx on loopback).

mod support;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

/// What the example profile says about one node's PXE boot.
struct NodeFacts {
    name: String,
    mac: String,
    ip: String,
}

/// The boot NIC (back channel, eth2) of every node, read from the profile.
fn nodes(profile: &Path) -> Vec<NodeFacts> {
    let text = std::fs::read_to_string(profile).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| NodeFacts {
            name: n["name"].as_str().unwrap().to_string(),
            mac: n["mac"]["eth2"].as_str().unwrap().to_string(),
            ip: n["ip"]["back_channel"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn overlay_url(profile: &Path) -> String {
    let text = std::fs::read_to_string(profile).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["install"]["overlay_url"].as_str().unwrap().to_string()
}

/// A pxelinux config: global keywords, and each label's keywords (upper
/// case keys; `MENU LABEL` kept as one key).
#[derive(Default, Debug)]
struct Pxelinux {
    global: BTreeMap<String, String>,
    labels: BTreeMap<String, BTreeMap<String, String>>,
}

fn parse_pxelinux(text: &str) -> Pxelinux {
    let mut p = Pxelinux::default();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let mut key = k.to_ascii_uppercase();
        let mut value = rest.trim().to_string();
        if key == "MENU" {
            let (sub, v) = value.split_once(' ').unwrap_or((&value, ""));
            key = format!("MENU {}", sub.to_ascii_uppercase());
            value = v.to_string();
        }
        if key == "LABEL" {
            p.labels.insert(value.clone(), BTreeMap::new());
            current = Some(value);
            continue;
        }
        match &current {
            Some(l) => {
                p.labels.get_mut(l).unwrap().insert(key, value);
            }
            None => {
                // SAY lines repeat; keep them all.
                p.global
                    .entry(key)
                    .and_modify(|v| {
                        v.push('\n');
                        v.push_str(&value)
                    })
                    .or_insert(value);
            }
        }
    }
    p
}

/// The label a config falls back to (DEFAULT and ONTIMEOUT) must exist and
/// boot the local disk.
fn assert_boots_local_disk_by_default(p: &Pxelinux, what: &str) {
    for key in ["DEFAULT", "ONTIMEOUT"] {
        let label = p
            .global
            .get(key)
            .unwrap_or_else(|| panic!("{what}: no {key}"));
        let entry = p
            .labels
            .get(label)
            .unwrap_or_else(|| panic!("{what}: {key} {label} names no label"));
        assert!(
            entry.contains_key("LOCALBOOT") && !entry.contains_key("KERNEL"),
            "{what}: {key} {label} does not boot the local disk: {entry:?}"
        );
    }
    assert_eq!(
        p.global.get("PROMPT").map(String::as_str),
        Some("1"),
        "{what}"
    );
    let timeout: u32 = p.global["TIMEOUT"].parse().unwrap();
    assert!(timeout > 0, "{what}: TIMEOUT 0 waits forever");
}

/// Checks one node's install entry and returns its label.
fn assert_install_entry(p: &Pxelinux, n: &NodeFacts, url: &str, out: &Path, what: &str) {
    let (label, entry) = p
        .labels
        .iter()
        .find(|(_, e)| {
            e.get("APPEND")
                .is_some_and(|a| a.contains(&format!("/ks/{}.ks", n.name)))
        })
        .unwrap_or_else(|| panic!("{what}: no entry installs {}", n.name));
    assert!(label.contains(&n.name), "{what}: label {label}");
    assert!(
        label.contains("erase"),
        "{what}: label {label} hides that it erases"
    );
    let menu = &entry["MENU LABEL"];
    assert!(
        menu.contains(&format!("Install {} (an-cluster)", n.name)) && menu.contains("ERASES"),
        "{what}: menu label {menu:?}"
    );
    assert_eq!(entry["KERNEL"], "images/pxeboot/vmlinuz", "{what}");
    let args: Vec<&str> = entry["APPEND"].split_whitespace().collect();
    let ks = format!("ks={url}/ks/{}.ks", n.name);
    for want in [
        "initrd=images/pxeboot/initrd.img",
        ks.as_str(),
        &format!("ksdevice={}", n.mac),
    ] {
        assert!(args.contains(&want), "{what}: {want} not in {args:?}");
    }
    // The kickstart it names is one the build wrote.
    assert!(out.join(format!("ks/{}.ks", n.name)).is_file());
}

#[test]
fn test_pxe_files_per_boot_nic_boot_local_disk_unless_picked() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let nodes = nodes(&ws.profile());
    let url = overlay_url(&ws.profile());
    let cfg = out.join("tftpboot/pxelinux.cfg");

    let mut expected: BTreeSet<String> = nodes
        .iter()
        .map(|n| format!("01-{}", n.mac.to_lowercase().replace(':', "-")))
        .collect();
    expected.insert("default".into());
    let found: BTreeSet<String> = std::fs::read_dir(&cfg)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        found.iter().filter(|f| f.starts_with("01-")).count(),
        nodes.len()
    );
    for f in &found {
        assert!(
            f == "default" || (f.len() == 20 && f == &f.to_lowercase()),
            "{f}"
        );
    }

    for n in &nodes {
        let file = format!("01-{}", n.mac.to_lowercase().replace(':', "-"));
        let text = std::fs::read_to_string(cfg.join(&file)).unwrap();
        let p = parse_pxelinux(&text);
        assert_boots_local_disk_by_default(&p, &file);
        assert_install_entry(&p, n, &url, &out, &file);
        // Only this node: one local entry, one install entry.
        assert_eq!(p.labels.len(), 2, "{file}: {:?}", p.labels.keys());
        for other in nodes.iter().filter(|o| o.name != n.name) {
            assert!(!text.contains(&other.name), "{file} names {}", other.name);
            assert!(!text.contains(&other.mac), "{file} names {}", other.mac);
        }
    }

    let text = std::fs::read_to_string(cfg.join("default")).unwrap();
    let p = parse_pxelinux(&text);
    assert_boots_local_disk_by_default(&p, "default");
    for n in &nodes {
        assert_install_entry(&p, n, &url, &out, "default");
    }
    assert_eq!(p.labels.len(), nodes.len() + 1);
    // It says where the boot files come from.
    assert!(text.contains("pxelinux.0"));
    assert!(text.contains("images/pxeboot/vmlinuz"));

    // Every file is in SHA256SUMS.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    for f in &found {
        assert!(
            sums.contains(&format!("  tftpboot/pxelinux.cfg/{f}\n")),
            "{f}"
        );
    }
    assert!(sums.contains("  nginx-clusterkick.conf\n"));
}

/// `location = PATH { allow ...; deny all; }` blocks of the snippet, by
/// path, and the prefix location that holds them.
struct Nginx {
    prefix: String,
    prefix_denies_all: bool,
    exact: BTreeMap<String, Vec<String>>,
    allows_total: usize,
}

fn parse_nginx(text: &str) -> Nginx {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    let mut prefix = String::new();
    let mut prefix_denies_all = false;
    let mut exact = BTreeMap::new();
    let mut current: Option<(String, Vec<String>, bool)> = None;
    let mut depth = 0;
    let mut allows_total = 0;
    for l in lines {
        if let Some(rest) = l.strip_prefix("location ^~ ") {
            prefix = rest.trim_end_matches('{').trim().to_string();
            depth += 1;
        } else if let Some(rest) = l.strip_prefix("location = ") {
            current = Some((rest.trim_end_matches('{').trim().to_string(), vec![], false));
            depth += 1;
        } else if let Some(ip) = l.strip_prefix("allow ") {
            allows_total += 1;
            let (_, ips, _) = current.as_mut().expect("allow outside an exact location");
            ips.push(ip.trim_end_matches(';').to_string());
        } else if l == "deny all;" {
            match current.as_mut() {
                Some((_, _, deny)) => *deny = true,
                None => prefix_denies_all = depth == 1,
            }
        } else if l == "}" {
            depth -= 1;
            if let Some((path, ips, deny)) = current.take() {
                assert!(deny, "location = {path} does not end with deny all");
                exact.insert(path, ips);
            }
        } else {
            assert!(
                l.starts_with("alias ") && depth == 1,
                "unexpected nginx line: {l}"
            );
        }
    }
    assert_eq!(depth, 0, "unbalanced braces");
    Nginx {
        prefix,
        prefix_denies_all,
        exact,
        allows_total,
    }
}

#[test]
fn test_nginx_snippet_names_each_node_with_its_own_files_only() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let nodes = nodes(&ws.profile());
    let text = std::fs::read_to_string(out.join("nginx-clusterkick.conf")).unwrap();
    let n = parse_nginx(&text);
    assert_eq!(n.prefix, "/an-cluster/");
    assert!(
        n.prefix_denies_all,
        "the prefix location must deny the rest"
    );

    let blob = std::fs::read_dir(out.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(blob.len(), 1);
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in &nodes {
        for f in [
            format!("ks/{}.ks", node.name),
            format!("overlay/{}.tar.gz", node.name),
        ] {
            assert!(out.join(&f).is_file(), "{f} is not in the build");
            expected.insert(format!("/an-cluster/{f}"), vec![node.ip.clone()]);
        }
    }
    expected.insert(
        format!("/an-cluster/blobs/{}", blob[0]),
        nodes.iter().map(|n| n.ip.clone()).collect(),
    );
    assert_eq!(n.exact, expected);
    assert_eq!(n.allows_total, 2 * nodes.len() + nodes.len());
    // Each address appears only where it is allowed.
    for node in &nodes {
        assert_eq!(
            text.matches(&format!("allow {};", node.ip)).count(),
            3,
            "{}",
            node.name
        );
    }
}

/// nginx with the generated snippet on a free loopback port; each node's
/// address becomes a loopback address (127.0.0.<last octet>) that curl
/// can send from. It runs as a packaged nginx does: a master as root and
/// one worker as the distribution's unprivileged user ([`web_user`]).
struct NginxServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for NginxServer {
    fn drop(&mut self) {
        // TERM: the master stops its worker before it exits (a KILL would
        // leave the worker serving).
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
    }
}

fn loopback(ip: &str) -> String {
    format!("127.0.0.{}", ip.rsplit('.').next().unwrap())
}

/// The user nginx's workers run as on this host, as its package sets it:
/// Debian's `www-data`, else EL's `nginx`; with its uid and gid. The
/// build's default web group is this user's group.
fn web_user() -> (String, u32, u32) {
    for user in ["www-data", "nginx"] {
        let o = Command::new("getent")
            .args(["passwd", user])
            .output()
            .unwrap();
        if o.status.success() {
            let line = String::from_utf8(o.stdout).unwrap();
            let f: Vec<&str> = line.trim().split(':').collect();
            return (
                user.to_string(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            );
        }
    }
    panic!("neither www-data nor nginx is a user here: install nginx-light (it runs as www-data)");
}

/// The pids whose parent is `ppid`.
fn children(ppid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap() {
        let name = e.unwrap().file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so after ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        if stat[close + 1..].split_whitespace().nth(1) == Some(&ppid.to_string()) {
            out.push(pid);
        }
    }
    out
}

/// The real, effective, saved and fs uids and gids of `pid`.
fn ids(pid: u32) -> (Vec<u32>, Vec<u32>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |k: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    };
    (field("Uid:"), field("Gid:"))
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn start_nginx(out: &Path, nodes: &[NodeFacts]) -> NginxServer {
    use std::os::unix::fs::PermissionsExt;
    let nginx = require("nginx", "nginx-light");
    let (user, uid, gid) = web_user();
    let dir = tempfile::tempdir().unwrap();
    let mut snippet = std::fs::read_to_string(out.join("nginx-clusterkick.conf")).unwrap();
    for n in nodes {
        snippet = snippet.replace(
            &format!("allow {};", n.ip),
            &format!("allow {};", loopback(&n.ip)),
        );
    }
    snippet = snippet.replace(
        "alias /srv/clusterkick/an-cluster/;",
        &format!("alias {}/;", out.display()),
    );
    std::fs::write(dir.path().join("snippet.conf"), snippet).unwrap();
    let port = free_port("127.0.0.1");
    let d = dir.path().display();
    // The worker reaches the build as it would under /srv: the test's own
    // folders above it (tempdirs, 0700) may be passed through (x), nothing
    // more; the build's own modes are left as the build wrote them.
    let tmp = std::env::temp_dir();
    for a in out.ancestors().skip(1) {
        if a.starts_with(&tmp) && a != tmp {
            let m = std::fs::metadata(a).unwrap().permissions().mode() & 0o7777;
            chmod(a, m | 0o111);
        }
    }
    chmod(dir.path(), 0o711);
    let conf = format!(
        "user {user};\nworker_processes 1;\ndaemon off;\nmaster_process on;\n\
         pid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n access_log off;\n client_body_temp_path {d}/tmp;\n\
         proxy_temp_path {d}/tmp;\n fastcgi_temp_path {d}/tmp;\n uwsgi_temp_path {d}/tmp;\n\
         scgi_temp_path {d}/tmp;\n\
         server {{\n  listen 127.0.0.1:{port};\n  root {d}/www;\n  include {d}/snippet.conf;\n }}\n}}\n"
    );
    for sub in ["www", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        chmod(&dir.path().join(sub), 0o755);
    }
    std::fs::write(dir.path().join("www/other.txt"), "not clusterkick's\n").unwrap();
    chmod(&dir.path().join("www/other.txt"), 0o644);
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = NginxServer {
        child,
        port,
        _dir: dir,
    };
    wait_for_port("127.0.0.1", port);
    // The worker is unprivileged: what it serves it reads through the web
    // group, never through root's rights.
    // A worker is forked as root and drops to `user` right after: wait for
    // it to be there and settled (its ids stop being the master's).
    let start = std::time::Instant::now();
    let (workers, (uids, gids)) = loop {
        let workers = children(server.child.id());
        if workers.len() == 1 {
            let got = ids(workers[0]);
            if got.0.iter().all(|u| *u != 0) || start.elapsed() > Duration::from_secs(30) {
                break (workers, got);
            }
        } else if start.elapsed() > Duration::from_secs(30) {
            panic!("nginx workers: {workers:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(workers.len(), 1, "nginx workers: {workers:?}");
    assert!(
        uids.iter().all(|u| *u == uid),
        "worker uids {uids:?}, want {user} ({uid})"
    );
    assert!(
        gids.iter().all(|g| *g == gid),
        "worker gids {gids:?}, want {gid}"
    );
    server
}

/// HTTP status of GET path, sent from address `from`.
fn status(port: u16, from: &str, path: &str) -> String {
    let o = Command::new(require("curl", "curl"))
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--interface",
            from,
        ])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn test_nginx_snippet_serves_each_node_only_its_own_files() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let nodes = nodes(&ws.profile());
    let server = start_nginx(&out, &nodes);
    let blob = std::fs::read_dir(out.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .next()
        .unwrap();
    let shared = [format!("/an-cluster/blobs/{blob}")];
    let refused_to_all = [
        "/an-cluster/",
        "/an-cluster/SHA256SUMS",
        "/an-cluster/.clusterkick-manifest",
        "/an-cluster/SUMMARY.md",
        "/an-cluster/nginx-clusterkick.conf",
        "/an-cluster/tftpboot/pxelinux.cfg/default",
        "/an-cluster/blobs/",
    ];
    let own = |n: &NodeFacts| {
        [
            format!("/an-cluster/ks/{}.ks", n.name),
            format!("/an-cluster/overlay/{}.tar.gz", n.name),
        ]
    };
    for n in &nodes {
        let from = loopback(&n.ip);
        for p in own(n).iter().chain(&shared) {
            assert_eq!(status(server.port, &from, p), "200", "{} GET {p}", n.name);
        }
        for other in nodes.iter().filter(|o| o.name != n.name) {
            for p in own(other) {
                assert_eq!(status(server.port, &from, &p), "403", "{} GET {p}", n.name);
            }
        }
        for p in refused_to_all {
            assert_eq!(status(server.port, &from, p), "403", "{} GET {p}", n.name);
        }
    }
    // Any other address gets nothing of the cluster's; the rest of the
    // server is untouched.
    for p in own(&nodes[0]).iter().chain(&shared) {
        assert_eq!(status(server.port, "127.0.0.1", p), "403", "GET {p}");
    }
    assert_eq!(status(server.port, "127.0.0.1", "/other.txt"), "200");
    // What nginx serves is the built file, byte for byte.
    let o = Command::new("curl")
        .args(["-s", "--interface", &loopback(&nodes[0].ip)])
        .arg(format!(
            "http://127.0.0.1:{}/an-cluster/overlay/{}.tar.gz",
            server.port, nodes[0].name
        ))
        .output()
        .unwrap();
    assert_eq!(
        o.stdout,
        std::fs::read(out.join(format!("overlay/{}.tar.gz", nodes[0].name))).unwrap()
    );
    // Control: the same overlay, still 0640 but root:root (as builds wrote
    // it before they named the web group), is refused to its own node, so
    // the 200s above came through the group and not through a privileged
    // worker.
    let own_overlay = out.join(format!("overlay/{}.tar.gz", nodes[0].name));
    std::os::unix::fs::chown(&own_overlay, Some(0), Some(0)).unwrap();
    assert_eq!(
        status(
            server.port,
            &loopback(&nodes[0].ip),
            &format!("/an-cluster/overlay/{}.tar.gz", nodes[0].name)
        ),
        "403",
        "a 0640 root:root overlay was served"
    );
}
