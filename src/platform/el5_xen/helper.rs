//! The first-boot helper for el5-xen nodes: a static x86-64 binary, since
//! CentOS 5 has glibc 2.5 and kernel 2.6.18.

use crate::elf;

/// Only a static musl binary runs on glibc 2.5 and kernel 2.6.18.
pub const HELPER_TARGET: &str = "x86_64-unknown-linux-musl";

/// EL5 has glibc 2.5: a binary that needs a dynamic loader or shared
/// libraries will not start there. Accept only a 64-bit little-endian x86-64
/// executable with no PT_INTERP and no PT_DYNAMIC segment.
pub fn check_helper(b: &[u8]) -> Result<(), String> {
    let h = elf::header(b)?;
    if h.machine != elf::EM_X86_64 {
        return Err(format!(
            "it is built for ELF machine {}, not x86-64 (62)",
            h.machine
        ));
    }
    if h.e_type != elf::ET_EXEC && h.e_type != elf::ET_DYN {
        return Err("it is not an executable".into());
    }
    for p_type in h.program_header_types(b) {
        match p_type? {
            elf::PT_INTERP => return Err("it is dynamically linked (it asks for a program interpreter, i.e. a glibc newer than EL5's 2.5)".into()),
            // A static-pie (ET_DYN) has a PT_DYNAMIC of its own relocations.
            elf::PT_DYNAMIC if h.e_type == elf::ET_EXEC => {
                return Err("it needs shared libraries".into())
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helper_blob::minimal_static_elf;

    #[test]
    fn accepts_static_and_refuses_dynamic() {
        assert!(check_helper(&minimal_static_elf(b"x")).is_ok());
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // The test binary is a normal glibc-linked executable.
        let why = check_helper(&me).unwrap_err();
        assert!(why.contains("dynamically linked"), "{why}");
        assert!(check_helper(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn refuses_other_machines_and_truncated_headers() {
        let mut arm = minimal_static_elf(b"x");
        arm[18] = 183; // EM_AARCH64
        assert!(check_helper(&arm).unwrap_err().contains("machine 183"));
        let mut cut = minimal_static_elf(b"x");
        cut[56] = 200; // phnum far beyond the file
        assert!(check_helper(&cut).unwrap_err().contains("truncated"));
    }
}
