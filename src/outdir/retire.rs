//! Removing a tree that is no longer DIR/<cluster> (the old tree after the
//! switch, or what a killed build left), without ever removing a byte the
//! user has no other copy of.
//!
//! An entry goes only when it is provably the build's or provably a
//! duplicate: a file its manifest lists with the same sha256 and mode, or an
//! entry that the live DIR/<cluster> holds at the same path (the same inode,
//! the same symlink target, or the same bytes and mode). Anything else is
//! moved back into the live tree at its place; if that place is taken it
//! stays where it is, and the build says so.

use super::fsop;
use super::inspect::relative;
use super::manifest::{HashCache, Manifest, MANIFEST};
use super::OutdirError;
use crate::layout::{STAGE_MARKER, TMP_PREFIX};
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutdirError {
    let path = path.to_path_buf();
    move |source| OutdirError::Io { what, path, source }
}

/// Removes `tree` (which has a manifest) against the live tree `live`.
/// Returns the paths it had to keep.
pub fn retire(
    tree: &Path,
    manifest: &Manifest,
    live: &Path,
    hashes: &HashCache,
) -> Result<Vec<String>, OutdirError> {
    let live_ours = matches!(Manifest::read(live), Ok(Some(m)) if m.cluster == manifest.cluster)
        && fs::symlink_metadata(live).is_ok_and(|m| m.is_dir());
    // The build's own folders: never recreated in the live tree.
    let our_dirs = manifest.dirs();
    let mut kept = Vec::new();
    for e in walkdir::WalkDir::new(tree)
        .min_depth(1)
        .same_file_system(true)
        .contents_first(true)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| io_err("reading", tree)(io::Error::other(e)))?;
        let rel = relative(tree, e.path())?;
        if rel == MANIFEST {
            continue;
        }
        let path = e.path();
        let there = live.join(&rel);
        if e.file_type().is_dir() {
            if live_ours
                && !our_dirs.contains(&rel)
                && fs::symlink_metadata(&there).is_err()
                && dir_is_empty(path)
            {
                // A folder the user made after the build looked: put it back.
                let mode = fs::symlink_metadata(path).map_or(0o755, |m| m.mode() & 0o7777);
                if parents_in(tree, live, &rel).is_ok() {
                    let _ = fsop::mkdir(&there, mode);
                }
            }
            match fsop::rmdir(path) {
                Ok(()) => {}
                // Something in it was kept.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTEMPTY.raw_os_error()) => {}
                // A mount point.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::BUSY.raw_os_error()) => {
                    kept.push(rel);
                }
                Err(e) => return Err(io_err("removing", path)(e)),
            }
            continue;
        }
        if ours_unchanged(path, manifest, &rel, hashes)? || duplicate(path, &there, hashes)? {
            fsop::unlink(path).map_err(io_err("removing", path))?;
            continue;
        }
        // The user's, and not in the live tree: back to its place.
        if live_ours
            && parents_in(tree, live, &rel).is_ok()
            && fsop::rename_noreplace(path, &there).is_ok()
        {
            continue;
        }
        kept.push(rel);
    }
    if kept.is_empty() {
        let m = tree.join(MANIFEST);
        fsop::unlink(&m).map_err(io_err("removing", &m))?;
        fsop::rmdir(tree).map_err(io_err("removing", tree))?;
    }
    Ok(kept)
}

fn dir_is_empty(p: &Path) -> bool {
    fs::read_dir(p).is_ok_and(|mut r| r.next().is_none())
}

/// Creates in `live` the folders above `rel` that are missing, with the
/// modes they have in `tree`.
fn parents_in(tree: &Path, live: &Path, rel: &str) -> io::Result<()> {
    for (i, _) in rel.match_indices('/') {
        let dir = &rel[..i];
        let there = live.join(dir);
        match fs::symlink_metadata(&there) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => return Err(io::Error::from(io::ErrorKind::AlreadyExists)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mode = fs::symlink_metadata(tree.join(dir))
                    .map_or(0o755, |m| m.permissions().mode() & 0o7777);
                fsop::mkdir(&there, mode)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A regular file the manifest lists, with the sha256 and mode it says.
fn ours_unchanged(
    path: &Path,
    m: &Manifest,
    rel: &str,
    hashes: &HashCache,
) -> Result<bool, OutdirError> {
    let Some(want) = m.files.get(rel) else {
        return Ok(false);
    };
    let meta = fs::symlink_metadata(path).map_err(io_err("looking at", path))?;
    Ok(meta.is_file()
        && meta.mode() & 0o7777 == want.mode
        && hashes
            .sha256(path, &meta)
            .map_err(io_err("reading", path))?
            == want.sha256)
}

/// The same entry at the same place in the live tree.
fn duplicate(path: &Path, there: &Path, hashes: &HashCache) -> Result<bool, OutdirError> {
    let a = fs::symlink_metadata(path).map_err(io_err("looking at", path))?;
    let Ok(b) = fs::symlink_metadata(there) else {
        return Ok(false);
    };
    if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
        return Ok(true);
    }
    let (ta, tb) = (a.file_type(), b.file_type());
    if ta.is_symlink() && tb.is_symlink() {
        return Ok(fs::read_link(path).ok() == fs::read_link(there).ok());
    }
    if ta.is_file() && tb.is_file() && a.mode() == b.mode() && a.len() == b.len() {
        let ha = hashes.sha256(path, &a).map_err(io_err("reading", path))?;
        let hb = hashes.sha256(there, &b).map_err(io_err("reading", there))?;
        return Ok(ha == hb);
    }
    Ok(false)
}

/// Removes what killed builds left in `dir`: staging trees (marked) whole,
/// complete trees (with a manifest) as [`retire`] does. Tells `say` about
/// anything it leaves.
pub fn sweep(dir: &Path, hashes: &HashCache, say: &dyn Fn(&str)) -> Result<(), OutdirError> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .map_err(io_err("reading", dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_str().is_some_and(|s| s.starts_with(TMP_PREFIX)))
        .collect();
    names.sort();
    for name in names {
        let tree = dir.join(&name);
        let Ok(meta) = fs::symlink_metadata(&tree) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        if fs::symlink_metadata(tree.join(STAGE_MARKER)).is_ok_and(|m| m.is_file()) {
            fsop::remove_tree(&tree).map_err(io_err("removing", &tree))?;
            continue;
        }
        let left = match Manifest::read(&tree) {
            Ok(Some(m)) => {
                let live = dir.join(&m.cluster);
                let kept = retire(&tree, &m, &live, hashes)?;
                if !kept.is_empty() {
                    say(&kept_note(&tree, &live, &kept));
                }
                continue;
            }
            Ok(None) if dir_is_empty(&tree) => {
                fsop::rmdir(&tree).map_err(io_err("removing", &tree))?;
                continue;
            }
            Ok(None) => "it has no marker or manifest of this clusterkick version".to_string(),
            Err(why) => why,
        };
        say(&format!(
            "note: left {} alone: {left}. It may hold an overlay (secrets): remove it yourself once you know it is not yours",
            tree.display()
        ));
    }
    Ok(())
}

/// What to tell the user when [`retire`] kept something.
pub fn kept_note(tree: &Path, live: &Path, kept: &[String]) -> String {
    format!(
        "note: kept {}: clusterkick removed its own files from it, but {} not clusterkick's and their places in {} are taken: {}. Move them where they belong, then remove the folder",
        tree.display(),
        if kept.len() == 1 { "1 entry is".to_string() } else { format!("{} entries are", kept.len()) },
        live.display(),
        kept.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Output;

    #[test]
    fn retire_removes_only_what_is_provably_ours_and_moves_the_rest_back() {
        let t = tempfile::tempdir().unwrap();
        let tree = t.path().join(format!("{TMP_PREFIX}c.0123"));
        let live = t.path().join("c");
        // The old tree: two files of the build (one it no longer writes,
        // in a folder of its own), one it wrote and the user changed, and
        // the user's file and empty folder added after the build looked.
        let mut out = Output::default();
        out.add("a/ours", 0o644, b"ours".to_vec());
        out.add("gone/old", 0o644, b"old".to_vec());
        out.add("a/edited", 0o644, b"as built".to_vec());
        let m = Manifest::of("c", &out);
        for (p, body) in [
            ("a/ours", &b"ours"[..]),
            ("gone/old", b"old"),
            ("a/edited", b"edited by the user"),
            ("a/late", b"user's"),
        ] {
            fs::create_dir_all(tree.join(p).parent().unwrap()).unwrap();
            fs::write(tree.join(p), body).unwrap();
            fsop::chmod(&tree.join(p), 0o644).unwrap();
        }
        fs::create_dir(tree.join("late-dir")).unwrap();
        fs::write(tree.join(MANIFEST), m.to_text()).unwrap();
        // The live tree: a build of the same cluster, where a/edited is
        // the build's new version.
        fs::create_dir_all(live.join("a")).unwrap();
        fs::write(live.join("a/edited"), b"new build").unwrap();
        fs::write(
            live.join(MANIFEST),
            Manifest::of("c", &Output::default()).to_text(),
        )
        .unwrap();

        let kept = retire(&tree, &m, &live, &HashCache::default()).unwrap();
        // The user's changed copy has no place to go: kept, with its tree.
        assert_eq!(kept, vec!["a/edited".to_string()]);
        assert_eq!(
            fs::read(tree.join("a/edited")).unwrap(),
            b"edited by the user"
        );
        assert!(tree.join(MANIFEST).is_file());
        assert!(!tree.join("a/ours").exists() && !tree.join("gone").exists());
        // The late file and folder are back in the live tree; the build's
        // obsolete folder is not recreated there.
        assert_eq!(fs::read(live.join("a/late")).unwrap(), b"user's");
        assert!(live.join("late-dir").is_dir());
        assert!(!live.join("gone").exists());
        assert_eq!(fs::read(live.join("a/edited")).unwrap(), b"new build");

        // Once the user moved their file away, the next sweep removes the rest.
        fs::rename(tree.join("a/edited"), t.path().join("saved")).unwrap();
        sweep_one(t.path(), &tree, &live);
        assert!(!tree.exists());
    }

    fn sweep_one(_dir: &Path, tree: &Path, live: &Path) {
        let m = Manifest::read(tree).unwrap().unwrap();
        assert!(retire(tree, &m, live, &HashCache::default())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn sweep_removes_staging_trees_and_leaves_what_it_cannot_prove_is_ours() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        // A staging tree a killed build left (marked), an empty one (killed
        // before the marker), and one of unknown origin (an older version's).
        let staged = d.join(format!("{TMP_PREFIX}c.aaaa"));
        fs::create_dir_all(staged.join("overlay")).unwrap();
        fs::write(staged.join(STAGE_MARKER), b"").unwrap();
        fs::write(staged.join("overlay/n1.tar.gz"), b"secret").unwrap();
        let empty = d.join(format!("{TMP_PREFIX}c.bbbb"));
        fs::create_dir(&empty).unwrap();
        let unknown = d.join(format!("{TMP_PREFIX}x9Yz12"));
        fs::create_dir(&unknown).unwrap();
        fs::write(unknown.join("notes"), b"?").unwrap();
        let said = std::cell::RefCell::new(Vec::new());
        sweep(d, &HashCache::default(), &|m| {
            said.borrow_mut().push(m.to_string())
        })
        .unwrap();
        assert!(!staged.exists() && !empty.exists());
        assert_eq!(fs::read(unknown.join("notes")).unwrap(), b"?");
        let said = said.into_inner();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("x9Yz12") && said[0].contains("left"),
            "{said:?}"
        );
    }
}
