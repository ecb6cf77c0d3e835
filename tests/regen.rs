//! Regenerating for years (issue 9): secrets made once by `clusterkick
//! secrets` and never by a build; the lock file's config_version, raised
//! by exactly one when cluster.conf changes and kept otherwise; rebuilds
//! byte-identical, here and on another machine; a MAC change touches only
//! its node; no secret in any file but the root-only ones that must hold
//! it, nor in any message; a folder of profiles; a third node refused.

mod support;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

/// Every file of a built cluster: path → (mode, bytes); an overlay
/// tarball's members are entries of their own (`overlay/x.tar.gz:etc/...`).
type Tree = BTreeMap<String, (u32, Vec<u8>)>;

fn tree(dir: &Path) -> Tree {
    let mut t = Tree::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let bytes = std::fs::read(e.path()).unwrap();
        let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
        if rel.ends_with(".tar.gz") {
            let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
            for m in ar.entries().unwrap() {
                let mut m = m.unwrap();
                let path = m.path().unwrap().display().to_string();
                let mode = m.header().mode().unwrap();
                // Every member is root's (a secret's group is root's too).
                assert_eq!(
                    (m.header().uid().unwrap(), m.header().gid().unwrap()),
                    (0, 0)
                );
                let mut body = Vec::new();
                m.read_to_end(&mut body).unwrap();
                t.insert(format!("{rel}:{path}"), (mode, body));
            }
        }
        t.insert(rel, (mode, bytes));
    }
    t
}

fn changed(a: &Tree, b: &Tree) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

fn build(ws: &Workspace, profile: &Path, out: &Path) -> Output {
    ws.run(&[
        "build",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ])
}

fn ok(o: Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{what}: {err}");
    err
}

fn text(t: &Tree, key: &str) -> String {
    String::from_utf8(t.get(key).unwrap_or_else(|| panic!("no {key}")).1.clone()).unwrap()
}

fn config_version(cluster_conf: &str) -> u32 {
    let at = cluster_conf.find("config_version=\"").unwrap() + 16;
    cluster_conf[at..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

const CLUSTER_CONF: &str = "overlay/an-node01.tar.gz:etc/cluster/cluster.conf";

#[test]
fn test_config_version_moves_exactly_when_cluster_conf_changes() {
    let ws = Workspace::new();
    let profile = ws.profile();
    let lock = ws.path().join("profiles/an-cluster.lock");
    let out = ws.path().join("out");
    ok(build(&ws, &profile, &out), "first build");
    let first = tree(&out.join("an-cluster"));
    let lock_first = std::fs::read(&lock).unwrap();
    assert_eq!(config_version(&text(&first, CLUSTER_CONF)), 1);
    // The same build again: byte-identical, the version kept, the lock
    // untouched.
    ok(build(&ws, &profile, &out), "second build");
    let second = tree(&out.join("an-cluster"));
    assert_eq!(changed(&first, &second), Vec::<String>::new());
    assert_eq!(std::fs::read(&lock).unwrap(), lock_first);

    // A fence device changes: cluster.conf's version goes up by exactly
    // one, and only the files that carry the device change.
    let p = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        p.replace("motoko.alteeve.com", "motoko-2.alteeve.com"),
    )
    .unwrap();
    let err = ok(build(&ws, &profile, &out), "fence change");
    assert!(err.contains("note: config_version 1 -> 2"), "{err}");
    let third = tree(&out.join("an-cluster"));
    assert_eq!(config_version(&text(&third, CLUSTER_CONF)), 2);
    let diff = changed(&second, &third);
    for node in ["an-node01", "an-node02"] {
        for f in ["etc/cluster/cluster.conf", "etc/clusterkick/fence_na.toml"] {
            assert!(
                diff.contains(&format!("overlay/{node}.tar.gz:{f}")),
                "{f} did not change on {node}: {diff:?}"
            );
        }
    }
    // What else may change: what pins or describes those files.
    for d in &diff {
        let allowed = d.ends_with("etc/cluster/cluster.conf")
            || d.ends_with("etc/clusterkick/fence_na.toml")
            || d.ends_with(".tar.gz")
            || d.starts_with("ks/")
            || d == "SUMMARY.md"
            || d == ".clusterkick-manifest"
            || d == "SHA256SUMS";
        assert!(allowed, "{d} changed with a fence device: {diff:?}");
    }
    // Built again: kept at 2, byte-identical.
    ok(build(&ws, &profile, &out), "rebuild");
    assert_eq!(
        changed(&third, &tree(&out.join("an-cluster"))),
        Vec::<String>::new()
    );
    let lock_text = std::fs::read_to_string(&lock).unwrap();
    assert!(lock_text.contains("config_version = 2\n"), "{lock_text}");

    // A MAC change only: cluster.conf and its version unchanged, and no
    // file of the other node changes.
    let p = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        p.replacen("\"00:00:5E:00:53:20\"", "\"52:54:00:AA:BB:20\"", 1),
    )
    .unwrap();
    ok(build(&ws, &profile, &out), "MAC change");
    let fourth = tree(&out.join("an-cluster"));
    let diff = changed(&third, &fourth);
    assert!(!diff.is_empty());
    assert_eq!(config_version(&text(&fourth, CLUSTER_CONF)), 2);
    for d in &diff {
        assert!(
            !d.contains("an-node01") && !d.contains("00-0e-0c-59-45-78"),
            "{d}: an-node01's files changed with an-node02's MAC: {diff:?}"
        );
        assert!(
            !d.ends_with("cluster.conf") && !d.ends_with("drbd.conf"),
            "{d} changed with a MAC: {diff:?}"
        );
    }
    assert!(std::fs::read_to_string(&lock)
        .unwrap()
        .contains("config_version = 2\n"));
}

#[test]
fn test_the_same_profile_secrets_and_lock_build_the_same_bytes_elsewhere() {
    let a = Workspace::new();
    let out_a = a.path().join("out");
    ok(build(&a, &a.profile(), &out_a), "build a");
    // Another machine: a copy of the profile folder (profile, secrets,
    // lock) somewhere else, built into a folder of another name.
    let b = Workspace::new();
    std::fs::remove_dir_all(b.path().join("profiles")).unwrap();
    copy_dir(&a.path().join("profiles"), &b.path().join("profiles"));
    let out_b = b.path().join("elsewhere");
    ok(build(&b, &b.profile(), &out_b), "build b");
    assert_eq!(
        changed(
            &tree(&out_a.join("an-cluster")),
            &tree(&out_b.join("an-cluster"))
        ),
        Vec::<String>::new()
    );
}

#[test]
fn test_the_profiles_floor_raises_the_version_once() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    // A running cluster already at version 40 meets clusterkick.
    let p = ws.variant("floor", |s| {
        s.replace("name = \"an-cluster\"", "name = \"floor\"")
            .replace(
                "post_join_delay = 60",
                "post_join_delay = 60\nconfig_version = 40",
            )
    });
    ok(build(&ws, &p, &out), "build");
    let conf = "overlay/an-node01.tar.gz:etc/cluster/cluster.conf";
    assert_eq!(config_version(&text(&tree(&out.join("floor")), conf)), 40);
    ok(build(&ws, &p, &out), "build again");
    assert_eq!(config_version(&text(&tree(&out.join("floor")), conf)), 40);
}

#[test]
fn test_a_broken_lock_is_refused_and_nothing_written() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let lock = ws.path().join("profiles/an-cluster.lock");
    std::fs::write(&lock, "config_version = \"two\"\n").unwrap();
    let o = build(&ws, &ws.profile(), &out);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}: line 1, column 18", lock.display())),
        "{err}"
    );
    assert!(err.contains("restore it from version control"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        "config_version = \"two\"\n"
    );
}

/// A new cluster's profile with no secrets yet: the example, renamed.
fn bare(ws: &Workspace, name: &str) -> (PathBuf, PathBuf) {
    let p = ws.variant(name, |s| {
        s.replace("name = \"an-cluster\"", &format!("name = \"{name}\""))
    });
    let dir = ws.path().join(format!("profiles/{name}.secrets"));
    for f in ["firstboot.key", "drbd.secret", "cman.authkey"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    (p, dir)
}

#[test]
fn test_secrets_are_made_once_by_the_secrets_command_never_by_a_build() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let (p, dir) = bare(&ws, "fresh");
    // A build refuses, names each missing secret and the command, and
    // makes nothing.
    let o = build(&ws, &p, &out);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for f in ["firstboot.key", "drbd.secret", "cman.authkey"] {
        assert!(
            err.contains(&format!(
                "{} does not exist yet; make the cluster's secrets once with `clusterkick secrets {}`",
                dir.join(f).display(),
                p.display()
            )) || (f == "firstboot.key" && err.contains("firstboot.key (the default key file")),
            "{f}: {err}"
        );
        assert!(!dir.join(f).exists());
    }
    assert!(!out.exists());
    // `check` says the same.
    let c = ws.run(&["check", p.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(1));
    // `secrets` makes them: 0600, the sizes their readers take.
    let err = ok(ws.run(&["secrets", p.to_str().unwrap()]), "secrets");
    assert_eq!(err.matches("note: made a new").count(), 3, "{err}");
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    for f in ["firstboot.key", "drbd.secret", "cman.authkey"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    assert_eq!(std::fs::read(dir.join("cman.authkey")).unwrap().len(), 128);
    let drbd = std::fs::read_to_string(dir.join("drbd.secret")).unwrap();
    assert_eq!(drbd.trim_end().len(), 48);
    assert!(drbd.trim_end().chars().all(|c| c.is_ascii_hexdigit()));
    let before: Vec<Vec<u8>> = ["firstboot.key", "drbd.secret", "cman.authkey"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    // Made once: a second run makes nothing, and builds reuse them.
    let err = ok(ws.run(&["secrets", p.to_str().unwrap()]), "secrets again");
    assert!(
        err.contains("fresh: every secret exists; nothing made"),
        "{err}"
    );
    ok(build(&ws, &p, &out), "build");
    ok(build(&ws, &p, &out), "build again");
    let after: Vec<Vec<u8>> = ["firstboot.key", "drbd.secret", "cman.authkey"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
    let t = tree(&out.join("fresh"));
    assert_eq!(
        t["overlay/an-node01.tar.gz:etc/cluster/cman_authkey"].1,
        after[2]
    );
    assert!(text(&t, "overlay/an-node02.tar.gz:etc/drbd.conf")
        .contains(&format!("shared-secret \"{}\";", drbd.trim_end())));
}

/// Where a secret may be: only inside an overlay tarball, in a member
/// only root (user or group: every member is root:root) may read, in a
/// tarball the web server's group may read and no one else.
fn scan_for_secrets(t: &Tree, secrets: &[(String, Vec<u8>)], what: &str) {
    for (path, (mode, bytes)) in t {
        for (name, s) in secrets {
            if !contains(bytes, s) {
                continue;
            }
            let (tgz, member) = path
                .split_once(".tar.gz:")
                .unwrap_or_else(|| panic!("{what}: {name} is in {path}"));
            assert_eq!(
                mode & 0o007,
                0,
                "{what}: {name} is in {member} of {tgz}, mode {mode:o}"
            );
            let tar_mode = t[&format!("{tgz}.tar.gz")].0;
            assert_eq!(
                tar_mode & 0o007,
                0,
                "{what}: {tgz}.tar.gz is world-readable"
            );
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn test_no_secret_in_any_output_log_or_error() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    // Fresh secrets, and fence passwords long enough not to be found by
    // chance ("secret" is a word in drbd.conf).
    let mut all = Vec::new();
    for (ex, pws) in [
        ("an-cluster", vec!["motoko.passwd"]),
        ("an-cluster-el9", vec!["ipmi_n01.passwd", "ipmi_n02.passwd"]),
        (
            "an-cluster-debian12",
            vec!["ipmi_n01.passwd", "ipmi_n02.passwd"],
        ),
    ] {
        let dir = ws.path().join(format!("profiles/{ex}.secrets"));
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if !f.to_string_lossy().ends_with(".passwd") {
                std::fs::remove_file(&f).unwrap();
            }
        }
        for (i, pw) in pws.iter().enumerate() {
            let value = format!("Pw-{ex}-{i}-x9Qz7Lk2");
            std::fs::write(dir.join(pw), format!("{value}\n")).unwrap();
            all.push((format!("{ex} {pw}"), value.into_bytes()));
        }
        let p = ws.path().join(format!("profiles/{ex}.toml"));
        ok(ws.run(&["secrets", p.to_str().unwrap()]), "secrets");
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&f).unwrap();
            match name.as_str() {
                "firstboot.key" | "drbd.secret" => {
                    all.push((format!("{ex} {name}"), bytes.trim_ascii_end().to_vec()))
                }
                n if n.ends_with(".authkey") => {
                    // A binary key: any 16 bytes of it would do.
                    all.push((format!("{ex} {name}"), bytes[..16].to_vec()));
                    all.push((format!("{ex} {name} (hex)"), hex(&bytes[..16]).into_bytes()));
                }
                _ => {}
            }
        }
    }
    assert_eq!(all.len(), 1 + 2 + 2 + 3 * 2 + 3 * 2);
    let o = build(&ws, &ws.path().join("profiles"), &out);
    let log = [o.stdout.clone(), o.stderr.clone()].concat();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&log));
    for (name, s) in &all {
        assert!(!contains(&log, s), "{name} in the build's messages");
    }
    for cluster in ["an-cluster", "an-cluster-el9", "an-cluster-deb12"] {
        scan_for_secrets(&tree(&out.join(cluster)), &all, cluster);
    }
    // The locks hold keyed fingerprints only.
    for ex in ["an-cluster", "an-cluster-el9", "an-cluster-debian12"] {
        let lock = std::fs::read(ws.path().join(format!("profiles/{ex}.lock"))).unwrap();
        for (name, s) in &all {
            assert!(!contains(&lock, s), "{name} in {ex}.lock");
        }
    }
    // Errors: a render of a secret-bearing file is the user's own request
    // (stdout); every failing command's messages hold none.
    let p = ws.profile();
    let bad = ws.variant("bad", |s| s.replacen("id = 2", "id = 1", 1));
    std::fs::write(ws.path().join("profiles/an-cluster.lock"), "garbage").unwrap();
    for args in [
        vec![
            "build",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        vec!["check", bad.to_str().unwrap()],
        vec!["build", p.to_str().unwrap(), "--out", out.to_str().unwrap()],
        vec!["render", p.to_str().unwrap(), "--node", "nobody", "ks"],
        vec![
            "render",
            bad.to_str().unwrap(),
            "--node",
            "an-node01",
            "etc/drbd.conf",
        ],
    ] {
        let o = ws.run(&args);
        assert_ne!(o.status.code(), Some(0), "{args:?}");
        let log = [o.stdout, o.stderr].concat();
        for (name, s) in &all {
            assert!(!contains(&log, s), "{name} in the messages of {args:?}");
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn test_a_folder_of_profiles_builds_each_cluster_and_a_third_node_is_refused() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let o = build(&ws, &ws.path().join("profiles"), &out);
    let err = ok(o, "build a folder");
    assert!(err.contains("built 3 clusters"), "{err}");
    for c in ["an-cluster", "an-cluster-el9", "an-cluster-deb12"] {
        assert!(out.join(c).join("SUMMARY.md").is_file(), "{c}");
    }
    // Three nodes: refused at the third, with what to do instead.
    let p = ws.variant("three", |s| {
        let at = s.find("[[nodes]]").unwrap();
        let end = s[at + 1..].find("[[nodes]]").unwrap() + at + 1;
        let third = s[at..end]
            .replace("an-node01", "an-node03")
            .replace("id = 1", "id = 3");
        format!("{}{third}{}", &s[..end], &s[end..])
    });
    let o = ws.run(&["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("this profile has 3"), "{err}");
    assert!(err.contains("one profile per two-node cluster"), "{err}");
}
