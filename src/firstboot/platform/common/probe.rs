//! The raw signature probe: what is at the start of a device that EL5's
//! blkid would not report (it knows neither LVM2 labels nor GFS2).

/// Bytes read from the start of a device for the signature probe.
pub const PROBE_LEN: usize = 68 * 1024;

/// A signature at the start of a device: LVM2 label (sectors 0-3), GFS/GFS2
/// superblock (64 KiB), ext2/3, swap.
pub fn detect_signature(head: &[u8]) -> Option<&'static str> {
    for sector in 0..4 {
        let at = sector * 512;
        if head.get(at..at + 8) == Some(b"LABELONE") {
            return Some("an LVM2 physical volume label");
        }
    }
    if head.get(65536..65540) == Some(&[0x01, 0x16, 0x19, 0x70]) {
        return Some("a GFS/GFS2 superblock");
    }
    if head.get(1080..1082) == Some(&[0x53, 0xEF]) {
        return Some("an ext2/ext3 superblock");
    }
    if head.get(4086..4096) == Some(b"SWAPSPACE2") {
        return Some("a swap signature");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let mut b = vec![0u8; PROBE_LEN];
        assert_eq!(detect_signature(&b), None);
        b[512..520].copy_from_slice(b"LABELONE");
        assert_eq!(detect_signature(&b), Some("an LVM2 physical volume label"));
        let mut b = vec![0u8; PROBE_LEN];
        b[65536..65540].copy_from_slice(&[0x01, 0x16, 0x19, 0x70]);
        assert_eq!(detect_signature(&b), Some("a GFS/GFS2 superblock"));
        assert_eq!(detect_signature(&[]), None);
    }
}
