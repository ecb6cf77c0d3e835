//! The big copy: the base image into the new file, by the kernel
//! (copy_file_range), in a few threads, never through this process's memory.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tempfile::NamedTempFile;

/// Threads that copy the base, each its own stretch of it: the kernel's
/// copy (copy_file_range, as cp uses) runs at memory speed on one core when
/// the image is in the page cache, so two of them halve the time.
const COPY_THREADS: u64 = 2;

/// Copies the base into the new, empty temp file `to`, then gives it
/// `mode`. `to` is first set to the base's length; each thread copies one
/// stretch through its own file handles, and std's io::copy between two
/// files lets the kernel do the work. (fs::copy would reopen `to` with
/// O_TRUNC, after which ext4 starts writing the whole image back to disk
/// when the file is closed, and the command waits for it.)
pub fn copy_image(base: &Path, to: &NamedTempFile, mode: u32) -> io::Result<()> {
    let len = fs::metadata(base)?.len();
    to.as_file().set_len(len)?;
    // Stretches of whole 1 MiB blocks, the last one taking the rest.
    let stretch = len.div_ceil(COPY_THREADS).div_ceil(1 << 20) << 20;
    std::thread::scope(|s| {
        let copies: Vec<_> = (0..COPY_THREADS)
            .map(|i| i * stretch)
            .filter(|&start| start < len)
            .map(|start| {
                s.spawn(move || -> io::Result<()> {
                    let mut from = fs::File::open(base)?;
                    let mut dest = to.reopen()?;
                    from.seek(SeekFrom::Start(start))?;
                    dest.seek(SeekFrom::Start(start))?;
                    let want = stretch.min(len - start);
                    let done = io::copy(&mut (&mut from).take(want), &mut dest)?;
                    if done == want {
                        Ok(())
                    } else {
                        Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the base image shrank while it was being copied",
                        ))
                    }
                })
            })
            .collect();
        copies.into_iter().try_for_each(|c| {
            c.join()
                .unwrap_or_else(|_| Err(io::Error::other("a copy thread panicked")))
        })
    })?;
    to.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn copies_every_byte_whatever_the_length() {
        for len in [0usize, 1, 2048, (3 << 20) + 5] {
            let mut base = NamedTempFile::new().unwrap();
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            base.write_all(&bytes).unwrap();
            let to = NamedTempFile::new().unwrap();
            copy_image(base.path(), &to, 0o600).unwrap();
            assert_eq!(fs::read(to.path()).unwrap(), bytes, "length {len}");
            let mode = fs::metadata(to.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
