//! The files a profile is or names (issue 7, "Secrets and paths the
//! profile names"): only small regular files are read, refused at the key
//! that names them, never waited on; the first-boot key goes only where no
//! one else can write, changes no folder's mode but its own new ones, and is
//! made (by `clusterkick secrets`, never by a build: issue 9) only when the
//! whole run is valid; every secret readable by others gets the same
//! warning.

mod support;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::*;

/// A run that takes longer than this has hung (on a FIFO, say).
const HUNG: Duration = Duration::from_secs(30);

/// Runs clusterkick in the workspace; fails the test if it hangs.
fn run<S: AsRef<OsStr>>(ws: &Workspace, args: &[S]) -> Output {
    let child = Command::new(CLUSTERKICK)
        .args(args)
        .current_dir(ws.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run clusterkick");
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(HUNG) {
        Ok(o) => o.expect("wait for clusterkick"),
        Err(_) => {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            panic!(
                "clusterkick {:?} hung",
                args.iter()
                    .map(|a| a.as_ref().to_os_string())
                    .collect::<Vec<_>>()
            );
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn check(ws: &Workspace, profile: &Path) -> Output {
    run(ws, &[OsStr::new("check"), profile.as_os_str()])
}

/// `clusterkick secrets` over `profiles`.
fn make_secrets(ws: &Workspace, profiles: &[&Path]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["secrets".into()];
    args.extend(profiles.iter().map(|p| p.as_os_str().to_os_string()));
    run(ws, &args)
}

fn build(ws: &Workspace, profiles: &[&Path], out: &Path) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["build".into()];
    args.extend(profiles.iter().map(|p| p.as_os_str().to_os_string()));
    args.extend(["--out".into(), out.as_os_str().to_os_string()]);
    args.extend(["--helper".into(), ws.helper().into_os_string()]);
    run(ws, &args)
}

/// 1-based line and column of the first `needle` in `file`.
fn place_of(file: &Path, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(file).unwrap();
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()));
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

/// `check` and `build` both refuse `profile` with exit 1, the same
/// diagnostics, nothing written; returns check's stderr.
fn refused_by_both(ws: &Workspace, profile: &Path, case: &str) -> String {
    let c = check(ws, profile);
    let err = stderr(&c);
    assert_eq!(c.status.code(), Some(1), "{case}: check: {err}");
    let out = ws.path().join("out-refused");
    let b = build(ws, &[profile], &out);
    assert_eq!(b.status.code(), Some(1), "{case}: build: {}", stderr(&b));
    assert_eq!(stderr(&b), err, "{case}: build and check disagree");
    assert!(!out.exists(), "{case}: build wrote {}", out.display());
    err
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(st.success(), "mkfifo {}", p.display());
}

/// Things that are not regular files, made at `p`; the guard keeps a
/// socket bound.
#[derive(Clone, Copy, Debug)]
enum Odd {
    DevZero,
    Fifo,
    Directory,
    Socket,
}

impl Odd {
    const ALL: [Odd; 4] = [Odd::DevZero, Odd::Fifo, Odd::Directory, Odd::Socket];

    fn make(self, p: &Path) -> Option<std::os::unix::net::UnixListener> {
        match self {
            Odd::DevZero => std::os::unix::fs::symlink("/dev/zero", p).unwrap(),
            Odd::Fifo => mkfifo(p),
            Odd::Directory => std::fs::create_dir(p).unwrap(),
            Odd::Socket => return Some(std::os::unix::net::UnixListener::bind(p).unwrap()),
        }
        None
    }

    fn words(self) -> &'static str {
        match self {
            Odd::DevZero => "is a character device, not a regular file",
            Odd::Fifo => "is a FIFO, not a regular file",
            Odd::Directory => "is a directory, not a regular file",
            Odd::Socket => "is a socket, not a regular file",
        }
    }
}

#[test]
fn test_a_passwd_file_that_is_not_a_regular_file_is_refused_at_its_key() {
    let ws = Workspace::new();
    for odd in Odd::ALL {
        let target = ws.path().join(format!("odd-{odd:?}"));
        let _guard = odd.make(&target);
        let p = ws.variant(&format!("pw-{odd:?}"), |s| {
            s.replacen(
                "passwd_file = \"an-cluster.secrets/motoko.passwd\"",
                &format!("passwd_file = \"{}\"", target.display()),
                1,
            )
        });
        let (line, col) = place_of(&p, &format!("\"{}\"", target.display()));
        let err = refused_by_both(&ws, &p, &format!("{odd:?}"));
        let want = format!(
            "{}:{line}:{col}: error: `fence_devices.motoko.passwd_file`: cannot read {}: it {}",
            p.display(),
            target.display(),
            odd.words()
        );
        assert!(err.contains(&want), "{odd:?}: want {want}\n{err}");
    }
}

#[test]
fn test_a_key_file_that_is_not_a_regular_file_is_refused_at_its_key() {
    let ws = Workspace::new();
    for odd in Odd::ALL {
        let target = ws.path().join(format!("odd-{odd:?}"));
        let _guard = odd.make(&target);
        let p = ws.variant(&format!("key-{odd:?}"), |s| {
            format!("{s}\n[firstboot]\nkey_file = \"{}\"\n", target.display())
        });
        let (line, col) = place_of(&p, &format!("\"{}\"", target.display()));
        let err = refused_by_both(&ws, &p, &format!("{odd:?}"));
        let want = format!(
            "{}:{line}:{col}: error: `firstboot.key_file`: cannot read {}: it {}",
            p.display(),
            target.display(),
            odd.words()
        );
        assert!(err.contains(&want), "{odd:?}: want {want}\n{err}");
    }
}

/// The helper's key in its default place (`<profile>.secrets/firstboot.key`,
/// named by no key): at the top of the profile, saying it is the default.
#[test]
fn test_a_default_key_file_that_is_not_a_regular_file_is_refused() {
    let ws = Workspace::new();
    for odd in Odd::ALL {
        let name = format!("dkey-{odd:?}");
        let p = ws.variant(&name, |s| s);
        let key = ws
            .path()
            .join(format!("profiles/{name}.secrets/firstboot.key"));
        std::fs::remove_file(&key).unwrap();
        let _guard = odd.make(&key);
        let err = refused_by_both(&ws, &p, &format!("{odd:?}"));
        let want = format!(
            "{}:1:1: error: `firstboot.key_file`: cannot read {} (the default key file; firstboot.key_file names another): it {}",
            p.display(),
            key.display(),
            odd.words()
        );
        assert!(err.contains(&want), "{odd:?}: want {want}\n{err}");
    }
}

#[test]
fn test_a_profile_that_is_not_a_regular_file_is_refused() {
    let ws = Workspace::new();
    for odd in Odd::ALL {
        let target = ws.path().join(format!("profile-{odd:?}.toml"));
        let _guard = odd.make(&target);
        let err = refused_by_both(&ws, &target, &format!("{odd:?}"));
        let want = format!(
            "{}:1:1: error: cannot read the profile: it {}\n",
            target.display(),
            odd.words()
        );
        assert_eq!(err, want, "{odd:?}");
    }
}

/// Secrets are read with a cap of 64 KiB, the profile with 1 MiB: a bigger
/// file is refused, not read into memory.
#[test]
fn test_files_are_read_with_a_size_cap() {
    let ws = Workspace::new();
    let big = ws.path().join("big.passwd");
    std::fs::write(&big, "a".repeat(64 * 1024 + 1)).unwrap();
    chmod(&big, 0o600);
    let p = ws.variant("bigpw", |s| {
        s.replacen(
            "passwd_file = \"an-cluster.secrets/motoko.passwd\"",
            &format!("passwd_file = \"{}\"", big.display()),
            1,
        )
    });
    let err = refused_by_both(&ws, &p, "big password file");
    assert!(
        err.contains("`fence_devices.motoko.passwd_file`: cannot read")
            && err.contains("it is larger than 64 KiB"),
        "{err}"
    );

    let p = ws.variant("bigkey", |s| s);
    let key = ws.path().join("profiles/bigkey.secrets/firstboot.key");
    std::fs::write(&key, "ab".repeat(32 * 1024 + 1)).unwrap();
    let err = refused_by_both(&ws, &p, "big key file");
    assert!(
        err.contains("`firstboot.key_file`: cannot read")
            && err.contains("it is larger than 64 KiB"),
        "{err}"
    );

    // A sparse profile of 1 GiB: refused at once.
    let huge = ws.path().join("profiles/huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let err = refused_by_both(&ws, &huge, "huge profile");
    assert_eq!(
        err,
        format!(
            "{}:1:1: error: cannot read the profile: it is larger than 1024 KiB\n",
            huge.display()
        )
    );
}

/// A variant of the example without its first-boot key, whose key_file is
/// `key_file` (relative to the profile).
fn keyless(ws: &Workspace, name: &str, key_file: &str) -> PathBuf {
    let p = ws.variant(name, |s| {
        format!("{s}\n[firstboot]\nkey_file = \"{key_file}\"\n")
    });
    let _ = std::fs::remove_file(
        ws.path()
            .join(format!("profiles/{name}.secrets/firstboot.key")),
    );
    p
}

#[test]
fn test_a_key_in_an_existing_folder_changes_no_folders_mode() {
    let ws = Workspace::new();
    let profiles = ws.path().join("profiles");
    let profiles_mode = mode(&profiles);
    let keys = profiles.join("keys");
    std::fs::create_dir(&keys).unwrap();
    chmod(&keys, 0o750);
    let p = keyless(&ws, "existing", "keys/fb.key");
    let o = make_secrets(&ws, &[&p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: made a new first-boot key in"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        mode(&keys),
        0o750,
        "secrets changed the mode of a folder it did not make"
    );
    assert_eq!(mode(&keys.join("fb.key")), 0o600);
    // Folders it has to make are its own: 0700.
    let p = keyless(&ws, "nested", "new/deeper/fb.key");
    let o = make_secrets(&ws, &[&p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let new = ws.path().join("profiles/new");
    assert_eq!(mode(&new), 0o700);
    assert_eq!(mode(&new.join("deeper")), 0o700);
    assert_eq!(mode(&new.join("deeper/fb.key")), 0o600);
    assert_eq!(
        mode(&profiles),
        profiles_mode,
        "secrets changed the profile folder's mode"
    );
}

#[test]
fn test_a_key_is_refused_in_a_folder_others_can_write_to() {
    let ws = Workspace::new();
    for (folder_mode, who) in [
        (0o1777, "its group and every other user"),
        (0o777, "its group and every other user"),
        (0o757, "every other user"),
        (0o775, "its group"),
    ] {
        let name = format!("shared{folder_mode:o}");
        let shared = ws.path().join(&name);
        std::fs::create_dir(&shared).unwrap();
        chmod(&shared, folder_mode);
        // A key to make there, directly or in a folder still to be made.
        for rel in ["fb.key", "sub/fb.key"] {
            let key = shared.join(rel);
            let p = keyless(
                &ws,
                &format!("{name}-{}", rel.len()),
                &key.display().to_string(),
            );
            let (line, col) = place_of(&p, &format!("\"{}\"", key.display()));
            let err = refused_by_both(&ws, &p, &format!("{folder_mode:o} {rel}"));
            let want = format!(
                "{}:{line}:{col}: error: `firstboot.key_file`: cannot make the key {}: it would be in {}, a folder that {who} can write to (mode {folder_mode:04o})",
                p.display(),
                key.display(),
                shared.display()
            );
            assert!(err.contains(&want), "want {want}\n{err}");
            if folder_mode & 0o1000 != 0 {
                assert!(
                    !err.contains("chmod go-w"),
                    "never advise to chmod a shared folder: {err}"
                );
            } else {
                assert!(
                    err.contains(&format!("fix: chmod go-w {}", shared.display())),
                    "{err}"
                );
            }
            assert_eq!(mode(&shared), folder_mode, "the folder's mode changed");
            assert!(!shared.join("sub").exists() && !shared.join("fb.key").exists());
        }
        // A key already there is refused too: anyone could have replaced it.
        let key = shared.join("there.key");
        std::fs::write(&key, format!("{}\n", "1f".repeat(32))).unwrap();
        chmod(&key, 0o600);
        let p = ws.variant(&format!("{name}-there"), |s| {
            format!("{s}\n[firstboot]\nkey_file = \"{}\"\n", key.display())
        });
        let err = refused_by_both(&ws, &p, &format!("{folder_mode:o} existing key"));
        assert!(
            err.contains(&format!(
                "`firstboot.key_file`: {} is in {}, a folder that {who} can write to",
                key.display(),
                shared.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn test_every_secret_readable_by_others_gets_the_same_warning() {
    let ws = Workspace::new();
    let p = ws.variant("readable", |s| s);
    let dir = ws.path().join("profiles/readable.secrets");
    let key = dir.join("firstboot.key");
    let drbd = dir.join("drbd.secret");
    let authkey = dir.join("cman.authkey");
    let pw = ws.path().join("profiles/an-cluster.secrets/motoko.passwd");
    // A fresh clone checks every file out 0644 (git keeps no 0600), so
    // every secret of the folder is set here, not only the one looked at.
    for (m, who) in [
        (0o640, Some("its group")),
        (0o604, Some("every other user")),
        (0o644, Some("its group and every other user")),
        (0o600, None),
        (0o400, None),
    ] {
        for f in [&key, &drbd, &authkey, &pw] {
            chmod(f, m);
        }
        let o = check(&ws, &p);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        for (file, key_name) in [
            (&key, "firstboot.key_file"),
            (&drbd, "DRBD shared secret"),
            (&authkey, "cman authkey"),
            (&pw, "fence_devices.motoko.passwd_file"),
        ] {
            let warning = who.map(|who| {
                format!(
                    "warning: `{key_name}`: {} holds a secret but is readable by {who} (mode {m:04o}); fix: chmod 600 {}",
                    file.display(),
                    file.display()
                )
            });
            match warning {
                Some(w) => assert!(err.contains(&w), "{m:o}: want {w}\n{err}"),
                None => assert!(!err.contains("readable by"), "{m:o}: {err}"),
            }
        }
    }
}

/// A profile that is valid but whose first-boot key is still to be made.
fn valid_keyless(ws: &Workspace, name: &str) -> (PathBuf, PathBuf) {
    let p = ws.variant(name, |s| {
        s.replace("name = \"an-cluster\"", &format!("name = \"{name}\""))
    });
    let key = ws
        .path()
        .join(format!("profiles/{name}.secrets/firstboot.key"));
    std::fs::remove_file(&key).unwrap();
    (p, key)
}

#[test]
fn test_keys_are_made_only_when_the_whole_run_is_valid() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    // An invalid profile makes no key.
    let (bad, bad_key) = valid_keyless(&ws, "bad");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&bad)
            .unwrap()
            .replacen("id = 2", "id = 1", 1),
    )
    .unwrap();
    let o = make_secrets(&ws, &[&bad]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!bad_key.exists(), "an invalid run made a key");
    // Nor does a valid one in a run with an invalid one, whichever comes first.
    let (good, good_key) = valid_keyless(&ws, "good");
    for run in [[&good, &bad], [&bad, &good]] {
        let o = make_secrets(&ws, &[run[0], run[1]]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            !good_key.exists() && !bad_key.exists(),
            "a refused run made a key"
        );
    }
    // Two profiles of the same cluster: refused, no key.
    let (twin, twin_key) = valid_keyless(&ws, "twin");
    std::fs::write(
        &twin,
        std::fs::read_to_string(&twin)
            .unwrap()
            .replace("name = \"twin\"", "name = \"good\""),
    )
    .unwrap();
    let o = make_secrets(&ws, &[&good, &twin]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !good_key.exists() && !twin_key.exists(),
        "a refused run made a key"
    );
    // Neither `check` nor `build` ever makes one: both refuse, alike, and
    // name the command that does.
    let err = refused_by_both(&ws, &good, "keyless");
    assert!(
        err.contains(&format!(
            "does not exist yet; make the cluster's secrets once with `clusterkick secrets {}`",
            good.display()
        )),
        "{err}"
    );
    assert!(!good_key.exists() && !out.exists());
    // A valid run makes every missing key, once.
    let (other, other_key) = valid_keyless(&ws, "other");
    let o = make_secrets(&ws, &[&good, &other]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(good_key.is_file() && other_key.is_file());
    assert_eq!(
        stderr(&o)
            .matches("note: made a new first-boot key")
            .count(),
        2
    );
    let first = std::fs::read(&good_key).unwrap();
    let o = make_secrets(&ws, &[&good, &other]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("made a new first-boot key"));
    let o = build(&ws, &[&good, &other], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&good_key).unwrap(), first, "the key changed");
}
