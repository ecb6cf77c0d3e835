//! This helper's end of the back channel: the listener and the pending
//! connections it answers, and the exchanges it starts. Single-threaded,
//! non-blocking sockets, no async runtime.

use super::wire::{
    decode_info, encode_info, nonce, Announce, Kind, Message, Refusal, MAX_LINE, PROTO,
};
use super::BarrierError;
use crate::firstboot::log::Logger;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

const SEEN_NONCES: usize = 4096;
/// Per-connection timeout (connect, and challenge to answer).
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to sleep between polls of a non-blocking socket.
const POLL_SLICE: Duration = Duration::from_millis(5);

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
    use crate::firstboot::log::Logger;

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
