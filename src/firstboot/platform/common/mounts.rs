//! /proc/mounts and /etc/fstab, and the fstab line the helper adds.

/// A line of /proc/mounts or /etc/fstab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub device: String,
    pub dir: String,
    pub fstype: String,
    pub options: String,
}

/// Parses /proc/mounts or /etc/fstab (comments and blank lines skipped).
pub fn parse_mounts(text: &str) -> Vec<MountEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (t.len() >= 3).then(|| MountEntry {
                device: t[0].to_string(),
                dir: t[1].to_string(),
                fstype: t[2].to_string(),
                options: t.get(3).unwrap_or(&"defaults").to_string(),
            })
        })
        .collect()
}

/// The fstab line for a GFS2 volume (mounted by the `gfs2` init script at
/// boot; EL5's rc.sysinit skips gfs2 in `mount -a`).
pub fn fstab_line(dev: &str, mountpoint: &str) -> String {
    format!("{dev}\t{mountpoint}\tgfs2\tdefaults,noatime\t0 0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_and_fstab() {
        let m = parse_mounts("rootfs / rootfs rw 0 0\n/dev/mapper/drbd_vg0-iso_store /xen_shared gfs2 rw,hostdata=jid=0:id=65537:first=1 0 0\n");
        assert_eq!(m[1].dir, "/xen_shared");
        assert_eq!(m[1].fstype, "gfs2");
        let f = parse_mounts("# comment\n\nLABEL=/boot /boot ext3 defaults 1 2\n");
        assert_eq!(f.len(), 1);
    }
}
