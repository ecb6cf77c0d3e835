//! The HTTP side of a PXE install, served by a real HTTP server on
//! loopback: the real %post fetches its overlay and the first-boot helper
//! from it, verifies them and unpacks; a tampered file is refused.

mod support;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

/// Runs the node's %post (from its built kickstart) against a new fixture
/// root with SOURCE pointing at the server; returns the run and its result.
fn run_post(out: &Path, node: &str, source: &str) -> (PostRun, Output) {
    require("wget", "wget");
    let p = PostRun::new(out, node);
    let o = p.run(source);
    (p, o)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Copies the served tree so that a test can tamper with its own copy.
fn served_copy(out: &Path) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(out, d.path());
    d
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// `bad` is the tampered file, relative to the served tree.
fn assert_refused(root: &Path, o: &Output, what: &str, bad: &str) {
    assert!(!o.status.success(), "%post accepted a tampered {what}");
    let failed = std::fs::read_to_string(root.join("etc/clusterkick/POST-FAILED"))
        .unwrap_or_else(|_| panic!("no POST-FAILED after a tampered {what}: {}", text(o)));
    assert!(
        failed.contains("sha256") && failed.contains("refusing"),
        "{failed}"
    );
    // Nothing from the overlay or the helper reached the system.
    for p in [
        "etc/cluster/cluster.conf",
        "etc/drbd.conf",
        "usr/sbin/clusterkick-firstboot",
        "etc/clusterkick/post-done",
    ] {
        assert!(!root.join(p).exists(), "{p} exists after a tampered {what}");
    }
    // The bad download is not left behind either.
    assert!(
        !root.join("root/clusterkick").join(bad).exists(),
        "{bad} kept"
    );
}

#[test]
fn test_post_fetches_and_verifies_from_a_served_build() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);

    // The kickstart URL that the node's pxelinux entry names is served.
    let pxe =
        std::fs::read_to_string(out.join("tftpboot/pxelinux.cfg/01-00-0e-0c-59-45-78")).unwrap();
    let ks_url = pxe
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ks="))
        .unwrap();
    let local = ks_url.replace("http://10.0.1.1/an-cluster", &server.url);
    let got = Command::new("wget")
        .args(["-q", "-O", "-", &local])
        .output()
        .unwrap();
    assert_eq!(
        got.stdout,
        std::fs::read(out.join("ks/an-node01.ks")).unwrap()
    );

    let (t, o) = run_post(&out, "an-node01", &server.url);
    assert!(o.status.success(), "%post failed: {}", text(&o));
    let root = t.root.clone();
    assert!(!root.join("etc/clusterkick/POST-FAILED").exists());
    // The overlay landed: every file in it is in the root, byte for byte.
    let overlay = untar(&out.join("overlay/an-node01.tar.gz"));
    let mut files = 0;
    for e in walkdir::WalkDir::new(overlay.path()) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(overlay.path()).unwrap();
            assert_eq!(
                std::fs::read(root.join(rel)).unwrap(),
                std::fs::read(e.path()).unwrap(),
                "{}",
                rel.display()
            );
            files += 1;
        }
    }
    assert!(files > 5, "overlay has only {files} files");
    assert!(root.join("etc/cluster/cluster.conf").is_file());
    assert_eq!(
        std::fs::read(root.join("usr/sbin/clusterkick-firstboot")).unwrap(),
        std::fs::read(ws.helper()).unwrap()
    );
    assert!(text(&o).contains("verified"), "{}", text(&o));
}

#[test]
fn test_post_refuses_a_tampered_overlay() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let served = served_copy(&out);
    flip_a_byte(&served.path().join("overlay/an-node01.tar.gz"));
    let server = serve(served.path());
    let (t, o) = run_post(&out, "an-node01", &server.url);
    assert_refused(&t.root, &o, "overlay", "overlay/an-node01.tar.gz");
}

#[test]
fn test_post_refuses_a_tampered_helper() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let served = served_copy(&out);
    let blob = std::fs::read_dir(served.path().join("blobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    flip_a_byte(&blob);
    let rel = blob
        .strip_prefix(served.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let server = serve(served.path());
    let (t, o) = run_post(&out, "an-node01", &server.url);
    assert_refused(&t.root, &o, "first-boot helper", &rel);
}

#[test]
fn test_post_refuses_another_nodes_overlay() {
    // A server that hands an-node01 the overlay of an-node02 (a mix-up, or
    // someone replaying a file): a valid tarball, but not the pinned one.
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let served = served_copy(&out);
    std::fs::copy(
        served.path().join("overlay/an-node02.tar.gz"),
        served.path().join("overlay/an-node01.tar.gz"),
    )
    .unwrap();
    let server = serve(served.path());
    let (t, o) = run_post(&out, "an-node01", &server.url);
    assert_refused(&t.root, &o, "overlay", "overlay/an-node01.tar.gz");
}
