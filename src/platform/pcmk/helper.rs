//! The first-boot helper on the pacemaker platforms: the same static x86-64
//! binary as on el5-xen. A dynamically linked one would need a glibc at
//! least as new as the build machine's, which el9 (2.34) may not have.

use crate::elf;

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
            elf::PT_INTERP => return Err("it is dynamically linked (it asks for a program interpreter: a glibc at least as new as the one it was built against, which el9's 2.34 or Debian 12's 2.36 may not be)".into()),
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
        let why = check_helper(&me).unwrap_err();
        assert!(why.contains("dynamically linked"), "{why}");
        assert!(check_helper(b"#!/bin/sh\n").is_err());
    }
}
