//! `clusterkick build`: render everything for a cluster in memory, then
//! write it to DIR/<cluster>/ in one step (temp dir + rename), so a failed
//! build never leaves a half-written folder.

use crate::archive::tar_gz;
use crate::helper_blob::HelperBlob;
use crate::kickstart::{kickstart_with, Media, Pins};
use crate::layout;
use crate::model::{Cluster, Secrets};
pub use crate::output::{sha256_hex, sha256sums, OutFile, Output};
use crate::overlay::{cluster_files, node_files_with};
use crate::render::context::ClusterContext;
use crate::render::{RenderError, Renderer};
use std::path::PathBuf;

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
    out.add(layout::blob(&helper.sha256), 0o644, helper.bytes.clone());
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
        let ks = kickstart_with(r, cluster, node, ctx, Media::Http, &pins)?;
        out.add(layout::kickstart(node), 0o644, ks.into_bytes());
        // The overlay holds the fence passwords and the helper's key.
        out.add(layout::overlay(node), 0o640, tgz);
        out.overlay_sha256.insert(node.name.clone(), sha);
    }
    out.add(
        layout::NETWORK_MAP,
        0o644,
        crate::netmap::svg(cluster).into_bytes(),
    );
    out.add(
        layout::SUMMARY,
        0o644,
        crate::summary::markdown(cluster, &out).into_bytes(),
    );
    // PXE tree (tftpboot/) and the web-server snippet for the HTTP side.
    crate::pxe::add(cluster, &mut out)?;
    let sums = sha256sums(&out);
    out.add(layout::SHA256SUMS, 0o644, sums.into_bytes());
    Ok(out)
}
