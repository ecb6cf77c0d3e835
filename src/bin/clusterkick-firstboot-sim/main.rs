//! `clusterkick-firstboot-sim`: the helper's own command line and engine,
//! acting on the simulated pair of nodes in `$CLUSTERKICK_FIRSTBOOT_SIM`
//! instead of the machine it runs on. Test-only (cargo feature `sim`); never
//! shipped. See `clusterkick::firstboot::sim`.

use clusterkick::firstboot::{cli, sim};

fn main() {
    std::process::exit(cli::main(sim::open));
}
