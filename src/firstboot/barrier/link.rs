//! This helper's end of the back channel: the listener and the pending
//! connections it answers, and the exchanges it starts. Single-threaded,
//! non-blocking sockets, no async runtime.
//!
//! Standing a connection flood (anyone on the back channel can connect):
//! - at most [`MAX_PENDING`] connections wait for their request at once,
//!   fewer when the process has few file descriptors free, so that
//!   [`FD_RESERVE`] stay for the helper's own work (state file, log,
//!   commands) under CentOS 5's default limit of 1,024 or a lower one;
//! - when they are all taken, the oldest one that has waited
//!   [`MIN_PENDING_AGE`] makes room (a genuine peer answers its challenge
//!   within milliseconds); if none has, the new one is closed at once;
//! - at most [`DRAIN_PER_SERVE`] connections are accepted per call, so a
//!   flood cannot keep the helper from its own work;
//! - refusals are logged one by one up to [`REFUSALS_LOGGED`] per
//!   [`REFUSAL_WINDOW`], then counted, and the counts logged in one line per
//!   window.

use super::wire::{
    decode_info, encode_info, nonce, Announce, Kind, Message, Refusal, FACT_PASSED, FACT_SETUP,
    MAX_LINE, PROTO, SETUP_DONE,
};
use super::BarrierError;
use crate::firstboot::host::poll_readable;
use crate::firstboot::log::Logger;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

const SEEN_NONCES: usize = 4096;
/// Per-connection timeout (connect, and challenge to answer).
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to sleep between attempts to write to a full non-blocking
/// socket.
const POLL_SLICE: Duration = Duration::from_millis(5);

/// Connections waiting for their request, at most (fewer when file
/// descriptors are short, see [`pending_capacity`]).
pub const MAX_PENDING: usize = 32;
/// File descriptors left free for the helper's own work while connections
/// wait: the state file and its directory, the log, a command's output
/// files and pipes, its own connection to the peer.
pub const FD_RESERVE: usize = 16;
/// A waiting connection younger than this is not closed to make room.
pub const MIN_PENDING_AGE: Duration = Duration::from_millis(100);
/// Connections accepted per [`Link::serve`] call, at most.
pub const DRAIN_PER_SERVE: usize = 4 * MAX_PENDING;
/// Refusals logged one by one per window; the rest are counted.
pub const REFUSALS_LOGGED: u32 = 10;
/// The window after which the counted refusals are logged in one line.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(60);

/// How many connections may wait at once: [`MAX_PENDING`], or fewer when
/// the process cannot open [`MAX_PENDING`] + [`FD_RESERVE`] more files right
/// now (found by opening /dev/null that many times and closing them; no
/// system call newer than Linux 2.6.18 involved).
fn pending_capacity() -> usize {
    let mut held = Vec::with_capacity(MAX_PENDING + FD_RESERVE);
    while held.len() < MAX_PENDING + FD_RESERVE {
        match std::fs::File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(_) => break,
        }
    }
    held.len().saturating_sub(FD_RESERVE).max(1)
}

/// Refusals on the listener, logged one by one up to [`REFUSALS_LOGGED`]
/// per [`REFUSAL_WINDOW`] and counted beyond: a flood costs the log one line
/// a window, not one a connection.
struct Refusals {
    since: Instant,
    logged: u32,
    counted: BTreeMap<&'static str, u64>,
}

impl Refusals {
    fn new() -> Self {
        Refusals {
            since: Instant::now(),
            logged: 0,
            counted: BTreeMap::new(),
        }
    }

    /// One refusal of `kind`; `line` is its log line while the window's
    /// quota lasts.
    fn note(&mut self, log: &mut Logger, kind: &'static str, line: impl FnOnce() -> String) {
        self.roll(log);
        if self.logged < REFUSALS_LOGGED {
            self.logged += 1;
            log.info(line());
        } else {
            *self.counted.entry(kind).or_default() += 1;
        }
    }

    /// Starts a new window when this one is over, logging its counts.
    fn roll(&mut self, log: &mut Logger) {
        if self.since.elapsed() >= REFUSAL_WINDOW {
            self.flush(log);
            self.since = Instant::now();
            self.logged = 0;
        }
    }

    /// Logs what was counted and not logged, if anything.
    fn flush(&mut self, log: &mut Logger) {
        if self.counted.is_empty() {
            return;
        }
        let total: u64 = self.counted.values().sum();
        let parts: Vec<String> = self
            .counted
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        log.info(format!(
            "back channel: {total} more refusals in the last {} s, not logged one by one: {}",
            self.since.elapsed().as_secs(),
            parts.join(", ")
        ));
        self.counted.clear();
    }
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
    /// At most this many connections wait at once.
    capacity: usize,
    refusals: Refusals,
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
    /// Our `halt` reached the peer (in an acknowledged request or in an
    /// answer we sent it).
    pub halt_delivered: bool,
    /// How many of the peer's requests this side has answered: a change
    /// means the peer is there and answering now.
    pub answered: u64,
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
            capacity: pending_capacity(),
            refusals: Refusals::new(),
            announce: Announce::default(),
            peer_at: None,
            acked_peer_at: None,
            my_acked_at: None,
            peer_info: BTreeMap::new(),
            peer_halt: None,
            last_error: None,
            halt_delivered: false,
            answered: 0,
        })
    }

    pub fn peer_addr(&self) -> &str {
        &self.peer_addr
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// What a wait for the peer blocks on (poll(2), readable): the
    /// listener (a connection to accept) and the connections waiting for
    /// their request. [`Link::serve`] is what to do when one is ready.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.listener.as_fd())
            .chain(self.pending.iter().map(|p| p.stream.as_fd()))
            .collect()
    }

    /// How many connections may wait at once (see [`pending_capacity`]).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Logs the refusals counted and not yet logged (before the helper
    /// stops listening).
    pub fn flush_refusals(&mut self, log: &mut Logger) {
        self.refusals.flush(log);
    }

    /// Whether barrier `k` is passed (see the module doc): the peer
    /// acknowledged our `at >= k`, and we acknowledged its `at >= k` or it
    /// already announced a later barrier (then it needs nothing more from
    /// us for `k`, e.g. when this side restarted).
    ///
    /// A peer that announced `passed=<j>` with `j >= k` passed `k` in its
    /// run: it knew then that we had reached `k`, and now works on the
    /// steps after it (where it sends nothing until its next barrier). A
    /// helper restarted after passing `k`, whose state file had not
    /// recorded it yet, meets it again and passes at once.
    ///
    /// A peer that announced `setup=done` (its first-boot setup is done)
    /// needs nothing more from us at any barrier: it passed them all when
    /// the pair was set up (a replacement node joining a survivor, or a
    /// node restarted at the last barrier after its peer finished).
    pub fn passed(&self, k: u32) -> bool {
        let peer_done = self.peer_info.get(FACT_SETUP).map(String::as_str) == Some(SETUP_DONE);
        let peer_passed = self
            .peer_info
            .get(FACT_PASSED)
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| p >= k);
        self.my_acked_at.is_some_and(|a| a >= k)
            && (self.acked_peer_at.is_some_and(|a| a >= k)
                || self.peer_at.is_some_and(|a| a > k)
                || peer_passed
                || peer_done)
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
        self.refusals.roll(log);
        for _ in 0..DRAIN_PER_SERVE {
            match self.listener.accept() {
                Ok((stream, from)) => {
                    if self.pending.len() >= self.capacity && !self.make_room(log) {
                        drop(stream);
                        let cap = self.capacity;
                        self.refusals.note(log, "closed at once", || {
                            format!("back channel: closed a connection from {from} at once: {cap} connections are already waiting")
                        });
                        continue;
                    }
                    self.open(stream, from);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.refusals.note(log, "failed accepts", || {
                        format!("back channel: accept failed: {e}")
                    });
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

    /// Closes the connection that has waited longest, if it has waited at
    /// least [`MIN_PENDING_AGE`]; false if none has.
    fn make_room(&mut self, log: &mut Logger) -> bool {
        let oldest = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.started)
            .map(|(i, _)| i);
        match oldest {
            Some(i) if self.pending[i].started.elapsed() >= MIN_PENDING_AGE => {
                let p = self.pending.swap_remove(i);
                self.refusals.note(log, "closed to make room", || {
                    format!(
                        "back channel: closed a connection from {} that sent nothing for {} ms, to make room",
                        p.from,
                        p.started.elapsed().as_millis()
                    )
                });
                true
            }
            _ => false,
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
                    self.answered += 1;
                }
            }
            Err(r) => {
                let from = p.from;
                self.refusals.note(log, "refused messages", || {
                    format!("refused barrier message from {from}: {r}")
                });
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
                log.info(format!("refused barrier answer from {addr}: {r}"));
                Err(format!("answer refused: {r}"))
            }
        }
    }

    /// Reads one line from a non-blocking stream, serving the listener while
    /// nothing has arrived, for at most IO_TIMEOUT from `started`. Between
    /// reads it blocks in poll(2) on the stream, the listener and the
    /// connections waiting for their request (a peer busy in a long
    /// command accepts our connection in its backlog and answers only
    /// when it is done: up to IO_TIMEOUT, which must not be spent
    /// spinning).
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
            let left = IO_TIMEOUT.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err("timed out".into());
            }
            self.serve(log);
            let mut fds = self.fds();
            fds.push(stream.as_fd());
            poll_readable(&fds, left);
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
    fn refusals_past_the_quota_are_counted_then_logged_in_one_line() {
        let mut log = Logger::silent("a");
        let mut r = Refusals::new();
        for i in 0..25 {
            let kind = if i % 5 == 0 {
                "closed at once"
            } else {
                "refused messages"
            };
            r.note(&mut log, kind, || format!("refusal {i}"));
        }
        assert_eq!(log.lines().len(), REFUSALS_LOGGED as usize);
        r.flush(&mut log);
        r.flush(&mut log);
        assert_eq!(log.lines().len(), REFUSALS_LOGGED as usize + 1);
        let last = &log.lines()[REFUSALS_LOGGED as usize];
        assert!(
            last.ends_with("back channel: 15 more refusals in the last 0 s, not logged one by one: 3 closed at once, 12 refused messages"),
            "{last}"
        );
    }

    #[test]
    fn a_wait_on_the_link_wakes_when_the_peer_connects_not_on_a_timer() {
        use crate::firstboot::host::poll_readable;
        let key = b"0123456789abcdef".to_vec();
        let mut a = Link::bind("a", "b", "127.0.0.1:0", "127.0.0.1:1", key).unwrap();
        let mut log = Logger::silent("a");
        // Nothing to answer: the wait lasts its whole timeout.
        let t = Instant::now();
        poll_readable(&a.fds(), Duration::from_millis(200));
        assert!(
            t.elapsed() >= Duration::from_millis(190),
            "{:?}",
            t.elapsed()
        );
        // A connection wakes it long before its timeout.
        let addr = a.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let mut s = TcpStream::connect(addr).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            let _ = s.write_all(b"hello\n");
            std::thread::sleep(Duration::from_millis(500));
        });
        let t = Instant::now();
        poll_readable(&a.fds(), Duration::from_secs(20));
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        // Accepted (and challenged): now its request wakes the wait too.
        a.serve(&mut log);
        assert_eq!(a.fds().len(), 2);
        let t = Instant::now();
        poll_readable(&a.fds(), Duration::from_secs(20));
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        a.serve(&mut log);
        assert_eq!(a.fds().len(), 1, "the bad request was answered and closed");
        peer.join().unwrap();
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

    /// A peer that says it passed barrier k needs nothing more from us at
    /// k, though it still announces k (it works on the steps after it):
    /// once it acknowledged our k, we pass. Not before, and not a later
    /// barrier.
    #[test]
    fn a_peer_that_passed_the_barrier_lets_a_restarted_side_pass() {
        let key = b"0123456789abcdef".to_vec();
        let mut a = Link::bind("a", "b", "127.0.0.1:0", "127.0.0.1:1", key).unwrap();
        a.peer_at = Some(3);
        a.peer_info.insert(FACT_PASSED.into(), "3".into());
        assert!(!a.passed(3), "the peer has not acknowledged our at yet");
        a.my_acked_at = Some(3);
        assert!(a.passed(3) && a.passed(2));
        assert!(!a.passed(4));
        a.peer_info.insert(FACT_PASSED.into(), "2".into());
        assert!(!a.passed(3), "it passed only 2");
        a.peer_info.insert(FACT_PASSED.into(), "x".into());
        assert!(!a.passed(3), "not a number");
    }
}
