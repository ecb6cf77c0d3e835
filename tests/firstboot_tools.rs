//! The real tools run the helper's exact command lines (built by
//! `clusterkick::firstboot::platform::{el5::argv, common::lvm}`, the same
//! functions `plan` and `run` use), and the helper's parsers and probe read their results back:
//! - `mkfs.gfs2` on a sparse file image, read back with `tunegfs2 -l`;
//! - `pvcreate` / `vgcreate` on a loop device, read back with `pvs` / `vgs`;
//! - `drbdadm-83` (the DRBD 8.3 parser of drbd-utils) on a drbd.conf like the
//!   seed's, with every drbdadm command line the helper runs, and
//!   `drbdsetup-83 help` for the backend options;
//! - `drbdmeta` on a loop device for dump-md / create-md / get-gi.
//!
//! A missing tool fails the test, saying what to install:
//!   apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y \
//!     --no-install-recommends gfs2-utils lvm2 drbd-utils

use clusterkick::firstboot::host::Host;
use clusterkick::firstboot::platform::common::lvm;
use clusterkick::firstboot::platform::common::probe::{detect_signature, PROBE_LEN};
use clusterkick::firstboot::platform::el5::argv as cmd;
use clusterkick::firstboot::platform::el5::parse::drbdmeta;
use clusterkick::firstboot::real::RealHost;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const INSTALL: &str = "install it with: apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gfs2-utils lvm2 drbd-utils";

fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/lib/drbd"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is missing: {INSTALL}");
}

fn run(program: &Path, args: &[String]) -> Output {
    Command::new(program)
        .args(args)
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn ok(program: &Path, args: &[String]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A helper argv with its device swapped: (program, args).
fn with_device(argv: &[String], from: &str, to: &str) -> (PathBuf, Vec<String>) {
    let args = argv[1..]
        .iter()
        .map(|a| if a == from { to.to_string() } else { a.clone() })
        .collect();
    (tool(&argv[0]), args)
}

fn head(path: &str) -> Vec<u8> {
    RealHost::new(Duration::from_secs(10))
        .read_head(path, PROBE_LEN)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn sparse(dir: &Path, name: &str, size: u64) -> String {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|f| f.set_len(size))
        .expect("sparse image");
    p.display().to_string()
}

/// A loop device over a sparse file, detached (with its VG removed) on drop.
struct Loop {
    dev: String,
    vg: Option<String>,
}

impl Loop {
    fn new(image: &str) -> Loop {
        let out = ok(
            &tool("losetup"),
            &["-f".into(), "--show".into(), image.into()],
        );
        Loop {
            dev: out.trim().to_string(),
            vg: None,
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(vg) = &self.vg {
            let _ = run(&tool("vgremove"), &["-f".into(), vg.clone()]);
        }
        let _ = run(
            &tool("pvremove"),
            &["-ff".into(), "-y".into(), self.dev.clone()],
        );
        let _ = run(&tool("losetup"), &["-d".into(), self.dev.clone()]);
    }
}

#[test]
fn firstboot_tools_mkfs_gfs2_real() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = sparse(dir.path(), "iso_store.img", 1 << 30);
    // Exactly the helper's command line (it already carries -O: EL5's
    // mkfs.gfs2 would otherwise ask "Are you sure you want to proceed?").
    let lv = "/dev/drbd_vg0/iso_store";
    let argv = cmd::mkfs_gfs2(2, "an-cluster:iso_store", lv);
    assert_eq!(
        argv.join(" "),
        "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store"
    );
    assert_eq!(detect_signature(&head(&img)), None);
    let (prog, args) = with_device(&argv, lv, &img);
    let out = ok(&prog, &args);
    assert!(out.contains("Journals:                  2"), "{out}");
    let back = ok(&tool("tunegfs2"), &["-l".into(), img.clone()]);
    assert!(back.contains("Lock table: an-cluster:iso_store"), "{back}");
    assert!(back.contains("Lock protocol: lock_dlm"), "{back}");
    // The helper's raw probe sees the superblock EL5's blkid would miss.
    assert_eq!(detect_signature(&head(&img)), Some("a GFS/GFS2 superblock"));
}

#[test]
fn firstboot_tools_pvcreate_vgcreate_real() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = sparse(dir.path(), "drbd0.img", 200 << 20);
    let mut lo = Loop::new(&img);
    let dev = lo.dev.clone();
    let vg = format!("ckfb{}", std::process::id());
    let drbd0 = "/dev/drbd0";

    // The guard's query before: no PV on the device, no signature.
    let pvs = lvm::pvs();
    let (p, a) = with_device(&pvs, drbd0, &dev);
    assert!(!lvm::parse_pvs(&ok(&p, &a)).iter().any(|r| r.pv == dev));
    assert_eq!(detect_signature(&head(&dev)), None);

    let (p, a) = with_device(&lvm::pvcreate(drbd0), drbd0, &dev);
    let out = ok(&p, &a);
    assert!(
        out.contains(&format!("Physical volume \"{dev}\" successfully created")),
        "{out}"
    );
    assert_eq!(
        detect_signature(&head(&dev)),
        Some("an LVM2 physical volume label")
    );
    let (p, a) = with_device(&pvs, drbd0, &dev);
    let rows = lvm::parse_pvs(&ok(&p, &a));
    assert!(
        rows.iter().any(|r| r.pv == dev && r.vg.is_none()),
        "{rows:?}"
    );

    // lvm2 2.03 refuses `-c y` ("The clustered option is deprecated"); the
    // CentOS 5 lvm2 2.02.46 needs it. Run the helper's argv without it.
    let vgcreate = cmd::vgcreate_clustered(&vg, drbd0);
    assert_eq!(vgcreate[1..3], ["-c".to_string(), "y".to_string()]);
    let no_cluster: Vec<String> = vgcreate
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1 && *i != 2)
        .map(|(_, a)| a.clone())
        .collect();
    let (p, a) = with_device(&no_cluster, drbd0, &dev);
    lo.vg = Some(vg.clone());
    let out = ok(&p, &a);
    assert!(
        out.contains(&format!("Volume group \"{vg}\" successfully created")),
        "{out}"
    );

    let (p, a) = with_device(&pvs, drbd0, &dev);
    let rows = lvm::parse_pvs(&ok(&p, &a));
    assert!(
        rows.iter()
            .any(|r| r.pv == dev && r.vg.as_deref() == Some(vg.as_str())),
        "{rows:?}"
    );
    let vgs = lvm::vgs();
    let rows = lvm::parse_vgs(&ok(&tool(&vgs[0]), &vgs[1..]));
    let row = rows.iter().find(|r| r.vg == vg).expect("vg listed");
    assert!(row.attr.starts_with("wz--n"), "{row:?}");
    assert!(!row.clustered());
    // The helper's lvs argv is accepted (no LVs: lvcreate needs
    // device-mapper, which this kernel lacks).
    let lvs = lvm::lvs(&vg);
    assert!(lvm::parse_lvs(&ok(&tool(&lvs[0]), &lvs[1..])).is_empty());
}

const DRBD_CONF: &str = "global { usage-count no; }
common { protocol C; syncer { rate 33M; } }
resource r0 {
    device    /dev/drbd0;
    meta-disk internal;
    net { allow-two-primaries; }
    startup { become-primary-on both; }
    on an-node01.alteeve.com { address 10.0.0.71:7789; disk /dev/an-lvm01/lv02; }
    on an-node02.alteeve.com { address 10.0.0.72:7789; disk /dev/an-lvm02/lv02; }
}
";

#[test]
fn firstboot_tools_drbdadm_83_accepts_the_helpers_commands() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = dir.path().join("drbd.conf");
    std::fs::write(&conf, DRBD_CONF).expect("conf");
    let drbdadm = tool("drbdadm-83");
    let cases: Vec<(clusterkick::firstboot::host::Argv, &str)> = vec![
        (
            cmd::drbdadm("dump-md", "r0"),
            "drbdmeta 0 v08 /dev/an-lvm01/lv02 internal dump-md",
        ),
        (
            cmd::drbdadm("get-gi", "r0"),
            "drbdmeta 0 v08 /dev/an-lvm01/lv02 internal get-gi",
        ),
        (
            cmd::create_md("r0"),
            "drbdmeta 0 v08 /dev/an-lvm01/lv02 internal create-md --force",
        ),
        (
            cmd::overwrite_peer_primary("r0"),
            "drbdsetup-83 0 primary --overwrite-data-of-peer",
        ),
        (
            cmd::clear_bitmap_new_uuid("r0"),
            "drbdsetup-83 0 new-current-uuid --clear-bitmap",
        ),
        (cmd::drbdadm("primary", "r0"), "drbdsetup-83 0 primary"),
        (cmd::drbdadm("secondary", "r0"), "drbdsetup-83 0 secondary"),
        (
            cmd::drbdadm("disconnect", "r0"),
            "drbdsetup-83 0 disconnect",
        ),
        (
            cmd::drbdadm("connect", "r0"),
            "drbdsetup-83 0 net ipv4:10.0.0.71:7789 ipv4:10.0.0.72:7789 C",
        ),
        (cmd::discard_my_data_connect("r0"), "--discard-my-data"),
    ];
    for (argv, want) in cases {
        assert_eq!(argv[0], "drbdadm");
        let out = Command::new(&drbdadm)
            .env("__DRBD_NODE__", "an-node01.alteeve.com")
            .args(["-d", "-c"])
            .arg(&conf)
            .args(&argv[1..])
            .output()
            .expect("drbdadm-83");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(want), "{argv:?} -> {text}");
    }
    // Backend options belong where the helper puts them: --overwrite-data-of-peer
    // to `primary` (not `net`/connect: the seed's 7.3 command is wrong),
    // --discard-my-data to `net`, --clear-bitmap to new-current-uuid.
    let help = |c: &str| ok(&tool("drbdsetup-83"), &["help".into(), c.into()]);
    assert!(help("primary").contains("--overwrite-data-of-peer"));
    let net = help("net");
    assert!(net.contains("--discard-my-data"));
    assert!(!net.contains("--overwrite-data-of-peer"));
    assert!(help("new-current-uuid").contains("--clear-bitmap"));
}

#[test]
fn firstboot_tools_drbdmeta_on_a_loop_device() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = sparse(dir.path(), "lv02.img", 300 << 20);
    let lo = Loop::new(&img);
    let drbdmeta = tool("drbdmeta");
    let md = |extra: &[&str], c: &str| -> Output {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.extend(["0", "v08", &lo.dev, "internal", c].map(String::from));
        run(&drbdmeta, &args)
    };
    // No metadata: dump-md prints nothing on stdout and fails (drbd-utils
    // 9's drbdmeta exits 1 here; the 8.3 one exits 255, as the model does).
    let out = md(&[], "dump-md");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    // The helper's create-md passes --force through to drbdmeta.
    assert_eq!(cmd::create_md("r0")[2], "--force");
    let out = md(&["--force"], "create-md");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gi = drbdmeta::parse_gi(&String::from_utf8_lossy(&md(&[], "get-gi").stdout))
        .expect("get-gi parses");
    assert!(gi.is_brand_new());
    assert_eq!(
        gi.line(),
        "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0"
    );
    let dump = drbdmeta::parse_dump_md(&String::from_utf8_lossy(&md(&[], "dump-md").stdout))
        .expect("dump-md parses");
    assert!(dump.is_brand_new());
    // Internal metadata sits at the end: the start of the device is clean.
    assert_eq!(detect_signature(&head(&lo.dev)), None);
    // Without --force a second create-md refuses (stdin is not a TTY).
    assert!(!md(&[], "create-md").status.success());
}
