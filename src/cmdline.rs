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
    /// Make the cluster's random secrets that do not exist yet (first-boot
    /// key, DRBD shared secret, cluster authkey) in <profile>.secrets/.
    Secrets(SecretsConfig),
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
    /// Write a new profile for cluster NAME: sensible defaults, and a
    /// placeholder that `check` warns about for every value to fill in.
    Init(InitConfig),
    /// Edit one node of a profile in place (comments and layout kept).
    #[command(subcommand)]
    Node(NodeCmd),
}

#[derive(Debug, clap::Args)]
pub struct InitConfig {
    /// The cluster's name (cluster.name: 1-16 characters, a letter first,
    /// then letters, digits, '-' or '_').
    pub name: String,
    /// The profile to write, e.g. mycluster.toml (never overwritten; its
    /// folder must exist). Its secrets go in <stem>.secrets/ beside it.
    #[arg(long, value_name = "PROFILE")]
    pub out: PathBuf,
    /// The platform the cluster runs.
    #[arg(long, value_enum, default_value = "el5-xen")]
    pub platform: InitPlatform,
}

/// The platforms `init` writes a profile for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum InitPlatform {
    /// CentOS 5 Xen dom0s, cman + openais (the tutorial's cluster).
    #[value(name = "el5-xen")]
    El5Xen,
    /// RHEL 9 family KVM hosts, pacemaker + corosync 3.
    #[value(name = "el9-kvm")]
    El9Kvm,
    /// Debian 12 KVM hosts, pacemaker + corosync 3.
    #[value(name = "debian12-kvm")]
    Debian12Kvm,
}

impl InitPlatform {
    /// The id `cluster.platform` takes.
    pub fn id(self) -> &'static str {
        match self {
            InitPlatform::El5Xen => "el5-xen",
            InitPlatform::El9Kvm => "el9-kvm",
            InitPlatform::Debian12Kvm => "debian12-kvm",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// New hardware for a dead node: set its MACs and mark it
    /// `role = "replacement"` (its helper joins the survivor, which holds
    /// the data). Then build, and install that node only.
    Replace(NodeReplaceConfig),
    /// The replacement node is back in the cluster: drop its role.
    Rejoined(NodeRejoinedConfig),
}

#[derive(Debug, clap::Args)]
pub struct NodeReplaceConfig {
    /// The cluster profile (TOML), edited in place.
    pub profile: PathBuf,
    /// The node, by short name or FQDN.
    pub node: String,
    /// A new MAC address: IFACE=MAC, e.g. eth0=00:1B:21:72:96:E8; once per
    /// interface that changed.
    #[arg(long = "mac", value_name = "IFACE=MAC", required = true)]
    pub macs: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct NodeRejoinedConfig {
    /// The cluster profile (TOML), edited in place.
    pub profile: PathBuf,
    /// The node, by short name or FQDN.
    pub node: String,
}

#[derive(Debug, clap::Args)]
pub struct CheckConfig {
    /// The cluster profile (TOML).
    pub profile: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SecretsConfig {
    /// The cluster profile(s) (TOML), or folders of them (every *.toml in
    /// each). Nothing is made unless every profile is valid; existing
    /// secrets are never replaced.
    #[arg(required = true, num_args = 1..)]
    pub profiles: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BuildConfig {
    /// The cluster profile(s) (TOML), or folders of them (every *.toml in
    /// each: one two-node cluster a profile). Several profiles build in one
    /// run and share one copy of the helper (hard links).
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
