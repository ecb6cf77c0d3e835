//! Parsers for what the EL5 cluster tools print, one file per tool. What
//! every Linux platform prints the same way (LVM2 reports, /proc/mounts) is
//! in [`crate::firstboot::platform::common`].

pub mod chkconfig;
pub mod cman_tool;
pub mod drbdmeta;
pub mod gfs2_tool;
pub mod proc_drbd;
