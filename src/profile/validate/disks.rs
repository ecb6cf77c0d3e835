//! `[disks]`: the disks the installer erases, and the sizes it lays out.

use crate::check::{is_name, size, sp, S};
use crate::diag::Diagnostics;
use crate::model::{Disks, Mib};
use crate::profile::raw::RawDisks;
use std::collections::BTreeSet;

/// `[disks]` as checked: each size is `None` when it did not parse.
pub struct Checked {
    pub devices: Vec<String>,
    pub size: Option<Mib>,
    pub boot: Option<Mib>,
    pub swap: Option<Mib>,
    pub root: Option<Mib>,
    pub drbd: Option<Mib>,
    /// Local VG name prefix; the node id (two digits) is appended.
    pub vg_prefix: String,
}

impl Checked {
    pub fn into_model(self) -> Option<Disks> {
        Some(Disks {
            devices: self.devices,
            size: self.size,
            boot: self.boot?,
            swap: self.swap?,
            root: self.root?,
            drbd: self.drbd?,
        })
    }
}

pub fn disks(raw: &S<RawDisks>, d: &mut Diagnostics) -> Checked {
    let k = raw.get_ref();
    let devices = devices(k, d);
    let disk_size = k.size.as_ref().and_then(|s| size(d, s, "disks.size"));
    let boot = size(d, &k.boot_size, "disks.boot_size");
    let swap = size(d, &k.swap_size, "disks.swap_size");
    let root = size(d, &k.root_size, "disks.root_size");
    let drbd_size = size(d, &k.drbd_size, "disks.drbd_size");
    if let (Some(total), Some(b), Some(s), Some(r), Some(dr)) =
        (disk_size, boot, swap, root, drbd_size)
    {
        // The PV loses some space to LVM metadata and extent rounding (EL5
        // anaconda uses 32 MiB extents): keep one extent per LV plus 1% spare.
        let pv = total.0.saturating_sub(b.0 + 1);
        let need = s.0 + r.0 + dr.0 + 3 * 32 + 4;
        let usable = pv - pv / 100;
        if need > usable {
            d.error(
                sp(k.size.as_ref().unwrap_or(&k.drbd_size)),
                "disks.size",
                format!(
                    "the layout does not fit: /boot {} MiB + swap {} MiB + / {} MiB + DRBD {} MiB needs about {} MiB, the smallest disk gives {} MiB (usable after LVM overhead: {} MiB); shrink drbd_size or give the real disk size",
                    b.0, s.0, r.0, dr.0, need + b.0, total.0, usable + b.0
                ),
            );
        }
    }
    let vg_prefix = k.vg_prefix.as_ref().map_or_else(
        || "an-lvm".to_string(),
        |v| {
            if !is_name(v.get_ref()) {
                d.error(
                    sp(v),
                    "disks.vg_prefix",
                    "a VG name prefix takes letters, digits, '-' and '_', a letter first",
                );
            }
            v.get_ref().clone()
        },
    );
    Checked {
        devices,
        size: disk_size,
        boot,
        swap,
        root,
        drbd: drbd_size,
        vg_prefix,
    }
}

fn devices(k: &RawDisks, d: &mut Diagnostics) -> Vec<String> {
    let mut devices = Vec::new();
    let mut seen_dev = BTreeSet::new();
    for (n, dev) in k.devices.get_ref().iter().enumerate() {
        let key = format!("disks.devices[{n}]");
        let v = dev.get_ref();
        if v.is_empty()
            || v.len() > 32
            || !v.chars().all(|c| c.is_ascii_alphanumeric())
            || v.starts_with(|c: char| c.is_ascii_digit())
        {
            d.error(
                sp(dev),
                &key,
                format!("{v:?} is not a disk name as the kernel names it, e.g. \"sda\" (no /dev/)"),
            );
        } else if !seen_dev.insert(v.clone()) {
            d.error(sp(dev), &key, format!("disk {v:?} is listed twice"));
        }
        devices.push(v.clone());
    }
    if devices.is_empty() {
        d.error(
            sp(&k.devices),
            "disks.devices",
            "list at least one disk, e.g. [\"sda\", \"sdb\"]",
        );
    }
    devices
}
