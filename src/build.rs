//! `clusterkick build`: render everything for a cluster in memory, then
//! write it to DIR/<cluster>/ in one step (temp dir + rename), so a failed
//! build never leaves a half-written folder.

use crate::archive::tar_gz;
use crate::helper_blob::HelperBlob;
use crate::kickstart::{kickstart_with, Media, Pins};
use crate::model::{Cluster, Secrets};
use crate::overlay::{cluster_files, node_files_with};
use crate::render::context::ClusterContext;
use crate::render::{RenderError, Renderer};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One output file: bytes and mode.
#[derive(Debug, Clone)]
pub struct OutFile {
    /// Shared, so that the helper's bytes are not copied per cluster.
    pub contents: Arc<[u8]>,
    pub mode: u32,
}

/// Everything a build writes under DIR/<cluster>/, keyed by relative path.
#[derive(Debug, Default)]
pub struct Output {
    pub files: BTreeMap<String, OutFile>,
    /// sha256 of each node's overlay, by node short name.
    pub overlay_sha256: BTreeMap<String, String>,
    pub helper_sha256: String,
}

impl Output {
    pub fn add(&mut self, path: impl Into<String>, mode: u32, contents: impl Into<Arc<[u8]>>) {
        self.files.insert(
            path.into(),
            OutFile {
                contents: contents.into(),
                mode,
            },
        );
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("packing the overlay of {node}: {source}")]
    Pack {
        node: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} exists and is not a directory")]
    NotADir(PathBuf),
    #[error(transparent)]
    Pxe(#[from] crate::pxe::PxeError),
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Renders every output for the cluster.
pub fn render_all(
    cluster: &Cluster,
    secrets: &Secrets,
    helper: &HelperBlob,
) -> Result<Output, BuildError> {
    let r = Renderer::shared();
    let mut out = Output {
        helper_sha256: helper.sha256.clone(),
        ..Output::default()
    };
    // The helper is the same for every node: written once, by content.
    out.add(
        format!("blobs/{}", helper.sha256),
        0o644,
        helper.bytes.clone(),
    );
    let cctx = ClusterContext::new(cluster);
    let ctxs: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| cctx.node(cluster, n))
        .collect();
    // cluster.conf, openais.conf and drbd.conf are the same on every node.
    let shared = match ctxs.first() {
        Some(ctx) => cluster_files(r, secrets, ctx)?,
        None => Vec::new(),
    };
    for (node, ctx) in cluster.nodes.iter().zip(&ctxs) {
        let files = node_files_with(r, cluster, secrets, node, ctx, &shared)?;
        let tgz = tar_gz(&files).map_err(|source| BuildError::Pack {
            node: node.name.clone(),
            source,
        })?;
        let sha = sha256_hex(&tgz);
        let pins = Pins {
            overlay_sha256: &sha,
            helper_sha256: &helper.sha256,
        };
        let ks = kickstart_with(r, cluster, ctx, Media::Http, &pins)?;
        out.add(format!("ks/{}.ks", node.name), 0o644, ks.into_bytes());
        // The overlay holds the fence passwords and the helper's key.
        out.add(format!("overlay/{}.tar.gz", node.name), 0o640, tgz);
        out.overlay_sha256.insert(node.name.clone(), sha);
    }
    out.add(
        "network-map.svg",
        0o644,
        crate::netmap::svg(cluster).into_bytes(),
    );
    out.add(
        "SUMMARY.md",
        0o644,
        crate::summary::markdown(cluster, &out).into_bytes(),
    );
    // PXE tree (tftpboot/) and the web-server snippet for the HTTP side.
    crate::pxe::add(cluster, &mut out)?;
    let sums = sha256sums(&out);
    out.add("SHA256SUMS", 0o644, sums.into_bytes());
    Ok(out)
}

/// `sha256sum -c` format: "<hex>  <relative path>", sorted by path.
pub fn sha256sums(out: &Output) -> String {
    out.files
        .iter()
        .filter(|(p, _)| p.as_str() != "SHA256SUMS")
        .map(|(p, f)| {
            // A blob is named by its sha256 already: no need to hash it again.
            let sha = match p.strip_prefix("blobs/") {
                Some(name) => name.to_string(),
                None => sha256_hex(&f.contents),
            };
            format!("{sha}  {p}\n")
        })
        .collect()
}

/// Writes `out` as DIR/<name>/: into a temp dir beside it, then renamed into
/// place. An existing DIR/<name> is replaced only once the new one is
/// complete.
/// Blobs already written in this run (relative path → where), so that
/// the next cluster links to them instead of writing them again.
pub type WrittenBlobs = BTreeMap<String, PathBuf>;

pub fn write_tree(
    dir: &Path,
    name: &str,
    out: &Output,
    blobs: &std::sync::Mutex<WrittenBlobs>,
) -> Result<PathBuf, BuildError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Write { path, source }
    };
    if dir.exists() && !dir.is_dir() {
        return Err(BuildError::NotADir(dir.to_path_buf()));
    }
    fs::create_dir_all(dir).map_err(werr(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".clusterkick-tmp-")
        .tempdir_in(dir)
        .map_err(werr(dir))?;
    let dest = dir.join(name);
    let mut new_blobs = Vec::new();
    let mut made_dirs = std::collections::BTreeSet::new();
    for (rel, f) in &out.files {
        let path = tmp.path().join(rel);
        if let Some(parent) = path.parent() {
            if made_dirs.insert(parent.to_path_buf()) {
                fs::create_dir_all(parent).map_err(werr(parent))?;
            }
        }
        if rel.starts_with("blobs/") {
            let first = blobs.lock().ok().and_then(|b| b.get(rel).cloned());
            if let Some(first) = first {
                if fs::hard_link(first, &path).is_ok() {
                    continue;
                }
            }
            new_blobs.push(rel.clone());
        }
        let mut file = fs::File::create(&path).map_err(werr(&path))?;
        file.set_permissions(fs::Permissions::from_mode(f.mode))
            .map_err(werr(&path))?;
        file.write_all(&f.contents).map_err(werr(&path))?;
    }
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).map_err(werr(tmp.path()))?;
    let staged = tmp.keep();
    if dest.exists() {
        keep_user_boot_files(&dest, &staged, out).map_err(werr(&dest))?;
        let old = dir.join(format!(".clusterkick-old-{name}"));
        let _ = fs::remove_dir_all(&old);
        fs::rename(&dest, &old).map_err(werr(&dest))?;
        fs::rename(&staged, &dest).map_err(werr(&dest))?;
        fs::remove_dir_all(&old).map_err(werr(&old))?;
    } else {
        fs::rename(&staged, &dest).map_err(werr(&dest))?;
    }
    if let Ok(mut b) = blobs.lock() {
        for rel in new_blobs {
            b.entry(rel.clone()).or_insert_with(|| dest.join(&rel));
        }
    }
    Ok(dest)
}

/// Files the user put under tftpboot/ (pxelinux.0, ldlinux.c32, the install
/// kernel and initrd) are not ours to delete: a rebuild keeps every one the
/// build does not write itself.
fn keep_user_boot_files(old: &Path, staged: &Path, out: &Output) -> std::io::Result<()> {
    let tftp = old.join("tftpboot");
    if !tftp.is_dir() {
        return Ok(());
    }
    for e in walkdir::WalkDir::new(&tftp).sort_by_file_name() {
        let e = e.map_err(std::io::Error::other)?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(old).map_err(std::io::Error::other)?;
        if out.files.contains_key(&rel.to_string_lossy().into_owned()) {
            continue;
        }
        let to = staged.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if fs::hard_link(e.path(), &to).is_err() {
            fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}
