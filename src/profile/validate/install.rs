//! `[install]`: where the install tree and the build's files are served,
//! and the installed system's basics.

use crate::check::{is_plain_token, sp, token, url_problem, url_value, S};
use crate::diag::Diagnostics;
use crate::model::Install;
use crate::profile::raw::RawInstall;

pub fn install(raw: &S<RawInstall>, d: &mut Diagnostics) -> Install {
    let i = raw.get_ref();
    let url = url_value(d, &i.url, "install.url");
    let overlay_url = url_value(d, &i.overlay_url, "install.overlay_url");
    // The nginx snippet names the URL's path as a location: the same check
    // the build makes.
    if url_problem(i.overlay_url.get_ref()).is_none() {
        if let Err(why) = crate::pxe::nginx_location(&overlay_url) {
            d.error(
                sp(&i.overlay_url),
                "install.overlay_url",
                format!("{overlay_url:?} {why}"),
            );
        }
    }
    let timezone = token(
        d,
        &i.timezone,
        "install.timezone",
        "a zone name such as \"America/Toronto\"",
    );
    let lang = token(
        d,
        &i.lang,
        "install.lang",
        "a locale such as \"en_US.UTF-8\"",
    );
    let keyboard = token(
        d,
        &i.keyboard,
        "install.keyboard",
        "a keymap such as \"us\"",
    );
    let rph = i.root_password_hash.get_ref();
    if !(rph.starts_with("$1$") || rph.starts_with("$5$") || rph.starts_with("$6$"))
        || !is_plain_token(&rph.replace('$', ""))
    {
        d.error(
            sp(&i.root_password_hash),
            "install.root_password_hash",
            "must be a crypt(3) hash (\"$1$…\", \"$5$…\" or \"$6$…\", e.g. from `openssl passwd -1`), never a plain password",
        );
    }
    Install {
        url,
        overlay_url,
        timezone,
        timezone_utc: i.timezone_utc.as_ref().is_none_or(|b| *b.get_ref()),
        lang,
        keyboard,
        root_password_hash: rph.clone(),
    }
}
