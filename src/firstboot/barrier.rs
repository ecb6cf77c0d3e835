//! The back-channel protocol the two helpers meet with.
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

use crate::firstboot::log::Logger;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

pub const PROTO: &str = "CKFB1";
const MAX_LINE: u64 = 4096;
const SEEN_NONCES: usize = 4096;
/// Per-connection timeout (connect, and challenge to answer).
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to sleep between polls of a non-blocking socket.
const POLL_SLICE: Duration = Duration::from_millis(5);

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum BarrierError {
    #[error("reading key file {path}: {message}")]
    Key { path: String, message: String },
    #[error("listening on {addr}: {message}")]
    Listen { addr: String, message: String },
    #[error("generating a nonce: {0}")]
    Random(String),
}

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

/// Reads the per-cluster key: hex (whitespace ignored), at least 16 bytes.
pub fn load_key(path: &Path) -> Result<Vec<u8>, BarrierError> {
    let err = |m: String| BarrierError::Key {
        path: path.display().to_string(),
        message: m,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let hexs: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let key = hex::decode(&hexs).map_err(|_| err("not hex".into()))?;
    if key.len() < 16 {
        return Err(err(format!("{} bytes, want at least 16", key.len())));
    }
    Ok(key)
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

/// This helper's end of the back channel, and what it knows of the peer.
pub struct Link {
    me: String,
    peer: String,
    key: Vec<u8>,
    peer_addr: String,
    listener: TcpListener,
    seen: VecDeque<String>,
    seen_set: HashSet<String>,
    pending: Vec<Pending>,
    pub announce: Announce,
    /// Highest `at` the peer is known to have reached.
    pub peer_at: Option<u32>,
    /// Highest `at` of a peer's message this side acknowledged.
    pub acked_peer_at: Option<u32>,
    /// Highest `at` of this side's messages the peer acknowledged.
    pub my_acked_at: Option<u32>,
    /// The facts the peer announced (merged over all its messages).
    pub peer_info: BTreeMap<String, String>,
    /// Set when the peer announced it stopped (refusal or failure).
    pub peer_halt: Option<String>,
    /// The last reason an exchange failed (for timeout messages).
    pub last_error: Option<String>,
    /// Messages refused so far.
    pub refused: u32,
    /// Our `halt` reached the peer (in an acknowledged request or in an
    /// answer we sent it).
    pub halt_delivered: bool,
}

impl Link {
    /// Binds the listener (non-blocking). `me`/`peer` are node names.
    pub fn bind(
        me: &str,
        peer: &str,
        listen: &str,
        peer_addr: &str,
        key: Vec<u8>,
    ) -> Result<Link, BarrierError> {
        let listener = TcpListener::bind(listen).map_err(|e| BarrierError::Listen {
            addr: listen.to_string(),
            message: e.to_string(),
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| BarrierError::Listen {
                addr: listen.to_string(),
                message: e.to_string(),
            })?;
        Ok(Link {
            me: me.to_string(),
            peer: peer.to_string(),
            key,
            peer_addr: peer_addr.to_string(),
            listener,
            seen: VecDeque::new(),
            seen_set: HashSet::new(),
            pending: Vec::new(),
            announce: Announce::default(),
            peer_at: None,
            acked_peer_at: None,
            my_acked_at: None,
            peer_info: BTreeMap::new(),
            peer_halt: None,
            last_error: None,
            refused: 0,
            halt_delivered: false,
        })
    }

    pub fn peer_addr(&self) -> &str {
        &self.peer_addr
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Whether barrier `k` is passed (see the module doc): the peer
    /// acknowledged our `at >= k`, and we acknowledged its `at >= k` or it
    /// already announced a later barrier (then it needs nothing more from
    /// us for `k`, e.g. when this side restarted).
    pub fn passed(&self, k: u32) -> bool {
        self.my_acked_at.is_some_and(|a| a >= k)
            && (self.acked_peer_at.is_some_and(|a| a >= k) || self.peer_at.is_some_and(|a| a > k))
    }

    fn remember_nonce(&mut self, n: &str) -> bool {
        if self.seen_set.contains(n) {
            return false;
        }
        self.seen_set.insert(n.to_string());
        self.seen.push_back(n.to_string());
        if self.seen.len() > SEEN_NONCES {
            if let Some(old) = self.seen.pop_front() {
                self.seen_set.remove(&old);
            }
        }
        true
    }

    fn learn(&mut self, m: &Message, log: &mut Logger) {
        if self.peer_at.is_none_or(|a| m.at > a) {
            log.info(format!(
                "peer {} reached barrier {} ({})",
                self.peer, m.at, m.barrier
            ));
            self.peer_at = Some(m.at);
        }
        for (k, v) in decode_info(&m.info) {
            self.peer_info.insert(k, v);
        }
        if let Some(h) = &m.halt {
            if self.peer_halt.is_none() {
                log.info(format!("peer {} stopped: {h}", self.peer));
            }
            self.peer_halt = Some(h.clone());
        }
    }

    fn message(&self, kind: Kind, nonce: String, challenge: String) -> Message {
        Message {
            kind,
            from: self.me.clone(),
            to: self.peer.clone(),
            at: self.announce.at,
            barrier: self.announce.barrier.clone(),
            nonce,
            challenge,
            info: encode_info(&self.announce.info),
            halt: self.announce.halt.clone(),
        }
    }

    /// Checks a decoded message against the identities, the challenge and
    /// the nonces seen so far.
    fn check(&mut self, m: &Message, want: Kind, challenge: &str) -> Result<(), Refusal> {
        if m.kind != want {
            return Err(Refusal::Malformed("unexpected message kind".into()));
        }
        if m.from != self.peer {
            return Err(Refusal::WrongSender(m.from.clone()));
        }
        if m.to != self.me {
            return Err(Refusal::WrongRecipient(m.to.clone()));
        }
        if m.challenge != challenge {
            return Err(Refusal::Stale);
        }
        if !self.remember_nonce(&m.nonce) {
            return Err(Refusal::Replayed);
        }
        Ok(())
    }

    /// Accepts waiting connections (sending each its challenge) and answers
    /// every pending one whose request has arrived. Never blocks.
    pub fn serve(&mut self, log: &mut Logger) {
        loop {
            match self.listener.accept() {
                Ok((stream, from)) => self.open(stream, from),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    log.info(format!("back channel: accept failed: {e}"));
                    break;
                }
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for mut p in pending {
            match poll_line(&mut p.stream, &mut p.buf) {
                Ok(Some(line)) => self.answer(p, &line, log),
                Ok(None) if p.started.elapsed() < IO_TIMEOUT => self.pending.push(p),
                Ok(None) | Err(_) => {}
            }
        }
    }

    fn open(&mut self, mut stream: TcpStream, from: SocketAddr) {
        let Ok(challenge) = nonce() else { return };
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        if write_line(&mut stream, &format!("{PROTO} CHALLENGE {challenge}")).is_err() {
            return;
        }
        self.pending.push(Pending {
            stream,
            from,
            challenge,
            buf: Vec::new(),
            started: Instant::now(),
        });
    }

    fn answer(&mut self, mut p: Pending, line: &str, log: &mut Logger) {
        let verdict = Message::decode(line, &self.key)
            .and_then(|m| self.check(&m, Kind::Req, &p.challenge).map(|()| m));
        match verdict {
            Ok(m) => {
                self.learn(&m, log);
                let Ok(n) = nonce() else { return };
                let ack = self.message(Kind::Ack, n, m.nonce.clone());
                if write_line(&mut p.stream, &ack.encode(&self.key)).is_ok() {
                    self.acked_peer_at = self.acked_peer_at.max(Some(m.at));
                    self.halt_delivered |= ack.halt.is_some();
                }
            }
            Err(r) => {
                self.refused += 1;
                log.info(format!("refused barrier message from {}: {r}", p.from));
                let _ = write_line(&mut p.stream, &format!("{PROTO} REFUSED {}", r.code()));
            }
        }
    }

    /// Sends this side's announcement to the peer once, answering incoming
    /// connections while it waits. True when the peer acknowledged it.
    pub fn exchange(&mut self, log: &mut Logger) -> bool {
        match self.try_exchange(log) {
            Ok(()) => {
                self.last_error = None;
                true
            }
            Err(e) => {
                self.last_error = Some(e);
                false
            }
        }
    }

    fn try_exchange(&mut self, log: &mut Logger) -> Result<(), String> {
        let addr = self
            .peer_addr
            .to_socket_addrs()
            .map_err(|e| format!("resolving {}: {e}", self.peer_addr))?
            .next()
            .ok_or_else(|| format!("{} resolves to nothing", self.peer_addr))?;
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut buf = Vec::new();
        let line = self
            .read_serving(&mut stream, &mut buf, started, log)
            .map_err(|e| format!("reading challenge from {addr}: {e}"))?;
        let challenge = line
            .trim()
            .strip_prefix(&format!("{PROTO} CHALLENGE "))
            .ok_or_else(|| format!("{addr} sent no challenge"))?
            .to_string();
        let my_nonce = nonce().map_err(|e| e.to_string())?;
        let req = self.message(Kind::Req, my_nonce.clone(), challenge);
        write_line(&mut stream, &req.encode(&self.key))
            .map_err(|e| format!("sending to {addr}: {e}"))?;
        let line = self
            .read_serving(&mut stream, &mut buf, started, log)
            .map_err(|e| format!("reading answer from {addr}: {e}"))?;
        if let Some(why) = line.trim().strip_prefix(&format!("{PROTO} REFUSED ")) {
            log.info(format!(
                "peer {} refused our barrier message: {why}",
                self.peer
            ));
            return Err(format!("peer refused our message: {why}"));
        }
        let ack = Message::decode(&line, &self.key)
            .and_then(|m| self.check(&m, Kind::Ack, &my_nonce).map(|()| m));
        match ack {
            Ok(m) => {
                self.learn(&m, log);
                self.my_acked_at = self.my_acked_at.max(Some(req.at));
                self.halt_delivered |= req.halt.is_some();
                Ok(())
            }
            Err(r) => {
                self.refused += 1;
                log.info(format!("refused barrier answer from {addr}: {r}"));
                Err(format!("answer refused: {r}"))
            }
        }
    }

    /// Reads one line from a non-blocking stream, serving the listener while
    /// nothing has arrived, for at most IO_TIMEOUT from `started`.
    fn read_serving(
        &mut self,
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        started: Instant,
        log: &mut Logger,
    ) -> Result<String, String> {
        loop {
            match poll_line(stream, buf) {
                Ok(Some(line)) => return Ok(line),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
            if started.elapsed() >= IO_TIMEOUT {
                return Err("timed out".into());
            }
            self.serve(log);
            std::thread::sleep(POLL_SLICE);
        }
    }
}

struct Pending {
    stream: TcpStream,
    from: SocketAddr,
    challenge: String,
    buf: Vec<u8>,
    started: Instant,
}

/// Reads what is available; returns the first complete line (removing it
/// from `buf`), None if none yet, an error on EOF, I/O error or overlong
/// line.
fn poll_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<String>, String> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
        if buf.len() as u64 > MAX_LINE {
            return Err("line too long".into());
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("connection closed".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Writes a short line to a (possibly non-blocking) stream.
fn write_line(stream: &mut TcpStream, line: &str) -> std::io::Result<()> {
    let data = format!("{line}\n");
    let mut off = 0;
    let started = Instant::now();
    while off < data.len() {
        match stream.write(&data.as_bytes()[off..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => off += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock && started.elapsed() < IO_TIMEOUT => {
                std::thread::sleep(POLL_SLICE)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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

    #[test]
    fn two_links_pass_a_barrier() {
        let key = b"0123456789abcdef".to_vec();
        let mut a = Link::bind("a", "b", "127.0.0.1:0", "127.0.0.1:1", key.clone()).unwrap();
        let mut b = Link::bind("b", "a", "127.0.0.1:0", "127.0.0.1:1", key).unwrap();
        a.peer_addr = b.local_addr().unwrap().to_string();
        b.peer_addr = a.local_addr().unwrap().to_string();
        let mut la = Logger::silent("a");
        let mut lb = Logger::silent("b");
        a.announce.at = 1;
        b.announce.at = 1;
        b.announce.info.insert("inspect".into(), "clean".into());
        // a connects before b serves: the connection waits in the backlog.
        // Serve from b in between by interleaving: exchange blocks on read,
        // so run b's serve on a thread for this unit test only.
        let handle = std::thread::spawn(move || {
            for _ in 0..200 {
                b.serve(&mut lb);
                if b.acked_peer_at.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            b
        });
        assert!(a.exchange(&mut la));
        let mut b = handle.join().unwrap();
        assert_eq!(a.peer_at, Some(1));
        assert_eq!(
            a.peer_info.get("inspect").map(String::as_str),
            Some("clean")
        );
        assert_eq!(a.my_acked_at, Some(1));
        assert!(!a.passed(1));
        // And the other way round.
        let handle = std::thread::spawn(move || {
            for _ in 0..200 {
                a.serve(&mut la);
                if a.acked_peer_at.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            a
        });
        assert!(b.exchange(&mut Logger::silent("b")));
        let a = handle.join().unwrap();
        assert!(a.passed(1) && b.passed(1));
        assert!(!a.passed(2));
    }
}
