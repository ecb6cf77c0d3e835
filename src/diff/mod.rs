//! `clusterkick diff PROFILE... --out DIR`: what a build would change in
//! DIR/<cluster>/, file by file, writing nothing at all.
//!
//! The new tree is what the build writes: [`crate::build::render_all`] of
//! the same prepared jobs (`commands::prepare`), in memory; DIR/<cluster>
//! is looked at as the build looks at it before writing
//! ([`crate::outdir::look`]: the same refusals). Then, in path order:
//! new, removed and changed files (bytes, mode, the web server's group);
//! an overlay (.tar.gz) by its members (path, type, mode, owner, contents);
//! text as a unified diff, other bytes as two sha256s; a file that is a
//! secret only as "secret changed". No secret's bytes are printed
//! ([`mask`]). The manifest is not shown, and nor are the user's own
//! entries (the build keeps them; a note counts them).

pub mod mask;
pub mod tarball;
pub mod unified;

use crate::build::{render_all, sha256_hex, BuildError, Output};
use crate::layout;
use crate::outdir::{Job, OldTree, OutdirError};
use mask::Masker;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Outdir(#[from] OutdirError),
    #[error("{cluster}")]
    Render {
        cluster: String,
        #[source]
        source: BuildError,
    },
    #[error("reading {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What `diff` found: the diff (for standard output), one summary line
/// per cluster and notes (for standard error), and whether a build would
/// change anything.
#[derive(Debug, Default)]
pub struct Report {
    pub text: String,
    pub notes: Vec<String>,
    pub changed: bool,
}

/// One difference, for one file or overlay member (`path` is
/// `<cluster>/<rel>` or `<cluster>/<rel>:<member>`).
#[derive(Debug)]
enum Change {
    New {
        path: String,
        mode: u32,
    },
    Removed {
        path: String,
    },
    Meta {
        path: String,
        what: &'static str,
        old: String,
        new: String,
    },
    Secret {
        path: String,
    },
    Binary {
        path: String,
        old: String,
        new: String,
    },
    Text {
        path: String,
        old: String,
        new: String,
    },
}

/// One cluster's differences, in path order.
struct Cluster {
    name: String,
    fresh: bool,
    changes: Vec<Change>,
    /// Files of the tree that differ (new, removed, changed).
    files: usize,
    user_entries: usize,
}

/// Compares what a build of `jobs` would write with what DIR holds.
/// `web_gid`: the group the build gives the files the nodes fetch.
pub fn diff(dir: &Path, jobs: &[Job<'_>], web_gid: Option<u32>) -> Result<Report, DiffError> {
    let mut masker = Masker::default();
    let mut clusters = Vec::new();
    for job in jobs {
        clusters.push(one(dir, job, web_gid, &mut masker)?);
    }
    let mut r = Report::default();
    for c in &clusters {
        for ch in &c.changes {
            show(&mut r.text, ch, &masker);
        }
        r.changed |= c.files > 0;
        if c.user_entries > 0 {
            r.notes.push(format!(
                "{}: {} entries of yours in {} (not in its manifest) are not shown: a build keeps them as they are",
                c.name,
                c.user_entries,
                dir.join(&c.name).display()
            ));
        }
        r.notes.push(summary(c));
    }
    Ok(r)
}

fn summary(c: &Cluster) -> String {
    let count = |f: fn(&Change) -> bool| c.changes.iter().filter(|x| f(x)).count();
    if c.fresh {
        return format!(
            "{}: not built yet: a build would write {} new files",
            c.name, c.files
        );
    }
    if c.files == 0 {
        return format!("{}: no change", c.name);
    }
    let new = count(|x| matches!(x, Change::New { path, .. } if !path.contains(':')));
    let removed = count(|x| matches!(x, Change::Removed { path } if !path.contains(':')));
    format!(
        "{}: a build would change {} files ({} new, {} removed, {} changed)",
        c.name,
        c.files,
        new,
        removed,
        c.files - new - removed
    )
}

fn render(job: &Job<'_>, secrets: &crate::model::Secrets) -> Result<Output, DiffError> {
    render_all(job.cluster, job.flavor, secrets, job.helper).map_err(|source| DiffError::Render {
        cluster: job.cluster.name.clone(),
        source,
    })
}

fn one(
    dir: &Path,
    job: &Job<'_>,
    web_gid: Option<u32>,
    masker: &mut Masker,
) -> Result<Cluster, DiffError> {
    let name = job.cluster.name.clone();
    let new = render(job, job.secrets)?;
    masker.add_values(mask::values(job.secrets));
    let secret_paths = learn(masker, &render(job, &mask::sentinels(job.secrets))?);
    let old = crate::outdir::look(dir, &name, &new)?;
    let mut c = Cluster {
        name: name.clone(),
        fresh: old.is_none(),
        changes: Vec::new(),
        files: 0,
        user_entries: 0,
    };
    let Some(old) = old else {
        for (rel, f) in &new.files {
            c.changes.push(Change::New {
                path: format!("{name}/{rel}"),
                mode: f.mode,
            });
        }
        c.files = new.files.len();
        return Ok(c);
    };
    c.user_entries = old.user.len();
    let rels: BTreeSet<&String> = new.files.keys().chain(old.manifest.files.keys()).collect();
    for rel in rels {
        let before = c.changes.len();
        let path = format!("{name}/{rel}");
        match (read_old(&old, rel)?, new.files.get(rel)) {
            (None, None) => {}
            (None, Some(f)) => c.changes.push(Change::New { path, mode: f.mode }),
            (Some(_), None) => c.changes.push(Change::Removed { path }),
            (Some((bytes, meta)), Some(f)) => {
                let mode = meta.mode() & 0o7777;
                if mode != f.mode {
                    c.changes.push(Change::Meta {
                        path: path.clone(),
                        what: "mode",
                        old: format!("{mode:04o}"),
                        new: format!("{:04o}", f.mode),
                    });
                }
                if let Some(gid) = web_gid.filter(|_| layout::is_served(rel)) {
                    if meta.gid() != gid {
                        c.changes.push(Change::Meta {
                            path: path.clone(),
                            what: "group",
                            old: meta.gid().to_string(),
                            new: gid.to_string(),
                        });
                    }
                }
                if bytes != *f.contents {
                    contents(
                        &mut c.changes,
                        masker,
                        &secret_paths,
                        &path,
                        &bytes,
                        &f.contents,
                    );
                }
            }
        }
        if c.changes.len() > before {
            c.files += 1;
        }
    }
    Ok(c)
}

/// The paths (`rel` or `rel:member`, in the cluster) that are secrets,
/// from a rendering with [`mask::sentinels`]; the slots go to `masker`.
fn learn(masker: &mut Masker, marked: &Output) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (rel, f) in &marked.files {
        match is_tarball(rel)
            .then(|| tarball::members(&f.contents))
            .flatten()
        {
            Some(members) => {
                for (m, member) in members {
                    if masker.learn(&member.contents) {
                        out.insert(format!("{rel}:{m}"));
                    }
                }
            }
            None => {
                if masker.learn(&f.contents) {
                    out.insert(rel.clone());
                }
            }
        }
    }
    out
}

fn is_tarball(rel: &str) -> bool {
    rel.ends_with(".tar.gz")
}

/// An old file the manifest lists (`look` has checked that it is the
/// build's, unchanged); None when it is gone (a build writes it anew).
fn read_old(old: &OldTree, rel: &str) -> Result<Option<(Vec<u8>, std::fs::Metadata)>, DiffError> {
    if !old.manifest.files.contains_key(rel) {
        return Ok(None);
    }
    let path = old.path.join(rel);
    let io = |source| DiffError::Io {
        path: path.clone(),
        source,
    };
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    Ok(Some((std::fs::read(&path).map_err(io)?, meta)))
}

/// How two different contents of one file differ. `path` is what is shown
/// (`<cluster>/<rel>`); the cluster's secret paths are without it.
fn contents(
    out: &mut Vec<Change>,
    masker: &mut Masker,
    secret_paths: &BTreeSet<String>,
    path: &str,
    old: &[u8],
    new: &[u8],
) {
    let rel = path.split_once('/').map_or(path, |(_, r)| r);
    if secret_paths.contains(rel) {
        // An old secret is masked wherever else it still shows.
        masker.add_values([old.trim_ascii_end().to_vec()]);
        out.push(Change::Secret {
            path: path.to_string(),
        });
        return;
    }
    if is_tarball(rel) {
        if let (Some(a), Some(b)) = (tarball::members(old), tarball::members(new)) {
            return members(out, masker, secret_paths, path, &a, &b);
        }
    }
    match (text(old), text(new)) {
        (Some(a), Some(b)) => {
            masker.learn_old(a.as_bytes());
            out.push(Change::Text {
                path: path.to_string(),
                old: a.to_string(),
                new: b.to_string(),
            });
        }
        _ => out.push(Change::Binary {
            path: path.to_string(),
            old: sha256_hex(old),
            new: sha256_hex(new),
        }),
    }
}

fn members(
    out: &mut Vec<Change>,
    masker: &mut Masker,
    secret_paths: &BTreeSet<String>,
    path: &str,
    old: &BTreeMap<String, tarball::Member>,
    new: &BTreeMap<String, tarball::Member>,
) {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for m in names {
        let p = format!("{path}:{m}");
        match (old.get(m), new.get(m)) {
            (None, None) => {}
            (None, Some(n)) => out.push(Change::New {
                path: p,
                mode: n.mode,
            }),
            (Some(_), None) => out.push(Change::Removed { path: p }),
            (Some(o), Some(n)) => {
                for (what, a, b) in [
                    ("type", o.kind.clone(), n.kind.clone()),
                    ("mode", format!("{:04o}", o.mode), format!("{:04o}", n.mode)),
                    ("owner", o.owner.clone(), n.owner.clone()),
                ] {
                    if a != b {
                        out.push(Change::Meta {
                            path: p.clone(),
                            what,
                            old: a,
                            new: b,
                        });
                    }
                }
                if o.contents != n.contents {
                    contents(out, masker, secret_paths, &p, &o.contents, &n.contents);
                }
            }
        }
    }
}

fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok().filter(|t| !t.contains('\0'))
}

/// One change as it is printed (every quoted line masked).
fn show(out: &mut String, c: &Change, masker: &Masker) {
    let _ = match c {
        Change::New { path, mode } => writeln!(out, "new file {path} ({mode:04o})"),
        Change::Removed { path } => writeln!(out, "removed {path}"),
        Change::Meta {
            path,
            what,
            old,
            new,
        } => writeln!(out, "{what} {path}: {old} -> {new}"),
        Change::Secret { path } => writeln!(out, "secret changed: {path}"),
        Change::Binary { path, old, new } => {
            writeln!(out, "binary files differ: {path} (sha256 {old} -> {new})")
        }
        Change::Text { path, old, new } => {
            let show = |l: &str| masker.line(l);
            let d = unified::unified(old, new, &format!("a/{path}"), &format!("b/{path}"), &show);
            out.push_str(&d);
            Ok(())
        }
    };
}
