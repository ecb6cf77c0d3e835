//! A simulated Node Assassin on loopback, for the fence_na tests only (it
//! lives under tests/ and is never part of a shipped binary).
//!
//! It behaves as the published agent (fence_na 1.1.5/1.1.6,
//! ClusterLabs/fence-agents fence/agents/node_assassin) expects the device
//! to, and as NaOS's own source describes it (digimer/Node-Assassin naos.c):
//! - a plain TCP session, no login (NaOS: "This device implements NO
//!   security"; the agent checks login/passwd against its own config);
//! - one command per line, `PP:S`, read up to CR or LF; anything else
//!   answers an error;
//! - `00:0` answers `- Node PP: P<p>, R<r>, F<f>` for every port;
//! - `PP:0` releases, `PP:1` fences (holds the power switch: the node loses
//!   power), `PP:2` presses power for a second (boots a node that is off,
//!   asks a running one to shut down), `PP:3` holds it until the node is off;
//! - every answer ends with a line ending in `EOM`.
//!
//! Faults make it misbehave the ways a real device or network can.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Accepts and reads, never answers.
    Hang,
    /// Accepts and closes at once.
    DropOnConnect,
    /// Closes the connection when the n-th command (1-based) arrives,
    /// without answering it.
    DropAtCommand(usize),
    /// Answers `00:0` with binary garbage and `EOM`, no state lines.
    GarbageStates,
    /// Answers `00:0` with a state line whose feed value is not 0 or 1.
    BadStateLine,
    /// Answers `00:0` with an endless stream of lines and no `EOM`.
    NoEom,
    /// Answers as NaOS 1.0.2 did: `- Node 01: Running`, `End Message.`,
    /// no `EOM`, and the opposite meaning of 0 and 1 (1 releases!).
    OldFirmware,
    /// Answers state reads properly until a fence command arrives, then
    /// garbage: the agent must not call that a successful fence.
    GarbageAfterFence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// Power switch held (fenced).
    pub power: bool,
    /// Reset switch held.
    pub reset: bool,
    /// The node has power.
    pub feed: bool,
    /// Times the node lost power.
    pub power_offs: u32,
    /// Times the node powered up.
    pub boots: u32,
    /// The node ignores the power switch (a fence that does not work).
    pub stuck_on: bool,
    /// The node does not start when pressed.
    pub never_boots: bool,
    /// When the feed changes after a command; None: at once.
    pending: Option<(Instant, bool)>,
}

impl Port {
    fn new(feed: bool) -> Self {
        Self {
            power: false,
            reset: false,
            feed,
            power_offs: 0,
            boots: 0,
            stuck_on: false,
            never_boots: false,
            pending: None,
        }
    }

    fn settle(&mut self, now: Instant) {
        if let Some((at, feed)) = self.pending {
            if at <= now {
                self.pending = None;
                self.change_feed(feed);
            }
        }
    }

    fn change_feed(&mut self, feed: bool) {
        if feed != self.feed {
            self.feed = feed;
            if feed {
                self.boots += 1;
            } else {
                self.power_offs += 1;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub at: Instant,
    pub conn: usize,
    pub command: String,
}

struct Shared {
    ports: Vec<Port>,
    fault: Fault,
    /// How long a node takes to lose or gain power after a command.
    lag: Duration,
    line_end: &'static str,
    events: Vec<Event>,
    connections: Vec<Instant>,
    fenced_once: bool,
}

pub struct NodeAssassin {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NodeAssassin {
    /// A device with one port per entry of `feeds` (true: that node runs).
    pub fn start(feeds: &[bool]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind simulator");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared {
            ports: feeds.iter().map(|&f| Port::new(f)).collect(),
            fault: Fault::None,
            lag: Duration::ZERO,
            line_end: "\n",
            events: Vec::new(),
            connections: Vec::new(),
            fenced_once: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, st2) = (shared.clone(), stop.clone());
        let thread = std::thread::spawn(move || serve(listener, s2, st2));
        Self {
            addr,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port_number(&self) -> u16 {
        self.addr.port()
    }

    pub fn fault(&self, f: Fault) -> &Self {
        self.shared.lock().unwrap().fault = f;
        self
    }

    pub fn lag(&self, d: Duration) -> &Self {
        self.shared.lock().unwrap().lag = d;
        self
    }

    pub fn crlf(&self) -> &Self {
        self.shared.lock().unwrap().line_end = "\r\n";
        self
    }

    /// Port `p` (1-based) as it is now.
    pub fn port(&self, p: usize) -> Port {
        let mut s = self.shared.lock().unwrap();
        let now = Instant::now();
        s.ports[p - 1].settle(now);
        s.ports[p - 1]
    }

    pub fn edit_port(&self, p: usize, f: impl FnOnce(&mut Port)) {
        f(&mut self.shared.lock().unwrap().ports[p - 1]);
    }

    /// Every command line received, in order.
    pub fn commands(&self) -> Vec<String> {
        self.events().into_iter().map(|e| e.command).collect()
    }

    /// Commands other than state reads.
    pub fn sets(&self) -> Vec<String> {
        self.commands()
            .into_iter()
            .filter(|c| c != "00:0")
            .collect()
    }

    pub fn events(&self) -> Vec<Event> {
        self.shared.lock().unwrap().events.clone()
    }

    /// When each connection was accepted.
    pub fn connections(&self) -> Vec<Instant> {
        self.shared.lock().unwrap().connections.clone()
    }
}

impl Drop for NodeAssassin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, shared: Arc<Mutex<Shared>>, stop: Arc<AtomicBool>) {
    let mut handlers = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let conn = {
                    let mut s = shared.lock().unwrap();
                    s.connections.push(Instant::now());
                    s.connections.len()
                };
                let (sh, st) = (shared.clone(), stop.clone());
                handlers.push(std::thread::spawn(move || handle(stream, conn, sh, st)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    for h in handlers {
        let _ = h.join();
    }
}

fn handle(mut stream: TcpStream, conn: usize, shared: Arc<Mutex<Shared>>, stop: Arc<AtomicBool>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    if shared.lock().unwrap().fault == Fault::DropOnConnect {
        return;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        // NaOS reads a line up to CR or LF; an empty line is nothing.
        while let Some(i) = buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if line.is_empty() {
                continue;
            }
            let (fault, count) = {
                let mut s = shared.lock().unwrap();
                s.events.push(Event {
                    at: Instant::now(),
                    conn,
                    command: line.clone(),
                });
                (s.fault, s.events.len())
            };
            match fault {
                Fault::Hang => continue,
                Fault::DropAtCommand(n) if count >= n => return,
                Fault::NoEom if line == "00:0" => {
                    let noise = "- noise without an end\n".repeat(64);
                    for _ in 0..64 {
                        if stream.write_all(noise.as_bytes()).is_err() {
                            return;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let reply = respond(&line, &shared);
            if stream.write_all(&reply).is_err() {
                return;
            }
        }
    }
}

fn respond(line: &str, shared: &Arc<Mutex<Shared>>) -> Vec<u8> {
    let mut s = shared.lock().unwrap();
    let nl = s.line_end;
    let now = Instant::now();
    for p in s.ports.iter_mut() {
        p.settle(now);
    }
    let max = s.ports.len();
    let b = line.as_bytes();
    let eom = |body: String| format!("{body}EOM{nl}").into_bytes();
    if b.len() != 4 || b[2] != b':' || ![0, 1, 3].iter().all(|&i| b[i].is_ascii_digit()) {
        return eom(format!("Bad command: [{line}]{nl}"));
    }
    let node = usize::from((b[0] - b'0') * 10 + (b[1] - b'0'));
    let state = b[3] - b'0';
    if node > max {
        return eom(format!(
            "This fence only supports up to {max:02} nodes.{nl}"
        ));
    }
    if s.fault == Fault::OldFirmware {
        if node == 0 {
            let mut out = format!("Node states: {nl}- Max Node: {max:02}{nl}");
            for (i, p) in s.ports.iter().enumerate() {
                let st = if p.power { "Fenced!" } else { "Running" };
                out.push_str(&format!("- Node {:02}: {st}{nl}", i + 1));
            }
            out.push_str(&format!("End Message.{nl}"));
            return out.into_bytes();
        }
        // 0 fences, 1 releases, and no EOM.
        let p = &mut s.ports[node - 1];
        p.power = state == 0;
        return format!("Node {line}: done{nl}").into_bytes();
    }
    if node == 0 {
        return match state {
            0 => match s.fault {
                Fault::GarbageStates => {
                    let mut g = b"\x00\x13\xfe\xfd garbage \x1b[2J\x07 - Node\t?? ".to_vec();
                    g.extend_from_slice(format!("{nl}EOM{nl}").as_bytes());
                    g
                }
                Fault::GarbageAfterFence if s.fenced_once => {
                    eom(format!("Node states:{nl}- N0de 0?: ###{nl}"))
                }
                Fault::BadStateLine => {
                    let mut out = format!("Node states:{nl}");
                    for i in 0..max {
                        out.push_str(&format!("- Node {:02}: P0, R0, F7{nl}", i + 1));
                    }
                    eom(out)
                }
                _ => {
                    let mut out = format!("Node states:{nl}- Max Node: {max:02}{nl}");
                    for (i, p) in s.ports.iter().enumerate() {
                        out.push_str(&format!(
                            "- Node {:02}: P{}, R{}, F{}{nl}",
                            i + 1,
                            u8::from(p.power),
                            u8::from(p.reset),
                            u8::from(p.feed)
                        ));
                    }
                    eom(out)
                }
            },
            1 => eom(format!(
                "NAOS Version: 1.1 (simulated){nl}Serial Number: SIM-0001{nl}"
            )),
            _ => eom(format!("Invalid query: [{line}]{nl}")),
        };
    }
    let lag = s.lag;
    if state == 1 {
        s.fenced_once = true;
    }
    let p = &mut s.ports[node - 1];
    let change = |p: &mut Port, feed: bool| {
        if lag.is_zero() {
            p.change_feed(feed);
        } else {
            p.pending = Some((now + lag, feed));
        }
    };
    let what = match state {
        0 => {
            (p.power, p.reset) = (false, false);
            "released"
        }
        1 => {
            p.power = true;
            if !p.stuck_on && p.feed {
                change(p, false);
            }
            "fenced"
        }
        2 => {
            (p.power, p.reset) = (false, false);
            if !p.feed && !p.never_boots {
                change(p, true);
            } else if p.feed && !p.stuck_on {
                // A running node: an ACPI shutdown.
                change(p, false);
            }
            "power button pressed"
        }
        3 => {
            (p.power, p.reset) = (false, false);
            if p.feed && !p.stuck_on {
                change(p, false);
            }
            "forced down"
        }
        _ => return eom(format!("Invalid state received: [{line}]{nl}")),
    };
    eom(format!("Node {:02}: {what}.{nl}", node))
}
