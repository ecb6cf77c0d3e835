//! `[pxe]` (optional): which NIC boots from the network, and the install
//! kernel and initrd.

use crate::check::{is_plain_token, sp, S};
use crate::diag::Diagnostics;
use crate::model::{NetRole, Pxe};
use crate::profile::raw::RawPxe;

/// `defaults`: the platform's kernel and initrd in its install tree.
pub fn pxe(raw: Option<&S<RawPxe>>, defaults: (&str, &str), d: &mut Diagnostics) -> Pxe {
    let px = raw.map(|p| p.get_ref());
    let boot_network = px
        .and_then(|p| p.boot_network.as_ref())
        .map_or(NetRole::BackChannel, |b| {
            NetRole::from_key(b.get_ref()).unwrap_or_else(|| {
                d.error(
                    sp(b),
                    "pxe.boot_network",
                    format!(
                        "unknown network {:?}; use internet, drbd or back_channel",
                        b.get_ref()
                    ),
                );
                NetRole::BackChannel
            })
        });
    let pxe_path = |d: &mut Diagnostics, v: Option<&S<String>>, key: &str, default: &str| {
        v.map_or(default.to_string(), |v| {
            let s = v.get_ref();
            if !is_plain_token(s) || s.starts_with('/') || s.split('/').any(|c| c == "..") {
                d.error(
                    sp(v),
                    key,
                    format!("{s:?} must be a path relative to install.url, without blanks or '..'"),
                );
            }
            s.clone()
        })
    };
    let pxe = Pxe {
        boot_network,
        kernel: pxe_path(
            d,
            px.and_then(|p| p.kernel.as_ref()),
            "pxe.kernel",
            defaults.0,
        ),
        initrd: pxe_path(
            d,
            px.and_then(|p| p.initrd.as_ref()),
            "pxe.initrd",
            defaults.1,
        ),
    };
    pxe
}
