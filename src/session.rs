//! A render session: one cluster's platform, renderer and template context,
//! made once and handed to everything that renders a file of that cluster
//! (overlays, installer files, PXE tree, DVD menu).
//!
//! The per-node pipeline lives here, once: render the node's overlay files
//! ([`crate::overlay`]), pack them ([`crate::archive`]), hash the tarball,
//! and render installer files that pin that hash and the helper's.
//! `build`, `render` and `iso` all go through [`RenderSession::pack_nodes`].

use crate::archive::{tar_gz, OverlayFile};
use crate::installer::{self, Media, Pins};
use crate::model::{Cluster, Node, Secrets};
use crate::output::sha256_hex;
use crate::overlay;
use crate::platform::{Flavor, Platform};
use crate::render::context::ClusterContext;
use crate::render::{RenderError, Renderer};
use minijinja::Value;

pub struct RenderSession<'a> {
    pub cluster: &'a Cluster,
    pub platform: &'a dyn Platform,
    pub secrets: &'a Secrets,
    renderer: &'static Renderer,
    base: ClusterContext,
}

impl<'a> RenderSession<'a> {
    /// Picks the platform's renderer and serializes the cluster's template
    /// context once.
    pub fn new(cluster: &'a Cluster, flavor: &'a Flavor, secrets: &'a Secrets) -> Self {
        let platform = flavor.platform();
        Self {
            cluster,
            platform,
            secrets,
            renderer: Renderer::for_platform(platform.id()),
            base: ClusterContext::new(cluster, platform.context(cluster)),
        }
    }

    /// Renders a template (the platform's, else the common one).
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
        let shared = match (self.cluster.nodes.first(), ctxs.first()) {
            (Some(node), Some(ctx)) => overlay::cluster_files(self, node, ctx)?,
            _ => Vec::new(),
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

    /// The node's installer file (el5-xen: its kickstart) for `media`,
    /// pinning this overlay and the helper.
    pub fn installer_file(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let ctx = self.installer_context(s, media, helper_sha256);
        s.platform.installer_file(s.renderer, &ctx, media)
    }

    /// The post-install script alone (el5-xen: the kickstart's %post).
    pub fn post_script(
        &self,
        s: &RenderSession<'_>,
        media: Media,
        helper_sha256: &str,
    ) -> Result<String, RenderError> {
        let ctx = self.installer_context(s, media, helper_sha256);
        s.platform.post_script(s.renderer, &ctx)
    }
}
