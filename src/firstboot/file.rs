//! The helper's own files, handled with care: what it reads (config, key,
//! state) must be a small regular file, opened so that a FIFO or a device
//! in its place can neither hang the helper nor fill its memory; what it
//! writes is written atomically and durably.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

/// Opening without blocking (a FIFO with no writer would wait forever).
pub const O_NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;
use std::path::{Path, PathBuf};

/// What a file that is not a regular one is, for messages.
fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn refused(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Opens `path` without blocking (opening a FIFO that has no writer would
/// otherwise wait forever) and refuses anything but a regular file.
pub fn open_regular(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    let f = options.custom_flags(O_NONBLOCK).open(path)?;
    let t = f.metadata()?.file_type();
    if !t.is_file() {
        return Err(refused(format!("is {}, not a regular file", kind(t))));
    }
    Ok(f)
}

/// Reads a small text file: only a regular file, and only when it holds at
/// most `max` bytes (read with that cap, so a file that grows meanwhile is
/// refused too, never read without end).
pub fn read_regular(path: &Path, max: u64) -> io::Result<String> {
    let f = open_regular(OpenOptions::new().read(true), path)?;
    let too_big = || refused(format!("is larger than {max} bytes"));
    if f.metadata()?.len() > max {
        return Err(too_big());
    }
    let mut buf = Vec::new();
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_big());
    }
    String::from_utf8(buf)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

/// Fails when `path` exists and is not a regular file (a check before
/// anything is created next to it; [`read_regular`] checks again).
pub fn regular_or_absent(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => Err(refused(format!(
            "is {}, not a regular file",
            kind(m.file_type())
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// How far a replacement written by [`write_atomic_as`] must have reached
/// the disk when the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The new contents under the file's name: the temp file and then its
    /// directory are fsynced.
    Durable,
    /// The file is always whole, old or new: the temp file is fsynced
    /// before the rename, but not the directory, so that after a power
    /// loss (not after a crash of the process) the old contents may be
    /// there until the next durable write or the file system's own commit.
    /// One fsync instead of two.
    Whole,
}

/// The folder `path` is in (`.` for a bare name) and its file name, for
/// the files written next to it.
fn dir_and_name(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    (dir, name)
}

/// Writes `data` to `path` atomically and durably (creating the directory).
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, data, Durability::Durable)
}

/// Writes `data` to `path` atomically (creating the directory): a temp
/// file in the same directory, fsynced, renamed over `path`; then, if
/// `durability` asks, the directory fsynced.
pub fn write_atomic_as(path: &Path, data: &[u8], durability: Durability) -> std::io::Result<()> {
    let (dir, name) = dir_and_name(path);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // fsync the directory so the rename itself survives a power loss.
        match durability {
            Durability::Durable => File::open(&dir)?.sync_all(),
            Durability::Whole => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `data` to `path` atomically and durably, as [`write_atomic`]
/// does, but through a spare file kept next to it (`.<name>.spare`) that
/// the two swap with renameat2(2)'s `RENAME_EXCHANGE`: the spare,
/// overwritten with `data` and fsynced, becomes `path`, the directory is
/// fsynced, and the old contents stay behind as the next write's spare.
/// For a file written many times a run (the helper's state file): a plain
/// rename makes a new inode and frees the old one on every write, which on
/// the test VMs' ext4 was a third of a write's CPU. `path` is always whole,
/// old or new: the spare is never read. Where the kernel or the file system
/// cannot exchange (Linux before 3.15, CentOS 5's among them) or `path`
/// does not exist yet, it is a plain rename (the spare is made again next
/// time).
///
/// Always durable, never [`Durability::Whole`]: the spare is written over
/// in place, so the swap before must be on the disk when it is, or else,
/// after a power loss, the name on the disk could still be the file's while
/// its contents were half written. A [`Durability::Whole`] write of the
/// same file goes through [`write_atomic_as`] (a new inode, the spare left
/// alone), which keeps that true.
pub fn write_via_spare(path: &Path, data: &[u8]) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    let (dir, name) = dir_and_name(path);
    let spare = dir.join(format!(".{name}.spare"));
    // Not truncated on open: the new contents are written over the old
    // from the start and only a longer remainder is cut off after, so the
    // blocks the spare holds are reused, not freed and allocated again
    // (the state only grows during a run).
    let open = || {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&spare)
    };
    let result = (|| {
        let mut f = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&dir)?;
                open()?
            }
            r => r?,
        };
        // A spare that is not a plain file of ours is not written through.
        let meta = f.metadata()?;
        if !meta.file_type().is_file() {
            return Err(refused(format!(
                "{} is not a regular file",
                spare.display()
            )));
        }
        f.write_all(data)?;
        if meta.len() > data.len() as u64 {
            f.set_len(data.len() as u64)?;
        }
        f.sync_all()?;
        drop(f);
        if renameat_with(CWD, &spare, CWD, path, RenameFlags::EXCHANGE).is_err() {
            std::fs::rename(&spare, path)?;
        }
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&spare);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "hello\n").unwrap();
        assert_eq!(read_regular(&p, 6).unwrap(), "hello\n");
        let e = read_regular(&p, 5).unwrap_err();
        assert_eq!(e.to_string(), "is larger than 5 bytes");
        let e = read_regular(dir.path(), 100).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        // /dev/zero never ends: refused before a byte is read.
        let e = read_regular(Path::new("/dev/zero"), 100).unwrap_err();
        assert_eq!(e.to_string(), "is a character device, not a regular file");
        assert_eq!(
            read_regular(&dir.path().join("none"), 1)
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        assert!(regular_or_absent(&p).is_ok() && regular_or_absent(&dir.path().join("x")).is_ok());
        assert!(regular_or_absent(Path::new("/dev/zero")).is_err());
    }

    #[test]
    fn both_durabilities_replace_the_file_whole_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("state");
        for (i, d) in [Durability::Durable, Durability::Whole, Durability::Durable]
            .into_iter()
            .enumerate()
        {
            let text = format!("version {i}\n");
            write_atomic_as(&p, text.as_bytes(), d).unwrap();
            assert_eq!(std::fs::read_to_string(&p).unwrap(), text, "{d:?}");
            let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, ["state"], "{d:?}");
        }
    }

    /// Through the spare: each write replaces the file whole, and the spare
    /// left next to it (where the file system can exchange; this machine's
    /// can) holds the contents before, never read back as the file. A
    /// write without the spare in between leaves the spare alone.
    #[test]
    fn writes_via_the_spare_keep_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("state");
        let spare = dir.path().join("sub").join(".state.spare");
        write_via_spare(&p, b"version 0\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "version 0\n");
        for i in 0..3 {
            let text = format!("version {}\n", i + 1);
            write_via_spare(&p, text.as_bytes()).unwrap();
            assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
            assert_eq!(
                std::fs::read_to_string(&spare).unwrap(),
                format!("version {i}\n")
            );
        }
        write_atomic_as(&p, b"version 4\n", Durability::Whole).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "version 4\n");
        assert_eq!(std::fs::read_to_string(&spare).unwrap(), "version 2\n");
        // A shorter state after a longer one leaves nothing of the longer.
        write_via_spare(&p, b"a much longer version 5\n").unwrap();
        write_via_spare(&p, b"v6\n").unwrap();
        write_via_spare(&p, b"v7\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "v7\n");
        assert_eq!(std::fs::read_to_string(&spare).unwrap(), "v6\n");
        // A spare that is a symlink is not followed.
        std::fs::remove_file(&spare).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "untouched").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &spare).unwrap();
        assert!(write_via_spare(&p, b"version 9\n").is_err());
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "v7\n");
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(st.success(), "mkfifo");
        let start = std::time::Instant::now();
        let e = read_regular(&p, 100).unwrap_err();
        assert_eq!(e.to_string(), "is a FIFO, not a regular file");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
