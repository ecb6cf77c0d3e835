//! The helper as it ships: the static musl build that scripts/test.sh and
//! scripts/build-example.sh make. `build` must accept it, and its `plan`
//! must answer on the build host from an unpacked overlay.

mod support;
use std::path::Path;
use std::process::Command;
use support::*;

#[test]
fn test_build_ships_the_static_helper_once_and_plan_runs_from_the_overlay() {
    let helper = musl_helper();
    let bytes = std::fs::read(&helper).unwrap();
    clusterkick::platform::el5_xen::check_helper(&bytes)
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

/// The variable the simulator twin reads its world's folder from.
const SIM_WORLD_ENV: &str = "CLUSTERKICK_FIRSTBOOT_SIM";

/// The simulator's source files: src/firstboot/sim/ (or a sim.rs).
fn is_sim_source(p: &Path) -> bool {
    p.strip_prefix(repo().join("src/firstboot"))
        .ok()
        .and_then(|r| r.components().next())
        .is_some_and(|c| c.as_os_str() == "sim" || c.as_os_str() == "sim.rs")
}

/// The pieces of a line's string literals between escapes and `{}`
/// placeholders (what ends up verbatim in a binary's read-only data).
fn literal_pieces(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (&mut cur, c) {
            (None, '"') => cur = Some(String::new()),
            (None, _) => {}
            (Some(s), '"') => {
                out.push(std::mem::take(s));
                cur = None;
            }
            (Some(s), '\\' | '{' | '}') => {
                out.push(std::mem::take(s));
                if c == '\\' {
                    chars.next();
                }
            }
            (Some(s), _) => s.push(c),
        }
    }
    out
}

/// The race model (src/firstboot/sim/race/): simulator code the tests call
/// in process; the twin binary does not link it.
fn is_race_source(p: &Path) -> bool {
    p.starts_with(repo().join("src/firstboot/sim/race"))
}

/// Distinctive text of the simulator: literal pieces of at least 12
/// characters in its non-test code that no other file under src/ spells;
/// `linked_by_twin`: only of the part the twin binary links (all but the
/// race model).
fn simulator_strings(linked_by_twin: bool) -> Vec<String> {
    let mut sim = std::collections::BTreeSet::new();
    let mut others = String::new();
    for e in walkdir::WalkDir::new(repo().join("src")) {
        let e = e.unwrap();
        if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        if !is_sim_source(e.path()) {
            others.push_str(&text);
            continue;
        }
        if linked_by_twin && is_race_source(e.path()) {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            sim.extend(
                literal_pieces(line)
                    .into_iter()
                    .filter(|p| p.trim().len() >= 12),
            );
        }
    }
    // The C library's own messages, which the simulator imitates.
    const LIBC_TEXT: &[&str] = &["No such file or directory"];
    sim.into_iter()
        .filter(|p| !others.contains(p.as_str()) && !LIBC_TEXT.contains(&p.as_str()))
        .collect()
}

/// What `strings` shows of a binary: its runs of at least 8 printable
/// characters, one a line (the search space, much smaller than the file).
fn text_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let mut out = String::new();
    for run in bytes.split(|b| !(b.is_ascii_graphic() || *b == b' ')) {
        if run.len() >= 8 {
            out.push_str(&String::from_utf8_lossy(run));
            out.push('\n');
        }
    }
    out
}

fn holds(hay: &str, needle: &str) -> bool {
    hay.contains(needle)
}

#[test]
fn test_shipped_helper_holds_no_simulator_and_ignores_its_variables() {
    let shipped = text_of(&musl_helper());
    let twin = text_of(&musl_helper_sim());
    let strings = simulator_strings(false);
    let linked = simulator_strings(true);
    assert!(
        linked.len() >= 40 && strings.len() > linked.len(),
        "too few simulator strings to tell anything: {strings:#?}"
    );
    // The search finds the simulator where it is (most of the strings of
    // what the twin links are in it; a few belong to code the optimizer
    // folds away) ...
    let in_twin = linked.iter().filter(|s| holds(&twin, s)).count();
    assert!(
        in_twin * 10 >= linked.len() * 8,
        "only {in_twin} of {} simulator strings found in clusterkick-firstboot-sim",
        linked.len()
    );
    // ... and none of it in the helper that ships.
    let leaked: Vec<&String> = strings.iter().filter(|s| holds(&shipped, s)).collect();
    assert!(
        leaked.is_empty(),
        "the shipped helper holds simulator text: {leaked:#?}"
    );
    for s in [SIM_WORLD_ENV, "CLUSTERKICK_FIRSTBOOT_MODEL", "world.toml"] {
        assert!(!holds(&shipped, s), "the shipped helper holds {s:?}");
    }
    assert!(holds(&twin, SIM_WORLD_ENV));

    // Behaviour: the simulator's variable (and the old one) pointing at a
    // folder with no world in it. The twin stops at once, unable to open
    // it; the shipped helper pays no attention and goes on to meet its
    // peer (which never comes: exit 11 after 1 s).
    let mut cfg = example_configs()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    cfg.listen = format!("127.0.1.71:{}", free_port("127.0.1.71"));
    cfg.peer_addr = format!("127.0.1.72:{}", free_port("127.0.1.72"));
    cfg.key_file = dir.path().join("firstboot.key");
    std::fs::write(&cfg.key_file, example_key_hex()).unwrap();
    cfg.state_file = dir.path().join("firstboot.state");
    cfg.log_file = dir.path().join("firstboot.log");
    cfg.timeouts.peer_secs = 1;
    cfg.timeouts.retry_initial_ms = 10;
    cfg.timeouts.retry_max_ms = 100;
    let cfg_path = dir.path().join("firstboot.toml");
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    let no_world = dir.path().join("no-world");
    let run = |bin: &Path| {
        Command::new(bin)
            .arg("--config")
            .arg(&cfg_path)
            .arg("run")
            .env(SIM_WORLD_ENV, &no_world)
            .env("CLUSTERKICK_FIRSTBOOT_MODEL", &no_world)
            .output()
            .unwrap()
    };
    let o = run(&musl_helper_sim());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(exit::FAILED), "{err}");
    assert!(err.contains("opening simulated world"), "{err}");
    let o = run(&musl_helper());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(exit::TIMEOUT), "{err}");
    assert!(
        err.contains("waiting up to 1 s at barrier meet") && !err.contains("world"),
        "{err}"
    );
}
