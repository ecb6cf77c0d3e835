//! The per-node pipeline, once: render a node's overlay files
//! ([`crate::overlay`]), pack them ([`crate::archive`]), hash the tarball,
//! and render installer files that pin that hash and the helper's. `build`,
//! `render` and `iso` all go through [`pack_nodes`].

use crate::archive::{tar_gz, OverlayFile};
use crate::installer::{self, Media, Pins};
use crate::layout;
use crate::model::Node;
use crate::output::sha256_hex;
use crate::overlay;
use crate::render::RenderError;
use crate::session::RenderSession;
use minijinja::{context, Value};

/// Every node's overlay, rendered, packed and hashed, in profile order.
/// The files that are the same on every node are rendered once.
pub fn pack_nodes<'a>(s: &RenderSession<'a>) -> Result<Vec<PackedNode<'a>>, RenderError> {
    let ctxs: Vec<Value> = s.cluster.nodes.iter().map(|n| s.node_context(n)).collect();
    let shared = match (s.cluster.nodes.first(), ctxs.first()) {
        (Some(node), Some(ctx)) => overlay::cluster_files(s, node, ctx)?,
        _ => Vec::new(),
    };
    s.cluster
        .nodes
        .iter()
        .zip(ctxs)
        .map(|(node, ctx)| {
            let files = overlay::node_files(s, node, &ctx, &shared)?;
            let tgz = tar_gz(&files).map_err(|source| RenderError::Pack {
                node: node.name.clone(),
                source,
            })?;
            let sha256 = sha256_hex(&tgz);
            Ok(PackedNode {
                node,
                ctx,
                files,
                tgz,
                sha256,
            })
        })
        .collect()
}

/// One node's overlay, packed, with what its installer file needs.
pub struct PackedNode<'a> {
    pub node: &'a Node,
    ctx: Value,
    /// The overlay's files, sorted by path.
    pub files: Vec<OverlayFile>,
    /// The overlay tarball and its sha256.
    pub tgz: Vec<u8>,
    pub sha256: String,
}

impl PackedNode<'_> {
    fn installer_context(&self, s: &RenderSession<'_>, media: Media, helper_sha256: &str) -> Value {
        let pins = Pins {
            overlay_sha256: &self.sha256,
            helper_sha256,
        };
        installer::context(s.cluster, self.node, &self.ctx, media, &pins)
    }

    /// The node's installer files for `media`, each with its path in the
    /// build: its installer file (el5-xen: its kickstart), pinning this
    /// overlay and the helper, first; then, on a platform that keeps it
    /// apart ([`crate::platform::Platform::post_script_file`]), its
    /// post-install script, which the installer file pins too.
    pub fn installer_files(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<Vec<(String, String)>, RenderError> {
        let mut ctx = self.installer_context(s, media, helper_sha256);
        let mut post = None;
        if s.platform.post_script_file() {
            let script = s.platform.post_script(s.renderer(), &ctx)?;
            ctx = context! { post_sha256 => sha256_hex(script.as_bytes()), ..ctx };
            post = Some((layout::post_script(self.node), script));
        }
        let main = s.platform.installer_file(s.renderer(), &ctx, media)?;
        Ok(std::iter::once((s.installer_path(self.node), main))
            .chain(post)
            .collect())
    }

    /// The node's installer file alone (el5-xen: its kickstart).
    pub fn installer_file(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let mut files = self.installer_files(s, media, helper_sha256)?;
        Ok(files.swap_remove(0).1)
    }

    /// The post-install script alone (el5-xen: the kickstart's %post).
    pub fn post_script(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let ctx = self.installer_context(s, media, helper_sha256);
        s.platform.post_script(s.renderer(), &ctx)
    }
}
