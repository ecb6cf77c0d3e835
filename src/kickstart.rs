//! Per-node kickstart (CentOS 5 syntax) with its %post, in two variants: the
//! network install fetches the overlay over HTTP, the DVD install copies it
//! from the disc.

use crate::layout;
use crate::model::{Cluster, Node};
use crate::render::{context::node_context, RenderError, Renderer};

use minijinja::{context, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// PXE / network install: overlay and helper from `install.overlay_url`.
    Http,
    /// Install DVD: overlay and helper from the disc.
    Cdrom,
}

impl Media {
    fn id(self) -> &'static str {
        match self {
            Media::Http => "http",
            Media::Cdrom => "cdrom",
        }
    }
}

/// The checksums a kickstart pins.
#[derive(Debug, Clone)]
pub struct Pins<'a> {
    pub overlay_sha256: &'a str,
    pub helper_sha256: &'a str,
}

fn ctx(cluster: &Cluster, node: &Node, media: Media, pins: &Pins<'_>) -> Value {
    ctx_with(
        cluster,
        node,
        &node_context(cluster, node, None),
        media,
        pins,
    )
}

/// Where the %post finds what it fetches, relative to the build's root (or
/// the DVD's cluster folder), from [`crate::layout`].
fn paths(cluster: &Cluster, node: &Node, pins: &Pins<'_>) -> Value {
    context! {
        overlay => layout::overlay(node),
        helper => layout::blob(pins.helper_sha256),
        overlay_dir => layout::OVERLAY_DIR,
        blobs_dir => layout::BLOBS_DIR,
        dvd_dir => layout::dvd_dir(&cluster.name),
    }
}

fn ctx_with(
    cluster: &Cluster,
    node: &Node,
    node_ctx: &Value,
    media: Media,
    pins: &Pins<'_>,
) -> Value {
    context! {
        media => media.id(),
        paths => paths(cluster, node, pins),
        overlay_url => cluster.install.overlay_url,
        extras_url => cluster.install.extras_url,
        overlay_sha256 => pins.overlay_sha256,
        helper_sha256 => pins.helper_sha256,
        ..node_ctx.clone()
    }
}

/// The %post body run inside the installed system.
pub fn post_script(
    r: &Renderer,
    cluster: &Cluster,
    node: &Node,
    media: Media,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    r.render("kickstart/post.sh.j2", &ctx(cluster, node, media, pins))
}

/// The DVD variant's `%post --nochroot` body.
pub fn media_script(
    r: &Renderer,
    cluster: &Cluster,
    node: &Node,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    r.render(
        "kickstart/media.sh.j2",
        &ctx(cluster, node, Media::Cdrom, pins),
    )
}

pub fn kickstart(
    r: &Renderer,
    cluster: &Cluster,
    node: &Node,
    media: Media,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    kickstart_with(
        r,
        cluster,
        node,
        &node_context(cluster, node, None),
        media,
        pins,
    )
}

/// [`kickstart`] with the node's template context already made.
pub fn kickstart_with(
    r: &Renderer,
    cluster: &Cluster,
    node: &Node,
    node_ctx: &Value,
    media: Media,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    let base = ctx_with(cluster, node, node_ctx, media, pins);
    let post_body = r.render("kickstart/post.sh.j2", &base)?;
    let media_body = match media {
        Media::Cdrom => r.render("kickstart/media.sh.j2", &base)?,
        Media::Http => String::new(),
    };
    let c = context! {
        post_body => post_body.trim_end(),
        media_body => media_body.trim_end(),
        ..base
    };
    r.render("kickstart/node.ks.j2", &c)
}
