//! `clusterkick-firstboot`: the first-boot helper that ships to the nodes,
//! the Node Assassin fence agent (`fence_na`) and the delay wrapper for the
//! agents cman ships (`fence_clusterkick`). All logic lives in
//! `clusterkick::firstboot`, `clusterkick::fence_na` and
//! `clusterkick::fence_wrap`; see docs/firstboot.md and docs/fence_na.md.

use clusterkick::firstboot::{cli, real};

/// dlmalloc in place of musl's malloc: musl's gives freed memory back to
/// the kernel at once, so each command's output and each parse of
/// crm_mon's XML cost fresh mmap(2), munmap(2) and page faults; on the
/// test VMs a quarter of the helper's CPU went there
/// (docs/firstboot.md, "Where the helper's CPU went").
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() {
    // Named fence_na (/sbin/fence_na links here) or `fence-na`: the agent.
    if let Some(args) = clusterkick::fence_na::invocation(std::env::args_os()) {
        std::process::exit(clusterkick::fence_na::main(args));
    }
    // Named fence_clusterkick (/sbin/fence_clusterkick) or `fence-wrap`.
    if let Some(args) = clusterkick::fence_wrap::invocation(std::env::args_os()) {
        std::process::exit(clusterkick::fence_wrap::main(args));
    }
    std::process::exit(cli::main(real::open));
}
