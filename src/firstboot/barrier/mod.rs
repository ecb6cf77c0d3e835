//! The back channel the two helpers meet on.
//!
//! Each helper listens on its `listen` address and, while it waits at a
//! barrier, connects to the peer's. One exchange is:
//!
//! ```text
//! server: CKFB1 CHALLENGE <32 hex>
//! client: CKFB1 REQ from=<me> to=<peer> at=<n> barrier=<name> nonce=<32 hex> challenge=<server's> info=<hex> halt=<hex|-> mac=<64 hex>
//! server: CKFB1 ACK from=<peer> to=<me> at=<n> barrier=<name> nonce=<32 hex> challenge=<client's nonce> info=<hex> halt=<hex|-> mac=<64 hex>
//!     or: CKFB1 REFUSED <reason>
//! ```
//!
//! `mac` is HMAC-SHA256 with the per-cluster key over the line before
//! ` mac=`. `at` is the index of the last barrier the sender has reached
//! (reaching a barrier implies all earlier ones). A message is refused
//! (and logged) when it carries no MAC (unauthenticated), a wrong MAC
//! (forged), a sender other than the peer, a challenge other than the one
//! this connection was given (stale, e.g. replayed from another
//! connection), or a nonce already seen (replayed). The challenge makes a
//! recorded message useless later without relying on the two clocks.
//!
//! A side passes barrier `k` once (a) the peer acknowledged a message of
//! its own with `at >= k` and (b) it acknowledged a message of the peer's
//! with `at >= k` (both directions are then proven delivered), or the peer
//! announced a later barrier (it is past `k` and needs nothing more).
//!
//! Two files, to be reviewed apart: [`wire`] is the protocol (lines,
//! MACs, what is refused and why), pure functions; [`link`] is the
//! sockets: accepting, answering and connecting without blocking, and
//! standing a connection flood (a bounded number of waiting connections,
//! file descriptors kept for the helper's own work, refusals logged in
//! aggregate).

pub mod link;
pub mod wire;

pub use link::Link;
pub use wire::{tag, Kind, Message, Refusal, PROTO};

use crate::firstboot::file;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BarrierError {
    #[error("reading key file {path}: {message}")]
    Key { path: String, message: String },
    #[error("listening on {addr}: {message}")]
    Listen { addr: String, message: String },
    #[error("generating a nonce: {0}")]
    Random(String),
}

/// The key file is a few dozen bytes; anything much larger is not one.
const KEY_FILE_MAX: u64 = 4096;

/// Reads the per-cluster key: hex (whitespace ignored), at least 16 bytes.
/// Only a regular file is read (never a FIFO or a device), and at most
/// [`KEY_FILE_MAX`] bytes of it.
pub fn load_key(path: &Path) -> Result<Vec<u8>, BarrierError> {
    let err = |m: String| BarrierError::Key {
        path: path.display().to_string(),
        message: m,
    };
    let text = file::read_regular(path, KEY_FILE_MAX).map_err(|e| err(e.to_string()))?;
    let hexs: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let key = hex::decode(&hexs).map_err(|_| err("not hex".into()))?;
    if key.len() < 16 {
        return Err(err(format!("{} bytes, want at least 16", key.len())));
    }
    Ok(key)
}
