//! The helper's command line, shared by `clusterkick-firstboot` and the
//! test-only `clusterkick-firstboot-sim`: the two differ only in the
//! [`OpenHost`] they pass to [`main`]. See docs/firstboot.md.

use crate::firstboot::config::DEFAULT_CONFIG_PATH;
use crate::firstboot::fence_peer;
use crate::firstboot::recover::{self, Trust};
use crate::firstboot::runner::{self, Options};
use crate::firstboot::OpenHost;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Finishes DRBD, clvmd and GFS2 on both nodes of a two-node cluster at
/// first boot.
#[derive(Parser)]
#[command(
    name = "clusterkick-firstboot",
    version,
    disable_help_subcommand = true
)]
struct Cli {
    /// This node's helper config.
    #[arg(long, global = true, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    /// Change nothing: run only read-only checks and log what would run.
    #[arg(long, global = true)]
    dry_run: bool,
    /// Do not copy log lines to stderr (they still go to the log file).
    #[arg(long, global = true)]
    no_stderr: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Walk this node through the steps; once set up, the boot sequence:
    /// meet the peer, then start the cluster stack (what the init script
    /// starts at every boot).
    Run,
    /// Start this node's cluster stack without its peer: the peer is
    /// fenced (the operator's decision, when the peer is down for good).
    StartAlone(StartAloneArgs),
    /// DRBD's fence-peer handler: fence the peer with fence_node; exit 7
    /// when it is fenced, else 1.
    DrbdFencePeer(FencePeerArgs),
    /// Print the commands this node would run, in order, and where it is.
    Plan,
    /// Print the state file.
    Status,
    /// Bring DRBD, clvmd and GFS2 back after a crash (seed 7.3).
    Recover(RecoverArgs),
}

#[derive(Args)]
struct StartAloneArgs {
    /// Confirms that the peer will be fenced (powered off by its fence
    /// device) and this node will run alone.
    #[arg(long)]
    yes_fence_the_peer: bool,
}

#[derive(Args)]
struct FencePeerArgs {
    /// Give up (exit 1: DRBD keeps I/O frozen) after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = fence_peer::DEFAULT_LIMIT_SECS, value_parser = fence_peer::parse_limit)]
    timeout: u64,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct RecoverArgs {
    /// This node holds the good data (the survivor).
    #[arg(long)]
    trust_this_node: bool,
    /// The peer holds the good data: this node's changes are discarded.
    #[arg(long)]
    peer_is_trusted: bool,
}

/// Parses the command line (exiting with 2 on a bad one), runs the command
/// against the host `open` gives, and returns the exit code.
pub fn main(open: OpenHost) -> i32 {
    let cli = Cli::parse();
    let opts = Options {
        config: cli.config,
        dry_run: cli.dry_run,
        stderr: !cli.no_stderr,
        open,
    };
    match cli.cmd {
        Cmd::Run => runner::run(&opts),
        Cmd::StartAlone(a) => runner::start_alone(&opts, a.yes_fence_the_peer),
        Cmd::DrbdFencePeer(a) => fence_peer::main(&opts, a.timeout),
        Cmd::Plan => runner::plan(&opts),
        Cmd::Status => runner::status(&opts),
        Cmd::Recover(r) => recover::recover(
            &opts,
            if r.trust_this_node {
                Trust::ThisNode
            } else {
                Trust::Peer
            },
        ),
    }
}
