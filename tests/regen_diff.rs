//! `clusterkick diff PROFILE --out DIR`: what a build would change, shown
//! file by file (overlays by their members), with no secret's bytes and
//! nothing written. The expected set of changed files comes from two real
//! builds compared with GNU tar and byte comparison, never from diff's code.

mod support;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

const CLUSTER: &str = "an-cluster";

/// `diff`'s exit codes, as README documents them.
const SAME: i32 = 0;
const CHANGES: i32 = 1;
const ERROR: i32 = 2;

fn build_into(ws: &Workspace, profile: &Path, out: &Path) {
    let o = ws.run(&[
        "build",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "build: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn diff(ws: &Workspace, profile: &Path, out: &Path) -> (i32, String, String) {
    let o: Output = ws.run(&[
        "diff",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ]);
    (
        o.status.code().expect("exit code"),
        String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        String::from_utf8(o.stderr).expect("stderr is UTF-8"),
    )
}

/// stderr without the profile's warnings (the example's placeholders).
fn not_warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.contains(": warning: "))
        .collect()
}

/// Every entry below `root`: kind, mode, mtime and bytes (or link target),
/// to tell that nothing was written, changed or touched.
fn snapshot(root: &Path) -> BTreeMap<String, (u32, i64, i64, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let m = e.path().symlink_metadata().unwrap();
            let body = if m.is_file() {
                std::fs::read(e.path()).unwrap()
            } else if m.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                Vec::new()
            };
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (rel, (m.mode(), m.mtime(), m.mtime_nsec(), body))
        })
        .collect()
}

/// Regular files below `root` by relative path: (mode, bytes).
fn files(root: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
            (rel, (mode, std::fs::read(e.path()).unwrap()))
        })
        .collect()
}

/// What differs between two built trees of the cluster, as diff names it:
/// `<cluster>/<path>`, and for an overlay each member that differs
/// (unpacked by GNU tar) as `<cluster>/<path>:<member>`.
fn oracle(old: &Path, new: &Path) -> BTreeSet<String> {
    let (a, b) = (files(old), files(new));
    let mut out = BTreeSet::new();
    for p in a.keys().chain(b.keys()) {
        if p == clusterkick::outdir::MANIFEST || a.get(p) == b.get(p) {
            continue;
        }
        match (a.get(p), b.get(p)) {
            (Some((ma, _)), Some((mb, _))) if p.ends_with(".tar.gz") => {
                if ma != mb {
                    out.insert(format!("{CLUSTER}/{p}"));
                }
                let (ua, ub) = (untar(&old.join(p)), untar(&new.join(p)));
                let (fa, fb) = (files(ua.path()), files(ub.path()));
                for m in fa.keys().chain(fb.keys()) {
                    if fa.get(m) != fb.get(m) {
                        out.insert(format!("{CLUSTER}/{p}:{m}"));
                    }
                }
            }
            _ => {
                out.insert(format!("{CLUSTER}/{p}"));
            }
        }
    }
    out
}

/// The paths diff's output names, whatever it says about each.
fn shown(stdout: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in stdout.lines() {
        let path = if let Some(p) = l.strip_prefix("--- a/") {
            p
        } else if let Some(p) = l.strip_prefix("new file ") {
            p.rsplit_once(" (").unwrap().0
        } else if let Some(p) = l.strip_prefix("removed ") {
            p
        } else if let Some(p) = l.strip_prefix("secret changed: ") {
            p
        } else if let Some(p) = l.strip_prefix("binary files differ: ") {
            p.rsplit_once(" (sha256").unwrap().0
        } else if let Some(rest) = ["mode ", "group ", "owner ", "type "]
            .iter()
            .find_map(|w| l.strip_prefix(w))
        {
            rest.rsplit_once(": ").unwrap().0
        } else {
            continue;
        };
        out.insert(path.to_string());
    }
    out
}

fn edit(path: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(path).unwrap();
    assert!(t.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, t.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_first_diff_lists_every_file_and_a_diff_after_the_build_says_no_change() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, CHANGES, "{stderr}");
    assert!(!out.exists(), "diff made {}", out.display());
    // One line per file, nothing dumped.
    assert!(
        stdout.lines().all(|l| l.starts_with("new file ")),
        "{stdout}"
    );

    build_into(&ws, &ws.profile(), &out);
    let mut built: BTreeSet<String> = files(&out.join(CLUSTER))
        .into_keys()
        .map(|p| format!("{CLUSTER}/{p}"))
        .collect();
    built.remove(&format!("{CLUSTER}/{}", clusterkick::outdir::MANIFEST));
    assert_eq!(shown(&stdout), built);
    assert_eq!(stdout.lines().count(), built.len());

    let before = snapshot(ws.path());
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, SAME, "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(not_warnings(&stderr), [format!("{CLUSTER}: no change")]);
    assert!(snapshot(ws.path()) == before, "diff changed the workspace");
}

#[test]
fn a_fence_device_change_shows_exactly_the_files_it_changes_and_writes_nothing() {
    let ws = Workspace::new();
    let (old, new) = (ws.path().join("old"), ws.path().join("new"));
    build_into(&ws, &ws.profile(), &old);
    edit(
        &ws.profile(),
        "ipaddr = \"motoko.alteeve.com\"",
        "ipaddr = \"motoko-b.alteeve.com\"",
    );
    let before = snapshot(ws.path());
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &old);
    assert_eq!(code, CHANGES, "{stderr}");
    assert!(
        snapshot(ws.path()) == before,
        "diff wrote into DIR or beside the profile"
    );

    build_into(&ws, &ws.profile(), &new);
    let want = oracle(&old.join(CLUSTER), &new.join(CLUSTER));
    for node in ["an-node01", "an-node02"] {
        assert!(want.contains(&format!(
            "{CLUSTER}/overlay/{node}.tar.gz:etc/cluster/cluster.conf"
        )));
    }
    assert_eq!(shown(&stdout), want, "{stdout}");
    // The change itself, in cluster.conf's diff.
    assert!(
        stdout.contains(
            "\n-    <fencedevice name=\"motoko\" agent=\"fence_na\" ipaddr=\"motoko.alteeve.com\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\n+    <fencedevice name=\"motoko\" agent=\"fence_na\" ipaddr=\"motoko-b.alteeve.com\""), "{stdout}");
    assert!(not_warnings(&stderr)
        .last()
        .unwrap()
        .starts_with(&format!("{CLUSTER}: a build would change ")));
}

#[test]
fn a_mac_change_shows_only_that_nodes_files() {
    let ws = Workspace::new();
    let (old, new) = (ws.path().join("old"), ws.path().join("new"));
    build_into(&ws, &ws.profile(), &old);
    edit(
        &ws.profile(),
        "eth1 = \"00:00:5E:00:53:21\"",
        "eth1 = \"00:00:5E:00:53:31\"",
    );
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &old);
    assert_eq!(code, CHANGES, "{stderr}");
    build_into(&ws, &ws.profile(), &new);
    let want = oracle(&old.join(CLUSTER), &new.join(CLUSTER));
    let got = shown(&stdout);
    assert_eq!(got, want, "{stdout}");
    assert!(
        got.contains(&format!("{CLUSTER}/overlay/an-node02.tar.gz"))
            || got
                .iter()
                .any(|p| p.starts_with(&format!("{CLUSTER}/overlay/an-node02.tar.gz:")))
    );
    for p in &got {
        assert!(!p.contains("an-node01"), "{p}: node 1 did not change");
        assert!(
            !p.contains("cluster.conf"),
            "{p}: a MAC is not in cluster.conf"
        );
    }
}

#[test]
fn changed_secrets_show_as_changed_and_their_bytes_appear_nowhere() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let secrets = ws.path().join("profiles/an-cluster.secrets");
    let (old_pw, new_pw) = ("Old-Fence-pw-7f3a9", "New-Fence-pw-c41b2");
    std::fs::write(secrets.join("motoko.passwd"), format!("{old_pw}\n")).unwrap();
    build_into(&ws, &ws.profile(), &out);
    let old_key = std::fs::read_to_string(secrets.join("firstboot.key")).unwrap();
    let new_key = "5eed".repeat(16);
    std::fs::write(secrets.join("motoko.passwd"), format!("{new_pw}\n")).unwrap();
    std::fs::write(secrets.join("firstboot.key"), format!("{new_key}\n")).unwrap();

    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, CHANGES, "{stderr}");
    for s in [old_pw, new_pw, old_key.trim(), &new_key] {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "{s:?} was printed:\n{stdout}{stderr}"
        );
    }
    // Seen as changed, masked.
    assert!(
        stdout.contains("\n-    <fencedevice name=\"motoko\"")
            && stdout.contains("passwd=\"<secret>\"/>"),
        "{stdout}"
    );
    let secret_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("secret changed: "))
        .collect();
    assert!(
        secret_lines.iter().any(|l| l.contains("an-node01.tar.gz:"))
            && secret_lines.iter().any(|l| l.contains("an-node02.tar.gz:")),
        "the key file of each overlay: {stdout}"
    );
}

#[test]
fn a_missing_key_is_an_error_naming_the_secrets_command_and_a_new_one_shows_as_changed() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    build_into(&ws, &ws.profile(), &out);
    let key = ws.path().join("profiles/an-cluster.secrets/firstboot.key");
    let old_key = std::fs::read_to_string(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    let before = snapshot(ws.path());
    // Like check and build: refused, naming the command; nothing made.
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(!key.exists(), "diff made a key");
    assert!(snapshot(ws.path()) == before);
    assert!(
        stderr.contains(
            "does not exist yet; make the cluster's secrets once with `clusterkick secrets"
        ),
        "{stderr}"
    );
    // Made anew: every file that holds it shows as a changed secret, and
    // neither key's bytes appear.
    let o = ws.run(&["secrets", ws.profile().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let new_key = std::fs::read_to_string(&key).unwrap();
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, CHANGES, "{stderr}");
    assert!(stdout.contains("secret changed: "), "{stdout}");
    for k in [old_key.trim(), new_key.trim()] {
        assert!(!stdout.contains(k) && !stderr.contains(k));
    }
}

#[test]
fn a_pacemaker_cluster_without_change_and_with_a_new_corosync_authkey() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let profile = ws.path().join("profiles/an-cluster-el9.toml");
    build_into(&ws, &profile, &out);
    let (code, stdout, stderr) = diff(&ws, &profile, &out);
    assert_eq!((code, stdout.as_str()), (SAME, ""), "{stderr}");
    let key = ws
        .path()
        .join("profiles/an-cluster-el9.secrets/corosync.authkey");
    std::fs::write(&key, [0x42u8; 256]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, stdout, stderr) = diff(&ws, &profile, &out);
    assert_eq!(code, CHANGES, "{stderr}");
    let changed: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with([' ', '-', '+', '@']))
        .collect();
    assert!(
        changed
            .iter()
            .any(|l| l.starts_with("secret changed: ") && l.contains("authkey")),
        "{stdout}"
    );
    assert!(!stdout.contains(&"B".repeat(16)), "{stdout}");
}

#[test]
fn a_bad_profile_is_an_error_with_checks_diagnostics() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    build_into(&ws, &ws.profile(), &out);
    edit(
        &ws.profile(),
        "ipaddr = \"motoko.alteeve.com\"",
        "ipaddr = \"motoko.alteeve.com\"\nbogus = 1",
    );
    let before = snapshot(ws.path());
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, ERROR, "{stderr}");
    assert_eq!(stdout, "");
    let check = ws.run(&["check", ws.profile().to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(stderr, String::from_utf8(check.stderr).unwrap());
    assert!(stderr.contains("bogus"), "{stderr}");
    assert!(snapshot(ws.path()) == before);
}

#[test]
fn a_dir_that_is_not_a_clusterkick_output_is_an_error() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    std::fs::create_dir_all(out.join(CLUSTER)).unwrap();
    std::fs::write(out.join(CLUSTER).join("notes.txt"), "mine\n").unwrap();
    let before = snapshot(ws.path());
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, ERROR, "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("is not a clusterkick output"), "{stderr}");
    assert!(snapshot(ws.path()) == before);

    // --out a plain file.
    let file = ws.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let (code, _, stderr) = diff(&ws, &ws.profile(), &file);
    assert_eq!(code, ERROR, "{stderr}");
}

#[test]
fn files_of_the_users_are_not_shown_as_removed() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    build_into(&ws, &ws.profile(), &out);
    std::fs::write(out.join(CLUSTER).join("tftpboot/pxelinux.0"), "mine").unwrap();
    let (code, stdout, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!((code, stdout.as_str()), (SAME, ""), "{stderr}");
    let lines = not_warnings(&stderr);
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].contains("1 entries of yours"), "{stderr}");
}

#[test]
fn a_served_file_whose_mode_changed_stops_the_build_and_so_the_diff() {
    // The build refuses a tree whose own file the user changed; diff says
    // what the build would say.
    let ws = Workspace::new();
    let out = ws.path().join("out");
    build_into(&ws, &ws.profile(), &out);
    let ks: PathBuf = out.join(CLUSTER).join("ks/an-node01.ks");
    std::fs::set_permissions(&ks, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, stderr) = diff(&ws, &ws.profile(), &out);
    assert_eq!(code, ERROR, "{stderr}");
    assert!(
        stderr.contains("an-node01.ks: its mode is 0644"),
        "{stderr}"
    );
}
