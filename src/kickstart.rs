//! Per-node kickstart (CentOS 5 syntax) with its %post, in two variants: the
//! network install fetches the overlay over HTTP, the DVD install copies it
//! from the disc.

use crate::layout;
use crate::model::Node;
use crate::render::{session::RenderSession, RenderError};

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

/// Where the %post finds what it fetches, relative to the build's root (or
/// the DVD's cluster folder), from [`crate::layout`].
fn paths(s: &RenderSession<'_>, node: &Node, pins: &Pins<'_>) -> Value {
    context! {
        overlay => layout::overlay(node),
        helper => layout::blob(pins.helper_sha256),
        overlay_dir => layout::OVERLAY_DIR,
        blobs_dir => layout::BLOBS_DIR,
        dvd_dir => layout::dvd_dir(&s.cluster.name),
    }
}

fn ctx(
    s: &RenderSession<'_>,
    node: &Node,
    node_ctx: &Value,
    media: Media,
    pins: &Pins<'_>,
) -> Value {
    let cluster = s.cluster;
    context! {
        media => media.id(),
        paths => paths(s, node, pins),
        overlay_url => cluster.install.overlay_url,
        extras_url => cluster.install.extras_url,
        overlay_sha256 => pins.overlay_sha256,
        helper_sha256 => pins.helper_sha256,
        ..node_ctx.clone()
    }
}

/// The %post body run inside the installed system.
pub fn post_script(
    s: &RenderSession<'_>,
    node: &Node,
    node_ctx: &Value,
    media: Media,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    s.render("kickstart/post.sh.j2", &ctx(s, node, node_ctx, media, pins))
}

/// The whole kickstart; for the DVD, with its `%post --nochroot` copy step.
pub fn kickstart(
    s: &RenderSession<'_>,
    node: &Node,
    node_ctx: &Value,
    media: Media,
    pins: &Pins<'_>,
) -> Result<String, RenderError> {
    let base = ctx(s, node, node_ctx, media, pins);
    let post_body = s.render("kickstart/post.sh.j2", &base)?;
    let media_body = match media {
        Media::Cdrom => s.render("kickstart/media.sh.j2", &base)?,
        Media::Http => String::new(),
    };
    let c = context! {
        post_body => post_body.trim_end(),
        media_body => media_body.trim_end(),
        ..base
    };
    s.render("kickstart/node.ks.j2", &c)
}
