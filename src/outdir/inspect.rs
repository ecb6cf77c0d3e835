//! What is at DIR/<cluster> before a build: nothing, or an earlier output
//! of clusterkick (it has a manifest naming this cluster) whose files the
//! build may replace. Anything else is refused, and so is an earlier output
//! in which the user changed a file the build wrote.

use super::manifest::{HashCache, Manifest, MANIFEST};
use super::{Conflict, OutdirError};
use crate::layout::STAGE_MARKER;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A user's entry in an earlier output tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    /// A FIFO, socket or device node.
    Special,
}

#[derive(Debug, Clone)]
pub struct UserEntry {
    pub rel: String,
    pub kind: Kind,
}

/// An earlier output of this cluster, ready to be replaced.
#[derive(Debug)]
pub struct OldTree {
    pub path: PathBuf,
    pub dev_ino: (u64, u64),
    /// Mode of DIR/<cluster> itself.
    pub mode: u32,
    pub manifest: Manifest,
    /// Every folder below the top, with its mode (the user may have
    /// changed it: the new tree keeps it).
    pub dirs: Vec<(String, u32)>,
    /// Everything the build did not write, in walk order (parents first).
    pub user: Vec<UserEntry>,
}

#[derive(Debug)]
pub enum Existing {
    Fresh,
    Ours(OldTree),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutdirError {
    let path = path.to_path_buf();
    move |source| OutdirError::Io { what, path, source }
}

/// Looks at DIR/<name>; refuses what the build must not replace.
pub fn inspect(dir: &Path, name: &str, hashes: &HashCache) -> Result<Existing, OutdirError> {
    let dest = dir.join(name);
    let meta = match fs::symlink_metadata(&dest) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Fresh),
        Err(e) => return Err(io_err("looking at", &dest)(e)),
    };
    let ft = meta.file_type();
    if !ft.is_dir() {
        let what = if ft.is_symlink() {
            "a symbolic link"
        } else if ft.is_file() {
            "a file"
        } else {
            "a special file"
        };
        return Err(OutdirError::NotAFolder { path: dest, what });
    }
    let parent = fs::metadata(dir).map_err(io_err("looking at", dir))?;
    if Mount::of(&dest, &meta) != Mount::of(dir, &parent) {
        return Err(OutdirError::MountPoint(dest));
    }
    let manifest = match Manifest::read(&dest) {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(OutdirError::NotOurs {
                path: dest,
                why: format!("it has no {MANIFEST}"),
            })
        }
        Err(why) => return Err(OutdirError::NotOurs { path: dest, why }),
    };
    if manifest.cluster != name {
        return Err(OutdirError::NotOurs {
            path: dest,
            why: format!(
                "its {MANIFEST} says it is the output of cluster {:?}",
                manifest.cluster
            ),
        });
    }
    let our_dirs = manifest.dirs();
    let top_mount = Mount::of(&dest, &meta);
    let mut dirs = Vec::new();
    let mut user = Vec::new();
    let mut conflicts = Vec::new();
    let mut walk = walkdir::WalkDir::new(&dest)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(e) = walk.next() {
        let e = e.map_err(|e| io_err("reading", &dest)(io::Error::other(e)))?;
        let rel = relative(&dest, e.path())?;
        if rel == MANIFEST {
            continue;
        }
        let m = e
            .path()
            .symlink_metadata()
            .map_err(io_err("looking at", e.path()))?;
        if Mount::of(e.path(), &m) != top_mount {
            // Neither linked nor moved across: it would stay behind in
            // the old tree.
            conflicts.push(Conflict {
                rel,
                why: "another file system is mounted here, and a mount cannot move into the new tree; unmount it, build, then mount it again".into(),
            });
            if m.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Special
        };
        if kind == Kind::Dir {
            dirs.push((rel.clone(), m.permissions().mode() & 0o7777));
        }
        match manifest.files.get(&rel) {
            Some(want) => {
                let why = if kind != Kind::File {
                    Some(format!(
                        "clusterkick wrote a file here; it is now {}",
                        kind_words(&kind)
                    ))
                } else if m.mode() & 0o7777 != want.mode {
                    Some(format!(
                        "its mode is {:04o}; clusterkick wrote it {:04o}",
                        m.mode() & 0o7777,
                        want.mode
                    ))
                } else if hashes
                    .sha256(e.path(), &m)
                    .map_err(io_err("reading", e.path()))?
                    != want.sha256
                {
                    Some("its content changed since clusterkick wrote it".to_string())
                } else {
                    None
                };
                if let Some(why) = why {
                    conflicts.push(Conflict { rel, why });
                }
            }
            None if kind == Kind::Dir && our_dirs.contains(&rel) => {}
            None => user.push(UserEntry { rel, kind }),
        }
    }
    if !conflicts.is_empty() {
        return Err(OutdirError::Conflicts {
            path: dest,
            conflicts,
        });
    }
    Ok(Existing::Ours(OldTree {
        dev_ino: (meta.dev(), meta.ino()),
        mode: meta.permissions().mode() & 0o7777,
        path: dest,
        manifest,
        dirs,
        user,
    }))
}

/// `a/b/c` → `a/b`, `a`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(rel.rsplit_once('/').map(|x| x.0), |p| {
        p.rsplit_once('/').map(|x| x.0)
    })
}

/// Which mount an entry belongs to: statx's mount id (Linux 5.8 and later;
/// it also tells bind mounts apart), else the device number.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    dev: u64,
    id: Option<u64>,
}

impl Mount {
    fn of(path: &Path, meta: &fs::Metadata) -> Self {
        use rustix::fs::{statx, AtFlags, StatxFlags, CWD};
        let id = statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::MNT_ID)
            .ok()
            .filter(|x| x.stx_mask & StatxFlags::MNT_ID.bits() != 0)
            .map(|x| x.stx_mnt_id);
        Self {
            dev: meta.dev(),
            id,
        }
    }
}

pub fn kind_words(k: &Kind) -> &'static str {
    match k {
        Kind::Dir => "a folder",
        Kind::File => "a file",
        Kind::Symlink => "a symbolic link",
        Kind::Special => "a special file",
    }
}

/// `path` below `root` as a '/'-separated UTF-8 string.
pub fn relative(root: &Path, path: &Path) -> Result<String, OutdirError> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| io_err("walking", path)(io::Error::other("outside the tree")))?;
    rel.to_str()
        .map(str::to_string)
        .ok_or_else(|| OutdirError::NotUtf8(path.to_path_buf()))
}

impl OldTree {
    /// Entries the user added that the new build would have to replace:
    /// at a path it writes, or where it needs a folder.
    pub fn collisions(
        &self,
        new_files: &BTreeSet<&str>,
        new_dirs: &BTreeSet<String>,
    ) -> Vec<Conflict> {
        let mut out = Vec::new();
        for u in &self.user {
            if u.rel == STAGE_MARKER {
                out.push(Conflict {
                    rel: u.rel.clone(),
                    why: "clusterkick uses this name while it builds; rename it".into(),
                });
            } else if new_files.contains(u.rel.as_str()) {
                out.push(Conflict {
                    rel: u.rel.clone(),
                    why: format!(
                        "it is {} of yours, and the build now writes a file there",
                        kind_words(&u.kind)
                    ),
                });
            } else if let Some(file) = ancestors(&u.rel).find(|a| new_files.contains(a)) {
                out.push(Conflict {
                    rel: u.rel.clone(),
                    why: format!("the build now writes a file at {file}, which holds it"),
                });
            } else if u.kind != Kind::Dir && new_dirs.contains(&u.rel) {
                out.push(Conflict {
                    rel: u.rel.clone(),
                    why: format!(
                        "it is {} of yours, and the build now needs a folder there",
                        kind_words(&u.kind)
                    ),
                });
            }
        }
        out
    }
}
