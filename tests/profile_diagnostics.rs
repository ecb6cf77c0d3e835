//! Diagnostics under hostile input (issue 7, "Diagnostics"), placeholders
//! (issue 8, item 6) and the first-boot helper's port (issue 8, item 10):
//! one diagnostic a line, always with a position; `check` and `build`
//! agree on every input; every known placeholder is warned about by key,
//! by `build` once; no profile is refused for a port it never chose.

mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn check(ws: &Workspace, p: &Path) -> Output {
    ws.run(&["check", p.to_str().unwrap()])
}

fn build(ws: &Workspace, p: &Path, out: &Path) -> Output {
    ws.run(&[
        "build",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--helper",
        ws.helper().to_str().unwrap(),
    ])
}

/// `file:line:column: error|warning: ...` with line and column from 1.
fn positioned(line: &str, file: &Path) -> bool {
    let Some(rest) = line.strip_prefix(&format!("{}:", file.display())) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let number = |s: Option<&str>| {
        s.and_then(|s| s.parse::<usize>().ok())
            .is_some_and(|n| n >= 1)
    };
    number(parts.next())
        && number(parts.next())
        && parts
            .next()
            .is_some_and(|r| r.starts_with(" error: ") || r.starts_with(" warning: "))
}

/// The diagnostics in a run's stderr (its other lines are notes and the
/// build's own report).
fn diagnostics(err: &str, file: &Path) -> Vec<String> {
    err.lines()
        .filter(|l| positioned(l, file))
        .map(str::to_string)
        .collect()
}

fn r(s: String, from: &str, to: &str) -> String {
    assert!(s.contains(from), "fixture drift: {from:?} not in profile");
    s.replacen(from, to, 1)
}

/// An edit of the example: a text edit, or raw bytes for what is not text.
enum Edit {
    Text(fn(String) -> String),
    Bytes(fn(Vec<u8>) -> Vec<u8>),
}

/// Values a careless user or an attacker would try.
const HOSTILE: &[(&str, Edit)] = &[
    (
        "overlay_url with %20",
        Edit::Text(|s| {
            r(
                s,
                "http://10.0.1.1/an-cluster\"",
                "http://10.0.1.1/an%20cluster\"",
            )
        }),
    ),
    (
        "overlay_url with [",
        Edit::Text(|s| {
            r(
                s,
                "http://10.0.1.1/an-cluster\"",
                "http://10.0.1.1/an[cluster]\"",
            )
        }),
    ),
    (
        "overlay_url with a query",
        Edit::Text(|s| {
            r(
                s,
                "http://10.0.1.1/an-cluster\"",
                "http://10.0.1.1/an-cluster?x=1\"",
            )
        }),
    ),
    (
        "install url with [",
        Edit::Text(|s| {
            r(
                s,
                "url = \"http://10.0.1.1/centos",
                "url = \"http://[::1]/centos",
            )
        }),
    ),
    (
        "XML in the cluster name",
        Edit::Text(|s| r(s, "name = \"an-cluster\"", "name = \"an<&>\"")),
    ),
    (
        "XML in a node name",
        Edit::Text(|s| r(s, "name = \"an-node02\"", "name = \"an-node02\\\"/><x\"")),
    ),
    (
        "XML in a fence login",
        Edit::Text(|s| r(s, "login = \"motoko\"", "login = \"mo<t&o\\\"k'o]]>\"")),
    ),
    (
        "XML in a fence port",
        Edit::Text(|s| {
            r(
                s,
                "port = \"02\"",
                "port = \"02\\\"/><clusternode name=\\\"x\"",
            )
        }),
    ),
    (
        "XML in a fence option",
        Edit::Text(|s| r(s, "quiet = \"1\"", "quiet = \"<!-- -->&amp;\"")),
    ),
    (
        "XML in a volume name",
        Edit::Text(|s| r(s, "name = \"vm01\"", "name = \"vm<01>\"")),
    ),
    (
        "newline in a login",
        Edit::Text(|s| r(s, "login = \"motoko\"", "login = \"mo\\ntoko\"")),
    ),
    (
        "newline in a node name",
        Edit::Text(|s| r(s, "name = \"an-node02\"", "name = \"an-node02\\nrm -rf /\"")),
    ),
    (
        "newline in a MAC key",
        Edit::Text(|s| r(s, "eth0 = \"90:E6", "\"eth\\n0\" = \"90:E6")),
    ),
    (
        "newline in a table name",
        Edit::Text(|s| r(s, "[drbd]", "[\"dr\\nbd\"]\nx = 1\n\n[drbd]")),
    ),
    (
        "newline in a multi-line string",
        Edit::Text(|s| {
            r(
                s,
                "timezone = \"America/Toronto\"",
                "timezone = \"\"\"America/\nToronto\"\"\"",
            )
        }),
    ),
    (
        "tab in a timezone",
        Edit::Text(|s| {
            r(
                s,
                "timezone = \"America/Toronto\"",
                "timezone = \"America/\\tToronto\"",
            )
        }),
    ),
    (
        "terminal escape in a domain",
        Edit::Text(|s| {
            r(
                s,
                "domain = \"alteeve.com\"",
                "domain = \"alteeve\\u001b[2J.com\"",
            )
        }),
    ),
    (
        "right-to-left override in a VG",
        Edit::Text(|s| r(s, "vg = \"drbd_vg0\"", "vg = \"drbd\\u202evg0\"")),
    ),
    (
        "line separator in a resource",
        Edit::Text(|s| r(s, "resource = \"r0\"", "resource = \"r\\u20280\"")),
    ),
    (
        "NUL escaped in a login",
        Edit::Text(|s| r(s, "login = \"motoko\"", "login = \"mo\\u0000toko\"")),
    ),
    (
        "NUL escaped in a passwd_file",
        Edit::Text(|s| {
            r(
                s,
                "secrets/motoko.passwd\"",
                "secrets/motoko\\u0000.passwd\"",
            )
        }),
    ),
    (
        "NUL byte in the file",
        Edit::Bytes(|mut b| {
            b.splice(0..0, *b"x = \"\0\"\n");
            b
        }),
    ),
    (
        "not UTF-8 in a comment",
        Edit::Bytes(|mut b| {
            b.splice(0..0, *b"# caf\xe9\n");
            b
        }),
    ),
    (
        "very long node name",
        Edit::Text(|s| {
            r(
                s,
                "name = \"an-node02\"",
                &format!("name = \"{}\"", "n".repeat(100_000)),
            )
        }),
    ),
    (
        "very long key",
        Edit::Text(|s| {
            r(
                s,
                "runlevel = 3",
                &format!("runlevel = 3\n{} = 1", "k".repeat(100_000)),
            )
        }),
    ),
    (
        "very long login",
        Edit::Text(|s| {
            r(
                s,
                "login = \"motoko\"",
                &format!("login = \"{}\"", "m".repeat(100_000)),
            )
        }),
    ),
    (
        "very long timezone",
        Edit::Text(|s| {
            r(
                s,
                "timezone = \"America/Toronto\"",
                &format!("timezone = \"{}\"", "T".repeat(100_000)),
            )
        }),
    ),
    (
        "accented login",
        Edit::Text(|s| r(s, "login = \"motoko\"", "login = \"mötökö\"")),
    ),
    (
        "DRBD on the helper's old default port",
        Edit::Text(|s| r(s, "port = 7789", "port = 7790")),
    ),
];

/// `check` and `build` give the same verdict and the same diagnostics on
/// every hostile input, each diagnostic on one line with its position; an
/// accepted profile builds, and its cluster.conf is well-formed XML.
#[test]
fn test_check_and_build_agree_on_hostile_values() {
    let ws = Workspace::new();
    let xmllint = require("xmllint", "libxml2-utils");
    let example = std::fs::read(ws.profile()).unwrap();
    for (i, (case, edit)) in HOSTILE.iter().enumerate() {
        let p = ws.variant(&format!("hostile{i:02}"), |s| s);
        let bytes = match edit {
            Edit::Text(f) => f(String::from_utf8(example.clone()).unwrap()).into_bytes(),
            Edit::Bytes(f) => f(example.clone()),
        };
        std::fs::write(&p, bytes).unwrap();
        let c = check(&ws, &p);
        let out = ws.path().join(format!("out{i:02}"));
        let b = build(&ws, &p, &out);
        let (cerr, berr) = (stderr(&c), stderr(&b));
        assert_eq!(
            c.status.code(),
            b.status.code(),
            "{case}: check and build disagree:\n{cerr}\n---\n{berr}"
        );
        assert!(
            matches!(c.status.code(), Some(0 | 1)),
            "{case}: {:?}\n{cerr}",
            c.status
        );
        for l in cerr.lines() {
            assert!(
                positioned(l, &p),
                "{case}: not one positioned diagnostic: {l:?}"
            );
            assert!(
                l.chars().count() < 1600,
                "{case}: a diagnostic of {} characters",
                l.chars().count()
            );
        }
        assert_eq!(
            diagnostics(&berr, &p),
            diagnostics(&cerr, &p),
            "{case}: different diagnostics"
        );
        if c.status.code() == Some(1) {
            assert!(
                cerr.contains(": error: "),
                "{case}: refused without an error:\n{cerr}"
            );
            assert!(
                !out.exists(),
                "{case}: a refused build wrote {}",
                out.display()
            );
            continue;
        }
        for node in ["an-node01", "an-node02"] {
            let tree = untar(&out.join(format!("an-cluster/overlay/{node}.tar.gz")));
            let st = Command::new(&xmllint)
                .arg("--noout")
                .arg(tree.path().join("etc/cluster/cluster.conf"))
                .status()
                .unwrap();
            assert!(
                st.success(),
                "{case}: {node}'s cluster.conf is not well-formed XML"
            );
        }
    }
}

/// What would split a line on main is shown escaped.
#[test]
fn test_control_characters_are_shown_escaped_on_one_line() {
    let ws = Workspace::new();
    let p = ws.variant("nl", |s| r(s, "eth0 = \"90:E6", "\"eth\\n0\" = \"90:E6"));
    let err = stderr(&check(&ws, &p));
    assert!(
        err.contains(": error: `nodes[0].mac.eth\\n0`: no network uses interface \"eth\\n0\""),
        "{err}"
    );
    let p = ws.variant("esc", |s| {
        r(
            s,
            "domain = \"alteeve.com\"",
            "domain = \"a\\u001b[2J\\u202e.com\"",
        )
    });
    let err = stderr(&check(&ws, &p));
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("a\\u{1b}[2J\\u{202e}.com"), "{err}");
}

#[test]
fn test_a_profile_that_is_not_utf8_is_refused_at_its_first_bad_byte() {
    let ws = Workspace::new();
    let p = ws.path().join("profiles/latin1.toml");
    std::fs::write(
        &p,
        b"# a profile\n[cluster]\nname = \"an-cl\xe9ster\"\n\xff\n",
    )
    .unwrap();
    let o = check(&ws, &p);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "{}:3:14: error: the profile is not UTF-8 text: byte 0xE9 here is not part of a UTF-8 character; save the file as UTF-8\n",
            p.display()
        )
    );
    // Characters before it count one column each, whatever their length.
    std::fs::write(&p, b"# \xc3\xa9\xf0\x9f\x98\x80x\xc3\n").unwrap();
    let err = stderr(&check(&ws, &p));
    assert!(
        err.starts_with(&format!(
            "{}:1:6: error: the profile is not UTF-8 text: byte 0xC3",
            p.display()
        )),
        "{err}"
    );
}

/// The example's placeholders, each warned about at its key (line:col of
/// the value), by `check` (exit 0) and once by `build`.
#[test]
fn test_the_examples_placeholders_are_warned_about_by_key() {
    let ws = Workspace::new();
    let p = ws.profile();
    let text = std::fs::read_to_string(&p).unwrap();
    let at = |needle: &str| {
        let i = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not in the example"));
        let line = text[..i].matches('\n').count() + 1;
        let col = text[..i].rsplit('\n').next().unwrap().chars().count() + 1;
        format!("{}:{line}:{col}: warning: ", p.display())
    };
    let secrets = ws.path().join("profiles/an-cluster.secrets");
    let expected: [(String, String); 8] = [
        (at("\"$1$clusterk$"), "`install.root_password_hash`: \"$1$clusterk$WQVv5GfLpTu5h7o68qMw6/\" is the hash of \"changeme\"".to_string()),
        (at("\"00:00:5E:00:53:20\""), "`nodes[1].mac.eth0`: \"00:00:5E:00:53:20\" is a MAC address reserved for documentation".to_string()),
        (at("\"00:00:5E:00:53:21\""), "`nodes[1].mac.eth1`: \"00:00:5E:00:53:21\" is a MAC address reserved for documentation".to_string()),
        (at("\"00:00:5E:00:53:22\""), "`nodes[1].mac.eth2`: \"00:00:5E:00:53:22\" is a MAC address reserved for documentation".to_string()),
        (at("\"an-cluster.secrets/motoko.passwd\""), format!("`fence_devices.motoko.passwd_file`: {} holds the seed's example password, a placeholder", secrets.join("motoko.passwd").display())),
        (format!("{}:1:1: warning: ", p.display()), format!("`firstboot.key_file`: {} (the default key file; firstboot.key_file names another) holds an example's first-boot key", secrets.join("firstboot.key").display())),
        (format!("{}:1:1: warning: ", p.display()), format!("`DRBD shared secret`: {} holds an example's DRBD shared secret", secrets.join("drbd.secret").display())),
        (format!("{}:1:1: warning: ", p.display()), format!("`cman authkey`: {} holds an example's cman authkey", secrets.join("cman.authkey").display())),
    ];
    let c = check(&ws, &p);
    let err = stderr(&c);
    assert_eq!(c.status.code(), Some(0), "warnings are not errors: {err}");
    let placeholders: Vec<&str> = err.lines().filter(|l| l.contains("placeholder")).collect();
    assert_eq!(placeholders.len(), expected.len(), "{err}");
    for (place, words) in &expected {
        let want = format!("{place}{words}");
        assert!(
            placeholders.iter().any(|l| l.starts_with(&want)),
            "want {want}\n{err}"
        );
    }
    // build: the same warnings, once each.
    let b = build(&ws, &p, &ws.path().join("out"));
    let berr = stderr(&b);
    assert!(b.status.success(), "{berr}");
    for l in err.lines() {
        assert_eq!(
            berr.matches(l).count(),
            1,
            "build printed {l:?} not once:\n{berr}"
        );
    }
    // Real values in their places: no placeholder left, and no marker to delete.
    let key = ws.path().join("profiles/real.secrets/firstboot.key");
    let real = ws.variant("real", |s| {
        let s = r(
            s,
            "$1$clusterk$WQVv5GfLpTu5h7o68qMw6/",
            "$1$realsalt$YiikYfSpF1.5IAJydb78n1",
        );
        let s = r(s, "\"00:00:5E:00:53:20\"", "\"90:E6:BA:71:82:E0\"");
        let s = r(s, "\"00:00:5E:00:53:21\"", "\"00:21:91:19:96:5B\"");
        let s = r(s, "\"00:00:5E:00:53:22\"", "\"00:0E:0C:59:45:79\"");
        r(
            s,
            "\"an-cluster.secrets/motoko.passwd\"",
            "\"real.secrets/motoko.passwd\"",
        )
    });
    std::fs::write(
        ws.path().join("profiles/real.secrets/motoko.passwd"),
        "Zq7-not-a-placeholder\n",
    )
    .unwrap();
    // The cluster's own random secrets, made as a user makes them.
    let dir = key.parent().unwrap().to_path_buf();
    for f in ["firstboot.key", "drbd.secret", "cman.authkey"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let o = ws.run(&["secrets", real.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = build(&ws, &real, &ws.path().join("out-real"));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = check(&ws, &real);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("placeholder"), "{}", stderr(&o));
}

/// Documentation addresses, subnets and domains anywhere in a profile.
#[test]
fn test_documentation_ranges_are_placeholders_anywhere() {
    let ws = Workspace::new();
    let p = ws.variant("docs", |s| {
        let s = r(
            s,
            "dns = [\"192.168.1.1\"]",
            "dns = [\"192.168.1.1\", \"198.51.100.53\"]",
        );
        let s = r(
            s,
            "ipaddr = \"motoko.alteeve.com\"",
            "ipaddr = \"motoko.example.com\"",
        );
        let s = r(s, "domain = \"alteeve.com\"", "domain = \"lab.example\"");
        let s = r(
            s,
            "url = \"http://10.0.1.1/centos",
            "url = \"http://203.0.113.9/centos",
        );
        r(
            s,
            "options = { quiet = \"1\" }",
            "options = { quiet = \"1\", ipaddr2 = \"192.0.2.7\" }",
        )
    });
    let o = check(&ws, &p);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for (key, words) in [
        ("networks.internet.dns[1]", "\"198.51.100.53\" is an address reserved for documentation (198.51.100.0/24, RFC 5737)"),
        ("fence_devices[0].ipaddr", "\"motoko.example.com\" is a name under example.com, a domain reserved for documentation (RFC 2606)"),
        ("cluster.domain", "\"lab.example\" is a name under .example"),
        ("install.url", "is a URL whose host is an address reserved for documentation (203.0.113.0/24, RFC 5737)"),
        ("fence_devices[0].options.ipaddr2", "\"192.0.2.7\" is an address reserved for documentation (192.0.2.0/24"),
    ] {
        let l = err
            .lines()
            .find(|l| l.contains(&format!("warning: `{key}`: ")))
            .unwrap_or_else(|| panic!("no warning for {key}:\n{err}"));
        assert!(positioned(l, &p) && l.contains(words), "{key}: {l}");
    }
    assert!(
        !err.contains("`networks.internet.dns[0]`"),
        "192.168.1.1 is a real address: {err}"
    );
}

fn firstboot_port(ws: &Workspace, p: &Path) -> String {
    let o = ws.run(&[
        "render",
        p.to_str().unwrap(),
        "--node",
        "an-node01",
        "etc/clusterkick/firstboot.toml",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let listen = text
        .lines()
        .find(|l| l.starts_with("listen = "))
        .expect("listen");
    listen
        .trim_end_matches('"')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn test_the_helpers_default_port_never_refuses_a_profile() {
    let ws = Workspace::new();
    // The example keeps its port.
    assert_eq!(firstboot_port(&ws, &ws.profile()), "7790");
    // DRBD on 7790, LINBIT's usual second port: the helper moves.
    let p = ws.variant("drbd7790", |s| r(s, "port = 7789", "port = 7790"));
    let o = check(&ws, &p);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(firstboot_port(&ws, &p), "7791");
    // ... and past totem's two ports in its way (7792, and 7791 it sends
    // from).
    let p = ws.variant("drbd7790t", |s| {
        r(
            r(s, "port = 7789", "port = 7790"),
            "mcastport = 5405",
            "mcastport = 7792",
        )
    });
    assert_eq!(check(&ws, &p).status.code(), Some(0));
    assert_eq!(firstboot_port(&ws, &p), "7793");
}

#[test]
fn test_an_explicit_helper_port_that_collides_names_both_keys() {
    let ws = Workspace::new();
    let text = std::fs::read_to_string(ws.profile()).unwrap();
    let at = |needle: &str| {
        let i = text.find(needle).unwrap();
        let line = text[..i].matches('\n').count() + 1;
        let col = text[..i].rsplit('\n').next().unwrap().chars().count() + 1;
        (line, col)
    };
    let (dl, dc) = at("7789");
    let (tl, tc) = at("5405");
    for (port, other, (ol, oc), what) in [
        (7789, "drbd.port", (dl, dc), "DRBD (TCP)"),
        (
            5405,
            "totem.rings[0].mcastport",
            (tl, tc),
            "openais's totem (UDP, receiving)",
        ),
        (
            5404,
            "totem.rings[0].mcastport",
            (tl, tc),
            "openais's totem (UDP, sending: mcastport - 1)",
        ),
    ] {
        let p: PathBuf = ws.variant(&format!("fb{port}"), |s| {
            format!("{s}\n[firstboot]\nport = {port}\n")
        });
        let lines = std::fs::read_to_string(&p).unwrap().lines().count();
        let o = check(&ws, &p);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        let want = format!(
            "{}:{lines}:8: error: `firstboot.port`: {port} is also `{other}` (line {ol}, column {oc}), used by {what}",
            p.display()
        );
        assert!(err.contains(&want), "want {want}\n{err}");
    }
    // A port of its own is fine.
    let p = ws.variant("fb7800", |s| format!("{s}\n[firstboot]\nport = 7800\n"));
    assert_eq!(check(&ws, &p).status.code(), Some(0));
    assert_eq!(firstboot_port(&ws, &p), "7800");
}
