//! Command-line interface (clap derive). Doc comments are the help text.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "clusterkick",
    version,
    about = "Turn one two-node cluster profile into kickstarts, %post overlays and install media",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Validate a profile; print only diagnostics. Exit 0 when valid, 1 when not.
    Check(CheckConfig),
    /// Validate, then write DIR/<cluster>/ (kickstarts, overlays, PXE tree, …).
    Build(BuildConfig),
    /// Print one generated file for one node to stdout.
    Render(RenderConfig),
    /// Write a bootable install DVD: a base distribution ISO plus, per node,
    /// its kickstart, overlay and a boot menu entry.
    Iso(IsoConfig),
    /// Show what `build` with the same arguments would change in
    /// DIR/<cluster>/, as a unified diff (secrets masked), writing nothing.
    /// Exit 0 when nothing would change, 1 when something would, 2 on error.
    Diff(BuildConfig),
}

#[derive(Debug, clap::Args)]
pub struct CheckConfig {
    /// The cluster profile (TOML).
    pub profile: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct BuildConfig {
    /// The cluster profile(s) (TOML). Several profiles build in one run and
    /// share one copy of the helper (hard links).
    #[arg(required = true, num_args = 1..)]
    pub profiles: Vec<PathBuf>,
    /// Output folder; the build writes DIR/<cluster>/ and nothing else.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The group the web server that serves DIR/<cluster>/ to the nodes runs
    /// as: kickstarts, overlays and the helper are written 0640 with it, in
    /// folders 0750 with it. Default: www-data on a Debian-family host,
    /// nginx on an EL-family host (from /etc/os-release); Apache: apache on
    /// EL, www-data on Debian.
    #[arg(long, value_name = "NAME")]
    pub web_group: Option<String>,
    #[command(flatten)]
    pub helper: HelperArg,
}

#[derive(Debug, clap::Args)]
pub struct HelperArg {
    /// The first-boot helper binary for the profile's platform (default:
    /// $CLUSTERKICK_FIRSTBOOT, then target/<triple>/release/ beside this
    /// program).
    #[arg(long, value_name = "PATH")]
    pub helper: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RenderConfig {
    /// The cluster profile (TOML).
    pub profile: PathBuf,
    /// Node, by short name or FQDN.
    #[arg(long)]
    pub node: String,
    /// What to print: `ks`, `post` (the %post script), or an overlay path
    /// such as `etc/cluster/cluster.conf`.
    pub path: String,
    #[command(flatten)]
    pub helper: HelperArg,
}

#[derive(Debug, clap::Args)]
pub struct IsoConfig {
    /// The cluster profile (TOML).
    pub profile: PathBuf,
    /// The distribution's install DVD image to start from.
    #[arg(long, value_name = "ISO")]
    pub base: PathBuf,
    /// The new ISO to write (its folder must exist; never the base).
    #[arg(long, value_name = "ISO")]
    pub out: PathBuf,
    #[command(flatten)]
    pub helper: HelperArg,
}
