//! The helper's command line, shared by `clusterkick-firstboot` and the
//! test-only `clusterkick-firstboot-sim`: the two differ only in the
//! [`OpenHost`] they pass to [`main`]. See docs/firstboot.md.

use crate::firstboot::config::DEFAULT_CONFIG_PATH;
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
    /// Walk this node through the steps (what the init script starts).
    Run,
    /// Print the commands this node would run, in order, and where it is.
    Plan,
    /// Print the state file.
    Status,
    /// Bring DRBD, clvmd and GFS2 back after a crash (seed 7.3).
    Recover(RecoverArgs),
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
