//! What every platform's installer files get: the install media, the paths
//! of what the post-install step fetches ([`crate::layout`]), and the
//! checksums it must verify. Each platform renders its own file from this
//! (el5-xen: a kickstart, see [`crate::platform::Platform::installer_file`]).

use crate::layout;
use crate::model::{Cluster, Node};
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

/// The checksums an installer file pins.
#[derive(Debug, Clone)]
pub struct Pins<'a> {
    pub overlay_sha256: &'a str,
    pub helper_sha256: &'a str,
}

/// Where the post-install step finds what it fetches, relative to the
/// build's root (or the DVD's cluster folder).
fn paths(cluster: &Cluster, node: &Node, pins: &Pins<'_>) -> Value {
    context! {
        overlay => layout::overlay(node),
        post => layout::post_script(node),
        helper => layout::blob(pins.helper_sha256),
        overlay_dir => layout::OVERLAY_DIR,
        blobs_dir => layout::BLOBS_DIR,
        dvd_dir => layout::dvd_dir(&cluster.name),
    }
}

/// A node's template context plus media, paths and pinned hashes.
pub fn context(
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
        overlay_sha256 => pins.overlay_sha256,
        helper_sha256 => pins.helper_sha256,
        ..node_ctx.clone()
    }
}
