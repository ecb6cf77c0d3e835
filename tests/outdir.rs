//! `build --out DIR` and what is already in DIR: a build replaces only its
//! own earlier output, keeps everything the user added there as it was,
//! refuses what it did not write, takes turns with other builds, and leaves
//! DIR/<cluster> whole (the old tree or the new one) wherever it is killed.

#[cfg(not(feature = "sim"))]
compile_error!("the crash tests kill builds through a hook only a build with the test-only feature `sim` has: run with --features sim (scripts/test.sh does)");

mod support;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::*;

use clusterkick::outdir::{KILL_AT_STEP, LOCK_FILE, MANIFEST};

/// One entry of a tree, as a user or a tool would compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir { mode: u32 },
    File { mode: u32, sha256: String },
    Symlink { target: PathBuf },
    Other { mode: u32 },
}

/// Every entry below `root` (not `root` itself), by relative path.
fn snapshot(root: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        let m = e.path().symlink_metadata().unwrap();
        let mode = m.permissions().mode() & 0o7777;
        let ft = m.file_type();
        let entry = if ft.is_dir() {
            Entry::Dir { mode }
        } else if ft.is_symlink() {
            Entry::Symlink {
                target: std::fs::read_link(e.path()).unwrap(),
            }
        } else if ft.is_file() {
            Entry::File {
                mode,
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    std::fs::read(e.path()).unwrap(),
                )),
            }
        } else {
            Entry::Other { mode }
        };
        out.insert(rel, entry);
    }
    out
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn inode(p: &Path) -> (u64, u64) {
    let m = p.symlink_metadata().unwrap();
    (m.dev(), m.ino())
}

/// Runs `clusterkick build PROFILES --out OUT` with the workspace's helper.
fn build(ws: &Workspace, profiles: &[&Path], out: &Path, env: &[(&str, String)]) -> Output {
    let mut c = Command::new(CLUSTERKICK);
    c.arg("build")
        .args(profiles)
        .arg("--out")
        .arg(out)
        .arg("--helper")
        .arg(ws.helper())
        .current_dir(ws.path());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "build failed ({:?}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The example with another time zone: every kickstart and the summary
/// change, so old and new trees differ.
fn v2(ws: &Workspace) -> PathBuf {
    ws.variant("an-cluster-v2", |s| {
        s.replace(
            "timezone = \"America/Toronto\"",
            "timezone = \"Europe/Berlin\"",
        )
    })
}

/// What a sysadmin adds to an output tree: the boot files (pxelinux.0 as a
/// symlink, as the docs suggest), an install kernel and initrd, notes at
/// the top, a folder of their own with its own mode, an empty folder, and
/// a changed mode on one of the build's folders. Returns the entries that
/// must keep their inode.
fn add_user_entries(tree: &Path) -> Vec<String> {
    let t = |p: &str| tree.join(p);
    std::os::unix::fs::symlink("/usr/lib/PXELINUX/pxelinux.0", t("tftpboot/pxelinux.0")).unwrap();
    std::os::unix::fs::symlink("../no/such/file", t("tftpboot/dangling")).unwrap();
    std::fs::write(t("tftpboot/ldlinux.c32"), b"ldlinux").unwrap();
    std::fs::create_dir_all(t("tftpboot/images/pxeboot")).unwrap();
    std::fs::write(t("tftpboot/images/pxeboot/vmlinuz"), vec![0x4d; 4096]).unwrap();
    std::fs::write(t("tftpboot/images/pxeboot/initrd.img"), vec![0x1f; 8192]).unwrap();
    std::fs::write(t("notes.txt"), b"switch port 12 is an-node02\n").unwrap();
    std::fs::set_permissions(t("notes.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::create_dir(t("extra")).unwrap();
    std::fs::write(t("extra/inventory.csv"), b"an-node01,rack 3\n").unwrap();
    std::fs::set_permissions(t("extra"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::create_dir(t("empty")).unwrap();
    std::fs::set_permissions(t("empty"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(t("tftpboot"), std::fs::Permissions::from_mode(0o775)).unwrap();
    user_entries()
}

/// The entries [`add_user_entries`] makes that must keep their inode.
fn user_entries() -> Vec<String> {
    [
        "tftpboot/pxelinux.0",
        "tftpboot/dangling",
        "tftpboot/ldlinux.c32",
        "tftpboot/images/pxeboot/vmlinuz",
        "tftpboot/images/pxeboot/initrd.img",
        "notes.txt",
        "extra/inventory.csv",
    ]
    .map(String::from)
    .to_vec()
}

fn inodes(tree: &Path, rels: &[String]) -> BTreeMap<String, (u64, u64)> {
    rels.iter()
        .map(|r| (r.clone(), inode(&tree.join(r))))
        .collect()
}

/// The tree a clean build of `profile` gives, with the user's entries added
/// the same way (what a rebuild over a tree with those entries must give).
fn reference(ws: &Workspace, profile: &Path, tag: &str) -> BTreeMap<String, Entry> {
    let out = ws.path().join(format!("reference-{tag}"));
    ok(&build(ws, &[profile], &out, &[]));
    add_user_entries(&out.join("an-cluster"));
    snapshot(&out.join("an-cluster"))
}

/// The files the manifest lists.
fn manifest_paths(tree: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(tree.join(MANIFEST))
        .unwrap()
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.splitn(3, ' ').nth(2).unwrap().to_string())
        .collect()
}

#[test]
fn test_rebuild_keeps_the_users_entries_as_they_were() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    let user = add_user_entries(&tree);
    let before = inodes(&tree, &user);
    let v2 = v2(&ws);
    ok(&build(&ws, &[&v2], &out, &[]));
    // Same inodes (hard links, symlinks linked themselves), so same bytes,
    // targets, modes and owners; and the new build's files.
    assert_eq!(inodes(&tree, &user), before);
    assert_eq!(snapshot(&tree), reference(&ws, &v2, "v2"));
    let ks = std::fs::read_to_string(tree.join("ks/an-node01.ks")).unwrap();
    assert!(ks.contains("Europe/Berlin"), "not the new build");
    // Nothing else in DIR: no lock file, no staging or old tree.
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
    // The manifest lists exactly what the build wrote.
    let sums: BTreeSet<String> = std::fs::read_to_string(tree.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| l[66..].to_string())
        .chain(["SHA256SUMS".to_string()])
        .collect();
    assert_eq!(manifest_paths(&tree), sums);
    // A file of the build's that the user deleted comes back.
    std::fs::remove_file(tree.join("SUMMARY.md")).unwrap();
    ok(&build(&ws, &[&v2], &out, &[]));
    assert!(tree.join("SUMMARY.md").is_file());
    assert_eq!(inodes(&tree, &user), before);
}

#[test]
fn test_rebuild_keeps_a_fifo_and_a_hard_linked_file() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    let st = Command::new("mkfifo")
        .arg(tree.join("tftpboot/log.fifo"))
        .status()
        .unwrap();
    assert!(st.success());
    // A boot file that is a hard link to the system's copy.
    let system = ws.path().join("pxelinux.0");
    std::fs::write(&system, b"pxelinux").unwrap();
    std::fs::hard_link(&system, tree.join("tftpboot/pxelinux.0")).unwrap();
    let before = inodes(
        &tree,
        &["tftpboot/log.fifo".into(), "tftpboot/pxelinux.0".into()],
    );
    ok(&build(&ws, &[&v2(&ws)], &out, &[]));
    let after = inodes(
        &tree,
        &["tftpboot/log.fifo".into(), "tftpboot/pxelinux.0".into()],
    );
    assert_eq!(after, before);
    assert!(tree
        .join("tftpboot/log.fifo")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_fifo());
    // Two names, as before: the system's and the tree's.
    assert_eq!(system.metadata().unwrap().nlink(), 2);
}

#[test]
fn test_rebuild_is_byte_identical() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    let first = snapshot(&tree);
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    assert_eq!(snapshot(&tree), first);
    // And the same as a build into another folder.
    let other = ws.path().join("other");
    ok(&build(&ws, &[&ws.profile()], &other, &[]));
    assert_eq!(snapshot(&other.join("an-cluster")), first);
}

#[test]
fn test_build_refuses_the_folder_that_holds_the_profile() {
    // The profile kept in an-cluster/, built with --out . from its parent.
    let ws = Workspace::new();
    let folder = ws.path().join("an-cluster");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(ws.profile(), folder.join("an-cluster.toml")).unwrap();
    copy_dir(
        &ws.path().join("profiles/an-cluster.secrets"),
        &folder.join("an-cluster.secrets"),
    );
    let before = snapshot(&folder);
    let top = names(ws.path());
    let o = build(&ws, &[&folder.join("an-cluster.toml")], Path::new("."), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("not a clusterkick output") && err.contains("an-cluster"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(snapshot(&folder), before, "the profile's folder changed");
    assert_eq!(names(ws.path()), top, "something was left in DIR");
}

#[test]
fn test_a_plain_file_or_symlink_at_the_clusters_place_is_refused_untouched() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let file = out.join("an-cluster");
    std::fs::write(&file, b"my notes about an-cluster\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ino = inode(&file);
    let o = build(&ws, &[&ws.profile()], &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    assert_eq!(inode(&file), ino);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"my notes about an-cluster\n"
    );
    assert_eq!(file.metadata().unwrap().mode() & 0o7777, 0o600);
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));

    // A symlink to a folder: neither is touched.
    std::fs::remove_file(&file).unwrap();
    let elsewhere = ws.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep"), b"x").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    let o = build(&ws, &[&ws.profile()], &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert_eq!(std::fs::read_link(&file).unwrap(), elsewhere);
    assert_eq!(names(&elsewhere), BTreeSet::from(["keep".to_string()]));
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
}

#[test]
fn test_files_of_the_build_that_the_user_changed_stop_it_and_change_nothing() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    add_user_entries(&tree);
    let mut ks = std::fs::read_to_string(tree.join("ks/an-node01.ks")).unwrap();
    ks.push_str("# my local change\n");
    std::fs::write(tree.join("ks/an-node01.ks"), ks).unwrap();
    std::fs::set_permissions(
        tree.join("overlay/an-node02.tar.gz"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // A file of the build's replaced by a folder.
    std::fs::remove_file(tree.join("network-map.svg")).unwrap();
    std::fs::create_dir(tree.join("network-map.svg")).unwrap();
    let before = snapshot(&tree);
    let inos = inode(&tree);
    let o = build(&ws, &[&v2(&ws)], &out, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for want in [
        "ks/an-node01.ks: its content changed",
        "overlay/an-node02.tar.gz: its mode is 0644; clusterkick wrote it 0640",
        "network-map.svg: clusterkick wrote a file here; it is now a folder",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    // Only those: the user's own entries are no conflict.
    let listed = err
        .lines()
        .filter(|l| l.starts_with(&format!("  {}/", tree.display())))
        .count();
    assert_eq!(listed, 3, "{err}");
    assert_eq!(snapshot(&tree), before);
    assert_eq!(inode(&tree), inos);
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
}

#[test]
fn test_a_user_file_where_the_build_now_writes_is_refused() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    // The user's own pxelinux file for a MAC the profile does not know yet.
    let mine = tree.join("tftpboot/pxelinux.cfg/01-00-00-5e-00-53-2a");
    std::fs::write(&mine, b"default local\n").unwrap();
    let before = snapshot(&tree);
    let moved = ws.variant("an-cluster-newmac", |s| {
        s.replace(
            "eth2 = \"00:00:5E:00:53:22\"",
            "eth2 = \"00:00:5E:00:53:2A\"",
        )
    });
    let o = build(&ws, &[&moved], &out, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pxelinux.cfg/01-00-00-5e-00-53-2a: it is a file of yours, and the build now writes a file there"),
        "{err}"
    );
    assert_eq!(snapshot(&tree), before);
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
}

/// A fleet: the example under other cluster names.
fn fleet(ws: &Workspace, n: usize) -> Vec<PathBuf> {
    fleet_with(ws, n, |s| s)
}

/// A fleet with one more edit to every profile.
fn fleet_with(ws: &Workspace, n: usize, edit: fn(String) -> String) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            ws.variant(&format!("fleet-{i:02}"), |s| {
                edit(s.replace("name = \"an-cluster\"", &format!("name = \"fleet-{i:02}\"")))
            })
        })
        .collect()
}

#[test]
fn test_multi_profile_build_is_all_or_nothing() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let profiles = fleet(&ws, 3);
    let refs: Vec<&Path> = profiles.iter().map(PathBuf::as_path).collect();
    ok(&build(&ws, &refs, &out, &[]));
    // fleet-02's tree gets a user file where the next build writes one.
    let edited = fleet_with(&ws, 3, |s| {
        s.replace(
            "timezone = \"America/Toronto\"",
            "timezone = \"Europe/Berlin\"",
        )
        .replace(
            "eth2 = \"00:00:5E:00:53:22\"",
            "eth2 = \"00:00:5E:00:53:2A\"",
        )
    });
    std::fs::write(
        out.join("fleet-02/tftpboot/pxelinux.cfg/01-00-00-5e-00-53-2a"),
        b"mine\n",
    )
    .unwrap();
    let before: Vec<_> = (0..3)
        .map(|i| snapshot(&out.join(format!("fleet-{i:02}"))))
        .collect();
    let top = names(&out);
    let refs: Vec<&Path> = edited.iter().map(PathBuf::as_path).collect();
    let o = build(&ws, &refs, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("fleet-02/tftpboot/pxelinux.cfg/01-00-00-5e-00-53-2a"),
        "{}",
        stderr(&o)
    );
    for (i, b) in before.iter().enumerate() {
        assert_eq!(
            &snapshot(&out.join(format!("fleet-{i:02}"))),
            b,
            "fleet-{i:02}"
        );
    }
    assert_eq!(names(&out), top, "leftovers in DIR");
}

#[test]
fn test_fleet_build_writes_the_helper_once() {
    let ws = Workspace::new();
    let profiles = fleet(&ws, 8);
    let refs: Vec<&Path> = profiles.iter().map(PathBuf::as_path).collect();
    for round in 0..6 {
        let out = ws.path().join(format!("out-{round}"));
        ok(&build(&ws, &refs, &out, &[]));
        let blobs: Vec<PathBuf> = (0..8)
            .flat_map(|i| {
                std::fs::read_dir(out.join(format!("fleet-{i:02}/blobs")))
                    .unwrap()
                    .map(|e| e.unwrap().path())
            })
            .collect();
        assert_eq!(blobs.len(), 8);
        let inos: BTreeSet<_> = blobs.iter().map(|b| inode(b)).collect();
        assert_eq!(
            inos.len(),
            1,
            "round {round}: the helper was written {} times",
            inos.len()
        );
        // And no other name holds it (nothing left behind in DIR).
        assert_eq!(blobs[0].metadata().unwrap().nlink(), 8, "round {round}");
        // A rebuild of the fleet into the same DIR: still one file.
        ok(&build(&ws, &refs, &out, &[]));
        let inos: BTreeSet<_> = (0..8)
            .flat_map(|i| {
                std::fs::read_dir(out.join(format!("fleet-{i:02}/blobs")))
                    .unwrap()
                    .map(|e| inode(&e.unwrap().path()))
            })
            .collect();
        assert_eq!(inos.len(), 1, "round {round}, rebuild");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn test_three_builds_at_once_take_turns() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let v1 = ws.profile();
    let v2 = v2(&ws);
    let refs = [reference(&ws, &v1, "v1"), reference(&ws, &v2, "v2")];
    let spawn = |profile: &Path| {
        Command::new(CLUSTERKICK)
            .arg("build")
            .arg(profile)
            .arg("--out")
            .arg(&out)
            .arg("--helper")
            .arg(ws.helper())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Three first builds into a DIR that does not exist yet.
    let children: Vec<_> = (0..3).map(|_| spawn(&v1)).collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "first builds: {}", stderr(&o));
    }
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
    let tree = out.join("an-cluster");
    let user = add_user_entries(&tree);
    let before = inodes(&tree, &user);
    for round in 0..12 {
        let (profile, want) = if round % 2 == 0 {
            (&v2, &refs[1])
        } else {
            (&v1, &refs[0])
        };
        let children: Vec<_> = (0..3).map(|_| spawn(profile)).collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", stderr(&o));
        }
        assert_eq!(&snapshot(&tree), want, "round {round}");
        assert_eq!(inodes(&tree, &user), before, "round {round}: user files");
        assert_eq!(
            names(&out),
            BTreeSet::from(["an-cluster".to_string()]),
            "round {round}: leftovers"
        );
    }
}

#[test]
fn test_a_build_waits_for_the_one_holding_the_lock_and_says_so() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    let before = snapshot(&tree);
    let lock = std::fs::File::create(out.join(LOCK_FILE)).unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(CLUSTERKICK)
        .arg("build")
        .arg(v2(&ws))
        .arg("--out")
        .arg(&out)
        .arg("--helper")
        .arg(ws.helper())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let waiting = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.contains("waiting for another clusterkick build"))
        .expect("the build did not say it waits");
    assert!(waiting.contains(&out.display().to_string()), "{waiting}");
    // It waits: nothing changed yet.
    assert_eq!(snapshot(&tree), before);
    drop(lock);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert_ne!(snapshot(&tree), before);
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
}

/// Kills a rebuild (v1 → v2, user entries in the tree) right before its
/// 1st, 2nd, 3rd ... change, until one runs to the end. After every kill
/// DIR/an-cluster is the whole old tree or the whole new one, with the
/// user's entries; the next build ends with the new tree and nothing left
/// over. The build numbers its own changes, so no timing is involved.
#[test]
fn test_a_build_killed_at_any_step_leaves_a_whole_tree_and_the_next_sweeps() {
    let ws = Workspace::new();
    let v1 = ws.profile();
    let v2 = v2(&ws);
    let old = reference(&ws, &v1, "v1");
    let new = reference(&ws, &v2, "v2");
    assert_ne!(old, new);
    // DIR as the user has it: a v1 build with their entries. Each round
    // starts from a copy (cp -a keeps modes, symlinks and the helper's
    // hard links).
    let template = ws.path().join("reference-v1");
    let user = user_entries();
    let mut step = 1;
    loop {
        assert!(step < 1000, "the build never finished");
        let out = ws.path().join(format!("kill-{step}"));
        let st = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        let tree = out.join("an-cluster");
        let before = inodes(&tree, &user);
        assert_eq!(snapshot(&tree), old);
        let o = build(&ws, &[&v2], &out, &[(KILL_AT_STEP, step.to_string())]);
        let finished = o.status.success();
        assert!(
            finished || o.status.signal() == Some(9),
            "step {step}: {:?} {}",
            o.status,
            stderr(&o)
        );
        let now = snapshot(&tree);
        assert!(
            now == old || now == new,
            "step {step}: DIR/an-cluster is neither the old nor the new tree"
        );
        assert_eq!(inodes(&tree, &user), before, "step {step}: user entries");
        // The next build finishes the job and leaves nothing behind.
        ok(&build(&ws, &[&v2], &out, &[]));
        assert_eq!(snapshot(&tree), new, "step {step}: after the next build");
        assert_eq!(inodes(&tree, &user), before, "step {step}: user entries");
        assert_eq!(
            names(&out),
            BTreeSet::from(["an-cluster".to_string()]),
            "step {step}: leftovers"
        );
        std::fs::remove_dir_all(&out).unwrap();
        if finished {
            break;
        }
        step += 1;
    }
    // Every change was a place to die: there are many of them.
    assert!(step > 40, "only {step} steps");
}

/// The same for a first build into a new DIR: killed anywhere, there is no
/// DIR/an-cluster or a whole one, and the next build leaves only that.
#[test]
fn test_a_first_build_killed_at_any_step_leaves_nothing_or_a_whole_tree() {
    let ws = Workspace::new();
    let clean = ws.path().join("clean");
    ok(&build(&ws, &[&ws.profile()], &clean, &[]));
    let whole = snapshot(&clean.join("an-cluster"));
    let mut step = 1;
    loop {
        assert!(step < 1000, "the build never finished");
        let out = ws.path().join(format!("first-{step}"));
        let o = build(
            &ws,
            &[&ws.profile()],
            &out,
            &[(KILL_AT_STEP, step.to_string())],
        );
        let finished = o.status.success();
        assert!(
            finished || o.status.signal() == Some(9),
            "step {step}: {}",
            stderr(&o)
        );
        let tree = out.join("an-cluster");
        if tree.exists() {
            assert_eq!(snapshot(&tree), whole, "step {step}");
        }
        ok(&build(&ws, &[&ws.profile()], &out, &[]));
        assert_eq!(snapshot(&tree), whole, "step {step}: after the next build");
        assert_eq!(
            names(&out),
            BTreeSet::from(["an-cluster".to_string()]),
            "step {step}"
        );
        std::fs::remove_dir_all(&out).unwrap();
        if finished {
            break;
        }
        step += 1;
    }
    assert!(step > 20, "only {step} steps");
}

/// A file system mounted inside an earlier output (the install tree bound
/// under tftpboot/, say) cannot move into a new tree: the build refuses and
/// changes nothing, on either side of the mount. Runs the build in its own
/// mount namespace (unshare -rm), so the test needs no privilege.
#[test]
fn test_a_mount_inside_the_tree_is_refused_and_left_alone() {
    let unshare = require("unshare", "util-linux");
    let ws = Workspace::new();
    let out = ws.path().join("out");
    ok(&build(&ws, &[&ws.profile()], &out, &[]));
    let tree = out.join("an-cluster");
    std::fs::create_dir_all(tree.join("tftpboot/images")).unwrap();
    std::fs::create_dir_all(tree.join("tftpboot/bound")).unwrap();
    let source = ws.path().join("install-tree");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("vmlinuz"), b"kernel").unwrap();
    let before = snapshot(&tree);
    let script = r#"set -e
mount -t tmpfs tmpfs "$1/tftpboot/images"
echo initrd > "$1/tftpboot/images/initrd.img"
mount --bind "$2" "$1/tftpboot/bound"
"$3" build "$4" --out "$5" --helper "$6" && exit 0
status=$?
# Inside the namespace: the mounts and what they hold are as they were.
test "$(cat "$1/tftpboot/images/initrd.img")" = initrd
test "$(cat "$1/tftpboot/bound/vmlinuz")" = kernel
exit $status"#;
    let o = Command::new(unshare)
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(&tree)
        .arg(&source)
        .arg(CLUSTERKICK)
        .arg(v2(&ws))
        .arg(&out)
        .arg(ws.helper())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for m in ["tftpboot/images", "tftpboot/bound"] {
        assert!(
            err.contains(&format!("{m}: another file system is mounted here")),
            "{m}: {err}"
        );
    }
    assert_eq!(snapshot(&tree), before);
    assert_eq!(std::fs::read(source.join("vmlinuz")).unwrap(), b"kernel");
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));

    // DIR/<cluster> itself a mount point (holding an earlier output): a
    // folder swap cannot replace a mount; refused, the mount left as it is.
    let script = r#"set -e
mount --bind "$1" "$1"
"$2" build "$3" --out "$4" --helper "$5" && exit 0
status=$?
test -f "$1/.clusterkick-manifest"
exit $status"#;
    let o = Command::new(require("unshare", "util-linux"))
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(&tree)
        .arg(CLUSTERKICK)
        .arg(v2(&ws))
        .arg(&out)
        .arg(ws.helper())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("an-cluster is a mount point"), "{err}");
    assert_eq!(snapshot(&tree), before);
    assert_eq!(names(&out), BTreeSet::from(["an-cluster".to_string()]));
}
