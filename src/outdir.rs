//! `build --out DIR`: the output folder, DIR/<cluster>/ for each cluster,
//! written so that a build
//!
//! - never removes or changes a file it did not write: DIR/<cluster>/ holds
//!   a manifest (`.clusterkick-manifest`: sha256, mode and path of every
//!   file the build wrote); a folder without one, or a plain file, is
//!   refused; the user's own entries in an earlier output are carried into
//!   the new tree as they are (hard links: the same inodes; symlinks linked
//!   themselves); a file the build wrote and the user changed stops the
//!   build, with nothing changed, naming the file;
//! - runs alone: builds into one DIR take turns on DIR/.clusterkick.lock;
//! - is all or nothing: each new tree is written beside the old one and
//!   swapped in with one renameat2(RENAME_EXCHANGE), so at every instant
//!   DIR/<cluster> is the complete old tree or the complete new one; a
//!   failure before the swaps removes every new tree, and a failure during
//!   them swaps back the ones already done;
//! - cleans up after a killed build: the next one, holding the lock,
//!   removes what it left (see [`retire`]);
//! - writes the first-boot helper once per run (the first cluster that
//!   needs it, under a lock); every cluster gets a hard link to that file.
//!
//! On a file system without RENAME_EXCHANGE (NFS, some FUSE) a first build
//! works (a plain rename) and a rebuild is refused, with nothing changed.

mod fsop;
mod inspect;
mod lock;
mod manifest;
mod retire;
mod stage;

pub use fsop::KILL_AT_STEP;
pub use inspect::OldTree;
pub use lock::LOCK_FILE;
pub use manifest::MANIFEST;
pub use stage::TMP_PREFIX;

use crate::build::{render_all, BuildError, Output};
use crate::chain::with_causes;
use crate::helper_blob::HelperBlob;
use crate::model::{Cluster, Secrets};
use crate::platform::Flavor;
use inspect::Existing;
use lock::DirLock;
use manifest::{HashCache, Manifest};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A file of an earlier output that the build will not overwrite or remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub rel: String,
    pub why: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OutdirError {
    #[error("--out {0} exists and is not a folder")]
    DirNotAFolder(PathBuf),
    #[error("{path} is {what}, not a folder that clusterkick wrote; it was left as it is. Move it away, or build with another --out")]
    NotAFolder { path: PathBuf, what: &'static str },
    #[error("{0} is a mount point: clusterkick puts a new tree in place by swapping two folders, and a mount cannot be swapped; nothing was changed. Build with --out on the mounted file system instead (DIR/<cluster> is then a folder in it)")]
    MountPoint(PathBuf),
    #[error("{path} is not a clusterkick output ({why}); clusterkick replaces only folders it wrote itself, and left this one as it is. Move it away, or build with another --out")]
    NotOurs { path: PathBuf, why: String },
    #[error("{}: the build would overwrite or remove what you changed or added, so it changed nothing:\n{}\nMove each of these elsewhere (or undo the change), then build again", .path.display(), list(.path, .conflicts))]
    Conflicts {
        path: PathBuf,
        conflicts: Vec<Conflict>,
    },
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}: the name is not UTF-8, so clusterkick cannot keep track of it; rename it")]
    NotUtf8(PathBuf),
    #[error("the file system of {dir} cannot swap two folders in one step (renameat2 RENAME_EXCHANGE: {why}), and clusterkick never leaves a moment without a complete {dest}; nothing was changed. Build into a folder on a local file system (ext4, xfs, btrfs, tmpfs) and copy the result, or move {dest} away yourself and build again")]
    NoExchange {
        dir: PathBuf,
        dest: PathBuf,
        /// Part of the sentence above, not a cause printed after it.
        why: io::Error,
    },
    #[error("{0} changed while the build ran (another program replaced it); nothing was changed: build again")]
    Raced(PathBuf),
    #[error("{cluster}")]
    Render {
        cluster: String,
        #[source]
        source: BuildError,
    },
    #[error("{}", .0.iter().map(|e| with_causes(e)).collect::<Vec<_>>().join("\n"))]
    Several(Vec<OutdirError>),
    #[error("a build thread panicked; nothing was changed")]
    Panicked,
}

fn list(path: &Path, c: &[Conflict]) -> String {
    c.iter()
        .map(|c| format!("  {}: {}", path.join(&c.rel).display(), c.why))
        .collect::<Vec<_>>()
        .join("\n")
}

fn several(mut errs: Vec<OutdirError>) -> OutdirError {
    if errs.len() == 1 {
        errs.remove(0)
    } else {
        OutdirError::Several(errs)
    }
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutdirError {
    let path = path.to_path_buf();
    move |source| OutdirError::Io { what, path, source }
}

/// One cluster to build.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub cluster: &'a Cluster,
    pub flavor: &'a Flavor,
    pub secrets: &'a Secrets,
    pub helper: &'a HelperBlob,
}

/// A cluster's tree, in place.
#[derive(Debug)]
pub struct Installed {
    pub cluster: String,
    pub path: PathBuf,
    pub files: usize,
    pub nodes: usize,
}

/// Builds every job into DIR/<cluster>/. The files the nodes fetch over
/// HTTP (and their folders) get group `web_gid` when given
/// ([`crate::webgroup`]). `say` gets what the user should know while it
/// runs (waiting for another build, what it kept).
pub fn build(
    dir: &Path,
    jobs: &[Job<'_>],
    web_gid: Option<u32>,
    say: &dyn Fn(&str),
) -> Result<Vec<Installed>, OutdirError> {
    let made = make_out_dir(dir)?;
    let result = DirLock::acquire(dir, say)
        .map_err(io_err("locking", &dir.join(LOCK_FILE)))
        .and_then(|lock| {
            let r = run(dir, jobs, web_gid, say);
            drop(lock);
            r
        });
    if result.is_err() {
        // DIR as it was: the folders this run made go too (they are empty).
        for d in made.iter().rev() {
            let _ = fsop::rmdir(d);
        }
    }
    result
}

/// For `diff`: DIR/<name> as a build of `out` would find it, refused
/// exactly as the build refuses it before writing (not a folder, not a
/// clusterkick output, a file the build wrote and the user changed, a
/// user's entry where `out` puts a file). Read only: no folder made, no
/// lock taken, no leftover of a killed build removed. None: no DIR/<name>.
pub fn look(dir: &Path, name: &str, out: &Output) -> Result<Option<OldTree>, OutdirError> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(OutdirError::DirNotAFolder(dir.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("looking at", dir)(e)),
    }
    match inspect::inspect(dir, name, &HashCache::default())? {
        Existing::Fresh => Ok(None),
        Existing::Ours(o) => {
            let files: BTreeSet<&str> = out.files.keys().map(String::as_str).collect();
            let conflicts = o.collisions(&files, &Manifest::of(name, out).dirs());
            if conflicts.is_empty() {
                Ok(Some(o))
            } else {
                Err(OutdirError::Conflicts {
                    path: o.path,
                    conflicts,
                })
            }
        }
    }
}

/// Creates DIR (and its missing parents); returns what it created.
fn make_out_dir(dir: &Path) -> Result<Vec<PathBuf>, OutdirError> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(Vec::new()),
        Ok(_) => return Err(OutdirError::DirNotAFolder(dir.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("looking at", dir)(e)),
    }
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(p) = cur.filter(|p| !p.as_os_str().is_empty()) {
        match fs::symlink_metadata(p) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(p.to_path_buf()),
            Err(e) => return Err(io_err("looking at", p)(e)),
        }
        cur = p.parent();
    }
    missing.reverse();
    let mut made: Vec<PathBuf> = Vec::new();
    for p in missing {
        match fsop::mkdir(&p, 0o755) {
            Ok(()) => made.push(p),
            // Another build made it just now.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => {}
            Err(e) => {
                for d in made.iter().rev() {
                    let _ = fsop::rmdir(d);
                }
                return Err(io_err("creating", &p)(e));
            }
        }
    }
    Ok(made)
}

/// A new tree, complete, not yet switched in.
struct Staged {
    idx: usize,
    tmp: PathBuf,
    manifest: Manifest,
    files: usize,
}

fn run(
    dir: &Path,
    jobs: &[Job<'_>],
    web_gid: Option<u32>,
    say: &dyn Fn(&str),
) -> Result<Vec<Installed>, OutdirError> {
    let hashes = HashCache::default();
    retire::sweep(dir, &hashes, say)?;
    // What is there now; refuse before writing anything.
    let mut olds = Vec::with_capacity(jobs.len());
    let mut errs = Vec::new();
    for j in jobs {
        match inspect::inspect(dir, &j.cluster.name, &hashes) {
            Ok(x) => olds.push(x),
            Err(e) => errs.push(e),
        }
    }
    if !errs.is_empty() {
        return Err(several(errs));
    }
    let shared_tmp = stage::make_tmp(dir, "shared")?;
    let shared = stage::Shared::new(shared_tmp.clone(), web_gid);
    let result = stage_all(dir, jobs, &olds, &shared)
        .and_then(|staged| switch_all(dir, jobs, &olds, staged, &hashes, say));
    let cleaned = fsop::remove_tree(&shared_tmp).map_err(io_err("removing", &shared_tmp));
    let installed = result?;
    cleaned?;
    Ok(installed)
}

/// Renders and stages every cluster, on every core. On any failure the
/// trees staged so far are removed and nothing else has changed.
fn stage_all(
    dir: &Path,
    jobs: &[Job<'_>],
    olds: &[Existing],
    shared: &stage::Shared,
) -> Result<Vec<Staged>, OutdirError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Mutex<Vec<Staged>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let errs: Vec<OutdirError> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Vec<OutdirError> {
                    let mut errs = Vec::new();
                    while !failed.load(Ordering::SeqCst) {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let (Some(job), Some(old)) = (jobs.get(i), olds.get(i)) else {
                            break;
                        };
                        match stage_one(dir, job, old, shared) {
                            Ok((tmp, manifest, files)) => {
                                if let Ok(mut d) = done.lock() {
                                    d.push(Staged {
                                        idx: i,
                                        tmp,
                                        manifest,
                                        files,
                                    });
                                }
                            }
                            Err(e) => {
                                failed.store(true, Ordering::SeqCst);
                                errs.push(e);
                            }
                        }
                    }
                    errs
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![OutdirError::Panicked]))
            .collect()
    });
    let mut staged = done.into_inner().unwrap_or_else(|p| p.into_inner());
    staged.sort_by_key(|s| s.idx);
    if errs.is_empty() && staged.len() == jobs.len() {
        return Ok(staged);
    }
    let mut errs = errs;
    for st in staged {
        if let Err(e) = fsop::remove_tree(&st.tmp) {
            errs.push(io_err("removing", &st.tmp)(e));
        }
    }
    if errs.is_empty() {
        errs.push(OutdirError::Panicked);
    }
    Err(several(errs))
}

fn stage_one(
    dir: &Path,
    job: &Job<'_>,
    old: &Existing,
    shared: &stage::Shared,
) -> Result<(PathBuf, Manifest, usize), OutdirError> {
    let name = &job.cluster.name;
    let out = render_all(job.cluster, job.flavor, job.secrets, job.helper).map_err(|source| {
        OutdirError::Render {
            cluster: name.clone(),
            source,
        }
    })?;
    let old = match old {
        Existing::Ours(o) => Some(o),
        Existing::Fresh => None,
    };
    if let Some(o) = old {
        let files: BTreeSet<&str> = out.files.keys().map(String::as_str).collect();
        let dirs = Manifest::of(name, &out).dirs();
        let c = o.collisions(&files, &dirs);
        if !c.is_empty() {
            return Err(OutdirError::Conflicts {
                path: o.path.clone(),
                conflicts: c,
            });
        }
    }
    let tmp = stage::make_tmp(dir, name)?;
    match stage::fill(&tmp, name, &out, old, shared) {
        Ok(m) => Ok((tmp, m, out.files.len())),
        Err(e) => {
            // Still marked as a staging tree: it holds only our files and
            // second links to the user's.
            let _ = fsop::remove_tree(&tmp);
            Err(e)
        }
    }
}

/// What a switch did, to undo it.
enum Switched {
    Fresh,
    Exchanged,
}

/// Puts every staged tree in place, then retires the old trees.
fn switch_all(
    dir: &Path,
    jobs: &[Job<'_>],
    olds: &[Existing],
    staged: Vec<Staged>,
    hashes: &HashCache,
    say: &dyn Fn(&str),
) -> Result<Vec<Installed>, OutdirError> {
    let mut done: Vec<(&Staged, Switched)> = Vec::new();
    let mut failure = None;
    for st in &staged {
        let dest = dir.join(&jobs[st.idx].cluster.name);
        match switch(dir, &dest, &st.tmp, &olds[st.idx]) {
            Ok(how) => done.push((st, how)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(e) = failure {
        let mut errs = vec![e];
        // Back to the old trees, then away with the new ones.
        for (st, how) in done.iter().rev() {
            let dest = dir.join(&jobs[st.idx].cluster.name);
            let back = match how {
                Switched::Exchanged => fsop::exchange(&st.tmp, &dest).map_err(|e| match e {
                    fsop::ExchangeError::Unsupported(e) | fsop::ExchangeError::Other(e) => e,
                }),
                Switched::Fresh => fsop::rename_noreplace(&dest, &st.tmp),
            };
            if let Err(e) = back {
                errs.push(io_err("putting back the old", &dest)(e));
            }
        }
        for st in &staged {
            let dest = dir.join(&jobs[st.idx].cluster.name);
            if st.tmp.exists() {
                match retire::retire(&st.tmp, &st.manifest, &dest, hashes) {
                    Ok(kept) if !kept.is_empty() => say(&retire::kept_note(&st.tmp, &dest, &kept)),
                    Ok(_) => {}
                    Err(e) => errs.push(e),
                }
            }
        }
        return Err(several(errs));
    }
    // Every new tree is in place: the old ones go (never a byte of the
    // user's: what is theirs is in the new tree already, or moved there).
    let mut errs = Vec::new();
    for (st, how) in &done {
        if let (Switched::Exchanged, Existing::Ours(old)) = (how, &olds[st.idx]) {
            let dest = dir.join(&jobs[st.idx].cluster.name);
            match retire::retire(&st.tmp, &old.manifest, &dest, hashes) {
                Ok(kept) if !kept.is_empty() => say(&retire::kept_note(&st.tmp, &dest, &kept)),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
    }
    if !errs.is_empty() {
        return Err(several(errs));
    }
    Ok(staged
        .iter()
        .map(|st| {
            let c = jobs[st.idx].cluster;
            Installed {
                cluster: c.name.clone(),
                path: dir.join(&c.name),
                files: st.files,
                nodes: c.nodes.len(),
            }
        })
        .collect())
}

/// One tree into place, after checking that DIR/<cluster> is still what
/// the build looked at.
fn switch(dir: &Path, dest: &Path, tmp: &Path, old: &Existing) -> Result<Switched, OutdirError> {
    let now = fs::symlink_metadata(dest);
    match old {
        Existing::Fresh => {
            match now {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                _ => return Err(OutdirError::Raced(dest.to_path_buf())),
            }
            fsop::rename_noreplace(tmp, dest).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OutdirError::Raced(dest.to_path_buf())
                } else {
                    io_err("renaming the new tree to", dest)(e)
                }
            })?;
            Ok(Switched::Fresh)
        }
        Existing::Ours(o) => {
            match now {
                Ok(m) if m.is_dir() && (m.dev(), m.ino()) == o.dev_ino => {}
                _ => return Err(OutdirError::Raced(dest.to_path_buf())),
            }
            fsop::exchange(tmp, dest).map_err(|e| match e {
                fsop::ExchangeError::Unsupported(why) => OutdirError::NoExchange {
                    dir: dir.to_path_buf(),
                    dest: dest.to_path_buf(),
                    why,
                },
                fsop::ExchangeError::Other(e) => io_err("swapping in the new tree at", dest)(e),
            })?;
            Ok(Switched::Exchanged)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helper_blob::minimal_static_elf;
    use crate::profile::{load_str, Loaded, Mode};
    use std::collections::BTreeMap;

    fn fleet(n: usize) -> Vec<Loaded> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let text = fs::read_to_string(root.join("an-cluster.toml")).unwrap();
        (0..n)
            .map(|i| {
                let t = text.replacen("name = \"an-cluster\"", &format!("name = \"c{i}\""), 1);
                load_str(&root.join("an-cluster.toml"), &t, Mode::Check).unwrap()
            })
            .collect()
    }

    /// Path → (inode, bytes or symlink target; empty for a folder).
    fn tree(root: &Path) -> BTreeMap<String, (u64, Vec<u8>)> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                let m = e.path().symlink_metadata().unwrap();
                let body = if m.is_file() {
                    fs::read(e.path()).unwrap()
                } else if m.file_type().is_symlink() {
                    fs::read_link(e.path())
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    Vec::new()
                };
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                (rel, (m.ino(), body))
            })
            .collect()
    }

    #[test]
    fn a_failed_switch_puts_back_the_trees_already_switched() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let bytes = minimal_static_elf(b"rollback");
        let helper = HelperBlob {
            sha256: crate::build::sha256_hex(&bytes),
            bytes: bytes.into(),
            source: "test".into(),
        };
        let loaded = fleet(2);
        let jobs: Vec<Job> = loaded
            .iter()
            .map(|l| Job {
                cluster: &l.cluster,
                flavor: &l.flavor,
                secrets: &l.secrets,
                helper: &helper,
            })
            .collect();
        build(dir, &jobs, None, &|m| panic!("{m}")).unwrap();
        for c in ["c0", "c1"] {
            fs::write(dir.join(c).join("tftpboot/pxelinux.0"), b"mine").unwrap();
        }
        let before = tree(dir);

        // A rebuild whose second switch finds DIR/c1 replaced: the first
        // (already switched) is swapped back, both new trees go.
        let hashes = HashCache::default();
        let mut olds: Vec<Existing> = jobs
            .iter()
            .map(|j| inspect::inspect(dir, &j.cluster.name, &hashes).unwrap())
            .collect();
        match &mut olds[1] {
            Existing::Ours(o) => o.dev_ino.1 ^= 1,
            Existing::Fresh => panic!("c1 was built"),
        }
        let shared_tmp = stage::make_tmp(dir, "shared").unwrap();
        let shared = stage::Shared::new(shared_tmp.clone(), None);
        let staged = stage_all(dir, &jobs, &olds, &shared).unwrap();
        let err = switch_all(dir, &jobs, &olds, staged, &hashes, &|m| panic!("{m}")).unwrap_err();
        assert!(
            matches!(err, OutdirError::Raced(ref p) if p.ends_with("c1")),
            "{err}"
        );
        fsop::remove_tree(&shared_tmp).unwrap();
        // The very same old trees (same inodes), and nothing else.
        assert_eq!(tree(dir), before);
    }
}
