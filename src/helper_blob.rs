//! The first-boot helper's binary: found, checked that it can run on the
//! platform's nodes, and shipped once per build under blobs/<sha256>.

use crate::platform::Platform;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("no first-boot helper binary for platform {platform}: looked in {looked}.\nBuild one with:\n  rustup target add {target}\n  cargo build --release --target {target} --bin clusterkick-firstboot\nor pass --helper PATH (or set CLUSTERKICK_FIRSTBOOT).")]
    NotFound {
        platform: &'static str,
        target: &'static str,
        looked: String,
    },
    #[error("reading first-boot helper {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} cannot run on {platform} nodes: {why}.\nBuild a static binary with:\n  rustup target add {target}\n  cargo build --release --target {target} --bin clusterkick-firstboot")]
    Unfit {
        path: PathBuf,
        platform: &'static str,
        target: &'static str,
        why: String,
    },
}

#[derive(Debug, Clone)]
pub struct HelperBlob {
    pub bytes: std::sync::Arc<[u8]>,
    pub sha256: String,
    pub source: PathBuf,
}

/// Where to look when no path is given: $CLUSTERKICK_FIRSTBOOT, then the
/// cargo layout beside this executable (target/<triple>/release/).
pub fn candidates(platform: &dyn Platform) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("CLUSTERKICK_FIRSTBOOT") {
        out.push(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let name = "clusterkick-firstboot";
            for up in [dir.parent(), dir.parent().and_then(Path::parent)]
                .into_iter()
                .flatten()
            {
                out.push(up.join(platform.helper_target()).join("release").join(name));
            }
            out.push(dir.join(format!("{name}-{}", platform.helper_target())));
        }
    }
    out
}

pub fn locate(platform: &dyn Platform, explicit: Option<&Path>) -> Result<HelperBlob, HelperError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let c = candidates(platform);
            c.iter()
                .find(|p| p.is_file())
                .cloned()
                .ok_or_else(|| HelperError::NotFound {
                    platform: platform.id(),
                    target: platform.helper_target(),
                    looked: c
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
        }
    };
    let bytes = std::fs::read(&path).map_err(|source| HelperError::Read {
        path: path.clone(),
        source,
    })?;
    platform
        .check_helper(&bytes)
        .map_err(|why| HelperError::Unfit {
            path: path.clone(),
            platform: platform.id(),
            target: platform.helper_target(),
            why,
        })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(HelperBlob {
        bytes: bytes.into(),
        sha256,
        source: path,
    })
}

/// A minimal static x86-64 ELF executable (header and one PT_LOAD). It
/// passes every platform's helper check; tests and the example use it where the real
/// helper's bytes would make outputs change with every helper rebuild.
pub fn minimal_static_elf(tag: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 120];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // 64-bit
    b[5] = 1; // little endian
    b[6] = 1; // version
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..32].copy_from_slice(&0x400078u64.to_le_bytes()); // entry
    b[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    b[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    b[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    b[56..58].copy_from_slice(&1u16.to_le_bytes()); // phnum
    b[64..68].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    b[68..72].copy_from_slice(&5u32.to_le_bytes()); // R+X
    b[80..88].copy_from_slice(&0x400000u64.to_le_bytes());
    b[88..96].copy_from_slice(&0x400000u64.to_le_bytes());
    b.extend_from_slice(tag);
    let len = b.len() as u64;
    b[96..104].copy_from_slice(&len.to_le_bytes());
    b[104..112].copy_from_slice(&len.to_le_bytes());
    b
}
