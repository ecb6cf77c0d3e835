//! A render session: one cluster's platform, renderer and template context,
//! made once and handed to everything that renders a file of that cluster
//! (overlays, installer files, PXE tree, DVD menu). The per-node pipeline
//! that uses it is [`crate::pipeline`].

use crate::layout;
use crate::model::{Cluster, Node, Secrets};
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
            renderer: Renderer::for_platform(platform.template_dirs()),
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

    /// Where a node's installer file goes in the build (and on the DVD).
    pub fn installer_path(&self, node: &Node) -> String {
        layout::installer_file(node, self.platform.installer_ext())
    }

    /// The context for one node's templates (no secrets).
    pub fn node_context(&self, node: &Node) -> Value {
        self.base.node(self.cluster, node)
    }

    /// The platform's renderer.
    pub fn renderer(&self) -> &'static Renderer {
        self.renderer
    }
}
