//! Deterministic .tar.gz: sorted entries, one fixed mtime, uid/gid 0 with
//! names root/root, explicit modes, and a gzip header without name or time,
//! so that the same files give the same bytes on every machine.

use flate2::{Compression, GzBuilder};
use std::io::Write;

/// One file as it will be on the node (path without a leading '/').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayFile {
    pub path: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// 2010-05-11 00:00:00 UTC, the date of the seed document: every entry gets it.
pub const FIXED_MTIME: u64 = 1_273_536_000;

fn header(path: &str, mode: u32, size: u64, kind: tar::EntryType) -> std::io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_mode(mode);
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mtime(FIXED_MTIME);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("root")?;
    h.set_groupname("root")?;
    h.set_cksum();
    Ok(h)
}

/// Packs the files into a gzip'd tar. There are no directory entries on
/// purpose: unpacked over a live root, a directory entry would reset the
/// mode and time of /etc or /usr, and GNU tar may replace a symlink such as
/// EL5's /etc/init.d -> rc.d/init.d with a real directory. Missing parent
/// folders are made by tar (0755).
pub fn tar_gz(files: &[OverlayFile]) -> std::io::Result<Vec<u8>> {
    let mut entries: Vec<&OverlayFile> = files.iter().collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));

    // Lay out the whole tar in memory first, then compress it in one call:
    // much cheaper than feeding the compressor one small header at a time.
    let size: usize =
        entries.len() * 512 + files.iter().map(|f| f.contents.len() + 512).sum::<usize>() + 1024;
    let mut tar = tar::Builder::new(Vec::with_capacity(size));
    for f in entries {
        let h = header(
            &f.path,
            f.mode,
            f.contents.len() as u64,
            tar::EntryType::Regular,
        )?;
        tar.append(&h, f.contents.as_slice())?;
    }
    let raw = tar.into_inner()?;
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::with_capacity(raw.len() / 3), Compression::fast());
    gz.write_all(&raw)?;
    gz.finish()
}
