//! Bad profiles: exit 1, a message naming the file, line, column and key,
//! and an existing output folder left as it was. Nothing panics.

mod support;
use support::*;

/// (case, edit, key the message must name, words it must contain)
type Case = (
    &'static str,
    fn(String) -> String,
    &'static str,
    &'static str,
);

fn r(s: String, from: &str, to: &str) -> String {
    assert!(s.contains(from), "fixture drift: {from:?} not in profile");
    s.replacen(from, to, 1)
}

const CASES: &[Case] = &[
    (
        "unknown key",
        |s| {
            r(
                s,
                "post_join_delay = 60",
                "post_join_delay = 60\ncolour = \"red\"",
            )
        },
        "colour",
        "unknown field",
    ),
    (
        "unknown key in a node",
        |s| r(s, "id = 2\n", "id = 2\nrack = 4\n"),
        "rack",
        "unknown field",
    ),
    (
        "malformed IP",
        |s| {
            r(
                s,
                "back_channel = \"10.0.1.71\"",
                "back_channel = \"10.0.1.300\"",
            )
        },
        "nodes[0].ip.back_channel",
        "not an IPv4 address",
    ),
    (
        "malformed MAC",
        |s| {
            r(
                s,
                "eth0 = \"90:E6:BA:71:82:D8\"",
                "eth0 = \"90:E6:BA:71:82\"",
            )
        },
        "nodes[0].mac.eth0",
        "not a MAC address",
    ),
    (
        "malformed size",
        |s| r(s, "root_size = \"20G\"", "root_size = \"20 gigs\""),
        "disks.root_size",
        "unit",
    ),
    (
        "malformed CIDR",
        |s| r(s, "subnet = \"10.0.0.0/24\"", "subnet = \"10.0.0.0/33\""),
        "networks.drbd.subnet",
        "CIDR",
    ),
    (
        "address outside its subnet",
        |s| r(s, "drbd = \"10.0.0.71\"", "drbd = \"10.0.5.71\""),
        "nodes[0].ip.drbd",
        "outside networks.drbd.subnet",
    ),
    (
        "duplicate node name",
        |s| r(s, "name = \"an-node02\"", "name = \"an-node01\""),
        "nodes[1].name",
        "also nodes[0].name",
    ),
    (
        "duplicate node id",
        |s| r(s, "id = 2", "id = 1"),
        "nodes[1].id",
        "also nodes[0].id",
    ),
    (
        "duplicate MAC",
        |s| {
            r(
                s,
                "eth1 = \"00:00:5E:00:53:21\"",
                "eth1 = \"00:21:91:19:96:5a\"",
            )
        },
        "nodes[1].mac.eth1",
        "also nodes[0].mac.eth1",
    ),
    (
        "duplicate address",
        |s| {
            r(
                s,
                "internet = \"192.168.1.72\"",
                "internet = \"192.168.1.71\"",
            )
        },
        "nodes[1].ip.internet",
        "also nodes[0].ip.internet",
    ),
    (
        "underscore in host name",
        |s| r(s, "name = \"an-node01\"", "name = \"an_node01\""),
        "nodes[0].name",
        "luci",
    ),
    (
        "FQDN given as name",
        |s| {
            r(
                s,
                "name = \"an-node01\"",
                "name = \"an-node01.alteeve.com\"",
            )
        },
        "nodes[0].name",
        "short name",
    ),
    (
        "bad character in host name",
        |s| r(s, "name = \"an-node02\"", "name = \"an-node02!\""),
        "nodes[1].name",
        "letters, digits and '-'",
    ),
    (
        "no fence method",
        |s| {
            r(s, "fence = [ { method = \"node_assassin\", device = \"motoko\", port = \"02\", action = \"off\" } ]\n", "")
        },
        "nodes[1].fence",
        "no fence method",
    ),
    (
        "undefined fence device",
        |s| {
            r(
                s,
                "device = \"motoko\", port = \"02\"",
                "device = \"motokoo\", port = \"02\"",
            )
        },
        "nodes[1].fence[0].device",
        "no [[fence_devices]] is named \"motokoo\"",
    ),
    (
        "subnet with host bits",
        |s| r(s, "subnet = \"10.0.1.0/24\"", "subnet = \"10.0.1.5/24\""),
        "networks.back_channel.subnet",
        "10.0.1.0/24",
    ),
    (
        "multicast outside 224/4",
        |s| r(s, "mcastaddr = \"226.94.1.1\"", "mcastaddr = \"10.94.1.1\""),
        "totem.rings[0].mcastaddr",
        "not a multicast address",
    ),
    (
        "multicast in 224.0.0.0/8",
        |s| {
            r(
                s,
                "mcastaddr = \"227.94.1.1\"",
                "mcastaddr = \"224.0.0.18\"",
            )
        },
        "totem.rings[1].mcastaddr",
        "224.0.0.0/8",
    ),
    (
        "DRBD primary not a node",
        |s| r(s, "primary = \"an-node01\"", "primary = \"an-node03\""),
        "drbd.primary",
        "not a node",
    ),
    (
        "layout does not fit the disks",
        |s| r(s, "size = \"500GB\"", "size = \"300GB\""),
        "disks.size",
        "does not fit",
    ),
    (
        "newline in an XML value",
        |s| r(s, "login = \"motoko\"", "login = \"mo\\ntoko\""),
        "fence_devices[0].login",
        "control character",
    ),
    (
        "blank breaks a kickstart line",
        |s| {
            r(
                s,
                "timezone = \"America/Toronto\"",
                "timezone = \"America/Toronto --isUtc\"",
            )
        },
        "install.timezone",
        "kickstart line",
    ),
    (
        "quote breaks a kickstart line",
        |s| r(s, "lang = \"en_US.UTF-8\"", "lang = \"en_US\\\"x\""),
        "install.lang",
        "kickstart line",
    ),
    (
        "shell character in a URL",
        |s| {
            r(
                s,
                "overlay_url = \"http://10.0.1.1/an-cluster\"",
                "overlay_url = \"http://10.0.1.1/$(reboot)\"",
            )
        },
        "install.overlay_url",
        "not a usable URL",
    ),
    (
        "inline password",
        |s| {
            r(
                s,
                "passwd_file = \"an-cluster.secrets/motoko.passwd\"",
                "passwd = \"secret\"",
            )
        },
        "fence_devices[0].passwd",
        "inline password",
    ),
    (
        "password variable not set",
        |s| {
            r(
                s,
                "passwd_file = \"an-cluster.secrets/motoko.passwd\"",
                "passwd_env = \"CLUSTERKICK_TEST_UNSET_PW\"",
            )
        },
        "fence_devices.motoko.passwd_env",
        "not set",
    ),
    (
        "password file missing",
        |s| r(s, "secrets/motoko.passwd\"", "secrets/missing.passwd\""),
        "fence_devices.motoko.passwd_file",
        "cannot read",
    ),
    (
        "plain root password",
        |s| {
            r(
                s,
                "root_password_hash = \"$1$clusterk$WQVv5GfLpTu5h7o68qMw6/\"",
                "root_password_hash = \"changeme\"",
            )
        },
        "install.root_password_hash",
        "crypt(3)",
    ),
    (
        "unknown platform",
        |s| r(s, "platform = \"el5-xen\"", "platform = \"el10-kvm\""),
        "cluster.platform",
        "known: el5-xen, el9-kvm, debian12-kvm",
    ),
    (
        "wrong rrp_mode for two rings",
        |s| r(s, "rrp_mode = \"passive\"", "rrp_mode = \"none\""),
        "totem.rrp_mode",
        "two",
    ),
    (
        "protocol A with dual primary",
        |s| r(s, "protocol = \"C\"", "protocol = \"A\""),
        "drbd.protocol",
        "protocol \"C\"",
    ),
    (
        "volumes larger than DRBD",
        |s| r(s, "size = \"20G\", gfs2", "size = \"500G\", gfs2"),
        "clvm.volumes",
        "DRBD device gives",
    ),
    (
        "one journal for two nodes",
        |s| r(s, "journals = 2", "journals = 1"),
        "clvm.volumes[0].gfs2.journals",
        "one journal per node",
    ),
    (
        "type mismatch",
        |s| r(s, "id = 2", "id = \"two\""),
        "",
        "invalid type",
    ),
    ("TOML syntax error", |s| r(s, "[totem]", "[totem"), "", ""),
    (
        "a table no platform has",
        |s| r(s, "[drbd]", "[dom1]\nmemory = \"1G\"\n\n[drbd]"),
        "dom1",
        "unknown field `dom1`",
    ),
    (
        "the platform's table misspelt",
        |s| r(s, "[totem]", "[not_totem]"),
        "not_totem",
        "unknown field",
    ),
    (
        "the platform's table missing",
        |s| r(s, "[dom0]\nmemory = \"512M\"\nrunlevel = 3\n", ""),
        "dom0",
        "missing field `dom0`",
    ),
    (
        "a key the platform's table does not have",
        |s| r(s, "runlevel = 3", "runlevel = 3\nvcpus = 2"),
        "vcpus",
        "unknown field",
    ),
    (
        "el5-xen NIC names are ethN",
        |s| r(s, "interface = \"eth1\"", "interface = \"bond0\""),
        "networks.drbd.interface",
        "not an ethN interface name",
    ),
    (
        "extras not derivable from the install URL",
        |s| {
            r(
                s,
                "url = \"http://10.0.1.1/centos/5.4/os/x86_64\"",
                "url = \"http://10.0.1.1/centos/5.4/x86_64\"",
            )
        },
        "install.extras_url",
        "CentOS extras",
    ),
    // `build` refused these after `check` had passed them (issue 7):
    // one validation now, run by both.
    (
        "overlay URL nginx cannot name",
        |s| {
            r(
                s,
                "overlay_url = \"http://10.0.1.1/an-cluster\"",
                "overlay_url = \"http://10.0.1.1/a%20b\"",
            )
        },
        "install.overlay_url",
        "nginx location",
    ),
    (
        "overlay URL at the web server's root",
        |s| {
            r(
                s,
                "overlay_url = \"http://10.0.1.1/an-cluster\"",
                "overlay_url = \"http://10.0.1.1/\"",
            )
        },
        "install.overlay_url",
        "web server's root",
    ),
];

#[test]
fn test_every_bad_input_is_refused_with_its_key_and_place() {
    let ws = Workspace::new();
    for (case, edit, key, words) in CASES {
        let p = ws.variant("bad", *edit);
        let o = ws.run(&["check", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{case}: expected exit 1, got {:?}\n{err}",
            o.status.code()
        );
        assert!(o.stdout.is_empty(), "{case}: check printed to stdout");
        // file:line:column: error
        let place = regex_like_place(&err);
        assert!(place, "{case}: no file:line:column in {err}");
        if !key.is_empty() {
            assert!(
                err.contains(&format!("`{key}`")) || err.contains(key),
                "{case}: message does not name {key}:\n{err}"
            );
        }
        assert!(
            err.contains(words),
            "{case}: message lacks {words:?}:\n{err}"
        );
        assert!(!err.contains("panicked"), "{case}: panic\n{err}");
    }
}

/// `build` runs the validation `check` runs: the same diagnostics, exit 1,
/// and nothing written.
#[test]
fn test_build_refuses_every_bad_input_as_check_does() {
    let ws = Workspace::new();
    for (case, edit, _, _) in CASES {
        let p = ws.variant("bad", *edit);
        let check = ws.run(&["check", p.to_str().unwrap()]);
        let out = ws.path().join("out-bad");
        let build = ws.run(&[
            "build",
            p.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--helper",
            ws.helper().to_str().unwrap(),
        ]);
        assert_eq!(build.status.code(), Some(1), "{case}: build did not refuse");
        assert_eq!(
            String::from_utf8_lossy(&build.stderr),
            String::from_utf8_lossy(&check.stderr),
            "{case}: build and check disagree"
        );
        assert!(!out.exists(), "{case}: build wrote {}", out.display());
    }
}

fn regex_like_place(err: &str) -> bool {
    err.lines().any(|l| {
        let Some(rest) = l.split_once(".toml:").map(|x| x.1) else {
            return false;
        };
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let col = parts.next().unwrap_or("");
        !line.is_empty()
            && line.chars().all(|c| c.is_ascii_digit())
            && !col.is_empty()
            && col.chars().all(|c| c.is_ascii_digit())
    })
}

#[test]
fn test_error_points_at_the_offending_line() {
    let ws = Workspace::new();
    let p = ws.variant("bad", |s| {
        r(s, "drbd = \"10.0.0.72\"", "drbd = \"10.0.9.72\"")
    });
    let text = std::fs::read_to_string(&p).unwrap();
    let line = text.lines().position(|l| l.contains("10.0.9.72")).unwrap() + 1;
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"10.0.9.72\"")
        .unwrap()
        + 1;
    let o = ws.run(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("bad.toml:{line}:{col}: error: `nodes[1].ip.drbd`")),
        "{err}"
    );
}

#[test]
fn test_failed_build_leaves_existing_output_untouched() {
    let ws = Workspace::new();
    let out = ws.build(&ws.profile());
    let before = std::fs::read(out.join("SHA256SUMS")).unwrap();
    let bad = ws.variant("an-cluster-bad", |s| r(s, "id = 2", "id = 1"));
    let o = ws.run(&[
        "build",
        bad.to_str().unwrap(),
        "--out",
        ws.path().join("out").to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(out.join("SHA256SUMS")).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(ws.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("an-cluster")],
        "stray files in the output folder"
    );
    // An invalid profile into a new folder creates nothing at all.
    let fresh = ws.path().join("fresh");
    let o = ws.run(&[
        "build",
        bad.to_str().unwrap(),
        "--out",
        fresh.to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!fresh.exists());
}

#[test]
fn test_build_refuses_a_helper_that_cannot_run_on_el5() {
    let ws = Workspace::new();
    // This test binary is dynamically linked against the build host's glibc.
    let me = std::env::current_exe().unwrap();
    let o = ws.run(&[
        "build",
        ws.profile().to_str().unwrap(),
        "--out",
        "out",
        "--helper",
        me.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("dynamically linked") && err.contains("x86_64-unknown-linux-musl"),
        "{err}"
    );
    assert!(!ws.path().join("out").exists());
}

#[test]
fn test_missing_delay_is_a_warning_not_an_error() {
    let ws = Workspace::new();
    let p = ws.variant("nodelay", |s| r(s, ", delay = 15", ""));
    let o = ws.run(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning") && err.contains("delay"), "{err}");
}

#[test]
fn test_usage_errors_exit_2() {
    let ws = Workspace::new();
    assert_eq!(ws.run(&["build", "x.toml"]).status.code(), Some(2));
    assert_eq!(ws.run(&["frobnicate"]).status.code(), Some(2));
    let h = ws.run(&["build", "--help"]);
    assert_eq!(h.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&h.stdout).contains("--out"));
}

#[test]
fn test_valid_example_checks_clean() {
    let ws = Workspace::new();
    let o = ws.run(&["check", ws.profile().to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn test_no_input_makes_the_loader_panic() {
    // Every truncation and a spread of single-byte corruptions of the
    // example, as bytes (so also text that is not UTF-8, NUL, control
    // characters): the loader answers Ok or diagnostics, never a panic, and
    // every diagnostic is one line with a position.
    let path = repo().join("profiles/an-cluster.toml");
    let bytes = std::fs::read(&path).unwrap();
    let mut inputs: Vec<Vec<u8>> = (0..bytes.len())
        .step_by(7)
        .map(|i| bytes[..i].to_vec())
        .collect();
    let corruptions: &[&[u8]] = &[
        b"\"",
        b"\n",
        b"=",
        b"[",
        b"]",
        b"0",
        b"x",
        b"\\",
        b"{",
        b"#",
        b"\0",
        b"\xff",
        b"\x1b",
        b"\t",
        b"\r",
        "\u{202e}".as_bytes(),
        b"\xc3",
        b"\"\"\"",
        b"'",
    ];
    for (i, repl) in (0..bytes.len()).step_by(3).zip(corruptions.iter().cycle()) {
        let mut b = bytes.clone();
        b.splice(i..i + 1, repl.iter().copied());
        inputs.push(b);
    }
    for input in inputs {
        let r = std::panic::catch_unwind(|| {
            clusterkick::profile::load_bytes(&path, &input, clusterkick::profile::Mode::Check)
                .err()
                .map(|e| e.0)
        });
        let shown = String::from_utf8_lossy(&input);
        let Ok(diagnostics) = r else {
            panic!("the loader panicked on:\n{shown}");
        };
        for d in diagnostics.into_iter().flatten() {
            let line = d.to_string();
            assert!(
                d.line >= 1 && d.column >= 1 && line.lines().count() == 1,
                "not one positioned line: {line:?}\non:\n{shown}"
            );
        }
    }
}
