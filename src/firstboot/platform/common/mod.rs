//! What every Linux platform's steps spell the same way: LVM2 commands and
//! reports, /proc/mounts and fstab, plain file commands, the raw signature
//! probe. A platform's own tools live in its folder.

pub mod join;
pub mod lvm;
pub mod mounts;
pub mod probe;

use crate::firstboot::host::Argv;

pub fn mkdir_p(dir: &str) -> Argv {
    Argv::new(["mkdir", "-p", dir])
}

pub fn mount(dir: &str) -> Argv {
    Argv::new(["mount", dir])
}

pub fn umount(dir: &str) -> Argv {
    Argv::new(["umount", dir])
}

pub fn rm_f(path: &str) -> Argv {
    Argv::new(["rm", "-f", path])
}
