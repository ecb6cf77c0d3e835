//! One build at a time per output folder: an flock(2) on DIR/.clusterkick.lock.
//!
//! The lock dies with its process (a killed build never leaves DIR locked).
//! The file is removed when the build ends, while still locked; a build that
//! was waiting on the removed file notices (the name no longer leads to the
//! file it locked) and starts over, so two builds never both hold DIR.

use super::fsop;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub use crate::layout::LOCK_FILE;

pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes DIR's lock, waiting for another build to finish; `say` is told
    /// once that it waits, and for whom.
    pub fn acquire(dir: &Path, say: &dyn Fn(&str)) -> io::Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut told = false;
        loop {
            let file = open(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    if !told {
                        say(&format!(
                            "waiting for another clusterkick build into {} to finish (it holds {})",
                            dir.display(),
                            path.display()
                        ));
                        told = true;
                    }
                    file.lock()?;
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
            // The holder before us may have removed the file: then our lock
            // is on a file nobody else will look at. Start over.
            let held = file.metadata()?;
            match fs::symlink_metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => {
                    return Ok(Self { file, path });
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

fn open(path: &Path) -> io::Result<File> {
    if fs::symlink_metadata(path).is_err() {
        // Counted as a change: the build creates the file.
        let created = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path);
        match created {
            Ok(f) => {
                fsop::chmod(path, 0o644)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    // An existing lock file is only read (flock needs no more), and never
    // through a symlink.
    OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Still locked here: nobody else can be between their lock and their
        // check. Removing it keeps DIR as the user left it.
        let _ = fsop::unlink(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn second_holder_waits_and_the_file_goes_with_the_last() {
        let t = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(t.path(), &|_| panic!("no one holds it")).unwrap();
        assert!(t.path().join(LOCK_FILE).is_file());
        let released = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let r = released.clone();
        let dir = t.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let l = DirLock::acquire(&dir, &|m| {
                assert!(m.contains("waiting for another clusterkick build"), "{m}");
                tx.send(()).unwrap();
            })
            .unwrap();
            // It cannot hold the lock before the first one let go.
            assert!(r.load(Ordering::SeqCst));
            drop(l);
        });
        // The waiter says so before blocking; only then let go.
        rx.recv().unwrap();
        released.store(true, Ordering::SeqCst);
        drop(first);
        waiter.join().unwrap();
        assert!(!t.path().join(LOCK_FILE).exists());
    }
}
