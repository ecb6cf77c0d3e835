//! Per-node kickstart (RHEL 9 syntax) with its %post, in two variants: the
//! network install fetches the overlay over HTTP, the DVD install copies it
//! from the disc first (a `%post --nochroot`, the common media.sh.j2).

use crate::installer::Media;
use crate::render::{RenderError, Renderer};
use minijinja::{context, Value};

/// The %post body run inside the installed system.
pub fn post_script(r: &Renderer, ctx: &Value) -> Result<String, RenderError> {
    r.render("kickstart/post.sh.j2", ctx)
}

/// The whole kickstart.
pub fn kickstart(r: &Renderer, ctx: &Value, media: Media) -> Result<String, RenderError> {
    let post_body = post_script(r, ctx)?;
    let media_body = match media {
        Media::Cdrom => r.render("kickstart/media.sh.j2", ctx)?,
        Media::Http => String::new(),
    };
    let c = context! {
        post_body => post_body.trim_end(),
        media_body => media_body.trim_end(),
        ..ctx.clone()
    };
    r.render("kickstart/node.ks.j2", &c)
}
