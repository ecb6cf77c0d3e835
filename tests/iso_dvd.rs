//! `clusterkick iso` on a small synthetic base DVD made with xorriso, read
//! back with xorriso: the boot menu entries, the files and their sha256,
//! the El Torito boot record, and the DVD kickstarts' two %post sections run
//! against a fixture root. Bad input: exit 1, a clear message, no output.

mod support;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

const CFG: &str = "default linux\nprompt 1\ntimeout 600\ndisplay boot.msg\n\
label linux\n  kernel vmlinuz\n  append initrd=initrd.img\n\
label text\n  kernel vmlinuz\n  append initrd=initrd.img text\n\
label local\n  localboot 1\n";

/// A placeholder boot image: not a real isolinux, but El Torito does not care.
fn boot_image() -> Vec<u8> {
    (0..8192u32).map(|i| (i % 251) as u8).collect()
}

fn xorriso() -> PathBuf {
    require("xorriso", "xorriso")
}

/// A DVD-like ISO: isolinux/ (isolinux.bin as the no-emulation El Torito
/// boot image with a boot info table, isolinux.cfg, kernel and initrd),
/// repodata/, Rock Ridge and Joliet.
fn make_base(dir: &Path, with_isolinux_cfg: bool) -> PathBuf {
    make_base_with(dir, with_isolinux_cfg, true)
}

fn make_base_with(dir: &Path, with_isolinux_cfg: bool, bootable: bool) -> PathBuf {
    let tree = dir.join("base-tree");
    for d in ["isolinux", "repodata", "CentOS"] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    std::fs::write(tree.join("isolinux/isolinux.bin"), boot_image()).unwrap();
    if with_isolinux_cfg {
        std::fs::write(tree.join("isolinux/isolinux.cfg"), CFG).unwrap();
    }
    std::fs::write(tree.join("isolinux/vmlinuz"), "kernel\n").unwrap();
    std::fs::write(tree.join("isolinux/initrd.img"), "initrd\n").unwrap();
    std::fs::write(tree.join("isolinux/boot.msg"), "boot: \n").unwrap();
    std::fs::write(tree.join("repodata/repomd.xml"), "<repomd/>\n").unwrap();
    std::fs::write(
        tree.join("CentOS/cman-2.0.115-1.el5.x86_64.rpm"),
        vec![7u8; 300_000],
    )
    .unwrap();
    std::fs::write(
        tree.join(".discinfo"),
        "1254412925.584111\nCentOS 5.4\nx86_64\n1\n",
    )
    .unwrap();
    let iso = dir.join("base.iso");
    let mut cmd = Command::new(xorriso());
    cmd.args(["-as", "mkisofs", "-quiet", "-o"]).arg(&iso);
    if bootable {
        cmd.args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
            .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"]);
    }
    let o = cmd
        .args(["-R", "-J", "-V", "CentOS_5.4_Final"])
        .arg(&tree)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&tree).unwrap();
    iso
}

fn run_iso(ws: &Workspace, base: &Path, out: &Path) -> Output {
    Command::new(CLUSTERKICK)
        .arg("iso")
        .arg(ws.profile())
        .arg("--base")
        .arg(base)
        .arg("--out")
        .arg(out)
        .arg("--helper")
        .arg(ws.helper())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Rock Ridge paths of every file in the image.
fn iso_files(iso: &Path) -> BTreeSet<String> {
    let o = Command::new(xorriso())
        .args(["-indev"])
        .arg(iso)
        .args(["-find", "/", "-type", "f"])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim_matches('\'').to_string())
        .collect()
}

/// One file's bytes, extracted with xorriso.
fn extract(iso: &Path, path: &str) -> Vec<u8> {
    let t = tempfile::tempdir().unwrap();
    let dest = t.path().join("x");
    let o = Command::new(xorriso())
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", path])
        .arg(&dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "extract {path}: {}", stderr(&o));
    std::fs::read(dest).unwrap()
}

/// A folder of the image extracted to `dest`, made writable.
fn extract_dir(iso: &Path, path: &str, dest: &Path) {
    let o = Command::new(xorriso())
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", path])
        .arg(dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "extract {path}: {}", stderr(&o));
    assert!(Command::new("chmod")
        .arg("-R")
        .arg("u+w")
        .arg(dest)
        .status()
        .unwrap()
        .success());
}

/// `-report_el_torito plain`, as lines.
fn el_torito(iso: &Path) -> Vec<String> {
    let o = Command::new(xorriso())
        .arg("-indev")
        .arg(iso)
        .args(["-report_el_torito", "plain"])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn field<'a>(report: &'a [String], name: &str) -> &'a str {
    report
        .iter()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, v)| v.trim())
        .unwrap_or_else(|| panic!("no {name:?} in {report:?}"))
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Nothing but `keep` in the output folder: no temp files left behind.
fn assert_only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    keep.sort();
    assert_eq!(names, keep, "unexpected files in {}", dir.display());
}

struct Made {
    ws: Workspace,
    dir: tempfile::TempDir,
    base: PathBuf,
    new: PathBuf,
    built: PathBuf,
}

fn made() -> Made {
    let ws = Workspace::new();
    let built = ws.build(&ws.profile());
    let dir = tempfile::tempdir().unwrap();
    let base = make_base(dir.path(), true);
    let new = dir.path().join("an-cluster-dvd.iso");
    let o = run_iso(&ws, &base, &new);
    assert!(o.status.success(), "clusterkick iso failed: {}", stderr(&o));
    Made {
        ws,
        dir,
        base,
        new,
        built,
    }
}

#[test]
fn test_iso_holds_each_nodes_files_with_their_sha256() {
    let m = made();
    assert_only(m.dir.path(), &["base.iso", "an-cluster-dvd.iso"]);
    let files = iso_files(&m.new);
    // Everything of the base is still there, unchanged.
    let base_files = iso_files(&m.base);
    assert!(base_files.is_subset(&files), "{base_files:?} vs {files:?}");
    for f in [
        "/repodata/repomd.xml",
        "/.discinfo",
        "/CentOS/cman-2.0.115-1.el5.x86_64.rpm",
    ] {
        assert_eq!(extract(&m.new, f), extract(&m.base, f), "{f}");
    }

    let blob = std::fs::read_dir(m.built.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .next()
        .unwrap();
    let ours: BTreeSet<String> = files
        .iter()
        .filter(|f| f.starts_with("/clusterkick/"))
        .cloned()
        .collect();
    let expected: BTreeSet<String> = [
        "ks/an-node01.ks".to_string(),
        "ks/an-node02.ks".into(),
        "overlay/an-node01.tar.gz".into(),
        "overlay/an-node02.tar.gz".into(),
        format!("blobs/{blob}"),
        "SHA256SUMS".into(),
    ]
    .iter()
    .map(|f| format!("/clusterkick/an-cluster/{f}"))
    .collect();
    assert_eq!(ours, expected);

    // The overlays and the helper are the bytes `clusterkick build` writes.
    for rel in [
        "overlay/an-node01.tar.gz",
        "overlay/an-node02.tar.gz",
        &format!("blobs/{blob}"),
    ] {
        let on_disc = extract(&m.new, &format!("/clusterkick/an-cluster/{rel}"));
        assert_eq!(
            sha256(&on_disc),
            sha256(&std::fs::read(m.built.join(rel)).unwrap()),
            "{rel}"
        );
    }
    assert_eq!(
        sha256(&extract(
            &m.new,
            &format!("/clusterkick/an-cluster/blobs/{blob}")
        )),
        blob
    );

    // The disc's SHA256SUMS lists every other file of the folder, rightly.
    let sums = String::from_utf8(extract(&m.new, "/clusterkick/an-cluster/SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), expected.len() - 1);
    for line in sums.lines() {
        let (sha, rel) = line.split_once("  ").unwrap();
        assert_eq!(
            sha256(&extract(&m.new, &format!("/clusterkick/an-cluster/{rel}"))),
            sha,
            "{rel}"
        );
    }

    // The DVD kickstarts: cdrom install, overlay from the disc, pinned.
    for node in ["an-node01", "an-node02"] {
        let ks = String::from_utf8(extract(
            &m.new,
            &format!("/clusterkick/an-cluster/ks/{node}.ks"),
        ))
        .unwrap();
        assert!(ks.lines().any(|l| l == "cdrom"), "{node}: no cdrom line");
        assert!(
            !ks.contains("\nurl --url"),
            "{node}: DVD kickstart installs from the network"
        );
        assert!(
            ks.contains("\n%post --nochroot"),
            "{node}: no %post --nochroot"
        );
        assert!(ks.contains(&format!("OVERLAY=overlay/{node}.tar.gz")));
        assert!(ks.contains("DIR=clusterkick/an-cluster"));
        let overlay_sha =
            sha256(&std::fs::read(m.built.join(format!("overlay/{node}.tar.gz"))).unwrap());
        assert!(
            ks.contains(&format!("OVERLAY_SHA256={overlay_sha}")),
            "{node}: overlay not pinned"
        );
        assert!(ks.contains(&format!("HELPER_SHA256={blob}")));
        // The network kickstart is not what is on the disc.
        assert_ne!(
            ks.as_bytes(),
            std::fs::read(m.built.join(format!("ks/{node}.ks"))).unwrap()
        );
    }

    // The new image carries secrets: only its owner may read it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&m.new).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn test_iso_menu_has_one_entry_per_node_and_keeps_the_base_default() {
    let m = made();
    let cfg = String::from_utf8(extract(&m.new, "/isolinux/isolinux.cfg")).unwrap();
    // The base's own file is kept as it was, at the top: its default
    // (the plain installer) stays the default.
    assert!(cfg.starts_with(CFG), "{cfg}");
    assert_eq!(
        cfg.lines()
            .filter(|l| l.trim_start().starts_with("default "))
            .count(),
        1
    );
    for node in ["an-node01", "an-node02"] {
        let start = cfg
            .find(&format!("label erase-and-install-{node}\n"))
            .unwrap_or_else(|| panic!("no entry for {node}: {cfg}"));
        let entry: Vec<&str> = cfg[start..]
            .lines()
            .skip(1)
            .take(3)
            .map(str::trim)
            .collect();
        assert_eq!(
            entry[0],
            format!("menu label Install {node} (an-cluster): ERASES sda, sdb")
        );
        assert_eq!(entry[1], "kernel vmlinuz");
        let append: Vec<&str> = entry[2].split_whitespace().collect();
        assert_eq!(append[0], "append");
        assert!(append.contains(&"initrd=initrd.img"), "{append:?}");
        let ks = format!("ks=cdrom:/clusterkick/an-cluster/ks/{node}.ks");
        assert!(append.contains(&ks.as_str()), "{append:?}");
        // The kickstart it names is on the disc.
        assert!(iso_files(&m.new).contains(&format!("/clusterkick/an-cluster/ks/{node}.ks")));
    }
}

#[test]
fn test_iso_boot_record_points_at_the_same_boot_image() {
    let m = made();
    let before = el_torito(&m.base);
    let after = el_torito(&m.new);
    for name in [
        "El Torito cat path",
        "El Torito img path",
        "El Torito img opts",
    ] {
        assert_eq!(field(&after, name), field(&before, name), "{name}");
    }
    assert_eq!(
        field(&after, "El Torito img path"),
        "1  /isolinux/isolinux.bin"
    );
    // Platform, bootable flag, emulation, load segment, header, load size:
    // all as before; only the LBA (last column) may move.
    let cols = |r: &[String]| -> Vec<String> {
        field(r, "El Torito boot img")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let (b, a) = (cols(&before), cols(&after));
    assert_eq!(a[..a.len() - 1], b[..b.len() - 1], "{a:?} vs {b:?}");
    assert_eq!(a[1..4], ["BIOS", "y", "none"]);
    let lba: u64 = a[a.len() - 1].parse().unwrap();

    // The catalog's LBA holds the file /isolinux/isolinux.bin of the new tree.
    let file = extract(&m.new, "/isolinux/isolinux.bin");
    let image = std::fs::read(&m.new).unwrap();
    let at = (lba * 2048) as usize;
    assert_eq!(&image[at..at + file.len()], &file[..]);
    // It is the base's boot image, with its boot info table filled in for
    // its new place (isolinux finds itself and the volume through it).
    let original = boot_image();
    assert_eq!(file.len(), original.len());
    assert_eq!(file[..8], original[..8]);
    assert_eq!(file[64..], original[64..]);
    // bi_pvd: a primary volume descriptor with the same root directory as
    // the one at sector 16 (xorriso points it at the copy that heads the
    // new session; either leads isolinux to the new tree).
    let pvd_at = |sector: usize| &image[sector * 2048..sector * 2048 + 2048];
    let bi_pvd = pvd_at(u32_le(&file, 8) as usize);
    assert_eq!(&bi_pvd[..6], b"\x01CD001", "bi_pvd is not a PVD");
    assert_eq!(&pvd_at(16)[..6], b"\x01CD001");
    assert_eq!(
        bi_pvd[156..190],
        pvd_at(16)[156..190],
        "bi_pvd's root directory"
    );
    assert_eq!(u64::from(u32_le(&file, 12)), lba, "bi_file");
    assert_eq!(u32_le(&file, 16) as usize, file.len(), "bi_length");
    let csum = file[64..]
        .chunks(4)
        .map(|c| u32_le(&[c, &[0; 4][c.len()..]].concat(), 0))
        .fold(0u32, u32::wrapping_add);
    assert_eq!(u32_le(&file, 20), csum, "bi_csum");

    // Same volume id, and the Joliet tree is kept.
    let isoinfo = require("isoinfo", "genisoimage");
    let d = Command::new(isoinfo)
        .arg("-d")
        .arg("-i")
        .arg(&m.new)
        .output()
        .unwrap();
    let d = String::from_utf8_lossy(&d.stdout);
    assert!(d.contains("Volume id: CentOS_5.4_Final"), "{d}");
    assert!(d.contains("Joliet"), "{d}");
    assert!(d.contains("Rock Ridge"), "{d}");
    // The base is untouched.
    assert_eq!(el_torito(&m.base), before);
}

#[test]
fn test_iso_on_its_own_output_lists_each_node_once() {
    let m = made();
    let again = m.dir.path().join("again.iso");
    let o = run_iso(&m.ws, &m.new, &again);
    assert!(o.status.success(), "{}", stderr(&o));
    let cfg = String::from_utf8(extract(&again, "/isolinux/isolinux.cfg")).unwrap();
    assert_eq!(
        cfg.matches("label erase-and-install-an-node01\n").count(),
        1,
        "{cfg}"
    );
    assert_eq!(cfg.matches("# clusterkick begin an-cluster").count(), 1);
    assert!(cfg.starts_with(CFG));
}

/// Extracts the DVD's /clusterkick to a fake mounted disc, then runs the
/// DVD kickstart's `%post --nochroot` (MEDIA, SYSIMAGE) and its chroot
/// %post (ROOT) against a fixture root, as anaconda would in that order.
struct DvdInstall {
    t: tempfile::TempDir,
    media: PathBuf,
    sysimage: PathBuf,
    ks: String,
}

fn dvd_install(m: &Made, node: &str) -> DvdInstall {
    let t = tempfile::tempdir().unwrap();
    let media = t.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    extract_dir(&m.new, "/clusterkick", &media.join("clusterkick"));
    let sysimage = t.path().join("sysimage");
    fixture_root(&sysimage, node);
    let ks = String::from_utf8(extract(
        &m.new,
        &format!("/clusterkick/an-cluster/ks/{node}.ks"),
    ))
    .unwrap();
    DvdInstall {
        t,
        media,
        sysimage,
        ks,
    }
}

impl DvdInstall {
    fn nochroot(&self) -> Output {
        let start = self
            .ks
            .find("\n%post --nochroot")
            .expect("no %post --nochroot")
            + 1;
        let rest = &self.ks[start..];
        let body = &rest[rest.find('\n').unwrap() + 1..];
        let body = body.split("\n%").next().unwrap();
        let script = self.t.path().join("media.sh");
        std::fs::write(&script, body).unwrap();
        Command::new("bash")
            .arg(&script)
            .env("MEDIA", &self.media)
            .env("SYSIMAGE", &self.sysimage)
            .output()
            .unwrap()
    }

    fn chroot(&self) -> Output {
        let script = self.t.path().join("post.sh");
        std::fs::write(&script, post_body(&self.ks)).unwrap();
        // chkconfig as the tests model CentOS 5's (tests/support).
        let bin = fake_chkconfig(self.t.path());
        Command::new("bash")
            .arg(&script)
            .env("ROOT", &self.sysimage)
            .env_remove("SOURCE")
            .env("CHKCONFIG_LOG", self.t.path().join("chkconfig.log"))
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap()
    }
}

fn both(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(o))
}

#[test]
fn test_dvd_posts_copy_from_the_disc_then_verify_and_unpack() {
    let m = made();
    let d = dvd_install(&m, "an-node01");
    let o = d.nochroot();
    assert!(o.status.success(), "%post --nochroot failed: {}", both(&o));
    let work = d.sysimage.join("root/clusterkick");
    assert_eq!(
        std::fs::read(work.join("overlay/an-node01.tar.gz")).unwrap(),
        std::fs::read(m.built.join("overlay/an-node01.tar.gz")).unwrap()
    );
    assert!(
        !work.join("overlay/an-node02.tar.gz").exists(),
        "copied another node's overlay"
    );

    let o = d.chroot();
    assert!(o.status.success(), "%post failed: {}", both(&o));
    assert!(!d.sysimage.join("etc/clusterkick/POST-FAILED").exists());
    let overlay = untar(&m.built.join("overlay/an-node01.tar.gz"));
    assert_eq!(
        std::fs::read(d.sysimage.join("etc/cluster/cluster.conf")).unwrap(),
        std::fs::read(overlay.path().join("etc/cluster/cluster.conf")).unwrap()
    );
    assert_eq!(
        std::fs::read(d.sysimage.join("usr/sbin/clusterkick-firstboot")).unwrap(),
        std::fs::read(m.ws.helper()).unwrap()
    );
}

#[test]
fn test_dvd_post_refuses_a_tampered_overlay_on_the_disc() {
    let m = made();
    let d = dvd_install(&m, "an-node02");
    let on_disc = d
        .media
        .join("clusterkick/an-cluster/overlay/an-node02.tar.gz");
    let mut b = std::fs::read(&on_disc).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x40;
    std::fs::write(&on_disc, b).unwrap();
    let o = d.nochroot();
    assert!(o.status.success(), "{}", both(&o));
    let o = d.chroot();
    assert!(!o.status.success(), "%post accepted a tampered overlay");
    let failed = std::fs::read_to_string(d.sysimage.join("etc/clusterkick/POST-FAILED")).unwrap();
    assert!(failed.contains("sha256"), "{failed}");
    assert!(!d.sysimage.join("etc/cluster/cluster.conf").exists());
    assert!(!d.sysimage.join("usr/sbin/clusterkick-firstboot").exists());
}

/// Runs `iso` with a bad input and checks: exit 1, the message has every
/// one of `words`, no output file and no temp file in `out`'s folder, and
/// the base unchanged.
fn assert_refused(ws: &Workspace, base: &Path, out: &Path, words: &[&str]) -> String {
    let dir = out.parent().unwrap();
    let before: Option<BTreeSet<String>> = std::fs::read_dir(dir).ok().map(|r| {
        r.map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    let base_sha = std::fs::read(base).ok().map(|b| sha256(&b));
    let o = run_iso(ws, base, out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for w in words {
        assert!(err.contains(w), "message lacks {w:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    let after: Option<BTreeSet<String>> = std::fs::read_dir(dir).ok().map(|r| {
        r.map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    assert_eq!(before, after, "the output folder changed");
    assert_eq!(
        std::fs::read(base).ok().map(|b| sha256(&b)),
        base_sha,
        "base changed"
    );
    err
}

#[test]
fn test_iso_refuses_a_base_that_is_not_an_iso() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let random = t.path().join("random.iso");
    let bytes: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, bytes).unwrap();
    let zeros = t.path().join("zeros.iso");
    std::fs::write(&zeros, vec![0u8; 1_048_576]).unwrap();
    // xorriso itself takes an all-zero file for a blank medium (exit 0) and
    // lists no files: the refusal must come from clusterkick.
    let o = Command::new(xorriso())
        .arg("-indev")
        .arg(&zeros)
        .args(["-find", "/", "-type", "f"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).trim().is_empty());
    let short = t.path().join("short.iso");
    std::fs::write(&short, b"CD001").unwrap();
    for base in [&random, &zeros, &short] {
        assert_refused(
            &ws,
            base,
            &t.path().join("new.iso"),
            &["not an ISO 9660 image", base.to_str().unwrap()],
        );
    }
}

#[test]
fn test_iso_says_a_truncated_base_is_truncated() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let whole = std::fs::read(make_base(t.path(), true)).unwrap();
    // Cut just after the volume descriptors (the directory tree is gone),
    // in the middle of the files, and one sector short of the end.
    let sector = 2048;
    for keep in [20 * sector, whole.len() / 2, whole.len() - sector] {
        let cut = t.path().join(format!("cut-{keep}.iso"));
        std::fs::write(&cut, &whole[..keep]).unwrap();
        let err = assert_refused(
            &ws,
            &cut,
            &t.path().join("new.iso"),
            &["truncated", cut.to_str().unwrap(), &whole.len().to_string()],
        );
        assert!(!err.contains("isolinux.cfg"), "{err}");
        std::fs::remove_file(&cut).unwrap();
    }
}

#[test]
fn test_iso_refuses_a_base_without_isolinux_cfg() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_base(t.path(), false);
    assert_refused(
        &ws,
        &base,
        &t.path().join("new.iso"),
        &["/isolinux/isolinux.cfg", "isolinux"],
    );
}

#[test]
fn test_iso_refuses_a_base_that_does_not_boot() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_base_with(t.path(), true, false);
    assert_refused(
        &ws,
        &base,
        &t.path().join("new.iso"),
        &["no El Torito boot record"],
    );
}

#[test]
fn test_iso_refuses_to_write_over_its_base() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_base(t.path(), true);
    assert_refused(&ws, &base, &base, &["is the base image"]);
    // The same file by another path: through ./, a symlink, a hard link.
    let dotted = t.path().join(".").join("base.iso");
    assert_refused(&ws, &base, &dotted, &["is the base image"]);
    let link = t.path().join("link.iso");
    std::os::unix::fs::symlink(&base, &link).unwrap();
    assert_refused(&ws, &base, &link, &["is the base image"]);
    let hard = t.path().join("hard.iso");
    std::fs::hard_link(&base, &hard).unwrap();
    assert_refused(&ws, &base, &hard, &["is the base image"]);
}

#[test]
fn test_iso_refuses_an_output_folder_that_does_not_exist() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_base(t.path(), true);
    let missing = t.path().join("no-such-folder");
    assert_refused(
        &ws,
        &base,
        &missing.join("new.iso"),
        &["does not exist", "no-such-folder"],
    );
    assert!(!missing.exists());
    // A folder as the output is refused too.
    let folder = t.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    assert_refused(&ws, &base, &folder, &["is a folder"]);
}

#[test]
fn test_iso_without_xorriso_names_the_package() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_base(t.path(), true);
    let empty = tempfile::tempdir().unwrap();
    let out = t.path().join("new.iso");
    let o = Command::new(CLUSTERKICK)
        .arg("iso")
        .arg(ws.profile())
        .arg("--base")
        .arg(&base)
        .arg("--out")
        .arg(&out)
        .arg("--helper")
        .arg(ws.helper())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("`xorriso` package"), "{err}");
    assert!(!out.exists());
    assert_only(t.path(), &["base.iso"]);
}
