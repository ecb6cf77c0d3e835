//! Every change the build makes under DIR goes through here, one function
//! per system call, so that each is a numbered step.
//!
//! The numbering is for the crash test: with `CLUSTERKICK_TEST_KILL_AT_STEP=N`
//! in the environment the process kills itself (SIGKILL, as `kill -9` would)
//! right before its N-th change, so that a test can stop a build at every
//! point, one after the other, without depending on timing. The hook is
//! only in a build with the test-only feature `sim` (what the tests run);
//! the clusterkick that ships ignores the variable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable the crash test sets.
pub const KILL_AT_STEP: &str = "CLUSTERKICK_TEST_KILL_AT_STEP";

static STEPS: AtomicU64 = AtomicU64::new(0);
static KILL_AT: OnceLock<Option<u64>> = OnceLock::new();

/// The step the crash test asked to die before, if any (never, in the
/// clusterkick that ships).
fn kill_at() -> Option<u64> {
    if cfg!(feature = "sim") {
        std::env::var(KILL_AT_STEP)
            .ok()
            .and_then(|v| v.trim().parse().ok())
    } else {
        None
    }
}

/// Counts one change; dies here if this is the step the test asked for.
fn step() {
    let at = *KILL_AT.get_or_init(kill_at);
    let n = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
    if at == Some(n) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL to oneself is delivered before the call returns.
        std::process::abort();
    }
}

/// A new folder with exactly `mode` (whatever the umask).
pub fn mkdir(path: &Path, mode: u32) -> io::Result<()> {
    step();
    fs::DirBuilder::new().mode(mode).create(path)?;
    chmod(path, mode)
}

/// A new file (never an existing one) with `bytes` and exactly `mode`.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    step();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    step();
    f.write_all(bytes)
}

/// [`write_new`], the file given to group `gid` (when there is one) before
/// a byte is written.
pub fn write_new_group(path: &Path, bytes: &[u8], mode: u32, gid: Option<u32>) -> io::Result<()> {
    step();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    if let Some(g) = gid {
        step();
        std::os::unix::fs::fchown(&f, None, Some(g))?;
    }
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    step();
    f.write_all(bytes)
}

/// [`mkdir`], the folder given to group `gid` (when there is one).
pub fn mkdir_group(path: &Path, mode: u32, gid: Option<u32>) -> io::Result<()> {
    mkdir(path, mode)?;
    if let Some(g) = gid {
        step();
        std::os::unix::fs::chown(path, None, Some(g))?;
        chmod(path, mode)?;
    }
    Ok(())
}

/// Sets a mode. Also used for the lock file's creation.
pub fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    step();
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// A second name for `from` (a symlink is linked itself, not followed).
pub fn hard_link(from: &Path, to: &Path) -> io::Result<()> {
    step();
    fs::hard_link(from, to)
}

pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    step();
    std::os::unix::fs::symlink(target, link)
}

/// A copy of a regular file, with its mode and modification time.
pub fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    step();
    let meta = fs::symlink_metadata(from)?;
    let mut src = File::open(from)?;
    let mut dst = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    io::copy(&mut src, &mut dst)?;
    dst.set_permissions(meta.permissions())?;
    dst.set_modified(meta.modified()?)?;
    Ok(())
}

/// Renames `from` to `to` only if nothing is at `to`. On a file system
/// without RENAME_NOREPLACE, a plain rename after checking that `to` is
/// absent (the caller holds DIR's lock).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    step();
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(e) if unsupported(e) => match fs::symlink_metadata(to) {
            Ok(_) => Err(io::Error::from(io::ErrorKind::AlreadyExists)),
            Err(n) if n.kind() == io::ErrorKind::NotFound => fs::rename(from, to),
            Err(other) => Err(other),
        },
        Err(e) => Err(e.into()),
    }
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// The file system (or the kernel) cannot swap two names atomically.
    Unsupported(io::Error),
    Other(io::Error),
}

/// Swaps `a` and `b` in one step (renameat2 RENAME_EXCHANGE): at every
/// instant each name holds one complete tree.
pub fn exchange(a: &Path, b: &Path) -> Result<(), ExchangeError> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    step();
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(|e| {
        if unsupported(e) {
            ExchangeError::Unsupported(e.into())
        } else {
            ExchangeError::Other(e.into())
        }
    })
}

/// The answers of a kernel or file system that lacks a renameat2 flag:
/// EINVAL (ext2 before 6.x, NFS, most FUSE), ENOSYS (a kernel before 3.15,
/// or a seccomp filter), EOPNOTSUPP.
pub fn unsupported(e: rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    e == Errno::INVAL || e == Errno::NOSYS || e == Errno::OPNOTSUPP
}

pub fn unlink(path: &Path) -> io::Result<()> {
    step();
    fs::remove_file(path)
}

/// Removes an empty folder.
pub fn rmdir(path: &Path) -> io::Result<()> {
    step();
    fs::remove_dir(path)
}

/// Removes a tree this run made (or a staging tree a killed run made), one
/// entry at a time, without following symlinks.
pub fn remove_tree(root: &Path) -> io::Result<()> {
    for e in walkdir::WalkDir::new(root).contents_first(true) {
        let e = e.map_err(io::Error::other)?;
        if e.file_type().is_dir() {
            rmdir(e.path())?;
        } else {
            unlink(e.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn exchange_swaps_two_trees_and_noreplace_refuses() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        mkdir(&a, 0o755).unwrap();
        mkdir(&b, 0o700).unwrap();
        write_new(&a.join("f"), b"a", 0o640).unwrap();
        assert_eq!(fs::metadata(a.join("f")).unwrap().mode() & 0o7777, 0o640);
        let ino_a = fs::metadata(&a).unwrap().ino();
        exchange(&a, &b).unwrap();
        assert_eq!(fs::metadata(&b).unwrap().ino(), ino_a);
        assert_eq!(fs::read(b.join("f")).unwrap(), b"a");
        let e = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(write_new(&b.join("f"), b"x", 0o644).is_err(), "overwrote");
        remove_tree(&b).unwrap();
        assert!(!b.exists());
        rename_noreplace(&a, &b).unwrap();
        assert!(!a.exists() && b.is_dir());
    }

    #[test]
    fn missing_renameat2_flags_are_told_apart_from_other_errors() {
        use rustix::io::Errno;
        for e in [Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP] {
            assert!(unsupported(e), "{e:?}");
        }
        for e in [Errno::NOENT, Errno::EXIST, Errno::BUSY, Errno::XDEV] {
            assert!(!unsupported(e), "{e:?}");
        }
    }
}
