//! `build --web-group NAME`: the files the nodes fetch over HTTP
//! (kickstarts, overlays, the helper) are readable by the web server's
//! group and by nobody else, in folders only that group may enter; the
//! group changes no byte of the build; a group that is not there, or a
//! name that is not a group's, is refused before anything is written.
//! (That nginx running as www-data really serves them: tests/pxe_tree.rs.)

mod support;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn build(ws: &Workspace, out: &Path, group: Option<&str>) -> Output {
    let mut c = Command::new(CLUSTERKICK);
    c.arg("build")
        .arg(ws.profile())
        .arg("--out")
        .arg(out)
        .arg("--helper")
        .arg(ws.helper())
        .current_dir(ws.path());
    if let Some(g) = group {
        c.arg(format!("--web-group={g}"));
    }
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn gid_of(group: &str) -> u32 {
    let o = Command::new("getent")
        .args(["group", group])
        .output()
        .unwrap();
    assert!(o.status.success(), "no group {group} on this host");
    String::from_utf8(o.stdout)
        .unwrap()
        .split(':')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap()
}

/// The usual web server group of this (Debian or EL) test host.
fn host_web_group() -> &'static str {
    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    if os.lines().any(|l| {
        (l.starts_with("ID=") || l.starts_with("ID_LIKE="))
            && (l.contains("debian") || l.contains("ubuntu"))
    }) {
        "www-data"
    } else {
        "nginx"
    }
}

/// Every entry below `tree`: (mode, gid).
fn modes(tree: &Path) -> BTreeMap<String, (u32, u32)> {
    walkdir::WalkDir::new(tree)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let m = e.path().symlink_metadata().unwrap();
            let rel = e.path().strip_prefix(tree).unwrap().display().to_string();
            (rel, (m.mode() & 0o7777, m.gid()))
        })
        .collect()
}

fn is_served(rel: &str) -> bool {
    ["ks", "overlay", "blobs"]
        .iter()
        .any(|d| rel == *d || rel.starts_with(&format!("{d}/")))
}

#[test]
fn test_served_files_are_the_web_groups_and_nobody_elses() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    // The default is the host's web server group.
    ok(&build(&ws, &out, None));
    let tree = out.join("an-cluster");
    let web = gid_of(host_web_group());
    let all = modes(&tree);
    let mut served = 0;
    for (rel, (mode, gid)) in &all {
        let dir = tree.join(rel).is_dir();
        if is_served(rel) {
            served += 1;
            let want = if dir { 0o750 } else { 0o640 };
            assert_eq!((*mode, *gid), (want, web), "{rel}: {mode:04o} gid {gid}");
        } else {
            // Nothing else gets the web group (SUMMARY.md, SHA256SUMS, the
            // PXE files are the build user's, as before).
            assert_ne!(*gid, web, "{rel} has the web group");
        }
    }
    // Both kickstarts, both overlays, the helper and their three folders.
    assert_eq!(served, 8, "{all:?}");
    // The top folder lets the web server through to them.
    let top = std::fs::metadata(&tree).unwrap().mode() & 0o7777;
    assert_eq!(top & 0o005, 0o005, "{top:04o}");
}

#[test]
fn test_the_group_changes_no_byte_of_the_build() {
    let ws = Workspace::new();
    let a = ws.path().join("a");
    let b = ws.path().join("b");
    ok(&build(&ws, &a, Some("root")));
    ok(&build(&ws, &b, Some(host_web_group())));
    let files = |t: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        walkdir::WalkDir::new(t)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().strip_prefix(t).unwrap().to_path_buf(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    };
    let (fa, fb) = (files(&a), files(&b));
    assert!(fa.contains_key(Path::new("an-cluster/SHA256SUMS")));
    assert_eq!(fa, fb, "the web group changed the bytes of the build");
    // The tarballs' entries stay root:root whatever the group on disk.
    let list = Command::new("tar")
        .args(["-tzvf"])
        .arg(b.join("an-cluster/overlay/an-node01.tar.gz"))
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(!list.is_empty());
    for line in list.lines() {
        assert!(line.contains(" root/root "), "{line}");
    }
    // The groups differ on disk all the same.
    let g = |t: &Path| {
        std::fs::metadata(t.join("an-cluster/overlay/an-node01.tar.gz"))
            .unwrap()
            .gid()
    };
    assert_eq!((g(&a), g(&b)), (0, gid_of(host_web_group())));
}

#[test]
fn test_a_missing_group_or_a_bad_name_is_refused_before_anything_is_written() {
    let ws = Workspace::new();
    for (group, says) in [
        ("clusterkick-no-such-group", "does not exist on this host"),
        ("www data", "is not a group name"),
        ("-x", "is not a group name"),
    ] {
        let out = ws.path().join("out");
        let o = build(&ws, &out, Some(group));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{group:?}: {err}");
        assert!(err.contains(says), "{group:?}: {err}");
        assert!(err.contains("--web-group"), "{group:?}: {err}");
        assert!(!out.exists(), "{group:?}: the output folder was made");
    }
}

#[test]
fn test_a_build_user_outside_the_group_is_told_what_to_do_and_leaves_nothing() {
    // A build by an unprivileged user who is not in the web group: chgrp
    // is refused; the error says so and what to do, and DIR/<cluster>
    // is not left half-written.
    let setpriv = require("setpriv", "util-linux");
    let ws = Workspace::new();
    // The workspace is that user's (nobody's), modes as they were.
    for e in walkdir::WalkDir::new(ws.path()) {
        std::os::unix::fs::lchown(e.unwrap().path(), Some(65534), Some(65534)).unwrap();
    }
    let out = ws.path().join("out");
    let o = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(CLUSTERKICK)
        .arg("build")
        .arg(ws.profile())
        .arg("--out")
        .arg(&out)
        .arg("--helper")
        .arg(ws.helper())
        .args(["--web-group", host_web_group()])
        .current_dir(ws.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("giving the web server's group") && err.contains("--web-group"),
        "{err}"
    );
    assert!(!out.join("an-cluster").exists(), "{err}");
}
