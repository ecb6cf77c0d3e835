//! LVM2, as every platform's lvm2 spells it: the commands the steps run and
//! the reports they read back (`--noheadings`, two-space indent, sizes in
//! MiB without a suffix).

use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::host::Argv;

/// LVs of one VG, sizes in MiB without suffix.
pub fn lvs(vg: &str) -> Argv {
    Argv::new([
        "lvs",
        "--noheadings",
        "-o",
        "lv_name,vg_name,lv_attr,lv_size",
        "--units",
        "m",
        "--nosuffix",
        vg,
    ])
}

pub fn pvs() -> Argv {
    Argv::new(["pvs", "--noheadings", "-o", "pv_name,vg_name"])
}

pub fn vgs() -> Argv {
    Argv::new(["vgs", "--noheadings", "-o", "vg_name,vg_attr"])
}

/// `lvcreate -L <size> -n <name> <vg>`, as the seed's 6.1.2 and 7.1.5.
pub fn lvcreate(size: &str, name: &str, vg: &str) -> Argv {
    Argv::new(["lvcreate", "-L", size, "-n", name, vg])
}

pub fn pvcreate(dev: &str) -> Argv {
    Argv::new(["pvcreate", dev])
}

pub fn pvscan() -> Argv {
    Argv::new(["pvscan"])
}

pub fn vgscan() -> Argv {
    Argv::new(["vgscan"])
}

pub fn lvscan() -> Argv {
    Argv::new(["lvscan"])
}

pub fn lvchange_activate(lv_path: &str) -> Argv {
    Argv::new(["lvchange", "-a", "y", lv_path])
}

/// Deactivates an LV on this node only (clustered VG).
pub fn lvchange_deactivate_local(lv_path: &str) -> Argv {
    Argv::new(["lvchange", "-a", "ln", lv_path])
}

/// `/dev/<vg>/<lv>`.
pub fn lv_path(vg: &str, lv: &str) -> String {
    format!("/dev/{vg}/{lv}")
}

/// The DRBD backing LV, e.g. `/dev/an-lvm01/lv02`.
pub fn backing_path(cfg: &FirstbootConfig) -> String {
    lv_path(&cfg.drbd.backing_vg, &cfg.drbd.backing_lv)
}

/// A clustered LV, e.g. `/dev/drbd_vg0/iso_store`.
pub fn volume_path(cfg: &FirstbootConfig, vol: &VolumeConfig) -> String {
    lv_path(&cfg.clvm.vg, &vol.name)
}

/// A `pvs --noheadings -o pv_name,vg_name` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvRow {
    pub pv: String,
    pub vg: Option<String>,
}

/// A `vgs --noheadings -o vg_name,vg_attr` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VgRow {
    pub vg: String,
    pub attr: String,
}

impl VgRow {
    /// vg_attr[5] == 'c'.
    pub fn clustered(&self) -> bool {
        self.attr.chars().nth(5) == Some('c')
    }
}

/// A `lvs --noheadings -o lv_name,vg_name,lv_attr,lv_size --units m
/// --nosuffix` row.
#[derive(Debug, Clone, PartialEq)]
pub struct LvRow {
    pub lv: String,
    pub vg: String,
    pub attr: String,
    pub size_m: Option<f64>,
}

impl LvRow {
    /// lv_attr[4] == 'a'.
    pub fn active(&self) -> bool {
        self.attr.chars().nth(4) == Some('a')
    }
}

fn lvm_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
}

pub fn parse_pvs(text: &str) -> Vec<PvRow> {
    lvm_rows(text)
        .filter(|t| t[0].starts_with('/'))
        .map(|t| PvRow {
            pv: t[0].to_string(),
            vg: t.get(1).map(|s| s.to_string()),
        })
        .collect()
}

pub fn parse_vgs(text: &str) -> Vec<VgRow> {
    lvm_rows(text)
        .filter(|t| t.len() >= 2)
        .map(|t| VgRow {
            vg: t[0].to_string(),
            attr: t[1].to_string(),
        })
        .collect()
}

pub fn parse_lvs(text: &str) -> Vec<LvRow> {
    lvm_rows(text)
        .filter(|t| t.len() >= 3)
        .map(|t| LvRow {
            lv: t[0].to_string(),
            vg: t[1].to_string(),
            attr: t[2].to_string(),
            size_m: t.get(3).and_then(|s| s.parse().ok()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvm_reports_with_two_space_prefix() {
        let pvs = "  /dev/drbd0 vg_cluster a- \n  /dev/sda2  VolGroup00 a- \n";
        let p = parse_pvs(pvs);
        assert_eq!(
            p[0],
            PvRow {
                pv: "/dev/drbd0".into(),
                vg: Some("vg_cluster".into())
            }
        );
        assert_eq!(p[1].vg.as_deref(), Some("VolGroup00"));
        // A PV in no VG: the vg_name column is empty.
        let p = parse_pvs("  /dev/drbd0            \n");
        assert_eq!(p[0].vg, None);

        let vgs = parse_vgs("  VolGroup00 wz--n-\n  vg_cluster wz--nc\n");
        assert!(!vgs[0].clustered());
        assert!(vgs[1].clustered());

        let lvs = parse_lvs(
            "  LogVol00 VolGroup00 -wi-ao 7712.00\n  gfs01    vg_cluster -wi-a- 10240.00\n",
        );
        assert_eq!(lvs[1].lv, "gfs01");
        assert_eq!(lvs[1].size_m, Some(10240.0));
        assert!(lvs[1].active());
        let inactive = parse_lvs("  vm01 drbd_vg0 -wi--- 20480.00\n");
        assert!(!inactive[0].active());
    }
}
