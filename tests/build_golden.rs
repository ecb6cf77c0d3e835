//! The example profile's kickstarts and every overlay file, byte for byte
//! against reviewed golden files; determinism; tarball modes.

mod support;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use support::*;

const NODES: [&str; 2] = ["an-node01", "an-node02"];

#[test]
fn test_build_matches_golden_files() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    for node in NODES {
        let ks = std::fs::read(out.join(format!("ks/{node}.ks"))).unwrap();
        golden(&format!("an-cluster/ks/{node}.ks"), &ks);
        let x = untar(&out.join(format!("overlay/{node}.tar.gz")));
        let mut n = 0;
        let mut made = std::collections::BTreeSet::new();
        for e in walkdir::WalkDir::new(x.path()).sort_by_file_name() {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e
                    .path()
                    .strip_prefix(x.path())
                    .unwrap()
                    .display()
                    .to_string();
                golden(
                    &format!("an-cluster/overlay/{node}/{rel}"),
                    &std::fs::read(e.path()).unwrap(),
                );
                made.insert(rel);
                n += 1;
            }
        }
        assert!(n >= 12, "{node}: only {n} overlay files");
        // No golden file for an overlay file the build no longer writes.
        let dir = repo().join(format!("tests/golden/an-cluster/overlay/{node}"));
        let kept: std::collections::BTreeSet<String> = walkdir::WalkDir::new(&dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            kept, made,
            "tests/golden/an-cluster/overlay/{node} holds files the overlay does not (remove them with git rm)"
        );
    }
    golden(
        "an-cluster/SUMMARY.md",
        &std::fs::read(out.join("SUMMARY.md")).unwrap(),
    );
    for f in [
        "tftpboot/pxelinux.cfg/default",
        "tftpboot/pxelinux.cfg/01-00-0e-0c-59-45-78",
        "tftpboot/pxelinux.cfg/01-00-00-5e-00-53-22",
        "nginx-clusterkick.conf",
    ] {
        golden(
            &format!("an-cluster/{f}"),
            &std::fs::read(out.join(f)).unwrap(),
        );
    }
    golden(
        "an-cluster/network-map.svg",
        &std::fs::read(out.join("network-map.svg")).unwrap(),
    );
}

#[test]
fn test_build_twice_gives_identical_sha256sums() {
    let a = Workspace::new();
    let b = Workspace::new();
    let sa = std::fs::read_to_string(a.build(&a.profile()).join("SHA256SUMS")).unwrap();
    // Different folder, different time: same bytes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let sb = std::fs::read_to_string(b.build(&b.profile()).join("SHA256SUMS")).unwrap();
    assert_eq!(sa, sb);
    assert!(sa.lines().count() >= 7, "{sa}");
    for must in [
        "ks/an-node01.ks",
        "ks/an-node02.ks",
        "overlay/an-node01.tar.gz",
        "overlay/an-node02.tar.gz",
        "network-map.svg",
        "SUMMARY.md",
    ] {
        assert!(
            sa.lines().any(|l| l.ends_with(&format!("  {must}"))),
            "{must} missing from SHA256SUMS"
        );
    }
}

#[test]
fn test_sha256sums_verifies_with_coreutils() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let o = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // Every file in the tree is listed (except the list itself and the
    // build's own record of what it wrote, .clusterkick-manifest).
    let listed: Vec<String> = std::fs::read_to_string(out.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| l[66..].to_string())
        .collect();
    for e in walkdir::WalkDir::new(&out) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&out).unwrap().display().to_string();
            if rel != "SHA256SUMS" && rel != clusterkick::outdir::MANIFEST {
                assert!(listed.contains(&rel), "{rel} is not in SHA256SUMS");
            }
        }
    }
}

#[test]
fn test_overlay_extracts_with_gnu_tar_with_owners_and_modes() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let tgz = out.join("overlay/an-node01.tar.gz");
    // Owners as GNU tar lists them.
    let list = Command::new("tar")
        .args(["-tvzf"])
        .arg(&tgz)
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    for line in list.lines() {
        assert!(line.contains(" root/root "), "not root-owned: {line}");
        assert!(
            line.contains(" 2010-05-11 00:00 "),
            "mtime not fixed: {line}"
        );
    }
    let x = untar(&tgz);
    let mode = |p: &str| {
        std::fs::metadata(x.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("etc/cluster/cluster.conf"), 0o640);
    assert_eq!(mode("etc/clusterkick/firstboot.key"), 0o600);
    assert_eq!(mode("etc/clusterkick/firstboot.toml"), 0o600);
    assert_eq!(mode("etc/xen/scripts/an-network-script"), 0o755);
    assert_eq!(mode("etc/rc.d/init.d/clusterkick-firstboot"), 0o755);
    assert_eq!(mode("etc/rc.d/init.d/clusterkick-drbd"), 0o755);
    // The Node Assassin agent's config holds the device password.
    assert_eq!(mode("etc/clusterkick/fence_na.toml"), 0o600);
    // DRBD's fence-peer handler is the helper's mode now, not a script.
    assert!(!x
        .path()
        .join("usr/lib/drbd/clusterkick-fence-peer.sh")
        .exists());
    // drbd.conf holds the peers' shared secret; cman's key is a secret.
    assert_eq!(mode("etc/drbd.conf"), 0o600);
    assert_eq!(mode("etc/cluster/cman_authkey"), 0o600);
    assert_eq!(mode("etc/sysconfig/network-scripts/ifcfg-eth2"), 0o644);
    // The output tree keeps secrets away from other users too.
    let m = std::fs::metadata(&tgz).unwrap().permissions().mode() & 0o777;
    assert_eq!(m & 0o007, 0, "overlay tarball is world-readable: {m:o}");
}

#[test]
fn test_kickstart_and_logs_hold_no_secrets() {
    let ws = Workspace::new();
    let o = Command::new(CLUSTERKICK)
        .args(["build"])
        .arg(ws.profile())
        .args(["--out"])
        .arg(ws.path().join("out"))
        .arg("--helper")
        .arg(ws.helper())
        .output()
        .unwrap();
    assert!(o.status.success());
    let key = std::fs::read_to_string(ws.path().join("profiles/an-cluster.secrets/firstboot.key"))
        .unwrap();
    let key = key.trim();
    let out = ws.path().join("out/an-cluster");
    for f in [
        "ks/an-node01.ks",
        "ks/an-node02.ks",
        "SUMMARY.md",
        "network-map.svg",
        "SHA256SUMS",
    ] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !text.contains("passwd=\"secret\"") && !text.contains(key),
            "{f} holds a secret"
        );
    }
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !logs.contains(key) && !logs.contains("\"secret\""),
        "build output leaks a secret: {logs}"
    );
}

#[test]
fn test_firstboot_config_in_overlay_parses_for_both_nodes() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    for (i, node) in NODES.iter().enumerate() {
        let x = untar(&out.join(format!("overlay/{node}.tar.gz")));
        let cfg = clusterkick::firstboot::config::FirstbootConfig::load(
            &x.path().join("etc/clusterkick/firstboot.toml"),
        )
        .unwrap();
        assert_eq!(cfg.node.short, *node);
        assert_eq!(cfg.peer.short, NODES[1 - i]);
        assert_eq!(
            cfg.drbd.initial_primary,
            i == 0,
            "only an-node01 is the profile's DRBD primary"
        );
        assert_eq!(cfg.drbd.backing_vg, format!("an-lvm0{}", i + 1));
        assert_eq!(cfg.listen, format!("10.0.1.7{}:7790", i + 1));
        assert_eq!(cfg.clvm.volumes.len(), 2);
        assert_eq!(
            cfg.clvm.volumes[0].gfs2.as_ref().unwrap().lock_table,
            "an-cluster:iso_store"
        );
    }
}

#[test]
fn test_rebuild_keeps_boot_files_the_user_added_to_tftpboot() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    std::fs::write(out.join("tftpboot/pxelinux.0"), b"syslinux's, not ours").unwrap();
    std::fs::create_dir_all(out.join("tftpboot/images/pxeboot")).unwrap();
    std::fs::write(out.join("tftpboot/images/pxeboot/vmlinuz"), b"kernel").unwrap();
    let out = ws.build(&ws.profile());
    assert_eq!(
        std::fs::read(out.join("tftpboot/pxelinux.0")).unwrap(),
        b"syslinux's, not ours"
    );
    assert_eq!(
        std::fs::read(out.join("tftpboot/images/pxeboot/vmlinuz")).unwrap(),
        b"kernel"
    );
    // The build's own files are still the build's.
    let o = Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}
