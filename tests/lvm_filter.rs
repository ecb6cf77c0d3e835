//! The lvm.conf filter the %post writes, run through LVM's own matching:
//! `pvs` over loop devices that carry PV labels, each given the names a
//! node's devices have (device nodes in a scratch /dev), with the filter
//! exactly as lvm2 reads it back from the edited lvm.conf, its `/dev/`
//! rewritten to the scratch folder. Only the DRBD device and the node's own
//! PV may be accepted; a guest's PV inside a clustered LV (named
//! /dev/drbd_vg0/vm01 and /dev/mapper/drbd_vg0-vm01) and the DRBD backing
//! LV (which carries the same PV label as /dev/drbd0) must not
//! (docs/evidence/el5.md §4: LVM accepts a device when any of its names
//! matches an `a` pattern first, and a pattern matches anywhere in a name
//! unless anchored).
//!
//! Needs root (losetup, mknod) and lvm2 2.03: `use_devicesfile=0`,
//! `scan_lvs=1` and `obtain_device_list_from_udev=0` are pinned so that the
//! filter is what decides.

mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn must(o: Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The loop devices this test attached, detached when it ends.
struct Loops(Vec<String>);

impl Drop for Loops {
    fn drop(&mut self) {
        for l in &self.0 {
            let _ = Command::new("losetup").arg("-d").arg(l).status();
        }
    }
}

/// LVM settings that leave the decision to the filter.
const PINNED: &str = "obtain_device_list_from_udev=0 use_devicesfile=0 scan_lvs=1";

fn lvm(tool: &str) -> Command {
    let mut c = Command::new(require(tool, "lvm2"));
    c.env("LVM_SUPPRESS_FD_WARNINGS", "1");
    c
}

/// A scratch /dev: each name is a block node of a loop device (or a
/// symlink to another name), and the loop devices carry PV labels.
struct ScratchDev {
    dir: tempfile::TempDir,
    _loops: Loops,
}

impl ScratchDev {
    /// `pvs`: one loop device with a PV label per entry (the backing LV is
    /// a byte copy of the first, as DRBD's internal metadata leaves it),
    /// a block node for each name.
    fn new(names: &[(&str, usize)], links: &[(&str, &str)], copies: &[(&str, usize)]) -> Self {
        let uid = Command::new("id").arg("-u").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test attaches loop devices and makes device nodes: run it as root (scripts/test.sh does)"
        );
        require("losetup", "mount");
        let dir = tempfile::tempdir().unwrap();
        let npv = names.iter().map(|(_, i)| i + 1).max().unwrap_or(0);
        let mut loops = Loops(Vec::new());
        let attach = |img: &Path, loops: &mut Loops| -> String {
            let dev = must(
                Command::new("losetup")
                    .args(["-f", "--show"])
                    .arg(img)
                    .output()
                    .unwrap(),
                "losetup -f --show",
            )
            .trim()
            .to_string();
            loops.0.push(dev.clone());
            dev
        };
        let mut devs = Vec::new();
        for i in 0..npv {
            let img = dir.path().join(format!("pv{i}.img"));
            std::fs::write(&img, vec![0u8; 8 << 20]).unwrap();
            let dev = attach(&img, &mut loops);
            must(
                lvm("pvcreate")
                    .args(["-q", "--config"])
                    .arg(format!("devices {{ {PINNED} }}"))
                    .arg(&dev)
                    .output()
                    .unwrap(),
                "pvcreate",
            );
            devs.push((dev, img));
        }
        let node = |name: &str, dev: &str| {
            let path = dir.path().join("dev").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let st = must(
                Command::new("stat")
                    .args(["-c", "%t %T", dev])
                    .output()
                    .unwrap(),
                "stat",
            );
            let (maj, min) = st.trim().split_once(' ').unwrap();
            let num = |h: &str| u32::from_str_radix(h, 16).unwrap().to_string();
            must(
                Command::new("mknod")
                    .arg(&path)
                    .arg("b")
                    .arg(num(maj))
                    .arg(num(min))
                    .output()
                    .unwrap(),
                "mknod",
            );
        };
        for (name, i) in names {
            node(name, &devs[*i].0);
        }
        for (name, of) in copies {
            let img = dir.path().join(format!("copy-{of}.img"));
            std::fs::copy(&devs[*of].1, &img).unwrap();
            let dev = attach(&img, &mut loops);
            node(name, &dev);
        }
        for (name, target) in links {
            let path = dir.path().join("dev").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(target, &path).unwrap();
        }
        Self { dir, _loops: loops }
    }

    fn dev(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    /// The PVs `pvs` lists with `filter` (lvm.conf syntax, already about
    /// this scratch /dev), sorted, relative to it.
    fn accepted(&self, filter: &str) -> Vec<String> {
        let out = must(
            lvm("pvs")
                .args(["--noheadings", "-o", "pv_name", "--config"])
                .arg(format!(
                    "devices {{ scan=[\"{}\"] filter={filter} {PINNED} }}",
                    self.dev().display()
                ))
                .output()
                .unwrap(),
            "pvs",
        );
        let mut pvs: Vec<String> = out
            .lines()
            .map(|l| {
                l.trim()
                    .strip_prefix(&format!("{}/", self.dev().display()))
                    .unwrap_or(l.trim())
                    .to_string()
            })
            .filter(|l| !l.is_empty())
            .collect();
        pvs.sort();
        pvs
    }

    /// A filter about /dev/... rewritten for this scratch /dev.
    fn about_here(&self, filter: &str) -> String {
        filter.replace("/dev/", &format!("{}/", self.dev().display()))
    }
}

/// The filter lvm2 reads from the lvm.conf the %post edited for `profile`.
fn generated_filter(ws: &Workspace, profile: &Path) -> String {
    let out = ws.build(profile);
    let server = serve(&out);
    let p = PostRun::new(&out, "an-node01");
    let o = p.run(&server.url);
    assert!(o.status.success(), "%post: {}", text(&o));
    let got = must(
        lvm("lvmconfig")
            .arg("devices/filter")
            .env("LVM_SYSTEM_DIR", p.root.join("etc/lvm"))
            .output()
            .unwrap(),
        "lvmconfig devices/filter",
    );
    got.trim()
        .strip_prefix("filter=")
        .unwrap_or_else(|| panic!("lvmconfig printed {got}"))
        .to_string()
}

#[test]
fn test_lvm_filter_accepts_only_drbd_and_the_nodes_pv() {
    let ws = Workspace::new();
    let filter = generated_filter(&ws, &ws.profile());
    assert_eq!(
        filter,
        r#"["a|^/dev/drbd[0-9]+$|","a|^/dev/md1$|","r|.*|"]"#
    );
    // PV 0: the DRBD device; PV 1: a guest's PV inside the clustered LV
    // vm01 (two names, as device-mapper gives it); PV 2: the node's own PV
    // on md1; and the backing LV, a copy of the DRBD device's label.
    let s = ScratchDev::new(
        &[("drbd0", 0), ("drbd_vg0/vm01", 1), ("md1", 2)],
        &[("mapper/drbd_vg0-vm01", "../drbd_vg0/vm01")],
        &[("an-lvm01/lv02", 0)],
    );
    assert_eq!(s.accepted(&s.about_here(&filter)), ["drbd0", "md1"]);
    // Control, the filter clusterkick wrote before: its unanchored
    // `a|drbd.*|` accepts the guest's PV through its mapper name.
    let old = s.about_here(r#"[ "a|drbd.*|", "a|md.*|", "r|.*|" ]"#);
    assert_eq!(s.accepted(&old), ["drbd0", "mapper/drbd_vg0-vm01", "md1"]);
}

#[test]
fn test_lvm_filter_one_disk_accepts_only_drbd_and_the_pv_partition() {
    let ws = Workspace::new();
    let p = ws.variant("onedisk", |t| {
        t.replace(r#"devices = ["sda", "sdb"]"#, r#"devices = ["sda"]"#)
    });
    let filter = generated_filter(&ws, &p);
    assert_eq!(
        filter,
        r#"["a|^/dev/drbd[0-9]+$|","a|^/dev/sda2$|","r|.*|"]"#
    );
    // sda2 holds the node's VG; sda21 stands for any other name that
    // merely starts like it.
    let s = ScratchDev::new(
        &[
            ("drbd0", 0),
            ("drbd_vg0/vm01", 1),
            ("sda2", 2),
            ("sda21", 3),
        ],
        &[("mapper/drbd_vg0-vm01", "../drbd_vg0/vm01")],
        &[("an-lvm01/lv02", 0)],
    );
    assert_eq!(s.accepted(&s.about_here(&filter)), ["drbd0", "sda2"]);
}
