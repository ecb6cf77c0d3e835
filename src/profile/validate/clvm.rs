//! `[clvm]`: the clustered VG on the DRBD device and its volumes, some
//! carrying GFS2.

use crate::check::{int_in, is_name, is_plain_token, size, sp, S};
use crate::diag::Diagnostics;
use crate::model::{Clvm, Gfs2, Mib, Node, Volume};
use crate::profile::raw::RawClvm;
use std::collections::BTreeSet;

/// `cluster`: the cluster's name (GFS2 lock tables are cluster:fs);
/// `drbd_size`: what the volumes must fit in.
pub fn clvm(
    raw: &S<RawClvm>,
    cluster: &str,
    nodes: &[Node],
    drbd_size: Option<Mib>,
    d: &mut Diagnostics,
) -> Clvm {
    let cl = raw.get_ref();
    let cvg = cl.vg.get_ref().clone();
    if !is_name(&cvg) {
        d.error(
            sp(&cl.vg),
            "clvm.vg",
            format!("{cvg:?} is not a VG name: letters, digits, '-' and '_', a letter first"),
        );
    }
    if nodes.iter().any(|n| n.vg == cvg) {
        d.error(
            sp(&cl.vg),
            "clvm.vg",
            format!("{cvg:?} is also a node's local VG"),
        );
    }
    let mut volumes = Vec::new();
    let mut total = 0u64;
    let mut seen_vol = BTreeSet::new();
    let mut seen_mp = BTreeSet::new();
    for (j, v) in cl.volumes.get_ref().iter().enumerate() {
        let base = format!("clvm.volumes[{j}]");
        let v = v.get_ref();
        let vname = v.name.get_ref().clone();
        if !is_name(&vname) || vname.len() > 30 {
            d.error(sp(&v.name), &format!("{base}.name"), format!("{vname:?} is not an LV name usable as a GFS2 lock table name: 1-30 letters, digits, '-' or '_', a letter first"));
        }
        if !seen_vol.insert(vname.clone()) {
            d.error(
                sp(&v.name),
                &format!("{base}.name"),
                format!("volume {vname:?} is defined twice"),
            );
        }
        let vsize = size(d, &v.size, &format!("{base}.size"));
        total += vsize.map_or(0, |s| s.0);
        let gfs2 = v.gfs2.as_ref().map(|g| {
            let g = g.get_ref();
            let mp = g.mountpoint.get_ref().clone();
            if !mp.starts_with('/') || mp == "/" || !is_plain_token(&mp) {
                d.error(sp(&g.mountpoint), &format!("{base}.gfs2.mountpoint"), format!("{mp:?} is not an absolute mount point without blanks or special characters"));
            }
            if !seen_mp.insert(mp.clone()) {
                d.error(sp(&g.mountpoint), &format!("{base}.gfs2.mountpoint"), format!("mount point {mp} is used twice"));
            }
            let journals: u32 = int_in(d, &g.journals, &format!("{base}.gfs2.journals"), 1, 64);
            if (journals as usize) < nodes.len() {
                d.error(sp(&g.journals), &format!("{base}.gfs2.journals"), format!("GFS2 needs one journal per node that mounts it: at least {}", nodes.len()));
            }
            Gfs2 { mountpoint: mp, journals, lock_table: format!("{cluster}:{vname}") }
        });
        if let Some(s) = vsize {
            volumes.push(Volume {
                name: vname,
                size: s,
                gfs2,
            });
        }
    }
    if let Some(dr) = drbd_size {
        // DRBD keeps about 1/32768 of the device plus 1 MiB for internal
        // metadata, and the PV on top loses one 4 MiB extent per LV.
        let usable = dr.0 - dr.0 / 32768 - 1 - 4 * (volumes.len() as u64 + 1);
        if total > usable {
            d.error(sp(&cl.volumes), "clvm.volumes", format!("the volumes need {total} MiB but the DRBD device gives about {usable} MiB (disks.drbd_size minus metadata)"));
        }
    }
    Clvm { vg: cvg, volumes }
}
