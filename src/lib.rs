//! clusterkick: one cluster profile in, everything to install a two-node
//! cluster out.
//!
//! The flow is [`profile`] (parse, validate) → a neutral [`model::Cluster`]
//! plus its [`platform`]'s payload → a [`session::RenderSession`] → the
//! per-node [`pipeline`] (overlay, tar, hash, installer file) and the
//! cluster's other outputs ([`build`], [`iso`]) → writers. See
//! docs/architecture.md for the layers.

pub mod archive;
pub mod build;
pub mod chain;
pub mod check;
pub mod cmdline;
pub mod commands;
pub mod diag;
pub mod diff;
pub mod elf;
pub mod fence_na;
pub mod fence_wrap;
pub mod firstboot;
pub mod helper_blob;
pub mod helper_config;
pub mod init;
pub mod installer;
pub mod iso;
pub mod layout;
pub mod lockfile;
pub mod model;
pub mod netmap;
pub mod node_edit;
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
pub mod toml_out;
pub mod webgroup;
