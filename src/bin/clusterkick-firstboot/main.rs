//! `clusterkick-firstboot`: the first-boot helper that ships to the nodes,
//! and the Node Assassin fence agent. All logic lives in
//! `clusterkick::firstboot` and `clusterkick::fence_na`; see
//! docs/firstboot.md and docs/fence_na.md.

use clusterkick::firstboot::{cli, real};

fn main() {
    // Named fence_na (/sbin/fence_na links here) or `fence-na`: the agent.
    if let Some(args) = clusterkick::fence_na::invocation(std::env::args_os()) {
        std::process::exit(clusterkick::fence_na::main(args));
    }
    std::process::exit(cli::main(real::open));
}
