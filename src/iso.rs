//! `clusterkick iso`: a bootable install DVD made of a distribution's DVD
//! image plus, under /clusterkick/<cluster>/, each node's DVD kickstart, its
//! overlay and the first-boot helper, and one isolinux.cfg entry per node.
//!
//! The base image is copied as it is (the kernel copies it, nothing passes
//! through this process), then xorriso adds one session to the copy: the
//! base's boot records are replayed, so the new disc boots like the old one.
//! Everything is written to a temp file beside the output and renamed into
//! place at the end, so a failure leaves no half-written ISO.

mod copy;
mod isolinux;
mod volume;
mod xorriso;

pub use volume::NotIso;
pub use xorriso::XorrisoError;

use crate::helper_blob::HelperBlob;
use crate::installer::Media;
use crate::layout;
use crate::model::{Cluster, Secrets};
use crate::output::sha256_hex;
use crate::platform::Flavor;
use crate::pxe::install_label;
use crate::render::{context::header, RenderError};
use crate::session::RenderSession;
use minijinja::{context, Value};
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use xorriso::{Graft, Session, Xorriso};

/// Where the base's boot loader config is, as isolinux looks for it.
pub const ISOLINUX_CFG: &str = "/isolinux/isolinux.cfg";

/// The new ISO holds the fence passwords and the first-boot key.
const OUT_MODE: u32 = 0o600;

#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    #[error("the output folder {0} does not exist; create it first")]
    OutDirMissing(PathBuf),
    #[error("{0} is a folder; --out takes the path of the new .iso file")]
    OutIsDir(PathBuf),
    #[error("--out {out} is the base image {base}; write the new ISO to another path (the base is only read)")]
    OutIsBase { out: PathBuf, base: PathBuf },
    #[error("cannot read the base image {path}")]
    BaseUnreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the base image {0} is not a regular file")]
    BaseNotFile(PathBuf),
    #[error("the base image {path} is not a whole ISO 9660 image")]
    Truncated {
        path: PathBuf,
        #[source]
        why: NotIso,
    },
    #[error("the base image {path} is not an ISO 9660 image")]
    NotAnIso {
        path: PathBuf,
        #[source]
        why: NotIso,
    },
    #[error("the base image {0} has no El Torito boot record: it does not boot, and a copy of it would not either")]
    NotBootable(PathBuf),
    #[error("the base image {path} has no {ISOLINUX_CFG}, so it is not a DVD that boots with isolinux (like CentOS/RHEL 5's); xorriso said:\n{detail}")]
    NoIsolinuxCfg { path: PathBuf, detail: String },
    #[error("{ISOLINUX_CFG} of {0} is not UTF-8 text")]
    CfgNotText(PathBuf),
    #[error(transparent)]
    Xorriso(#[from] XorrisoError),
    #[error("rendering the DVD files")]
    Render(#[from] RenderError),
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> IsoError {
    let path = path.to_path_buf();
    move |source| IsoError::Io { what, path, source }
}

/// The folder a new file named `out` goes into ("." for a bare name).
fn out_dir(out: &Path) -> &Path {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuses, before any work, an output that cannot be written or that is
/// the base itself (by path, through symlinks, or as a hard link).
fn check_paths(base: &Path, out: &Path) -> Result<PathBuf, IsoError> {
    let unreadable = |source| IsoError::BaseUnreadable {
        path: base.to_path_buf(),
        source,
    };
    let base_meta = fs::metadata(base).map_err(unreadable)?;
    if !base_meta.is_file() {
        return Err(IsoError::BaseNotFile(base.to_path_buf()));
    }
    let dir = out_dir(out);
    if !dir.is_dir() {
        return Err(IsoError::OutDirMissing(dir.to_path_buf()));
    }
    if out.is_dir() {
        return Err(IsoError::OutIsDir(out.to_path_buf()));
    }
    let same = || IsoError::OutIsBase {
        out: out.to_path_buf(),
        base: base.to_path_buf(),
    };
    let base_real = fs::canonicalize(base).map_err(unreadable)?;
    let dir_real = fs::canonicalize(dir).map_err(io_err("resolving", dir))?;
    let name = out
        .file_name()
        .ok_or_else(|| IsoError::OutIsDir(out.to_path_buf()))?;
    if dir_real.join(name) == base_real {
        return Err(same());
    }
    if let Ok(m) = fs::metadata(out) {
        if (m.dev(), m.ino()) == (base_meta.dev(), base_meta.ino()) {
            return Err(same());
        }
    }
    Ok(dir_real)
}

/// One file of the DVD's /clusterkick/<cluster>/ folder.
struct DvdFile {
    rel: String,
    mode: u32,
    bytes: Vec<u8>,
}

/// Each node's DVD kickstart and overlay, the helper, and a SHA256SUMS of
/// them: the same overlay and helper bytes as `clusterkick build` writes
/// (the same pipeline makes them).
fn dvd_files(s: &RenderSession<'_>, helper: &HelperBlob) -> Result<Vec<DvdFile>, IsoError> {
    let mut files = vec![DvdFile {
        rel: layout::blob(&helper.sha256),
        mode: 0o644,
        bytes: helper.bytes.to_vec(),
    }];
    for p in crate::pipeline::pack_nodes(s)? {
        for (rel, text) in p.installer_files(s, Media::Cdrom, &helper.sha256)? {
            files.push(DvdFile {
                rel,
                mode: 0o644,
                bytes: text.into_bytes(),
            });
        }
        files.push(DvdFile {
            rel: layout::overlay(p.node),
            mode: 0o640,
            bytes: p.tgz,
        });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let sums: String = files
        .iter()
        .map(|f| format!("{}  {}\n", sha256_hex(&f.bytes), f.rel))
        .collect();
    files.push(DvdFile {
        rel: layout::SHA256SUMS.into(),
        mode: 0o644,
        bytes: sums.into_bytes(),
    });
    Ok(files)
}

/// The folder on the disc, e.g. /clusterkick/an-cluster.
pub fn dvd_dir(cluster: &Cluster) -> String {
    format!("/{}", layout::dvd_dir(&cluster.name))
}

/// The isolinux.cfg block for the cluster: one entry per node.
fn menu_block(s: &RenderSession<'_>, boot: &isolinux::BootFiles) -> Result<String, RenderError> {
    let cluster = s.cluster;
    let entries: Vec<Value> = cluster
        .nodes
        .iter()
        .map(|n| {
            context! {
                node => n.name,
                label => install_label(n),
                ks => format!("{}/{}", dvd_dir(cluster), s.installer_path(n)),
                mac => n.nic(cluster.pxe.boot_network).mac,
            }
        })
        .collect();
    s.render(
        "isolinux/entries.cfg.j2",
        &context! {
            header => header(cluster),
            cluster_name => cluster.name,
            domain => cluster.domain,
            begin => isolinux::begin_marker(&cluster.name),
            end => isolinux::end_marker(&cluster.name),
            disks => cluster.disks.devices.join(", "),
            kernel => boot.kernel,
            initrd => boot.initrd,
            entries => entries,
        },
    )
}

/// Writes the DVD's files and the new isolinux.cfg under `stage`, and says
/// where each goes in the image.
fn stage(
    s: &RenderSession<'_>,
    helper: &HelperBlob,
    base_cfg: &str,
    stage: &Path,
) -> Result<Vec<Graft>, IsoError> {
    let cluster = s.cluster;
    let tree = stage.join("tree");
    for f in dvd_files(s, helper)? {
        let path = tree.join(&f.rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
        }
        fs::write(&path, &f.bytes).map_err(io_err("writing", &path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(f.mode))
            .map_err(io_err("setting the mode of", &path))?;
    }
    let block = menu_block(s, &isolinux::boot_files(base_cfg))?;
    let cfg = stage.join("isolinux.cfg");
    fs::write(&cfg, isolinux::with_block(base_cfg, &cluster.name, &block))
        .map_err(io_err("writing", &cfg))?;
    Ok(vec![
        Graft {
            disk: tree,
            iso: dvd_dir(cluster),
        },
        Graft {
            disk: cfg,
            iso: ISOLINUX_CFG.into(),
        },
    ])
}

/// The base's isolinux.cfg, as text.
fn read_isolinux_cfg(x: &Xorriso, base: &Path, work: &Path) -> Result<String, IsoError> {
    let path = work.join("base-isolinux.cfg");
    x.extract(base, ISOLINUX_CFG, &path).map_err(|e| match e {
        XorrisoError::Failed { stderr, .. } => IsoError::NoIsolinuxCfg {
            path: base.to_path_buf(),
            detail: stderr,
        },
        other => other.into(),
    })?;
    let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
    String::from_utf8(bytes).map_err(|_| IsoError::CfgNotText(base.into()))
}

pub fn write_iso(
    cluster: &Cluster,
    flavor: &Flavor,
    secrets: &Secrets,
    helper: &HelperBlob,
    base: &Path,
    out: &Path,
) -> Result<(), IsoError> {
    let dir = check_paths(base, out)?;
    let vol = volume::probe(base).map_err(|why| match why {
        NotIso::Truncated { .. } => IsoError::Truncated {
            path: base.to_path_buf(),
            why,
        },
        why => IsoError::NotAnIso {
            path: base.to_path_buf(),
            why,
        },
    })?;
    if !vol.el_torito {
        return Err(IsoError::NotBootable(base.to_path_buf()));
    }
    let x = Xorriso::new();

    // Small files first, in a private folder beside the output.
    let work = tempfile::Builder::new()
        .prefix(".clusterkick-iso-")
        .tempdir_in(&dir)
        .map_err(io_err("creating a work folder in", &dir))?;
    let base_cfg = read_isolinux_cfg(&x, base, work.path())?;
    let grafts = stage(
        &RenderSession::new(cluster, flavor, secrets),
        helper,
        &base_cfg,
        work.path(),
    )?;

    // Then the big copy, and one xorriso session on it.
    let part = tempfile::Builder::new()
        .prefix(".clusterkick-iso-")
        .suffix(".iso.part")
        .tempfile_in(&dir)
        .map_err(io_err("creating a temp file in", &dir))?;
    copy::copy_image(base, &part, OUT_MODE)
        .map_err(io_err("copying the base image to", part.path()))?;
    x.add_session(
        part.path(),
        &Session {
            remove: vec![dvd_dir(cluster)],
            grafts,
            joliet: vol.joliet,
        },
    )?;
    part.persist(out).map_err(|e| IsoError::Io {
        what: "renaming the new image to",
        path: out.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
