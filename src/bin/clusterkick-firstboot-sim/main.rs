//! `clusterkick-firstboot-sim`: the helper's own command line and engine,
//! acting on the simulated pair of nodes in `$CLUSTERKICK_FIRSTBOOT_SIM`
//! instead of the machine it runs on. Test-only (cargo feature `sim`); never
//! shipped. See `clusterkick::firstboot::sim`.

use clusterkick::firstboot::{cli, sim};

/// The allocator of the helper that ships (see its main.rs), so that this
/// twin makes the same system calls under the old-kernel filter.
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() {
    std::process::exit(cli::main(sim::open));
}
