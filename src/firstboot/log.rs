//! Syslog-style log lines (`Nov 25 17:45:10 an-node01
//! clusterkick-firstboot[1234]: message`), written to stderr and appended to
//! the config's log file, so that `tail -f` works as in the seed's 5.4.
//!
//! Time is local time from /etc/localtime (TZif), falling back to UTC. The
//! key is never passed to the logger; callers log names and states only,
//! and what a tool echoes is redacted here.

use crate::firstboot::file::O_NONBLOCK;
use crate::firstboot::redact::redact;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub const PROGRAM: &str = "clusterkick-firstboot";

/// Where syslog listens on EL5 (sysklogd) and on every Linux since.
pub const SYSLOG_SOCKET: &str = "/dev/log";

pub struct Logger {
    host: String,
    pid: u32,
    file: Option<File>,
    stderr: bool,
    /// syslog's socket, when lines also go to syslog.
    syslog: Option<std::os::unix::net::UnixDatagram>,
    /// Every line logged so far (used by `plan`-style callers and tests).
    lines: Vec<String>,
    utc_offset: Option<i64>,
}

impl Logger {
    /// A logger writing to stderr (if `stderr`) and appending to `path` (if
    /// given; the directory is created). A file that cannot be opened is
    /// reported once on stderr and otherwise ignored: logging must never stop
    /// the helper.
    pub fn new(host: &str, path: Option<&Path>, stderr: bool) -> Self {
        let file = path.and_then(|p| {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // Without blocking: a FIFO with no reader in its place must not
            // hang the helper (lines it cannot take are dropped).
            match OpenOptions::new()
                .create(true)
                .append(true)
                .custom_flags(O_NONBLOCK)
                .open(p)
            {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("{PROGRAM}: cannot open log file {}: {e}", p.display());
                    None
                }
            }
        });
        Logger {
            host: host.to_string(),
            pid: std::process::id(),
            file,
            stderr,
            syslog: None,
            lines: Vec::new(),
            utc_offset: None,
        }
    }

    /// Also sends every line to syslog (`/dev/log`, facility daemon), as a
    /// DRBD handler's messages belong there. Best effort: without a syslog
    /// daemon the lines still go to the log file; a full socket drops them
    /// rather than wait.
    pub fn with_syslog(mut self) -> Self {
        let sock = std::os::unix::net::UnixDatagram::unbound().and_then(|s| {
            s.connect(SYSLOG_SOCKET)?;
            s.set_nonblocking(true)?;
            Ok(s)
        });
        self.syslog = sock.ok();
        self
    }

    /// A logger that only keeps lines in memory.
    pub fn silent(host: &str) -> Self {
        let mut l = Logger::new(host, None, false);
        l.utc_offset = Some(0);
        l
    }

    /// Logs one line. A secret a tool echoed into it is hidden here, the
    /// last place before the journal ([`redact`]).
    pub fn info(&mut self, msg: impl AsRef<str>) {
        let msg = redact(msg.as_ref());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let offset = *self.utc_offset.get_or_insert_with(|| local_utc_offset(now));
        let line = format!(
            "{} {} {}[{}]: {}",
            syslog_time(now + offset),
            self.host,
            PROGRAM,
            self.pid,
            msg
        );
        // One write(2) per line and sink: a reader (journald on the
        // unit's stderr, `tail -f`) never wakes for half a line.
        let mut whole = Vec::with_capacity(line.len() + 1);
        whole.extend_from_slice(line.as_bytes());
        whole.push(b'\n');
        if self.stderr {
            let _ = std::io::stderr().write_all(&whole);
        }
        if let Some(f) = self.file.as_mut() {
            let _ = f.write_all(&whole);
        }
        if let Some(s) = self.syslog.as_ref() {
            // <30>: facility daemon (3), severity info (6). syslogd adds the
            // host name itself.
            let _ = s.send(
                format!(
                    "<30>{} {}[{}]: {}",
                    syslog_time(now + offset),
                    PROGRAM,
                    self.pid,
                    msg
                )
                .as_bytes(),
            );
        }
        self.lines.push(line);
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `%b %e %H:%M:%S` for seconds since the epoch (already shifted to local).
pub fn syslog_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (_, month, day) = civil_from_days(days);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm: (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The UTC offset in seconds at `now` from /etc/localtime, or 0.
fn local_utc_offset(now: i64) -> i64 {
    std::fs::read("/etc/localtime")
        .ok()
        .and_then(|b| tzif_offset(&b, now))
        .unwrap_or(0)
}

fn be32(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at + 4)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]) as i64)
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(i64::from_be_bytes(s))
}

/// Offset from a TZif file (v1 data, or the v2+ 64-bit block when present):
/// the type of the last transition at or before `now`, else the first type.
/// The POSIX TZ footer is not evaluated (times past the last transition keep
/// its offset).
pub fn tzif_offset(b: &[u8], now: i64) -> Option<i64> {
    if b.get(0..4)? != b"TZif" {
        return None;
    }
    let counts = |base: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (i, v) in c.iter_mut().enumerate() {
            *v = usize::try_from(be32(b, base + 20 + i * 4)?).ok()?;
        }
        Some(c)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0)?;
    let v1_len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    let (base, tsize, [_, _, _, timecnt, typecnt, _]) = if b[4] >= b'2' {
        let base = 44 + v1_len;
        (base, 8, counts(base)?)
    } else {
        (0, 4, [isut, isstd, leap, timecnt, typecnt, charcnt])
    };
    let data = base + 44;
    let idx_at = data + timecnt * tsize;
    let types_at = idx_at + timecnt;
    let mut ty = 0usize;
    for i in 0..timecnt {
        let t = if tsize == 8 {
            be64(b, data + i * 8)?
        } else {
            be32(b, data + i * 4)?
        };
        if t <= now {
            ty = *b.get(idx_at + i)? as usize;
        } else {
            break;
        }
    }
    if ty >= typecnt {
        return None;
    }
    be32(b, types_at + ty * 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_time_format() {
        // 2009-11-25 17:45:10 UTC
        assert_eq!(syslog_time(1_259_171_110), "Nov 25 17:45:10");
        // Day padded with a space.
        assert_eq!(syslog_time(1_273_017_600), "May  5 00:00:00");
    }

    #[test]
    fn logger_keeps_lines() {
        let mut l = Logger::silent("an-node01");
        l.info("step cman: starting");
        assert!(l.lines()[0].contains(" an-node01 clusterkick-firstboot["));
        assert!(l.lines()[0].ends_with("]: step cman: starting"));
    }

    #[test]
    fn tzif_v1_minimal() {
        // One transition at t=100 to type 1 (+3600); type 0 is UTC.
        let mut b = b"TZif".to_vec();
        b.push(0);
        b.extend([0u8; 15]);
        for c in [0u32, 0, 0, 1, 2, 4] {
            b.extend(c.to_be_bytes());
        }
        b.extend(100i32.to_be_bytes());
        b.push(1);
        b.extend(0i32.to_be_bytes());
        b.extend([0, 0]);
        b.extend(3600i32.to_be_bytes());
        b.extend([0, 0]);
        b.extend(b"UTC\0");
        assert_eq!(tzif_offset(&b, 50), Some(0));
        assert_eq!(tzif_offset(&b, 200), Some(3600));
        assert_eq!(tzif_offset(b"nope", 0), None);
    }
}
