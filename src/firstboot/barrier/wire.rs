//! The wire format of the back channel (see the module above): one line
//! per message, HMAC-SHA256 over everything before ` mac=`, and the
//! reasons a line is refused. Pure functions: no sockets, no clocks.

use super::BarrierError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

pub const PROTO: &str = "CKFB1";
/// The longest line either side reads.
pub const MAX_LINE: u64 = 4096;

type HmacSha256 = Hmac<Sha256>;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unauthenticated (no MAC)")]
    Unauthenticated,
    #[error("forged (bad MAC)")]
    Forged,
    #[error("malformed ({0})")]
    Malformed(String),
    #[error("from unknown sender {0:?}")]
    WrongSender(String),
    #[error("addressed to {0:?}, not to this node")]
    WrongRecipient(String),
    #[error("stale (answers another challenge: replayed?)")]
    Stale,
    #[error("replayed (nonce already seen)")]
    Replayed,
}

impl Refusal {
    /// One word for the REFUSED line.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unauthenticated => "unauthenticated",
            Refusal::Forged => "forged",
            Refusal::Malformed(_) => "malformed",
            Refusal::WrongSender(_) => "unknown-sender",
            Refusal::WrongRecipient(_) => "wrong-recipient",
            Refusal::Stale => "stale",
            Refusal::Replayed => "replayed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Req,
    Ack,
}

/// One authenticated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    pub at: u32,
    pub barrier: String,
    pub nonce: String,
    pub challenge: String,
    pub info: String,
    pub halt: Option<String>,
}

impl Message {
    /// The unsigned part of the line.
    fn body(&self) -> String {
        format!(
            "{PROTO} {} from={} to={} at={} barrier={} nonce={} challenge={} info={} halt={}",
            match self.kind {
                Kind::Req => "REQ",
                Kind::Ack => "ACK",
            },
            self.from,
            self.to,
            self.at,
            self.barrier,
            self.nonce,
            self.challenge,
            hex::encode(self.info.as_bytes()),
            self.halt
                .as_ref()
                .map(|h| hex::encode(h.as_bytes()))
                .unwrap_or_else(|| "-".into())
        )
    }

    /// The signed line, without the newline.
    pub fn encode(&self, key: &[u8]) -> String {
        let body = self.body();
        format!("{body} mac={}", mac_hex(key, body.as_bytes()))
    }

    /// Checks the MAC and parses a line (without replay checks).
    pub fn decode(line: &str, key: &[u8]) -> Result<Message, Refusal> {
        let line = line.trim_end_matches(['\r', '\n']);
        let Some((body, mac)) = line.rsplit_once(" mac=") else {
            return Err(Refusal::Unauthenticated);
        };
        let mac = hex::decode(mac).map_err(|_| Refusal::Forged)?;
        let mut h = HmacSha256::new_from_slice(key).map_err(|_| Refusal::Forged)?;
        h.update(body.as_bytes());
        h.verify_slice(&mac).map_err(|_| Refusal::Forged)?;
        parse_body(body)
    }
}

fn parse_body(body: &str) -> Result<Message, Refusal> {
    let bad = |m: &str| Refusal::Malformed(m.to_string());
    let mut toks = body.split(' ');
    if toks.next() != Some(PROTO) {
        return Err(bad("protocol"));
    }
    let kind = match toks.next() {
        Some("REQ") => Kind::Req,
        Some("ACK") => Kind::Ack,
        _ => return Err(bad("kind")),
    };
    let mut f = BTreeMap::new();
    for t in toks {
        let (k, v) = t.split_once('=').ok_or_else(|| bad("field"))?;
        f.insert(k, v);
    }
    let get = |k: &str| f.get(k).copied().ok_or_else(|| bad(k));
    let unhex = |k: &str, v: &str| {
        hex::decode(v)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad(k))
    };
    let halt = match get("halt")? {
        "-" => None,
        h => Some(unhex("halt", h)?),
    };
    Ok(Message {
        kind,
        from: get("from")?.to_string(),
        to: get("to")?.to_string(),
        at: get("at")?.parse().map_err(|_| bad("at"))?,
        barrier: get("barrier")?.to_string(),
        nonce: get("nonce")?.to_string(),
        challenge: get("challenge")?.to_string(),
        info: unhex("info", get("info")?)?,
        halt,
    })
}

fn mac_hex(key: &[u8], data: &[u8]) -> String {
    // new_from_slice accepts any key length for HMAC.
    match HmacSha256::new_from_slice(key) {
        Ok(mut h) => {
            h.update(data);
            hex::encode(h.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// A keyed tag (hex HMAC) of `text`, e.g. the content of the file each node
/// writes on GFS2 for the other to check.
pub fn tag(key: &[u8], text: &str) -> String {
    mac_hex(key, text.as_bytes())
}

/// 16 random bytes, hex.
pub fn nonce() -> Result<String, BarrierError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| BarrierError::Random(e.to_string()))?;
    Ok(hex::encode(b))
}

/// What this side announces.
#[derive(Debug, Clone, Default)]
pub struct Announce {
    pub at: u32,
    pub barrier: String,
    /// `key=value` facts, sent with every message from the moment they are
    /// set (so a peer that restarted still learns them later).
    pub info: BTreeMap<String, String>,
    pub halt: Option<String>,
}

/// The facts every helper announces about itself in `info`: its role
/// (`role=initial|replacement`), `setup=done` once its first-boot setup is
/// done (a peer then needs nothing more from it at any barrier), and
/// `passed=<k>`, the last barrier it passed in this run (a peer at that
/// barrier, or an earlier one, needs nothing more from it there): see
/// `Link::passed`.
pub const FACT_ROLE: &str = "role";
pub const FACT_SETUP: &str = "setup";
pub const SETUP_DONE: &str = "done";
pub const FACT_PASSED: &str = "passed";

/// `k=v;k=v` (keys and values must not contain `;` or `=` in keys).
pub fn encode_info(info: &BTreeMap<String, String>) -> String {
    info.iter()
        .map(|(k, v)| format!("{k}={}", v.replace(';', ",")))
        .collect::<Vec<_>>()
        .join(";")
}

pub fn decode_info(s: &str) -> BTreeMap<String, String> {
    s.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            kind: Kind::Req,
            from: "a".into(),
            to: "b".into(),
            at: 3,
            barrier: "drbd-md".into(),
            nonce: "00".repeat(16),
            challenge: "11".repeat(16),
            info: "0000000000000004:0:x y".into(),
            halt: Some("refused: metadata".into()),
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let key = b"0123456789abcdef";
        let line = msg().encode(key);
        assert_eq!(Message::decode(&line, key).unwrap(), msg());
        let mut m = msg();
        m.halt = None;
        m.info.clear();
        assert_eq!(Message::decode(&m.encode(key), key).unwrap(), m);
    }

    #[test]
    fn forged_and_unauthenticated() {
        let key = b"0123456789abcdef";
        let line = msg().encode(key);
        assert_eq!(
            Message::decode(&line, b"another key 1234"),
            Err(Refusal::Forged)
        );
        let tampered = line.replace("at=3", "at=9");
        assert_eq!(Message::decode(&tampered, key), Err(Refusal::Forged));
        let (body, _) = line.rsplit_once(" mac=").unwrap();
        assert_eq!(Message::decode(body, key), Err(Refusal::Unauthenticated));
    }
}
