//! `clusterkick init NAME --out PROFILE` (issue 9): a new profile that
//! `check` accepts, with a warning at every value to fill in and none once
//! they are filled; refusals (an existing file, a bad name) that write
//! nothing; the same arguments, the same bytes.

mod support;
use support::*;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn init(dir: &Path, args: &[&str]) -> Output {
    Command::new(CLUSTERKICK)
        .arg("init")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run clusterkick init")
}

fn check(dir: &Path, profile: &str) -> Output {
    Command::new(CLUSTERKICK)
        .args(["check", profile])
        .current_dir(dir)
        .output()
        .expect("run clusterkick check")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// The key of each `warning:` line, in order; panics on any other line.
fn warned_keys(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|l| {
            let w = l
                .split_once(": warning: `")
                .unwrap_or_else(|| panic!("not a warning: {l}"))
                .1;
            w.split('`').next().unwrap().to_string()
        })
        .collect()
}

/// What every profile `init` writes warns about, by platform.
fn to_fill(platform: &str) -> Vec<String> {
    let ifaces: [&str; 3] = match platform {
        "el5-xen" => ["eth0", "eth1", "eth2"],
        _ => ["ifn0", "sn0", "bcn0"],
    };
    let mut keys: Vec<String> = [
        "cluster.domain",
        "install.url",
        "install.overlay_url",
        "install.root_password_hash",
        "networks.internet.subnet",
        "networks.internet.gateway",
        "networks.internet.dns[0]",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    for n in 0..2 {
        for i in ifaces {
            keys.push(format!("nodes[{n}].mac.{i}"));
        }
        keys.push(format!("nodes[{n}].ip.internet"));
    }
    let devices: &[&str] = match platform {
        "el5-xen" => &["na01"],
        _ => &["ipmi_n01", "ipmi_n02"],
    };
    for (j, d) in devices.iter().enumerate() {
        keys.push(format!("fence_devices[{j}].ipaddr"));
        keys.push(format!("fence_devices[{j}].login"));
        keys.push(format!("fence_devices.{d}.passwd_file"));
    }
    keys.sort();
    keys
}

/// What a user does with a new profile: a real value in place of each
/// placeholder, and the devices' passwords in their files.
fn fill(dir: &Path, stem: &str) {
    let p = dir.join(format!("{stem}.toml"));
    let text = fs::read_to_string(&p).unwrap();
    let mut filled = text
        .replace("\"example.com\"", "\"cluster.lan\"")
        .replace("http://192.0.2.1/", "http://10.0.1.1/")
        .replace("\"192.0.2.10\"", "\"10.0.1.10\"")
        .replace("\"192.0.2.171\"", "\"10.0.1.171\"")
        .replace("\"192.0.2.172\"", "\"10.0.1.172\"")
        .replace("198.51.100.", "192.168.7.")
        .replace("00:00:5E:00:53:", "52:54:00:12:34:")
        .replace("login = \"changeme\"", "login = \"admin\"");
    for hash in [
        "$1$clusterk$WQVv5GfLpTu5h7o68qMw6/",
        "$6$clusterk$fvSOBj7bwOfAexfNpxvhi41dqMmhAUpSVV/TQT23MfYei9hxPNiX2qZD//MXV03Wl13dL6zIKAlVQbqO26nb/.",
    ] {
        filled = filled.replace(hash, "$6$realsalt$Hq1bKp0V2f1bq7o0Yd0a6b5cG3c1x9kzqvJmB7aWc4g");
    }
    assert_ne!(filled, text);
    fs::write(&p, filled).unwrap();
    for e in fs::read_dir(dir.join(format!("{stem}.secrets"))).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().ends_with(".passwd") {
            // Written in place: the file keeps its mode.
            fs::write(e.path(), "Tr0ub4dor&3\n").unwrap();
        }
    }
}

#[test]
fn test_init_then_check_warns_at_every_value_to_fill_and_filling_them_silences_it() {
    for platform in ["el5-xen", "el9-kvm", "debian12-kvm"] {
        let dir = tempfile::tempdir().unwrap();
        let o = init(
            dir.path(),
            &["demo_1", "--out", "demo.toml", "--platform", platform],
        );
        assert_eq!(o.status.code(), Some(0), "{platform}: {}", stderr(&o));
        let secrets = dir.path().join("demo.secrets");
        assert_eq!(mode(&secrets), 0o700, "{platform}");
        let mut made: Vec<String> = fs::read_dir(&secrets)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        made.sort();
        // The placeholder passwords, and the cluster's random secrets.
        let want: Vec<&str> = match platform {
            "el5-xen" => vec![
                "cman.authkey",
                "drbd.secret",
                "firstboot.key",
                "na01.passwd",
            ],
            _ => vec![
                "corosync.authkey",
                "drbd.secret",
                "firstboot.key",
                "ipmi_n01.passwd",
                "ipmi_n02.passwd",
            ],
        };
        assert_eq!(made, want, "{platform}");
        for f in &made {
            assert_eq!(mode(&secrets.join(f)), 0o600, "{platform} {f}");
        }
        let text = fs::read_to_string(dir.path().join("demo.toml")).unwrap();
        assert!(text.contains("name = \"demo_1\"\n"), "{text}");
        assert!(
            text.contains(&format!("platform = \"{platform}\"\n")),
            "{text}"
        );
        assert!(text.contains("name = \"demo-1-node01\"\n"), "{text}");

        let o = check(dir.path(), "demo.toml");
        assert_eq!(o.status.code(), Some(0), "{platform}: {}", stderr(&o));
        let mut warned = warned_keys(&stderr(&o));
        warned.sort();
        assert_eq!(warned, to_fill(platform), "{platform}:\n{}", stderr(&o));

        fill(dir.path(), "demo");
        let o = check(dir.path(), "demo.toml");
        assert_eq!(o.status.code(), Some(0), "{platform}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{platform}: filled, yet warned");
    }
}

#[test]
fn test_a_filled_new_profile_builds() {
    let ws = Workspace::new();
    let dir = ws.path();
    let o = init(dir, &["fresh", "--out", "fresh.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    fill(dir, "fresh");
    let out = ws.build_cluster(&dir.join("fresh.toml"), "fresh");
    assert!(out.join("ks/fresh-node01.ks").is_file());
    assert!(out.join("ks/fresh-node02.ks").is_file());
}

#[test]
fn test_the_same_arguments_give_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for platform in ["el5-xen", "el9-kvm", "debian12-kvm"] {
        let out = format!("{platform}.toml");
        for d in [&a, &b] {
            let o = init(d.path(), &["same", "--out", &out, "--platform", platform]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    }
    let files = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>, u32)> = walkdir::WalkDir::new(d)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap())
            .map(|e| {
                let rel = e.path().strip_prefix(d).unwrap().display().to_string();
                let random = [".authkey", "drbd.secret", "firstboot.key"]
                    .iter()
                    .any(|r| rel.ends_with(r));
                let bytes = match e.file_type().is_file() {
                    // Random secrets differ, by design: their sizes do not.
                    true if random => fs::read(e.path()).unwrap().len().to_le_bytes().to_vec(),
                    true => fs::read(e.path()).unwrap(),
                    false => Vec::new(),
                };
                (rel, bytes, mode(e.path()))
            })
            .collect();
        v.remove(0); // the folder itself
        v
    };
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(
        fa.len(),
        3 + 4 + 4 + 3 * 3,
        "{:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(fa, fb);
}

#[test]
fn test_init_refuses_an_existing_file_and_secrets_folder_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mine.toml");
    fs::write(&p, "# my own notes\n").unwrap();
    let o = init(dir.path(), &["demo", "--out", "mine.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("mine.toml exists; init never overwrites a file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(&p).unwrap(), "# my own notes\n");
    assert!(!dir.path().join("mine.secrets").exists());

    // A secrets folder already there (another profile's secrets?) is not
    // written into, and no profile is left behind.
    fs::create_dir(dir.path().join("other.secrets")).unwrap();
    fs::write(dir.path().join("other.secrets/na01.passwd"), "real\n").unwrap();
    let o = init(dir.path(), &["demo", "--out", "other.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("other.secrets exists"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("other.toml").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("other.secrets/na01.passwd")).unwrap(),
        "real\n"
    );

    // The folder must exist.
    let o = init(dir.path(), &["demo", "--out", "nowhere/demo.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the folder nowhere does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn test_init_refuses_a_bad_name_with_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "1st",
        "has space",
        "seventeen-chars-x",
        "a.b",
        "",
        "caf\u{e9}",
    ] {
        let o = init(dir.path(), &[bad, "--out", "demo.toml"]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "is not a valid cluster name: cman and the GFS2 lock table take 1-16 characters"
            ),
            "{bad:?}: {}",
            stderr(&o)
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "{bad:?}");
    }
    // Not a .toml name, an unknown platform: the command line too.
    let o = init(dir.path(), &["demo", "--out", "demo.txt"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = init(
        dir.path(),
        &["demo", "--out", "d.toml", "--platform", "el6-xen"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}
