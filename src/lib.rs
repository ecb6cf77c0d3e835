//! clusterkick: one cluster profile in, everything to install a two-node
//! cluster out.
//!
//! The flow is profile (parse + validate) → [`model`] → renderers
//! (kickstart, configs, overlay tar, media) → writers.

pub mod archive;
pub mod build;
pub mod chain;
pub mod check;
pub mod cmdline;
pub mod commands;
pub mod diag;
pub mod elf;
pub mod fence_na;
pub mod firstboot;
pub mod helper_blob;
pub mod helper_config;
pub mod installer;
pub mod iso;
pub mod layout;
pub mod model;
pub mod netmap;
pub mod outdir;
pub mod output;
pub mod overlay;
pub mod pipeline;
pub mod platform;
pub mod profile;
pub mod pxe;
pub mod render;
pub mod report;
pub mod session;
pub mod summary;
