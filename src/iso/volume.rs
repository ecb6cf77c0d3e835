//! A look at an image's ISO 9660 volume descriptors (from sector 16 on) to
//! tell an ISO from anything else before copying gigabytes, and to learn
//! whether it carries a Joliet tree that the new session must keep.
//! Reads a few sectors, never the image.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const SECTOR: u64 = 2048;
/// Volume descriptors start at sector 16; a real set has a handful.
const FIRST_VD: u64 = 16;
const MAX_VDS: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Volume {
    pub joliet: bool,
    pub el_torito: bool,
}

/// Why a file is not an ISO 9660 image (or not a whole one).
#[derive(Debug, thiserror::Error)]
pub enum NotIso {
    #[error("it is shorter than an ISO 9660 image's first volume descriptor ({0} bytes): a truncated image, or no image at all")]
    TooShort(u64),
    #[error("it is truncated: its primary volume descriptor says the image is {need} bytes, the file has {have}; an interrupted download or copy? Get the whole image (and check its sha256)")]
    Truncated { need: u64, have: u64 },
    #[error("it has no ISO 9660 volume descriptor at sector 16 (no \"CD001\")")]
    NoDescriptor,
    #[error("its volume descriptors have no primary one")]
    NoPrimary,
    #[error("reading it")]
    Io(#[from] io::Error),
}

pub fn probe(path: &Path) -> Result<Volume, NotIso> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len < (FIRST_VD + 1) * SECTOR {
        return Err(NotIso::TooShort(len));
    }
    f.seek(SeekFrom::Start(FIRST_VD * SECTOR))?;
    let mut vol = Volume::default();
    let mut primary = false;
    let mut sector = [0u8; SECTOR as usize];
    for i in 0..MAX_VDS {
        if (FIRST_VD + i + 1) * SECTOR > len {
            break;
        }
        f.read_exact(&mut sector)?;
        if &sector[1..6] != b"CD001" {
            if i == 0 {
                return Err(NotIso::NoDescriptor);
            }
            break;
        }
        match sector[0] {
            0 if sector[7..30].starts_with(b"EL TORITO SPECIFICATION") => vol.el_torito = true,
            1 => {
                primary = true;
                // Volume space size (blocks) and logical block size, both
                // stored both-endian (ECMA-119 8.4.8, 8.4.12): the LE half.
                let blocks = u32::from_le_bytes([sector[80], sector[81], sector[82], sector[83]]);
                let block = u16::from_le_bytes([sector[128], sector[129]]);
                let need = u64::from(blocks) * u64::from(block);
                if need > len {
                    return Err(NotIso::Truncated { need, have: len });
                }
            }
            // A supplementary descriptor whose escape sequence names UCS-2.
            2 if matches!(&sector[88..91], b"%/@" | b"%/C" | b"%/E") => vol.joliet = true,
            255 => break,
            _ => {}
        }
    }
    if primary {
        Ok(vol)
    } else {
        Err(NotIso::NoPrimary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn image(descriptors: &[&[u8]]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&vec![0u8; (FIRST_VD * SECTOR) as usize])
            .unwrap();
        for d in descriptors {
            let mut s = vec![0u8; SECTOR as usize];
            s[..d.len()].copy_from_slice(d);
            f.write_all(&s).unwrap();
        }
        f
    }

    #[test]
    fn tells_isos_from_other_files() {
        let zeros = image(&[b""]);
        assert!(matches!(probe(zeros.path()), Err(NotIso::NoDescriptor)));
        let short = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(probe(short.path()), Err(NotIso::TooShort(0))));
        let only_term = image(&[b"\xffCD001\x01"]);
        assert!(matches!(probe(only_term.path()), Err(NotIso::NoPrimary)));
        let plain = image(&[b"\x01CD001\x01", b"\xffCD001\x01"]);
        assert_eq!(probe(plain.path()).unwrap(), Volume::default());
    }

    #[test]
    fn a_volume_longer_than_the_file_is_truncated() {
        // A primary descriptor that claims 40 blocks of 2048 bytes.
        let mut pvd = vec![0u8; 136];
        pvd[..7].copy_from_slice(b"\x01CD001\x01");
        pvd[80..84].copy_from_slice(&40u32.to_le_bytes());
        pvd[84..88].copy_from_slice(&40u32.to_be_bytes());
        pvd[128..130].copy_from_slice(&2048u16.to_le_bytes());
        pvd[130..132].copy_from_slice(&2048u16.to_be_bytes());
        let f = image(&[&pvd, b"\xffCD001\x01"]);
        // 18 sectors of the 40.
        match probe(f.path()) {
            Err(NotIso::Truncated { need, have }) => {
                assert_eq!((need, have), (40 * 2048, 18 * 2048));
            }
            other => panic!("{other:?}"),
        }
        // The same file at its full length is whole.
        f.as_file().set_len(40 * 2048).unwrap();
        assert!(probe(f.path()).is_ok());
    }

    #[test]
    fn sees_joliet_and_el_torito() {
        let mut svd = vec![0u8; 91];
        svd[..7].copy_from_slice(b"\x02CD001\x01");
        svd[88..91].copy_from_slice(b"%/E");
        let mut boot = vec![0u8; 40];
        boot[..7].copy_from_slice(b"\x00CD001\x01");
        boot[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
        let f = image(&[b"\x01CD001\x01", &boot, &svd, b"\xffCD001\x01"]);
        assert_eq!(
            probe(f.path()).unwrap(),
            Volume {
                joliet: true,
                el_torito: true
            }
        );
    }
}
