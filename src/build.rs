//! `clusterkick build`: render everything for a cluster in memory
//! ([`render_all`]); [`crate::outdir`] then writes it to DIR/<cluster>/ in
//! one step, so a failed build never leaves a half-written folder.

use crate::helper_blob::HelperBlob;
use crate::installer::Media;
use crate::layout;
use crate::model::{Cluster, Secrets};
pub use crate::output::{sha256_hex, sha256sums, OutFile, Output};
use crate::platform::Flavor;
use crate::render::RenderError;
use crate::session::RenderSession;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Pxe(#[from] crate::pxe::PxeError),
}

/// Renders every output for the cluster: each node's overlay and installer
/// file (one pipeline, [`crate::pipeline::pack_nodes`]), the helper once, the
/// network map, SUMMARY.md, the PXE tree and SHA256SUMS.
pub fn render_all(
    cluster: &Cluster,
    flavor: &Flavor,
    secrets: &Secrets,
    helper: &HelperBlob,
) -> Result<Output, BuildError> {
    let s = RenderSession::new(cluster, flavor, secrets);
    let mut out = Output {
        helper_sha256: helper.sha256.clone(),
        ..Output::default()
    };
    // The helper is the same for every node: written once, by content.
    out.add(layout::blob(&helper.sha256), 0o644, helper.bytes.clone());
    for p in crate::pipeline::pack_nodes(&s)? {
        for (path, text) in p.installer_files(&s, Media::Http, &helper.sha256)? {
            out.add(path, 0o644, text.into_bytes());
        }
        // The overlay holds the fence passwords and the helper's key.
        out.add(layout::overlay(p.node), 0o640, p.tgz);
        out.overlay_sha256.insert(p.node.name.clone(), p.sha256);
    }
    out.add(
        layout::NETWORK_MAP,
        0o644,
        crate::netmap::svg(cluster, s.platform).into_bytes(),
    );
    out.add(
        layout::SUMMARY,
        0o644,
        crate::summary::markdown(cluster, s.platform, &out).into_bytes(),
    );
    // PXE tree (tftpboot/) and the web-server snippet for the HTTP side.
    crate::pxe::add(&s, &mut out)?;
    let sums = sha256sums(&out);
    out.add(layout::SHA256SUMS, 0o644, sums.into_bytes());
    Ok(out)
}
