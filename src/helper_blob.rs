//! The first-boot helper's binary: found, checked that it can run on the
//! platform's nodes, and shipped once per build under blobs/<sha256>.

use crate::model::Platform;
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
    #[error("reading first-boot helper {path}: {source}")]
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
pub fn candidates(platform: Platform) -> Vec<PathBuf> {
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

pub fn locate(platform: Platform, explicit: Option<&Path>) -> Result<HelperBlob, HelperError> {
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
    check_runs_on(platform, &bytes).map_err(|why| HelperError::Unfit {
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

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// EL5 has glibc 2.5: a binary that needs a dynamic loader or shared
/// libraries will not start there. Accept only a 64-bit little-endian x86-64
/// executable with no PT_INTERP and no PT_DYNAMIC segment.
pub fn check_runs_on(platform: Platform, b: &[u8]) -> Result<(), String> {
    match platform {
        Platform::El5Xen => {
            if b.len() < 64 || &b[..4] != b"\x7fELF" {
                return Err("it is not an ELF executable".into());
            }
            if b[4] != 2 || b[5] != 1 {
                return Err("it is not a 64-bit little-endian ELF file".into());
            }
            let bad = || "its ELF header is truncated".to_string();
            let e_type = u16_at(b, 16).ok_or_else(bad)?;
            let machine = u16_at(b, 18).ok_or_else(bad)?;
            if machine != 62 {
                return Err(format!(
                    "it is built for ELF machine {machine}, not x86-64 (62)"
                ));
            }
            if e_type != 2 && e_type != 3 {
                return Err("it is not an executable".into());
            }
            let phoff = u64_at(b, 32).ok_or_else(bad)? as usize;
            let phentsize = u16_at(b, 54).ok_or_else(bad)? as usize;
            let phnum = u16_at(b, 56).ok_or_else(bad)? as usize;
            for i in 0..phnum {
                let p_type = u32_at(b, phoff + i * phentsize).ok_or_else(bad)?;
                match p_type {
                    3 => return Err("it is dynamically linked (it asks for a program interpreter, i.e. a glibc newer than EL5's 2.5)".into()),
                    2 if e_type == 2 => return Err("it needs shared libraries".into()),
                    _ => {}
                }
            }
            Ok(())
        }
    }
}

/// A minimal static x86-64 ELF executable (header and one PT_LOAD). It
/// passes [`check_runs_on`]; tests and the example use it where the real
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_static_and_refuses_dynamic() {
        assert!(check_runs_on(Platform::El5Xen, &minimal_static_elf(b"x")).is_ok());
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // The test binary is a normal glibc-linked executable.
        let why = check_runs_on(Platform::El5Xen, &me).unwrap_err();
        assert!(why.contains("dynamically linked"), "{why}");
        assert!(check_runs_on(Platform::El5Xen, b"#!/bin/sh\n").is_err());
    }
}
