//! DIR/<cluster>/.clusterkick-manifest: what a build wrote there, file by
//! file (sha256, mode, path). It is how a later build knows which files are
//! its own to replace, and that the folder is a clusterkick output at all.
//!
//! ```text
//! clusterkick-manifest 1
//! cluster an-cluster
//! 1f0e…  0644 SHA256SUMS
//! ```
//! Lines sorted by path; the same output gives the same bytes.

use crate::build::{sha256_hex, Output};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

pub use crate::layout::MANIFEST;
const MAGIC: &str = "clusterkick-manifest 1";
/// A manifest is a few lines per file; anything bigger is not one of ours.
const MAX_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub sha256: String,
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub cluster: String,
    pub files: BTreeMap<String, Entry>,
}

impl Manifest {
    pub fn of(cluster: &str, out: &Output) -> Self {
        let files = out
            .files
            .iter()
            .map(|(p, f)| {
                // Blobs are named by their sha256 already.
                let sha256 = match crate::layout::blob_sha256(p) {
                    Some(name) if is_sha256(name) => name.to_string(),
                    _ => sha256_hex(&f.contents),
                };
                (
                    p.clone(),
                    Entry {
                        sha256,
                        mode: f.mode,
                    },
                )
            })
            .collect();
        Self {
            cluster: cluster.to_string(),
            files,
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{MAGIC}\ncluster {}\n# sha256 mode path: every file clusterkick wrote in this folder; a rebuild replaces these and keeps everything else.\n",
            self.cluster
        );
        for (p, e) in &self.files {
            s.push_str(&format!("{} {:04o} {p}\n", e.sha256, e.mode));
        }
        s
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(format!("its first line is not {MAGIC:?}"));
        }
        let cluster = lines
            .next()
            .and_then(|l| l.strip_prefix("cluster "))
            .filter(|c| is_cluster_name(c))
            .ok_or("its second line names no cluster")?
            .to_string();
        let mut files = BTreeMap::new();
        for (i, line) in lines.enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let bad = || format!("line {} is not \"<sha256> <mode> <path>\"", i + 3);
            let mut parts = line.splitn(3, ' ');
            let (Some(sha), Some(mode), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let mode = u32::from_str_radix(mode, 8).map_err(|_| bad())?;
            if !is_sha256(sha) || mode > 0o7777 || !is_safe_rel(path) {
                return Err(bad());
            }
            files.insert(
                path.to_string(),
                Entry {
                    sha256: sha.to_string(),
                    mode,
                },
            );
        }
        Ok(Self { cluster, files })
    }

    /// Reads `dir`'s manifest: Ok(None) when there is none, Err(why) when
    /// what is there is not one.
    pub fn read(dir: &Path) -> Result<Option<Self>, String> {
        let path = dir.join(MANIFEST);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {MANIFEST}: {e}")),
        };
        if !meta.is_file() {
            return Err(format!("its {MANIFEST} is not a regular file"));
        }
        if meta.len() > MAX_BYTES {
            return Err(format!(
                "its {MANIFEST} is larger than any clusterkick writes"
            ));
        }
        let mut text = String::new();
        File::open(&path)
            .and_then(|f| f.take(MAX_BYTES).read_to_string(&mut text))
            .map_err(|e| format!("reading {MANIFEST}: {e}"))?;
        Self::parse(&text)
            .map(Some)
            .map_err(|why| format!("its {MANIFEST} is damaged: {why}"))
    }

    /// Folders implied by the files (every ancestor), relative paths.
    pub fn dirs(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        for p in self.files.keys() {
            let mut cur = p.as_str();
            while let Some((parent, _)) = cur.rsplit_once('/') {
                out.insert(parent.to_string());
                cur = parent;
            }
        }
        out
    }
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A cluster name as the profile allows it (so that it is a plain name
/// inside DIR, never a path).
pub fn is_cluster_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A relative path with no `.`/`..`/empty parts, no newline: one that stays
/// inside the folder it is joined to.
pub fn is_safe_rel(p: &str) -> bool {
    !p.is_empty()
        && !p.contains(['\n', '\r', '\0'])
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// sha256 of files by (device, inode, size, mtime), for one run: a blob
/// hard-linked into every cluster is read once.
#[derive(Default)]
pub struct HashCache(Mutex<HashMap<StatKey, String>>);

/// Device, inode, size, mtime (s, ns).
type StatKey = (u64, u64, u64, i64, i64);

impl HashCache {
    pub fn sha256(&self, path: &Path, meta: &fs::Metadata) -> io::Result<String> {
        let key = (
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        );
        if let Some(s) = self.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(s);
        }
        let mut f = File::open(path)?;
        let mut h = Sha256::new();
        io::copy(&mut f, &mut h)?;
        let s = hex::encode(h.finalize());
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, s.clone());
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_paths_that_leave_the_folder() {
        let mut out = Output::default();
        out.add("ks/a.ks", 0o644, b"ks".to_vec());
        out.add("overlay/a.tar.gz", 0o640, b"tgz".to_vec());
        let m = Manifest::of("an-cluster", &out);
        let text = m.to_text();
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        assert!(text.contains(&format!("{} 0640 overlay/a.tar.gz\n", sha256_hex(b"tgz"))));
        let sha = sha256_hex(b"x");
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "a/.."] {
            let t = format!("{MAGIC}\ncluster c\n{sha} 0644 {bad}\n");
            assert!(Manifest::parse(&t).is_err(), "{bad}");
        }
        assert!(Manifest::parse(&format!("{MAGIC}\ncluster ../c\n")).is_err());
        assert!(Manifest::parse("SHA256SUMS\n").is_err());
        assert_eq!(
            m.dirs().into_iter().collect::<Vec<_>>(),
            vec!["ks".to_string(), "overlay".to_string()]
        );
    }
}
