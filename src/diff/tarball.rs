//! The members of a .tar.gz, to compare an overlay by what it holds
//! (path, type, mode, owner, contents) rather than by its bytes.

use std::collections::BTreeMap;
use std::io::Read;

/// An overlay is a few MiB at most; a tarball that unpacks to more than
/// this is compared as bytes.
const MAX_UNPACKED: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `file`, `dir`, `symlink -> target`, ...
    pub kind: String,
    pub mode: u32,
    /// `uid:gid (user:group)`.
    pub owner: String,
    pub contents: Vec<u8>,
}

/// The members by path; None when `bytes` is not a .tar.gz this can read
/// (it is then compared as bytes).
pub fn members(bytes: &[u8]) -> Option<BTreeMap<String, Member>> {
    let gz = flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED);
    let mut ar = tar::Archive::new(gz);
    let mut out = BTreeMap::new();
    for e in ar.entries().ok()? {
        let mut e = e.ok()?;
        let path = e.path().ok()?.to_str()?.to_string();
        let h = e.header();
        let t = h.entry_type();
        let kind = if t.is_file() {
            "file".to_string()
        } else if t.is_dir() {
            "folder".to_string()
        } else if t.is_symlink() || t.is_hard_link() {
            let target = e.link_name().ok()??.to_string_lossy().into_owned();
            let what = if t.is_symlink() {
                "symlink"
            } else {
                "hard link"
            };
            format!("{what} -> {target}")
        } else {
            format!("entry type {}", t.as_byte())
        };
        let name = |n: Option<&str>| n.unwrap_or("?").to_string();
        let owner = format!(
            "{}:{} ({}:{})",
            h.uid().ok()?,
            h.gid().ok()?,
            name(h.username().ok()?),
            name(h.groupname().ok()?)
        );
        let mode = h.mode().ok()? & 0o7777;
        let mut contents = Vec::new();
        e.read_to_end(&mut contents).ok()?;
        out.insert(
            path,
            Member {
                kind,
                mode,
                owner,
                contents,
            },
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{tar_gz, OverlayFile};

    #[test]
    fn reads_back_what_the_build_packs() {
        let files = vec![
            OverlayFile {
                path: "etc/b".into(),
                mode: 0o600,
                contents: b"two\n".to_vec(),
            },
            OverlayFile {
                path: "etc/a".into(),
                mode: 0o644,
                contents: b"one\n".to_vec(),
            },
        ];
        let m = members(&tar_gz(&files).unwrap()).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["etc/a", "etc/b"]);
        assert_eq!(m["etc/b"].mode, 0o600);
        assert_eq!(m["etc/b"].contents, b"two\n");
        assert_eq!(m["etc/a"].owner, "0:0 (root:root)");
        assert_eq!(m["etc/a"].kind, "file");
        assert!(members(b"not a tarball").is_none());
    }
}
