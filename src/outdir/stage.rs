//! The new tree, written beside DIR/<cluster> in a private folder
//! (`DIR/.clusterkick-tmp-<cluster>.<random>`, mode 0700 until complete):
//! the build's files, then the user's entries from the old tree (hard links,
//! so the same inodes; symlinks linked as they are), the old folders'
//! modes, and last the manifest.

use super::fsop;
use super::inspect::{Kind, OldTree};
use super::manifest::{Manifest, MANIFEST};
use super::OutdirError;
use crate::build::{OutFile, Output};
use crate::layout;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use crate::layout::{STAGE_MARKER, TMP_PREFIX};

const DIR_MODE: u32 = 0o755;

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutdirError {
    let path = path.to_path_buf();
    move |source| OutdirError::Io { what, path, source }
}

/// Makes DIR/.clusterkick-tmp-<tag>.<random> (mode 0700) with its marker.
pub fn make_tmp(dir: &Path, tag: &str) -> Result<PathBuf, OutdirError> {
    loop {
        let mut r = [0u8; 6];
        getrandom::getrandom(&mut r).map_err(|e| OutdirError::Io {
            what: "getting random bytes for a folder name in",
            path: dir.to_path_buf(),
            source: io::Error::other(e.to_string()),
        })?;
        let tmp = dir.join(format!("{TMP_PREFIX}{tag}.{}", hex::encode(r)));
        match fsop::mkdir(&tmp, 0o700) {
            Ok(()) => {
                fsop::write_new(
                    &tmp.join(STAGE_MARKER),
                    b"clusterkick is writing this folder; if no build is running, the next one removes it\n",
                    0o600,
                )
                .map_err(io_err("writing into", &tmp))?;
                return Ok(tmp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("creating a folder in", dir)(e)),
        }
    }
}

/// Files written once per run and hard-linked into every cluster: those
/// under blobs/ (the first-boot helper, named by its sha256). The first
/// cluster that needs one writes it into the run's own staging folder
/// (`root`), holding the lock meanwhile, so that no other writes it too.
pub struct Shared {
    root: PathBuf,
    files: Mutex<BTreeMap<String, (PathBuf, OutFile)>>,
    /// The web server's group, for the files the nodes fetch (every tree
    /// of the run gets the same).
    web_gid: Option<u32>,
}

impl Shared {
    pub fn new(root: PathBuf, web_gid: Option<u32>) -> Self {
        Self {
            root,
            files: Mutex::new(BTreeMap::new()),
            web_gid,
        }
    }

    pub fn is_shared(rel: &str) -> bool {
        crate::layout::blob_sha256(rel).is_some()
    }

    /// Links the one copy of `rel` to `to`, writing it first if this is
    /// the first time. Ok(false): not linked (a file system's link limit,
    /// or different bytes under the same name); the caller writes `to`.
    fn link(&self, rel: &str, f: &OutFile, to: &Path) -> Result<bool, OutdirError> {
        let mut files = self.files.lock().map_err(|_| OutdirError::Panicked)?;
        if !files.contains_key(rel) {
            let one = self.root.join(rel);
            let mut made = BTreeSet::new();
            parents(&self.root, rel, &mut made, self.web_gid)?;
            write(&one, rel, f, self.web_gid)?;
            files.insert(rel.to_string(), (one, f.clone()));
        }
        let Some((one, sf)) = files.get(rel) else {
            return Ok(false);
        };
        let same = sf.mode == f.mode
            && (std::sync::Arc::ptr_eq(&sf.contents, &f.contents) || sf.contents == f.contents);
        Ok(same && fsop::hard_link(one, to).is_ok())
    }
}

/// Creates the folders above `rel` that are not there yet: the served
/// ones 0750 with the web server's group, the others 0755.
fn parents(
    root: &Path,
    rel: &str,
    made: &mut BTreeSet<String>,
    web_gid: Option<u32>,
) -> Result<(), OutdirError> {
    for (i, _) in rel.match_indices('/') {
        let dir = &rel[..i];
        if made.contains(dir) {
            continue;
        }
        let path = root.join(dir);
        let made_it = if layout::is_served_dir(dir) {
            fsop::mkdir_group(&path, layout::SERVED_DIR_MODE, web_gid)
                .map_err(|e| group_err("creating", &path, web_gid, e))
        } else {
            fsop::mkdir(&path, DIR_MODE).map_err(|e| io_err("creating", &path)(e))
        };
        match made_it {
            Ok(()) => {}
            Err(OutdirError::Io { source, .. })
                if source.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(e) => return Err(e),
        }
        made.insert(dir.to_string());
    }
    Ok(())
}

/// Writes one of the build's files; a served one gets the web server's
/// group.
fn write(path: &Path, rel: &str, f: &OutFile, web_gid: Option<u32>) -> Result<(), OutdirError> {
    let gid = web_gid.filter(|_| layout::is_served(rel));
    fsop::write_new_group(path, &f.contents, f.mode, gid)
        .map_err(|e| group_err("writing", path, gid, e))
}

/// The error of writing `path` with group `gid`: a refused chgrp says
/// what to do.
fn group_err(what: &'static str, path: &Path, gid: Option<u32>, e: io::Error) -> OutdirError {
    if e.kind() == io::ErrorKind::PermissionDenied && gid.is_some() {
        OutdirError::Io {
            what: "giving the web server's group (run the build as root or as a member of that group, or name another with --web-group) to",
            path: path.to_path_buf(),
            source: e,
        }
    } else {
        io_err(what, path)(e)
    }
}

/// Whether an old tree's folder `rel` has the mode a build gives it by
/// itself: a served folder is 0750 now and was 0755 before builds named
/// the web server's group, so either is this build's to set (0750). Any
/// other mode, and every mode of the other folders, is kept.
fn build_default_dir_mode(rel: &str, mode: u32) -> bool {
    layout::is_served_dir(rel) && (mode == DIR_MODE || mode == layout::SERVED_DIR_MODE)
}

/// Writes the new tree into `tmp` (made by [`make_tmp`]). Returns its
/// manifest.
pub fn fill(
    tmp: &Path,
    cluster: &str,
    out: &Output,
    old: Option<&OldTree>,
    shared: &Shared,
) -> Result<Manifest, OutdirError> {
    let mut made = BTreeSet::new();
    for (rel, f) in &out.files {
        parents(tmp, rel, &mut made, shared.web_gid)?;
        let path = tmp.join(rel);
        if Shared::is_shared(rel) && shared.link(rel, f, &path)? {
            continue;
        }
        write(&path, rel, f, shared.web_gid)?;
    }
    if let Some(old) = old {
        carry(old, tmp, &mut made, shared.web_gid)?;
        // Folder modes as the user left them, except a served folder's
        // mode as a build (this version or an earlier one) wrote it.
        for (rel, mode) in &old.dirs {
            if build_default_dir_mode(rel, *mode) {
                continue;
            }
            let path = tmp.join(rel);
            if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                fsop::chmod(&path, *mode).map_err(io_err("setting the mode of", &path))?;
            }
        }
    }
    let manifest = Manifest::of(cluster, out);
    let mpath = tmp.join(MANIFEST);
    fsop::write_new(&mpath, manifest.to_text().as_bytes(), 0o644)
        .map_err(io_err("writing", &mpath))?;
    let marker = tmp.join(STAGE_MARKER);
    fsop::unlink(&marker).map_err(io_err("removing", &marker))?;
    let top = old.map_or(DIR_MODE, |o| o.mode);
    fsop::chmod(tmp, top).map_err(io_err("setting the mode of", tmp))?;
    Ok(manifest)
}

/// The user's entries of the old tree, into the new one: the same inode
/// (a hard link; a symlink is linked itself, so its target and owner stay);
/// a copy with the same mode and mtime only where a link is refused.
fn carry(
    old: &OldTree,
    tmp: &Path,
    made: &mut BTreeSet<String>,
    web_gid: Option<u32>,
) -> Result<(), OutdirError> {
    for u in &old.user {
        parents(tmp, &u.rel, made, web_gid)?;
        let from = old.path.join(&u.rel);
        let to = tmp.join(&u.rel);
        match u.kind {
            Kind::Dir => {
                if !made.contains(&u.rel) {
                    fsop::mkdir(&to, DIR_MODE).map_err(io_err("creating", &to))?;
                    made.insert(u.rel.clone());
                }
            }
            _ => {
                let linked = fsop::hard_link(&from, &to);
                if let Err(e) = linked {
                    match u.kind {
                        Kind::File => fsop::copy_file(&from, &to),
                        Kind::Symlink => {
                            fs::read_link(&from).and_then(|target| fsop::symlink(&target, &to))
                        }
                        _ => Err(e),
                    }
                    .map_err(io_err("keeping your file", &from))?;
                }
            }
        }
    }
    Ok(())
}
