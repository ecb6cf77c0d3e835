//! `[firstboot]` (optional): the first-boot helper's port, key file and
//! timeouts.

use crate::check::{int_in, sp, S};
use crate::diag::Diagnostics;
use crate::model::Firstboot;
use crate::platform::UsedPort;
use crate::profile::raw::RawFirstboot;
use std::ops::Range;

/// `[firstboot]` as checked. `firstboot.port` is 0 until [`helper_port`]
/// has chosen or checked it against every other port of the profile.
pub struct Checked {
    pub firstboot: Firstboot,
    pub key_file: Option<(String, Range<usize>)>,
    /// `firstboot.port`, when the profile sets it.
    pub port: Option<S<i64>>,
}

/// `post_join_delay`: cman's, from `[cluster]`; cman gets twice that (at
/// least a minute) to show both members. Without cman (pacemaker), the
/// cluster gets ten minutes to show both members and a DC.
pub fn firstboot(
    raw: Option<&S<RawFirstboot>>,
    post_join_delay: Option<u32>,
    d: &mut Diagnostics,
) -> Checked {
    let fb = raw.map(|f| f.get_ref());
    let secs = |d: &mut Diagnostics, v: Option<&S<i64>>, key: &str, default: u64| {
        v.map_or(default, |v| int_in::<u64>(d, v, key, 1, 86400))
    };
    let firstboot = Firstboot {
        port: 0,
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
    Checked {
        firstboot,
        key_file,
        port: fb.and_then(|f| f.port.clone()),
    }
}

/// The helper's port. Set in the profile, it must differ from every port
/// in `used`; else it is the first port above DRBD's (`drbd_port`) that no
/// key of the profile uses: 7790 for the seed's 7789. A default is never a
/// reason to refuse a profile.
pub fn helper_port(
    explicit: Option<&S<i64>>,
    drbd_port: Option<u16>,
    used: &[UsedPort],
    d: &mut Diagnostics,
) -> u16 {
    if let Some(p) = explicit {
        let port: u16 = int_in(d, p, "firstboot.port", 1, 65535);
        if port == 0 {
            return 0;
        }
        for u in used.iter().filter(|u| u.port == port) {
            let (line, column) = d.line_col(u.span.start);
            d.error(
                sp(p),
                "firstboot.port",
                format!(
                    "{port} is also `{}` (line {line}, column {column}), used by {}; the first-boot helper needs a port of its own: choose another, or leave firstboot.port out to have one chosen",
                    u.key, u.what
                ),
            );
        }
        return port;
    }
    default_port(drbd_port, used)
}

/// The first port above `drbd_port` (7789 when it is not known) that
/// nothing in `used` takes; below it when there is none above.
fn default_port(drbd_port: Option<u16>, used: &[UsedPort]) -> u16 {
    let start = drbd_port.unwrap_or(7789);
    let free = |p: &u16| !used.iter().any(|u| u.port == *p);
    (start.saturating_add(1)..=u16::MAX)
        .chain((1024..start).rev())
        .find(free)
        .unwrap_or(7790)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(ports: &[u16]) -> Vec<UsedPort> {
        ports
            .iter()
            .map(|&port| UsedPort {
                port,
                key: "k".into(),
                what: "w".into(),
                span: 0..0,
            })
            .collect()
    }

    #[test]
    fn the_default_port_is_the_first_free_one_above_drbds() {
        // The seed: DRBD on 7789, the helper on 7790.
        assert_eq!(default_port(Some(7789), &used(&[7789, 5405, 5404])), 7790);
        // LINBIT's second resource port: the helper moves up.
        assert_eq!(default_port(Some(7790), &used(&[7790])), 7791);
        // ... past anything else the profile uses.
        assert_eq!(
            default_port(Some(7790), &used(&[7790, 7791, 7792, 7793])),
            7794
        );
        // No room above: the first free port below.
        assert_eq!(default_port(Some(65535), &used(&[65535, 65534])), 65533);
    }
}
