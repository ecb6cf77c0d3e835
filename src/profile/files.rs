//! Reading the files a profile is or names (the profile itself, fence
//! password files, the first-boot key) without trusting what is there: only
//! a regular file is read, it is opened so that a FIFO cannot stall the
//! build (O_NONBLOCK), and it is read with a cap, so that `/dev/zero` or a
//! file that grows meanwhile cannot fill memory.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The most a secret file (fence password, first-boot key) may hold.
pub const SECRET_CAP: u64 = 64 * 1024;
/// The most a profile may hold (the example is about 3 KiB).
pub const PROFILE_CAP: u64 = 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    #[error("it does not exist")]
    Missing,
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("it is {0}, not a folder")]
    NotFolder(&'static str),
    #[error("it is larger than {} KiB", .0 / 1024)]
    TooLarge(u64),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What a file that is not a regular one is, for messages.
pub fn kind(t: std::fs::FileType) -> &'static str {
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
    } else if t.is_file() {
        "a regular file"
    } else {
        "neither a file nor a directory"
    }
}

/// The bytes of the regular file at `path` (symbolic links followed), at
/// most `cap` of them, with its metadata (taken from the open file).
///
/// The type is looked at before opening (a socket cannot be opened, a
/// FIFO's open could wait for a writer) and again on the open file (the
/// path may have changed in between); nothing but a regular file is read.
pub fn read_capped(path: &Path, cap: u64) -> Result<(Vec<u8>, Metadata), FileProblem> {
    let missing = |e: io::Error| {
        if e.kind() == io::ErrorKind::NotFound {
            FileProblem::Missing
        } else {
            FileProblem::Io(e)
        }
    };
    let before = std::fs::metadata(path).map_err(missing)?;
    if !before.file_type().is_file() {
        return Err(FileProblem::NotRegular(kind(before.file_type())));
    }
    let nonblock = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
    let f: File = OpenOptions::new()
        .read(true)
        .custom_flags(nonblock.bits() as i32)
        .open(path)
        .map_err(missing)?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(FileProblem::NotRegular(kind(meta.file_type())));
    }
    if meta.len() > cap {
        return Err(FileProblem::TooLarge(cap));
    }
    let mut bytes = Vec::new();
    f.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(FileProblem::TooLarge(cap));
    }
    Ok((bytes, meta))
}

/// Who besides the owner may read a file of this mode, if anyone: the
/// words for a warning.
pub fn readable_by_others(mode: u32) -> Option<&'static str> {
    match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (true, true) => Some("its group and every other user"),
        (true, false) => Some("its group"),
        (false, true) => Some("every other user"),
        (false, false) => None,
    }
}

/// Who besides the owner may write into a folder of this mode, if anyone.
pub fn writable_by_others(mode: u32) -> Option<&'static str> {
    match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("its group and every other user"),
        (true, false) => Some("its group"),
        (false, true) => Some("every other user"),
        (false, false) => None,
    }
}

/// The mode bits of `m` that `chmod` sets.
pub fn mode(m: &Metadata) -> u32 {
    m.permissions().mode() & 0o7777
}

/// `p` as a shell word: as it is when it holds only characters no shell
/// treats specially, else in single quotes.
pub fn shell_word(p: &Path) -> String {
    let s = p.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./+,:@%=".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The nearest folder at or above `dir` that exists, and the folders below
/// it down to `dir` that do not (nearest first). A path in the way that is
/// not a folder is an error.
pub fn existing_ancestor(dir: &Path) -> Result<(PathBuf, Vec<PathBuf>), (PathBuf, FileProblem)> {
    let mut missing = Vec::new();
    let mut at = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    };
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => {
                missing.reverse();
                return Ok((at, missing));
            }
            Ok(m) => return Err((at, FileProblem::NotFolder(kind(m.file_type())))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A dangling symbolic link is in the way too.
                if std::fs::symlink_metadata(&at).is_ok() {
                    return Err((at, FileProblem::NotFolder("a symbolic link to nothing")));
                }
                let parent = match at.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    Some(_) => PathBuf::from("."),
                    None => return Err((at, FileProblem::Missing)),
                };
                missing.push(at);
                at = parent;
            }
            Err(e) => return Err((at, FileProblem::Io(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn reads_small_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "pw\n").unwrap();
        assert_eq!(read_capped(&p, 3).unwrap().0, b"pw\n");
        assert!(matches!(read_capped(&p, 2), Err(FileProblem::TooLarge(2))));
        assert!(matches!(
            read_capped(dir.path(), 10),
            Err(FileProblem::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 10),
            Err(FileProblem::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_capped(&dir.path().join("none"), 10),
            Err(FileProblem::Missing)
        ));
    }

    #[test]
    fn a_fifo_and_a_socket_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let start = Instant::now();
        assert!(matches!(
            read_capped(&fifo, 10),
            Err(FileProblem::NotRegular("a FIFO"))
        ));
        assert!(start.elapsed() < Duration::from_secs(5));
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(matches!(
            read_capped(&sock, 10),
            Err(FileProblem::NotRegular("a socket"))
        ));
    }

    #[test]
    fn the_folders_to_make_are_listed_from_the_nearest_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let want = dir.path().join("a/b/c");
        let (at, missing) = existing_ancestor(&want).unwrap();
        assert_eq!(at, dir.path());
        assert_eq!(
            missing,
            [dir.path().join("a"), dir.path().join("a/b"), want.clone()]
        );
        std::fs::write(dir.path().join("a"), "").unwrap();
        assert!(existing_ancestor(&want).is_err());
        assert_eq!(existing_ancestor(Path::new("")).unwrap().0, Path::new("."));
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_word(Path::new("a/b.key")), "a/b.key");
        assert_eq!(shell_word(Path::new("my keys/it's")), "'my keys/it'\\''s'");
    }
}
