//! `[firstboot]` (optional): the first-boot helper's port, key file and
//! timeouts.

use crate::check::{int_in, sp, S};
use crate::diag::Diagnostics;
use crate::model::Firstboot;
use crate::profile::raw::RawFirstboot;
use std::ops::Range;

/// `post_join_delay`: cman's, from `[cluster]`; cman gets twice that (at
/// least a minute) to show both members. Without cman (pacemaker), the
/// cluster gets ten minutes to show both members and a DC.
pub fn firstboot(
    raw: Option<&S<RawFirstboot>>,
    post_join_delay: Option<u32>,
    d: &mut Diagnostics,
) -> (Firstboot, Option<(String, Range<usize>)>) {
    let fb = raw.map(|f| f.get_ref());
    let secs = |d: &mut Diagnostics, v: Option<&S<i64>>, key: &str, default: u64| {
        v.map_or(default, |v| int_in::<u64>(d, v, key, 1, 86400))
    };
    let firstboot = Firstboot {
        port: fb
            .and_then(|f| f.port.as_ref())
            .map_or(7790, |p| int_in::<u16>(d, p, "firstboot.port", 1, 65535)),
        skip_initial_sync: fb
            .and_then(|f| f.skip_initial_sync.as_ref())
            .is_some_and(|b| *b.get_ref()),
        peer_timeout_secs: secs(
            d,
            fb.and_then(|f| f.peer_timeout.as_ref()),
            "firstboot.peer_timeout",
            3600,
        ),
        cman_timeout_secs: secs(
            d,
            fb.and_then(|f| f.cman_timeout.as_ref()),
            "firstboot.cman_timeout",
            post_join_delay.map_or(600, |p| u64::from(p.max(30)) * 2),
        ),
        drbd_connect_timeout_secs: secs(
            d,
            fb.and_then(|f| f.drbd_connect_timeout.as_ref()),
            "firstboot.drbd_connect_timeout",
            600,
        ),
        drbd_primary_timeout_secs: secs(
            d,
            fb.and_then(|f| f.drbd_primary_timeout.as_ref()),
            "firstboot.drbd_primary_timeout",
            600,
        ),
        barrier_timeout_secs: secs(
            d,
            fb.and_then(|f| f.barrier_timeout.as_ref()),
            "firstboot.barrier_timeout",
            1800,
        ),
    };
    let key_file = fb
        .and_then(|f| f.key_file.as_ref())
        .map(|k| (k.get_ref().clone(), sp(k)));
    (firstboot, key_file)
}
