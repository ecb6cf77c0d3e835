//! The Node Assassin network protocol, as the published agent (fence_na
//! 1.1.5/1.1.6, ClusterLabs/fence-agents fence/agents/node_assassin) speaks
//! it; see docs/fence_na.md for the sources.
//!
//! - A plain TCP ("telnet") session to the device's port (238 by default).
//!   The device asks for no login: it has none.
//! - One command per line, `PP:S`: PP the two-digit port, S the state to set:
//!   0 release, 1 fence (hold the power switch until the node is off, lock
//!   the front panel), 2 press the power switch for a second (boot), 3 hold
//!   it until the feed drops (force down, no lock). `00:0` reads every port.
//! - Every answer ends with a line ending in `EOM`.
//! - A state read answers one line per port, `- Node PP: P<p>, R<r>, F<f>`:
//!   power switch held, reset switch held, and the node's power feed (1: the
//!   node has power).
//!
//! Every wait is bounded: the connect attempt, each read, and the whole run
//! (`deadline`). Anything else on a state line, a missing port, or more
//! than [`MAX_ANSWER_BYTES`] without `EOM` is an error, never a guess: the
//! published agent took a missing state for "off", and so could report a
//! node fenced that was not.

use super::error::Error;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// An answer longer than this without `EOM` is refused (a state read for 99
/// ports is under 3 KiB).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024;

/// States a port can be set to (the digit after the colon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetState {
    Release = 0,
    Fence = 1,
    Press = 2,
    ForceDown = 3,
}

/// One port as a state read reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortState {
    /// The power switch is held (fenced).
    pub power: bool,
    /// The reset switch is held.
    pub reset: bool,
    /// The node has power.
    pub feed: bool,
}

/// What the actions need from a device: a state read and a state set.
pub trait Device {
    fn states(&mut self) -> Result<BTreeMap<u8, PortState>, Error>;
    fn set(&mut self, port: u8, state: SetState) -> Result<(), Error>;
}

/// The command line for setting `port` to `state`, e.g. `02:1`.
pub fn command(port: u8, state: SetState) -> String {
    format!("{port:02}:{}", state as u8)
}

/// The state read command.
pub const READ_STATES: &str = "00:0";

/// A session with one device.
pub struct Connection {
    stream: TcpStream,
    label: String,
    read_timeout: Duration,
    deadline: Instant,
    /// Bytes received and not yet part of an answer (telnet commands removed).
    pending: Vec<u8>,
    telnet: TelnetFilter,
    verbose: bool,
}

impl Connection {
    /// Resolves `host` and connects to the first address that answers. Each
    /// attempt waits at most `connect_timeout`, all of them together no
    /// later than `deadline`.
    pub fn open(
        label: &str,
        host: &str,
        port: u16,
        connect_timeout: Duration,
        read_timeout: Duration,
        deadline: Instant,
        verbose: bool,
    ) -> Result<Self, Error> {
        let fail = |message: String| Error::Device {
            device: label.to_string(),
            message,
        };
        // A static musl binary resolves with musl's resolver: /etc/hosts,
        // then DNS, bounded by resolv.conf's timeout (5 s unless set).
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve `{host}`: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(fail(format!("`{host}` resolves to no address")));
        }
        let mut last = String::new();
        for addr in &addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let wait = connect_timeout.min(left);
            if verbose {
                eprintln!("fence_na: connecting to {addr} (waiting at most {wait:?})");
            }
            match TcpStream::connect_timeout(addr, wait) {
                Ok(stream) => {
                    return Ok(Self {
                        stream,
                        label: label.to_string(),
                        read_timeout,
                        deadline,
                        pending: Vec::new(),
                        telnet: TelnetFilter::default(),
                        verbose,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    last = format!(
                        "{addr}: no answer within {} s (is the device on, and on this network?)",
                        wait.as_secs_f32()
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last = format!(
                        "{addr}: connection refused (is tcp_port right? Node Assassin listens on 238)"
                    );
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        if last.is_empty() {
            last = "the run's time (timeouts.total_secs) ran out before connecting".into();
        }
        Err(fail(format!("cannot connect: {last}")))
    }

    fn fail(&self, message: String) -> Error {
        Error::Device {
            device: self.label.clone(),
            message,
        }
    }

    /// Sends one command and returns the answer up to and including the
    /// `EOM` line.
    pub fn command(&mut self, cmd: &str) -> Result<String, Error> {
        if self.verbose {
            eprintln!("fence_na: sending {cmd}");
        }
        let left = self.left(cmd)?;
        let _ = self
            .stream
            .set_write_timeout(Some(self.read_timeout.min(left)));
        // Net::Telnet ends a command with CR LF; NaOS stops a line at either.
        self.stream
            .write_all(format!("{cmd}\r\n").as_bytes())
            .map_err(|e| {
                self.fail(if closed(&e) {
                    format!("the device closed the connection before `{cmd}` could be sent")
                } else {
                    format!("sending `{cmd}`: {e}")
                })
            })?;
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = eom_end(&self.pending) {
                let answer: Vec<u8> = self.pending.drain(..end).collect();
                let text = String::from_utf8_lossy(&answer).into_owned();
                if self.verbose {
                    for line in text.lines() {
                        eprintln!("fence_na: device: {}", printable(line));
                    }
                }
                return Ok(text);
            }
            if self.pending.len() > MAX_ANSWER_BYTES {
                return Err(self.fail(format!(
                    "the answer to `{cmd}` ran past {MAX_ANSWER_BYTES} bytes without `EOM`; \
                     this is not a Node Assassin speaking the 1.1 protocol"
                )));
            }
            let left = self.left(cmd)?;
            let wait = self.read_timeout.min(left);
            let _ = self.stream.set_read_timeout(Some(wait));
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(self.fail(format!(
                        "the device closed the connection before answering `{cmd}`"
                    )))
                }
                Ok(n) => self.telnet.push(&chunk[..n], &mut self.pending),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.fail(format!(
                        "no complete answer to `{cmd}` within {} s{}",
                        wait.as_secs_f32(),
                        if self.pending.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (got `{}` and no `EOM`)",
                                printable(&String::from_utf8_lossy(&self.pending))
                            )
                        }
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if closed(&e) => {
                    return Err(self.fail(format!(
                        "the device closed the connection before answering `{cmd}` ({e})"
                    )))
                }
                Err(e) => return Err(self.fail(format!("reading the answer to `{cmd}`: {e}"))),
            }
        }
    }

    fn left(&self, cmd: &str) -> Result<Duration, Error> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.fail(format!(
                "the run's time (timeouts.total_secs) ran out at `{cmd}`"
            )));
        }
        Ok(left)
    }
}

impl Device for Connection {
    fn states(&mut self) -> Result<BTreeMap<u8, PortState>, Error> {
        let text = self.command(READ_STATES)?;
        parse_states(&text).map_err(|m| self.fail(format!("answer to `{READ_STATES}`: {m}")))
    }

    fn set(&mut self, port: u8, state: SetState) -> Result<(), Error> {
        // The answer is only a confirmation line; the state read that
        // follows is what counts.
        self.command(&command(port, state)).map(|_| ())
    }
}

/// The peer went away (a reset counts: a device that closes with our
/// command unread resets the connection).
fn closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
    )
}

/// Where the first line ending in `EOM` ends (after its newline, if it has
/// arrived), as Net::Telnet's `Prompt => '/EOM$/'` matches.
fn eom_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while start < buf.len() {
        let (line, next) = match buf[start..].iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[start..start + i], start + i + 1),
            None => (&buf[start..], buf.len()),
        };
        if line.trim_ascii_end().ends_with(b"EOM") {
            return Some(next);
        }
        start = next;
    }
    None
}

/// Reads every `- Node PP: P<p>, R<r>, F<f>` line of a state read. Other
/// lines (a header, `EOM`) are skipped; a line that starts like a state line
/// but is not one, a value other than 0 or 1, or a port given twice is an
/// error.
pub fn parse_states(text: &str) -> Result<BTreeMap<u8, PortState>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim();
        let Some(rest) = l.strip_prefix("- Node ") else {
            continue;
        };
        let bad = || {
            format!(
                "unexpected state line `{}` (want `- Node PP: P0, R0, F1`; NAOS 1.0 answers \
                 `Running`/`Fenced!` and is not supported)",
                printable(l)
            )
        };
        let (port, rest) = rest.split_once(": ").ok_or_else(bad)?;
        let port: u8 = digits(port).ok_or_else(bad)?;
        let rest = rest.strip_prefix('P').ok_or_else(bad)?;
        let (p, rest) = rest.split_once(", R").ok_or_else(bad)?;
        let (r, f) = rest.split_once(", F").ok_or_else(bad)?;
        let flag = |v: &str| match digits::<u8>(v) {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(bad()),
        };
        let state = PortState {
            power: flag(p)?,
            reset: flag(r)?,
            feed: flag(f)?,
        };
        if out.insert(port, state).is_some() {
            return Err(format!("port {port:02} is reported twice"));
        }
    }
    Ok(out)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A device's text made safe for a terminal and a log: control characters
/// shown as `?`, at most 80 characters.
pub fn printable(s: &str) -> String {
    let mut out: String = s
        .trim_end()
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.trim_end().chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Drops telnet commands (IAC sequences) from what the device sends, as
/// Net::Telnet does; `IAC IAC` is a data byte 255. Nothing is answered:
/// NaOS negotiates no options.
#[derive(Default)]
struct TelnetFilter {
    state: Telnet,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Telnet {
    #[default]
    Data,
    Iac,
    Option,
    Sub,
    SubIac,
}

const IAC: u8 = 255;

impl TelnetFilter {
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            self.state = match (self.state, b) {
                (Telnet::Data, IAC) => Telnet::Iac,
                (Telnet::Data, _) => {
                    out.push(b);
                    Telnet::Data
                }
                (Telnet::Iac, IAC) => {
                    out.push(IAC);
                    Telnet::Data
                }
                // WILL, WONT, DO, DONT take one option byte.
                (Telnet::Iac, 251..=254) => Telnet::Option,
                (Telnet::Iac, 250) => Telnet::Sub,
                (Telnet::Iac, _) => Telnet::Data,
                (Telnet::Option, _) => Telnet::Data,
                (Telnet::Sub, IAC) => Telnet::SubIac,
                (Telnet::Sub, _) => Telnet::Sub,
                (Telnet::SubIac, 240) => Telnet::Data,
                (Telnet::SubIac, _) => Telnet::Sub,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lines_as_the_published_agent_reads_them() {
        let s = parse_states(
            "Node states:\r\n- Max Node: 04\r\n- Node 01: P0, R0, F1\r\n\
             - Node 02: P1, R0, F0\r\n- Node 03: P0, R0, F0\nEOM\r\n",
        )
        .unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[&2],
            PortState {
                power: true,
                reset: false,
                feed: false
            }
        );
        assert!(s[&1].feed && !s[&1].power);
    }

    #[test]
    fn anything_unexpected_is_an_error_not_a_guess() {
        for bad in [
            "- Node 02: P0, R0, F2\nEOM\n",
            "- Node 02: P0, R0, F\nEOM\n",
            "- Node 02: Running\nEOM\n",
            "- Node xx: P0, R0, F1\nEOM\n",
            "- Node 02: P0, R0, F1 extra\nEOM\n",
            "- Node 02: P0, R0, F1\n- Node 2: P0, R0, F0\nEOM\n",
        ] {
            assert!(parse_states(bad).is_err(), "{bad:?}");
        }
        // No state lines at all is not an error here; the caller needs its
        // port and refuses when it is missing.
        assert!(parse_states("garbage\nEOM\n").unwrap().is_empty());
    }

    #[test]
    fn eom_ends_an_answer_with_or_without_its_newline() {
        assert_eq!(eom_end(b"a\r\nEOM\r\nrest"), Some(8));
        assert_eq!(eom_end(b"a\nEOM"), Some(5));
        assert_eq!(eom_end(b"Node 02: fenced. EOM\n"), Some(21));
        assert_eq!(eom_end(b"a\nEO"), None);
        assert_eq!(eom_end(b"EOMX\n"), None);
    }

    #[test]
    fn telnet_commands_are_dropped() {
        let mut f = TelnetFilter::default();
        let mut out = Vec::new();
        // IAC WILL ECHO, data, IAC SB ... IAC SE, IAC IAC, split across pushes.
        f.push(&[255, 251], &mut out);
        f.push(&[1, b'o', b'k', 255, 250, 24, 1, 255], &mut out);
        f.push(&[240, 255, 255, b'!'], &mut out);
        assert_eq!(out, b"ok\xff!");
    }

    #[test]
    fn commands_are_two_digit_port_colon_state() {
        assert_eq!(command(2, SetState::Fence), "02:1");
        assert_eq!(command(12, SetState::Press), "12:2");
        assert_eq!(command(1, SetState::Release), "01:0");
        assert_eq!(command(3, SetState::ForceDown), "03:3");
    }

    #[test]
    fn printable_hides_control_characters_and_cuts() {
        assert_eq!(printable("a\x1b[2Jb\x07"), "a?[2Jb?");
        assert_eq!(printable(&"x".repeat(100)).chars().count(), 81);
    }
}
