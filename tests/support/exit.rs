//! The exit codes of `clusterkick-firstboot`, as docs/firstboot.md
//! documents them: the contract the tests pin, listed once here (not taken
//! from the code, so that a change in the code shows up as a failure).
//! tests/firstboot_plan.rs checks that this list, the table in the docs and
//! `clusterkick::firstboot::error::exit` agree.

pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const USAGE: i32 = 2;
pub const CONFIG: i32 = 3;
pub const LOCKED: i32 = 4;
/// `drbd-fence-peer` only: the peer was fenced.
pub const PEER_FENCED: i32 = 7;
pub const REFUSED: i32 = 10;
pub const TIMEOUT: i32 = 11;
pub const PEER_STOPPED: i32 = 12;
/// A replacement node refused to join its survivor.
pub const SURVIVOR_NOT_READY: i32 = 13;

/// Every documented code, in the table's order.
pub const ALL: [i32; 10] = [
    OK,
    FAILED,
    USAGE,
    CONFIG,
    LOCKED,
    PEER_FENCED,
    REFUSED,
    TIMEOUT,
    PEER_STOPPED,
    SURVIVOR_NOT_READY,
];

/// The simulator's crash (`clusterkick-firstboot-sim` only; not part of
/// the helper's contract).
pub const SIM_CRASH: i32 = 99;
