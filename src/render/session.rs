//! A render session: one cluster's renderer and template context, made once
//! and handed to everything that renders a file of that cluster (overlays,
//! kickstarts, PXE tree, DVD menu).
//!
//! The per-node pipeline lives here, once: render the node's overlay files,
//! pack them ([`crate::archive`]), hash the tarball, and render kickstarts
//! that pin that hash and the helper's. `build`, `render` and `iso` all go
//! through [`RenderSession::pack_nodes`].

use super::context::ClusterContext;
use super::{RenderError, Renderer};
use crate::archive::{tar_gz, OverlayFile};
use crate::kickstart::{self, Media, Pins};
use crate::model::{Cluster, Node, Secrets};
use crate::output::sha256_hex;
use crate::overlay;
use minijinja::Value;

pub struct RenderSession<'a> {
    pub cluster: &'a Cluster,
    pub secrets: &'a Secrets,
    renderer: &'static Renderer,
    base: ClusterContext,
}

impl<'a> RenderSession<'a> {
    /// Serializes the cluster's template context once.
    pub fn new(cluster: &'a Cluster, secrets: &'a Secrets) -> Self {
        Self {
            cluster,
            secrets,
            renderer: Renderer::shared(),
            base: ClusterContext::new(cluster),
        }
    }

    /// Renders a template with the given context.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        self.renderer.render(name, ctx)
    }

    /// An embedded file that is copied as it is (not a template).
    pub fn raw(&self, name: &str) -> Result<&'static [u8], RenderError> {
        self.renderer.raw(name)
    }

    /// The context for one node's templates (no secrets).
    pub fn node_context(&self, node: &Node) -> Value {
        self.base.node(self.cluster, node)
    }

    /// Every node's overlay, rendered, packed and hashed, in profile order.
    /// The files that are the same on every node are rendered once.
    pub fn pack_nodes(&self) -> Result<Vec<PackedNode<'a>>, RenderError> {
        let ctxs: Vec<Value> = self
            .cluster
            .nodes
            .iter()
            .map(|n| self.node_context(n))
            .collect();
        let shared = match ctxs.first() {
            Some(ctx) => overlay::cluster_files(self, ctx)?,
            None => Vec::new(),
        };
        self.cluster
            .nodes
            .iter()
            .zip(ctxs)
            .map(|(node, ctx)| {
                let files = overlay::node_files(self, node, &ctx, &shared)?;
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
}

/// One node's overlay, packed, with what its kickstart needs.
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
    fn pins<'p>(&'p self, helper_sha256: &'p str) -> Pins<'p> {
        Pins {
            overlay_sha256: &self.sha256,
            helper_sha256,
        }
    }

    /// The node's kickstart for `media`, pinning this overlay and the helper.
    pub fn kickstart(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let pins = self.pins(helper_sha256);
        kickstart::kickstart(s, self.node, &self.ctx, media, &pins)
    }

    /// The kickstart's %post body alone.
    pub fn post_script(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let pins = self.pins(helper_sha256);
        kickstart::post_script(s, self.node, &self.ctx, media, &pins)
    }
}
