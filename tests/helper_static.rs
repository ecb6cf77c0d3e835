//! The helper as it ships: the static musl build that scripts/test.sh and
//! scripts/build-example.sh make. `build` must accept it, and its `plan`
//! must answer on the build host from an unpacked overlay.

mod common;
use common::*;
use std::process::Command;

fn musl_helper() -> std::path::PathBuf {
    let p = repo().join("target/x86_64-unknown-linux-musl/release/clusterkick-firstboot");
    assert!(
        p.is_file(),
        "{} is missing: scripts/test.sh builds it (cargo build --release --target x86_64-unknown-linux-musl --bin clusterkick-firstboot)",
        p.display()
    );
    p
}

#[test]
fn test_build_ships_the_static_helper_once_and_plan_runs_from_the_overlay() {
    let helper = musl_helper();
    let bytes = std::fs::read(&helper).unwrap();
    clusterkick::helper_blob::check_runs_on(clusterkick::model::Platform::El5Xen, &bytes)
        .expect("the musl helper passes the el5 check");
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let o = ws.run(&[
        "build",
        ws.profile().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--helper",
        helper.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tree = out.join("an-cluster");
    // Written once, by content, and pinned by both kickstarts.
    let sha = clusterkick::build::sha256_hex(&bytes);
    let blobs: Vec<_> = std::fs::read_dir(tree.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(blobs, vec![std::ffi::OsString::from(&sha)]);
    for n in ["an-node01", "an-node02"] {
        let ks = std::fs::read_to_string(tree.join(format!("ks/{n}.ks"))).unwrap();
        assert!(ks.contains(&format!("HELPER_SHA256={sha}")));
        // Not packed into any overlay.
        let list = Command::new("tar")
            .arg("-tzf")
            .arg(tree.join(format!("overlay/{n}.tar.gz")))
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&list.stdout).contains("sbin/clusterkick-firstboot"));
    }
    let x = untar(&tree.join("overlay/an-node01.tar.gz"));
    let plan = Command::new(&helper)
        .args(["plan", "--config"])
        .arg(x.path().join("etc/clusterkick/firstboot.toml"))
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    let order = [
        "/etc/init.d/cman start",
        "lvcreate -L 400G -n lv02 an-lvm01",
        "drbdadm -- --force create-md r0",
        "drbdadm -- --overwrite-data-of-peer primary r0",
        "/etc/init.d/clvmd start",
        "pvcreate /dev/drbd0",
        "vgcreate -c y drbd_vg0 /dev/drbd0",
        "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store",
    ];
    let mut at = 0;
    for cmd in order {
        let pos = text[at..]
            .find(cmd)
            .unwrap_or_else(|| panic!("plan lacks {cmd:?} after offset {at}:\n{text}"));
        at += pos + cmd.len();
    }
}
