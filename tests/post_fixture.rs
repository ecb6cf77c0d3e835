//! The kickstart's %post runs for real, twice, against a fixture root made
//! of stock CentOS 5 files; results are compared with golden files and
//! checked by lvm2's own parser.

mod support;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};
use support::*;

/// The cluster's services, and the helper: after a %post, none of the
/// first four starts in any runlevel (the helper starts them).
const STACK: [&str; 5] = ["cman", "clvmd", "gfs2", "drbd", "clusterkick-drbd"];

/// The S links of the cluster's services in runlevels 2-5.
fn stack_starts(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for level in 2..=5 {
        let d = root.join(format!("etc/rc.d/rc{level}.d"));
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            if n.starts_with('S') && STACK.iter().any(|s| n.get(3..) == Some(*s)) {
                found.push(format!("rc{level}.d/{n}"));
            }
        }
    }
    found.sort();
    found
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const EDITED: [&str; 7] = [
    "boot/grub/grub.conf",
    "etc/inittab",
    "etc/init.d/xend",
    "etc/xen/xend-config.sxp",
    "etc/lvm/lvm.conf",
    "etc/hosts",
    "etc/sysconfig/network",
];

#[test]
fn test_post_edits_stock_files_idempotently() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    for node in ["an-node01", "an-node02"] {
        let p = PostRun::new(&out, node);
        let root = &p.root;
        let first = p.run(&server.url);
        assert!(
            first.status.success(),
            "{node} %post failed: {}{}",
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&first.stderr)
        );
        let after_one: Vec<Vec<u8>> = EDITED
            .iter()
            .map(|p| std::fs::read(root.join(p)).unwrap())
            .collect();
        let second = p.run(&server.url);
        assert!(
            second.status.success(),
            "second run failed: {}",
            String::from_utf8_lossy(&second.stderr)
        );
        for (p, a) in EDITED.iter().zip(&after_one) {
            let b = std::fs::read(root.join(p)).unwrap();
            assert_eq!(a, &b, "{node}: {p} changed on the second %post run");
            golden(&format!("post-root/{node}/{p}"), &b);
        }
        golden(
            &format!("post-root/{node}/chkconfig.log"),
            &std::fs::read(&p.chkconfig_log).unwrap(),
        );
        // The rc links chkconfig 1.3.30 leaves: nothing of the cluster
        // starts in any runlevel but the helper (S99) and xend (S11).
        golden(
            &format!("post-root/{node}/rc-links.txt"),
            rc_links(root).as_bytes(),
        );
        assert_eq!(stack_starts(root), Vec::<String>::new(), "{node}");
        assert!(root.join("etc/clusterkick/post-done").is_file());
        // The package's own DRBD init script is not edited any more.
        assert_eq!(
            std::fs::read(root.join("etc/init.d/drbd")).unwrap(),
            std::fs::read(fixtures().join("el5/init.d/drbd-8.3.8")).unwrap()
        );
        // fenced finds clusterkick's agents in /sbin: links to the helper.
        for link in ["sbin/fence_na", "sbin/fence_clusterkick"] {
            assert_eq!(
                std::fs::read_link(root.join(link)).unwrap(),
                Path::new("/usr/sbin/clusterkick-firstboot"),
                "{node}: /{link}"
            );
        }
        // fence_na's config: root's, 0600, and what the agent reads back.
        let na = root.join("etc/clusterkick/fence_na.toml");
        let meta = std::fs::metadata(&na).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!(meta.uid(), 0);
        let cfg = clusterkick::fence_na::config::load(&na).unwrap();
        let motoko = cfg.device("motoko.alteeve.com").unwrap();
        assert_eq!(motoko.login, "motoko");
        assert_eq!(motoko.alias(1), Some("an-node01.alteeve.com"));
        assert_eq!(motoko.alias(2), Some("an-node02.alteeve.com"));
        assert!(
            !root.join("etc/lvm/cache/.cache").exists(),
            "stale LVM cache left behind"
        );
        assert!(!root.join("etc/clusterkick/POST-FAILED").exists());
        // Unpacking over the root kept EL5's /etc/init.d symlink, and the
        // init script is where chkconfig looks for it.
        assert!(
            std::fs::symlink_metadata(root.join("etc/init.d"))
                .unwrap()
                .file_type()
                .is_symlink(),
            "/etc/init.d was replaced"
        );
        assert!(root.join("etc/init.d/clusterkick-firstboot").is_file());
        // The overlay and the helper are in place.
        assert!(root.join("etc/cluster/cluster.conf").is_file());
        assert!(root.join("usr/sbin/clusterkick-firstboot").is_file());
        assert_eq!(
            std::fs::read(root.join("usr/sbin/clusterkick-firstboot")).unwrap(),
            std::fs::read(ws.helper()).unwrap()
        );

        // lvm2's parser accepts the lvm.conf %post made, and reads back our keys.
        let lvmconfig = require("lvmconfig", "lvm2");
        let dir = root.join("etc/lvm");
        let v = Command::new(&lvmconfig)
            .arg("--validate")
            .env("LVM_SYSTEM_DIR", &dir)
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "lvmconfig --validate: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        let k = Command::new(&lvmconfig)
            .args(["devices/filter", "global/locking_type"])
            .env("LVM_SYSTEM_DIR", &dir)
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap();
        let k = String::from_utf8_lossy(&k.stdout);
        assert!(
            k.contains(r#"filter=["a|^/dev/drbd[0-9]+$|","a|^/dev/md1$|","r|.*|"]"#),
            "{k}"
        );
        assert!(k.contains("locking_type=3"), "{k}");
    }
}

#[test]
fn test_post_grub_conf_still_converts_with_grub_tools() {
    // grub-menulst2cfg is the nearest thing to a grub legacy parser here: a
    // misspelt command would show up as unsupported.
    let conv = require("grub-menulst2cfg", "grub-common");
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    let p = PostRun::new(&out, "an-node01");
    let (t, root) = (&p.dir, &p.root);
    let o = p.run(&server.url);
    assert!(o.status.success());
    let grub = std::fs::read_to_string(root.join("boot/grub/grub.conf")).unwrap();
    assert!(grub.lines().any(|l| l.trim_start().starts_with("kernel /xen.gz-") && l.ends_with(" dom0_mem=512M")), "{grub}");
    let stripped: String = grub
        .lines()
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let src = t.path().join("menu.lst");
    std::fs::write(&src, stripped).unwrap();
    let cfg = t.path().join("grub.cfg");
    assert!(Command::new(conv)
        .arg(&src)
        .arg(&cfg)
        .status()
        .unwrap()
        .success());
    let cfg = std::fs::read_to_string(&cfg).unwrap();
    let unsupported: Vec<&str> = cfg
        .lines()
        .filter(|l| l.contains("Unsupported legacy command"))
        .collect();
    assert!(
        unsupported.iter().all(|l| l.contains("splashimage")),
        "{unsupported:?}"
    );
    assert!(cfg.contains("dom0_mem=512M"), "{cfg}");
}

#[test]
fn test_post_takes_node_names_off_every_other_hosts_line() {
    // When the name resolved at install time, anaconda writes it on the
    // loopback line's neighbour for the install NIC's address instead.
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    let p = PostRun::new(&out, "an-node01");
    let root = &p.root;
    std::fs::write(
        root.join("etc/hosts"),
        "# Do not remove the following line, or various programs\n# that require network functionality will fail.\n127.0.0.1\t\tlocalhost.localdomain localhost\n::1\t\tlocalhost6.localdomain6 localhost6\n192.168.1.71\t\tan-node01.alteeve.com an-node01\n192.168.1.9\t\tmirror.alteeve.com mirror an-node02\n",
    )
    .unwrap();
    let o = p.run(&server.url);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hosts = std::fs::read_to_string(root.join("etc/hosts")).unwrap();
    assert_eq!(
        hosts,
        "# Do not remove the following line, or various programs\n# that require network functionality will fail.\n127.0.0.1\t\tlocalhost.localdomain localhost\n::1\t\tlocalhost6.localdomain6 localhost6\n192.168.1.9\t\tmirror.alteeve.com mirror\n# clusterkick begin: cluster an-cluster on the back channel\n10.0.1.71\tan-node01.alteeve.com an-node01\n10.0.1.72\tan-node02.alteeve.com an-node02\n# clusterkick end\n"
    );
    // getent resolves the way cman will: the first match wins.
    let first = hosts
        .lines()
        .find(|l| {
            l.split_whitespace()
                .skip(1)
                .any(|n| n == "an-node01.alteeve.com")
        })
        .unwrap();
    assert!(first.starts_with("10.0.1.71"), "{first}");
}

/// A failed %post: exit 1, POST-FAILED saying `what`, no post-done, and
/// neither the cluster's services nor the helper start at the next boot.
fn assert_stopped(p: &PostRun, o: &Output, what: &str) {
    assert!(
        !o.status.success(),
        "%post went on after {what}: {}",
        text(o)
    );
    let failed = std::fs::read_to_string(p.root.join("etc/clusterkick/POST-FAILED"))
        .unwrap_or_else(|_| panic!("no POST-FAILED after {what}: {}", text(o)));
    assert!(failed.starts_with("POST-FAILED: "), "{failed}");
    assert!(
        failed.contains(what),
        "POST-FAILED does not name {what}: {failed}"
    );
    assert!(
        text(o).contains(&format!(
            "POST-FAILED: {}",
            failed.trim_start_matches("POST-FAILED: ").trim_end()
        )),
        "the log does not say it: {}",
        text(o)
    );
    assert!(
        !p.root.join("etc/clusterkick/post-done").exists(),
        "post-done after {what}"
    );
    assert_eq!(stack_starts(&p.root), Vec::<String>::new(), "after {what}");
    for level in 2..=5 {
        assert!(
            !p.root
                .join(format!("etc/rc.d/rc{level}.d/S99clusterkick-firstboot"))
                .exists(),
            "the helper starts at boot after {what}"
        );
    }
}

#[test]
fn test_post_stops_at_each_missing_stock_file() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    // Every stock file the %post edits and every init script it switches,
    // each missing in turn (an init script missing with its links, as when
    // its package is not installed).
    let stock = [
        "boot/grub/grub.conf",
        "etc/inittab",
        "etc/hosts",
        "etc/xen/xend-config.sxp",
        "etc/lvm/lvm.conf",
        "etc/rc.d/init.d/xend",
        "etc/rc.d/init.d/cman",
        "etc/rc.d/init.d/clvmd",
        "etc/rc.d/init.d/gfs2",
        "etc/rc.d/init.d/drbd",
        "etc/rc.d/init.d/iptables",
        "etc/rc.d/init.d/ip6tables",
    ];
    for f in stock {
        let p = PostRun::new(&out, "an-node01");
        std::fs::remove_file(p.root.join(f)).unwrap();
        if let Some(svc) = f.strip_prefix("etc/rc.d/init.d/") {
            for level in 0..=6 {
                for e in std::fs::read_dir(p.root.join(format!("etc/rc.d/rc{level}.d"))).unwrap() {
                    let e = e.unwrap();
                    if e.file_name().to_string_lossy().get(3..) == Some(svc) {
                        std::fs::remove_file(e.path()).unwrap();
                    }
                }
            }
        }
        let o = p.run(&server.url);
        assert_stopped(&p, &o, &format!("/{f} is missing"));
    }
}

#[test]
fn test_post_stops_when_chkconfig_fails() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    for call in [
        "cman off",
        "--add clusterkick-drbd",
        "--add xend",
        "ip6tables off",
        "--add clusterkick-firstboot",
        "clusterkick-firstboot on",
    ] {
        let p = PostRun::new(&out, "an-node01");
        let o = p.run_env(&server.url, &[("CHKCONFIG_FAIL", call)]);
        if call == "cman off" {
            // The one switch that failed is tried again on the way out and
            // fails again: cman keeps its package's links. Everything else
            // is off, and POST-FAILED says what is not.
            assert!(!o.status.success());
            let failed =
                std::fs::read_to_string(p.root.join("etc/clusterkick/POST-FAILED")).unwrap();
            assert!(failed.contains("chkconfig cman off failed"), "{failed}");
            assert!(text(&o).contains("could not turn cman off"), "{}", text(&o));
            assert!(!p.root.join("etc/clusterkick/post-done").exists());
            let starts = stack_starts(&p.root);
            assert!(starts.iter().all(|s| s.ends_with("cman")), "{starts:?}");
            continue;
        }
        assert_stopped(&p, &o, &format!("chkconfig {call} failed"));
    }
}

#[test]
fn test_post_stops_when_an_edit_does_not_take() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    // An lvm.conf whose filter line is commented out: sed finds nothing to
    // change, and the check after it says so.
    let p = PostRun::new(&out, "an-node01");
    let lvm = p.root.join("etc/lvm/lvm.conf");
    let text_before = std::fs::read_to_string(&lvm).unwrap();
    std::fs::write(
        &lvm,
        text_before.replace("    filter = [ \"a/.*/\" ]", "    # filter = [ \"a/.*/\" ]"),
    )
    .unwrap();
    let o = p.run(&server.url);
    assert_stopped(&p, &o, "lvm.conf: the filter did not take");
    // A grub.conf without a Xen kernel (kernel-xen not the default).
    let p = PostRun::new(&out, "an-node01");
    let grub = p.root.join("boot/grub/grub.conf");
    let g = std::fs::read_to_string(&grub).unwrap();
    std::fs::write(&grub, g.replace("kernel /xen.gz", "kernel /vmlinuz")).unwrap();
    let o = p.run(&server.url);
    assert_stopped(&p, &o, "has no Xen hypervisor line");
    // Something already at /sbin/fence_na (someone's Perl agent): never
    // replaced.
    let p = PostRun::new(&out, "an-node01");
    std::fs::create_dir_all(p.root.join("sbin")).unwrap();
    std::fs::write(p.root.join("sbin/fence_na"), "#!/usr/bin/perl\n").unwrap();
    let o = p.run(&server.url);
    assert_stopped(
        &p,
        &o,
        "/sbin/fence_na exists and is not clusterkick's link",
    );
    assert_eq!(
        std::fs::read(p.root.join("sbin/fence_na")).unwrap(),
        b"#!/usr/bin/perl\n"
    );
}

/// What rc does at shutdown (runlevel 0): the K links in name order, each
/// run only when its service's /var/lock/subsys lock exists.
fn shutdown_order(root: &Path, locked: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = std::fs::read_dir(root.join("etc/rc.d/rc0.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('K'))
        .collect();
    k.sort();
    k.into_iter()
        .filter(|n| locked.contains(&&n[3..]))
        .collect()
}

/// What rc starts at boot into `level`: the S links in name order.
fn boot_order(root: &Path, level: u8) -> Vec<String> {
    let mut s: Vec<String> = std::fs::read_dir(root.join(format!("etc/rc.d/rc{level}.d")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('S'))
        .collect();
    s.sort();
    s
}

#[test]
fn test_boot_order_holds_after_stock_init_scripts_come_back() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let server = serve(&out);
    let p = PostRun::new(&out, "an-node01");
    let o = p.run(&server.url);
    assert!(o.status.success(), "{}", text(&o));
    let root = &p.root;
    let chk = |args: &[&str]| {
        let o = chkconfig_in(root, args);
        assert!(o.status.success(), "chkconfig {args:?}: {}", text(&o));
    };
    // `yum update` of xen and drbd83: the packages' own init scripts come
    // back (drbd 8.3.2's is on by default, 345 70 08), and their %post runs
    // `chkconfig --add`, which leaves a non-LSB script's existing links.
    let initd = root.join("etc/rc.d/init.d");
    std::fs::copy(fixtures().join("el5/stock/xend.init"), initd.join("xend")).unwrap();
    std::fs::copy(fixtures().join("el5/init.d/drbd-8.3.2"), initd.join("drbd")).unwrap();
    chk(&["--add", "xend"]);
    chk(&["--add", "drbd"]);
    // And the stock scripts of the stack, reinstalled the same way.
    for s in ["cman", "clvmd", "gfs2"] {
        std::fs::copy(fixtures().join(format!("el5/init.d/{s}")), initd.join(s)).unwrap();
        chk(&["--add", s]);
    }
    // An operator resets drbd's priorities and switches it off again, as
    // the seed's section 7.3 did: the links come from its stock header
    // now, but it stays off.
    chk(&["drbd", "resetpriorities"]);
    chk(&["drbd", "off"]);

    for level in 2..=5 {
        let started = boot_order(root, level);
        // Nothing of the cluster starts from rc: the helper (S99) starts
        // it once both nodes have met, in its own order.
        for s in STACK {
            assert!(
                !started.iter().any(|l| &l[3..] == s),
                "rc{level}.d starts {s}: {started:?}"
            );
        }
        if level >= 3 {
            assert_eq!(
                started.last().map(String::as_str),
                Some("S99clusterkick-firstboot"),
                "rc{level}.d: {started:?}"
            );
        }
    }
    // The helper started cman, clusterkick-drbd, clvmd and gfs2 through
    // their init scripts (each holds its lock); rc's shutdown stops them
    // in the reverse order, after the helper itself, and never runs the
    // package's K08drbd (the helper never starts that script).
    let locked = [
        "clusterkick-firstboot",
        "xend",
        "cman",
        "clusterkick-drbd",
        "clvmd",
        "gfs2",
    ];
    let stack: Vec<String> = shutdown_order(root, &locked)
        .into_iter()
        .filter(|n| n != "K01clusterkick-firstboot" && !n.ends_with("xend"))
        .collect();
    assert_eq!(
        stack,
        ["K74gfs2", "K76clvmd", "K78clusterkick-drbd", "K79cman"],
        "{}",
        rc_links(root)
    );
    assert_eq!(
        shutdown_order(root, &locked).first().map(String::as_str),
        Some("K01clusterkick-firstboot")
    );
    assert!(
        root.join("etc/rc.d/rc0.d/K08drbd").exists(),
        "{}",
        rc_links(root)
    );
    // xend's update put 98/01 back in its header; its links are still the
    // %post's (S11) until someone runs chkconfig on it; then the helper's
    // boot check repairs them (el5-helper's xend-order step).
    assert!(
        root.join("etc/rc.d/rc3.d/S11xend").exists(),
        "{}",
        rc_links(root)
    );
}
