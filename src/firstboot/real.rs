//! The real node: runs commands with `std::process::Command`
//! ([`run_child`]), reads and writes real files. No threads: the child's
//! output goes to anonymous files (in memory, or unlinked temp files on
//! kernels before 3.17) and the helper waits for the child
//! in poll(2) on its pidfd (or polls it, on kernels without pidfds), so a
//! command that hangs (e.g. `fence_node` without a quorate cluster) is killed, with
//! its process group, after its limit.

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::error::Result;
use crate::firstboot::file::write_atomic;
use crate::firstboot::host::{poll_readable, Argv, CmdResult, Host};
use crate::firstboot::Purpose;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// EL5 keeps the cluster tools in /sbin and /usr/sbin; init scripts at boot
/// run with a minimal PATH. (Also what DRBD gives its handlers.)
pub const PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";

pub struct RealHost {
    timeout: Duration,
    /// The PATH commands get (and are looked up in).
    path: String,
}

/// Numbers the scratch files of every command this process runs (one
/// counter per process, not per node value: two values in one process, as
/// in the unit tests, must not pick the same name).
static SCRATCH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The [`crate::firstboot::OpenHost`] of the helper that ships: this machine.
pub fn open(cfg: &FirstbootConfig, purpose: Purpose) -> Result<Box<dyn Host>> {
    let timeout = crate::firstboot::command_timeout(cfg);
    Ok(Box::new(match purpose {
        Purpose::Steps => RealHost::new(timeout),
        Purpose::Handler => {
            let inherited = std::env::var("PATH").ok().filter(|p| !p.is_empty());
            RealHost::with_path(timeout, inherited.as_deref().unwrap_or(PATH))
        }
    }))
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past its limit and was killed, with its process group.
    TimedOut,
}

/// A child that ran: how it ended and what it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// The exit code as a shell reports it: 128 + signal when killed by a
    /// signal, 124 when it ran too long.
    pub fn code(&self) -> i32 {
        match self.ended {
            Ended::Exited(c) => c,
            Ended::Signaled(s) => 128 + s,
            Ended::TimedOut => 124,
        }
    }
}

/// One command to run as a child (no shell).
pub struct Child<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    /// Written to its stdin, which is then closed; None: stdin is /dev/null.
    pub stdin: Option<&'a [u8]>,
    /// Its PATH (the program is looked up in it); None: inherited.
    pub path: Option<&'a str>,
    /// Run with LANG=C (for output the helper parses).
    pub c_locale: bool,
    /// Killed, with its process group, after this long.
    pub limit: Duration,
}

/// Runs a child in its own process group and waits for it, at most
/// `limit`; then kills the whole group (init scripts and fence agents start
/// children of their own). No threads: the child's output goes to
/// anonymous files (`output_file`: a child that writes more than a pipe
/// holds cannot block),
/// and its exit is waited for on its pidfd, or polled. Its stdin (at most
/// a pipe's worth, written at once) is closed after the bytes are written.
pub fn run_child(c: &Child) -> io::Result<Finished> {
    let mut out = output_file()?;
    let mut err = output_file()?;
    // Found in its PATH here, the program is started by its full path (and
    // keeps its name as argv[0]): std then starts it with posix_spawn(3),
    // which musl does with vfork semantics, rather than fork(2) and exec,
    // which it falls back to for a bare name under a PATH of the child's
    // own. A fork copies the helper's page tables for every command (on
    // the test VMs, 7 % of the helper's CPU). A program not found keeps its
    // bare name: the fork path then reports it missing, as before.
    let mut cmd = match c.path.and_then(|p| in_path(c.program, p)) {
        Some(full) => {
            let mut cmd = Command::new(full);
            cmd.arg0(c.program);
            cmd
        }
        None => Command::new(c.program),
    };
    cmd.args(c.args)
        .stdin(if c.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(err.try_clone()?))
        .process_group(0);
    if let Some(p) = c.path {
        cmd.env("PATH", p);
    }
    if c.c_locale {
        cmd.env("LANG", "C").env("LC_ALL", "C");
    }
    let mut child = cmd.spawn()?;
    if let (Some(bytes), Some(mut input)) = (c.stdin, child.stdin.take()) {
        // A child that exits without reading makes this fail (EPIPE): it
        // is judged by its exit status, like any other.
        let _ = input.write_all(bytes);
    }
    // Where the kernel has pidfds (Linux 5.3 on), the helper sleeps in
    // poll(2) until the child exits: no wake-ups, and its end is seen at
    // once. Elsewhere (CentOS 5's 2.6.18) it polls, backing off to 200 ms.
    let exited = child_exit_fd(&child);
    let ended = wait_child(&mut child, c.limit, exited.as_ref())?;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    out.seek(SeekFrom::Start(0))?;
    out.read_to_end(&mut stdout)?;
    err.seek(SeekFrom::Start(0))?;
    err.read_to_end(&mut stderr)?;
    Ok(Finished {
        ended,
        stdout,
        stderr,
    })
}

/// Where `program` (a bare name: one with a `/` is left alone) is in
/// `path`, as execvp(3) would find it: the first folder that holds it as
/// an executable regular file. An empty entry, which execvp takes for the
/// current folder, is passed over.
fn in_path(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.is_empty() || program.contains('/') {
        return None;
    }
    path.split(':').filter(|d| !d.is_empty()).find_map(|dir| {
        let full = Path::new(dir).join(program);
        let m = std::fs::metadata(&full).ok()?;
        (m.is_file() && m.permissions().mode() & 0o111 != 0).then_some(full)
    })
}

/// Waits until `child` ends or `limit` has passed (then kills its process
/// group): in poll(2) on `exited`, its pidfd, or else polling, backing off.
fn wait_child(
    child: &mut std::process::Child,
    limit: Duration,
    exited: Option<&OwnedFd>,
) -> io::Result<Ended> {
    let start = Instant::now();
    let mut sleep = Duration::from_millis(5);
    loop {
        if let Some(st) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt;
            return Ok(match (st.code(), st.signal()) {
                (Some(code), _) => Ended::Exited(code),
                (None, sig) => Ended::Signaled(sig.unwrap_or(0)),
            });
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            kill_group(child);
            return Ok(Ended::TimedOut);
        }
        match exited {
            Some(fd) => poll_readable(&[fd.as_fd()], left),
            None => {
                std::thread::sleep(sleep.min(left));
                sleep = (sleep * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// A pidfd for `child`, readable once it has exited; None where the kernel
/// has no pidfd_open(2) (before Linux 5.3) or it fails.
fn child_exit_fd(child: &std::process::Child) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// SIGKILL to the child's process group, then reaps the child.
fn kill_group(child: &mut std::process::Child) {
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// An anonymous file for a child's output: in memory (memfd_create(2),
/// Linux 3.17 on), else [`scratch`]. A file in memory costs the file system
/// nothing (an unlinked temp file is an inode made and freed, journalled, on
/// every command); the helper reads the whole output into memory anyway.
fn output_file() -> io::Result<File> {
    match memfd() {
        Some(f) => Ok(f),
        None => scratch(),
    }
}

/// An in-memory file, or None where the kernel has no memfd_create(2)
/// (CentOS 5's 2.6.18 answers ENOSYS) or it fails.
fn memfd() -> Option<File> {
    rustix::fs::memfd_create(
        "clusterkick-firstboot-output",
        rustix::fs::MemfdFlags::CLOEXEC,
    )
    .ok()
    .map(File::from)
}

/// An anonymous temp file for a child's output (created in `$TMPDIR` or
/// /tmp, then unlinked).
fn scratch() -> io::Result<File> {
    let dir = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    scratch_in(&dir)
}

fn scratch_in(dir: &Path) -> io::Result<File> {
    let n = SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!(
        ".clusterkick-firstboot.{}.{}",
        std::process::id(),
        n
    ));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(f)
}

impl RealHost {
    /// Commands run with EL5's system PATH.
    pub fn new(timeout: Duration) -> Self {
        RealHost {
            timeout,
            path: PATH.to_string(),
        }
    }

    /// Commands run with (and are looked up in) this PATH, e.g. the one a
    /// DRBD handler is given.
    pub fn with_path(timeout: Duration, path: &str) -> Self {
        RealHost {
            timeout,
            path: path.to_string(),
        }
    }

    fn spawn_and_wait(&mut self, argv: &Argv, limit: Duration) -> io::Result<CmdResult> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        let f = run_child(&Child {
            program,
            args,
            stdin: None,
            path: Some(&self.path),
            c_locale: true,
            limit,
        })?;
        let code = f.code();
        let stdout = String::from_utf8_lossy(&f.stdout).into_owned();
        let mut stderr = String::from_utf8_lossy(&f.stderr).into_owned();
        if f.ended == Ended::TimedOut {
            stderr.push_str(&format!(
                "clusterkick-firstboot: killed after {} s\n",
                limit.as_secs()
            ));
        }
        Ok(CmdResult {
            code,
            stdout,
            stderr,
        })
    }
}

impl Host for RealHost {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        self.run_for(argv, self.timeout)
    }

    fn run_for(&mut self, argv: &Argv, limit: Duration) -> CmdResult {
        match self.spawn_and_wait(argv, limit) {
            Ok(r) => r,
            Err(e) => CmdResult {
                code: 127,
                stdout: String::new(),
                stderr: format!("{}: {e}\n", argv.first().map(String::as_str).unwrap_or("")),
            },
        }
    }

    fn read_file(&mut self, path: &str) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let mut f = File::open(path)?;
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            match f.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()> {
        // Keep the mode of an existing file (e.g. /etc/fstab).
        let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
        write_atomic(Path::new(path), contents.as_bytes())?;
        if let Some(p) = mode {
            std::fs::set_permissions(path, p)?;
        }
        Ok(())
    }

    fn list_dir(&mut self, path: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(path)? {
            names.push(e?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// Blocks in poll(2): the helper wakes only when the peer talks to it
    /// or the wait is over.
    fn wait_readable(&mut self, fds: &[BorrowedFd<'_>], duration: Duration) {
        poll_readable(fds, duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bare name is looked up in the child's PATH as execvp(3) would: the
    /// first executable regular file; folders, files without an x bit and
    /// names with a slash are passed over. A command found there runs with
    /// its bare name as argv[0].
    #[test]
    fn programs_are_found_in_the_childs_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(a.join("tool"), "#!/bin/sh\necho a\n").unwrap();
        std::fs::create_dir(a.join("sub")).unwrap();
        // cat, found as `tool`, prints its own command line.
        std::os::unix::fs::symlink("/bin/cat", b.join("tool")).unwrap();
        std::fs::write(b.join("sub"), "").unwrap();
        std::fs::set_permissions(b.join("sub"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = format!("{}::{}", a.display(), b.display());
        assert_eq!(in_path("tool", &path), Some(b.join("tool")));
        assert_eq!(in_path("sub", &path), None);
        assert_eq!(in_path("missing", &path), None);
        assert_eq!(in_path("a/tool", &path), None);
        assert_eq!(in_path("", &path), None);
        let mut n = RealHost::with_path(Duration::from_secs(10), &path);
        let r = n.run(&Argv::new(["tool", "/proc/self/cmdline"]));
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "tool\0/proc/self/cmdline\0")
        );
        let r = n.run(&Argv::new(["missing"]));
        assert_eq!(r.code, 127, "{r:?}");
    }

    /// Both kinds of output file take what a child writes and give it
    /// back; the temp file leaves nothing behind in its folder.
    #[test]
    fn output_files_in_memory_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let in_memory = memfd().expect("memfd_create(2) on this machine's kernel");
        for mut f in [in_memory, scratch_in(dir.path()).unwrap()] {
            let st = Command::new("sh")
                .args(["-c", "printf 'line one\\nline two\\n'"])
                .stdout(Stdio::from(f.try_clone().unwrap()))
                .status()
                .unwrap();
            assert!(st.success());
            f.seek(SeekFrom::Start(0)).unwrap();
            let mut got = String::new();
            f.read_to_string(&mut got).unwrap();
            assert_eq!(got, "line one\nline two\n");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn runs_commands_and_reports_codes() {
        let mut n = RealHost::new(Duration::from_secs(10));
        let r = n.run(&Argv::new(["sh", "-c", "echo out; echo err >&2; exit 3"]));
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (3, "out\n", "err\n")
        );
        let r = n.run(&Argv::new(["/nonexistent/tool"]));
        assert_eq!(r.code, 127);
    }

    /// Both ways of waiting for a child: on its pidfd (this kernel has
    /// them) and by polling (CentOS 5's has not): the exit code or signal,
    /// and the whole process group killed at the limit.
    #[test]
    fn waits_for_a_child_with_and_without_a_pidfd() {
        let spawn = |script: &str| {
            Command::new("sh")
                .args(["-c", script])
                .process_group(0)
                .spawn()
                .unwrap()
        };
        for use_pidfd in [true, false] {
            let mut c = spawn("sleep 0.2; exit 7");
            let fd = use_pidfd.then(|| child_exit_fd(&c).expect("pidfd_open"));
            let r = wait_child(&mut c, Duration::from_secs(60), fd.as_ref()).unwrap();
            assert_eq!(r, Ended::Exited(7), "pidfd {use_pidfd}");

            let mut c = spawn("kill -TERM $$");
            let fd = use_pidfd.then(|| child_exit_fd(&c).expect("pidfd_open"));
            let r = wait_child(&mut c, Duration::from_secs(60), fd.as_ref()).unwrap();
            assert_eq!(r, Ended::Signaled(15), "pidfd {use_pidfd}");

            let mut c = spawn("sleep 30 & echo $! >&2; sleep 30");
            let fd = use_pidfd.then(|| child_exit_fd(&c).expect("pidfd_open"));
            let pgid = c.id();
            let r = wait_child(&mut c, Duration::from_millis(300), fd.as_ref()).unwrap();
            assert_eq!(r, Ended::TimedOut, "pidfd {use_pidfd}");
            // Nothing of its group lives on (the background sleep
            // included): SIGKILL is delivered when each is next scheduled,
            // so the group is given up to 30 s to end.
            let alive = || {
                let out = Command::new("pgrep")
                    .args(["-g", &pgid.to_string(), "-r", "RSD"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).into_owned()
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while !alive().is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(alive(), "", "pidfd {use_pidfd}");
        }
    }

    #[test]
    fn kills_after_timeout() {
        let mut n = RealHost::new(Duration::from_millis(300));
        let start = Instant::now();
        let r = n.run(&Argv::new(["sh", "-c", "sleep 30 & sleep 30"]));
        assert_eq!(r.code, 124);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let ps = p.to_str().unwrap();
        let mut n = RealHost::new(Duration::from_secs(1));
        n.write_file(ps, "hello\n").unwrap();
        assert_eq!(n.read_file(ps).unwrap(), "hello\n");
        assert_eq!(n.read_head(ps, 3).unwrap(), b"hel");
        assert_eq!(n.read_head(ps, 100).unwrap(), b"hello\n");
    }
}
