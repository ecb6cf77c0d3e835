//! The kickstart's %post runs for real, twice, against a fixture root made
//! of stock CentOS 5 files; results are compared with golden files and
//! checked by lvm2's own parser.

mod support;
use std::process::Command;
use support::*;

const EDITED: [&str; 8] = [
    "boot/grub/grub.conf",
    "etc/inittab",
    "etc/init.d/xend",
    "etc/init.d/drbd",
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
            k.contains(r#"filter=["a|drbd.*|","a|md.*|","r|.*|"]"#),
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
