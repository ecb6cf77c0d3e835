//! The agent's own config: which Node Assassins exist, the TCP port each
//! listens on, the login and password fenced must present, how many ports
//! each has, and every timeout.
//!
//! It holds a password, so [`load`] refuses a file that is not a regular
//! file (symbolic links included), that group or others may access, or that
//! someone other than root or the caller owns; it reads at most
//! [`MAX_CONFIG_BYTES`]. Parse errors give file:line:col and never the
//! value of a `passwd` line.

use super::error::Error;
use super::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// Where the overlay writes it on the node (mode 0600, root).
pub const DEFAULT_CONFIG_PATH: &str = "/etc/clusterkick/fence_na.toml";

/// A config is a few hundred bytes; anything past this is refused.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// The TCP port Node Assassin listens on unless told otherwise (NaOS's
/// `#define PORT 238`, the published agent's `tcp_port => "238"`).
pub const DEFAULT_TCP_PORT: u16 = 238;

/// Ports per device in the published sample config (`na::1::max_nodes = 4`).
pub const DEFAULT_MAX_NODES: u8 = 4;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// One entry per Node Assassin (`[[device]]`).
    #[serde(rename = "device", default)]
    pub devices: Vec<DeviceConfig>,
    #[serde(default)]
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// A name for messages, e.g. "motoko" (cluster.conf's fencedevice name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address or host name exactly as cluster.conf's fencedevice `ipaddr`
    /// gives it (compared without regard to case): fenced's `ipaddr=` picks
    /// the entry.
    pub ipaddr: String,
    /// TCP port the device listens on.
    #[serde(default = "default_tcp_port")]
    pub tcp_port: u16,
    /// The login fenced must pass (fencedevice `login`).
    pub login: String,
    /// The password fenced must pass (fencedevice `passwd`, or what its
    /// `passwd_script` prints).
    pub passwd: Secret,
    /// Ports on this device: valid `port=` values are 1..=max_nodes.
    #[serde(default = "default_max_nodes")]
    pub max_nodes: u8,
    /// Optional names per port for `list`, e.g. `1 = "an-node01.alteeve.com"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, String>,
}

/// Every wait the agent makes. `total_secs` bounds a whole run, not counting
/// `delay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Per connection attempt (TCP handshake).
    pub connect_secs: u64,
    /// Per read: the device must send something within this (the published
    /// agent's Net::Telnet `Timeout => 10`).
    pub read_secs: u64,
    /// After the fence command, how long the port may keep its power feed
    /// before the fence counts as failed. The device itself holds the power
    /// switch for up to 30 s before giving up (published agent's man page).
    pub power_off_secs: u64,
    /// After a boot press, how long until the feed must be back.
    pub power_on_secs: u64,
    /// The whole run, from start to exit, `delay` not counted.
    pub total_secs: u64,
    /// Between two state reads while waiting for the feed to change.
    pub poll_ms: u64,
    /// Between releasing a held switch and pressing power again (the
    /// published agent's `sleep` between `PP:0` and `PP:2`).
    pub settle_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_secs: 5,
            read_secs: 10,
            power_off_secs: 35,
            power_on_secs: 30,
            total_secs: 120,
            poll_ms: 1000,
            settle_ms: 1000,
        }
    }
}

impl Timeouts {
    pub fn connect(&self) -> Duration {
        Duration::from_secs(self.connect_secs)
    }
    pub fn read(&self) -> Duration {
        Duration::from_secs(self.read_secs)
    }
    pub fn power_off(&self) -> Duration {
        Duration::from_secs(self.power_off_secs)
    }
    pub fn power_on(&self) -> Duration {
        Duration::from_secs(self.power_on_secs)
    }
    pub fn total(&self) -> Duration {
        Duration::from_secs(self.total_secs)
    }
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }
}

fn default_tcp_port() -> u16 {
    DEFAULT_TCP_PORT
}

fn default_max_nodes() -> u8 {
    DEFAULT_MAX_NODES
}

impl DeviceConfig {
    /// The name used in messages: `name`, else `ipaddr`.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.ipaddr)
    }

    /// The alias for `port`, if the config gives one.
    pub fn alias(&self, port: u8) -> Option<&str> {
        self.aliases
            .iter()
            .find(|(k, _)| k.parse::<u8>().ok() == Some(port))
            .map(|(_, v)| v.as_str())
    }
}

impl Config {
    /// The device fenced means by `ipaddr` (case-insensitive, as the
    /// published agent compares).
    pub fn device(&self, ipaddr: &str) -> Option<&DeviceConfig> {
        self.devices
            .iter()
            .find(|d| d.ipaddr.eq_ignore_ascii_case(ipaddr.trim()))
    }
}

/// Opens, checks and parses the config at `path`.
pub fn load(path: &Path) -> Result<Config, Error> {
    let err = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
    };
    use rustix::fs::{Mode, OFlags};
    // NOFOLLOW: a symbolic link is refused, not followed; NONBLOCK: a FIFO
    // put in its place cannot stall the agent before the type check below.
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        err(if e == rustix::io::Errno::LOOP {
            "is a symbolic link; refused (it holds a password: give the file itself)".into()
        } else {
            format!("cannot open: {e}")
        })
    })?;
    let file = std::fs::File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| err(format!("cannot stat: {e}")))?;
    if !meta.file_type().is_file() {
        return Err(err("is not a regular file".into()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "has mode {mode:04o}; it holds the device password, so group and others must \
             have no access: chmod 600 {}",
            path.display()
        )));
    }
    let euid = rustix::process::geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(err(format!(
            "is owned by uid {}; it must belong to root (or to the user running the agent)",
            meta.uid()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(err(format!(
            "is larger than {MAX_CONFIG_BYTES} bytes; refused"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| err("is not UTF-8 text".into()))?;
    parse(&text).map_err(|e| match e.at {
        Some((line, col)) => Error::ConfigAt {
            path: path.to_path_buf(),
            line,
            col,
            message: e.message,
        },
        None => err(e.message),
    })
}

/// Why config text was refused: where (line, column) when TOML itself
/// failed, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((l, c)) => write!(f, "{l}:{c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses and checks config text. Errors start with `line:col:` when TOML
/// itself fails, or name the key (`device[2].max_nodes`) when a value is
/// out of range.
pub fn parse(text: &str) -> Result<Config, ParseError> {
    let cfg: Config = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    check(&cfg).map_err(|message| ParseError { at: None, message })?;
    Ok(cfg)
}

/// toml's message without its source excerpt, and its position;
/// on a line that sets `passwd`, or when the message would quote a password,
/// the message says so and shows nothing of the value.
fn syntax_error(text: &str, e: &toml::de::Error) -> ParseError {
    let (line, col) = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    };
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let message = e.message().trim().to_string();
    let leaks = password_values(text)
        .iter()
        .any(|v| !v.is_empty() && message.contains(v.as_str()));
    let message = if sets_passwd(line_text) || leaks {
        "the `passwd` value is not valid (write it as a quoted TOML string); the value is not shown"
            .to_string()
    } else {
        message
    };
    ParseError {
        at: Some((line, col)),
        message,
    }
}

fn sets_passwd(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches(['"', '\'']);
    t.starts_with("passwd")
}

/// Whatever follows `=` on lines that set `passwd`, quotes removed.
fn password_values(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| sets_passwd(l))
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.trim().trim_matches(['"', '\'']).to_string())
        .collect()
}

fn check(cfg: &Config) -> Result<(), String> {
    if cfg.devices.is_empty() {
        return Err(
            "no [[device]] entry: give each Node Assassin's ipaddr, login and passwd".into(),
        );
    }
    for (i, d) in cfg.devices.iter().enumerate() {
        let key = |k: &str| format!("device[{}].{k}", i + 1);
        if d.ipaddr.trim().is_empty() {
            return Err(format!(
                "{}: empty; give the address cluster.conf uses",
                key("ipaddr")
            ));
        }
        if cfg.devices[..i]
            .iter()
            .any(|o| o.ipaddr.eq_ignore_ascii_case(d.ipaddr.trim()))
        {
            return Err(format!(
                "{}: `{}` is given twice; each device once",
                key("ipaddr"),
                d.ipaddr
            ));
        }
        if d.tcp_port == 0 {
            return Err(format!(
                "{}: 0 is not a port; Node Assassin listens on {DEFAULT_TCP_PORT}",
                key("tcp_port")
            ));
        }
        if d.login.is_empty() {
            return Err(format!("{}: empty", key("login")));
        }
        if d.passwd.is_empty() {
            return Err(format!("{}: empty", key("passwd")));
        }
        if !(1..=99).contains(&d.max_nodes) {
            return Err(format!(
                "{}: {} is out of range; ports are two digits, 1 to 99",
                key("max_nodes"),
                d.max_nodes
            ));
        }
        for k in d.aliases.keys() {
            match k.parse::<u8>() {
                Ok(p) if (1..=d.max_nodes).contains(&p) => {}
                _ => {
                    return Err(format!(
                        "{}: key `{k}` is not a port from 1 to {}",
                        key("aliases"),
                        d.max_nodes
                    ))
                }
            }
        }
    }
    let t = &cfg.timeouts;
    for (k, v) in [
        ("connect_secs", t.connect_secs),
        ("read_secs", t.read_secs),
        ("power_off_secs", t.power_off_secs),
        ("power_on_secs", t.power_on_secs),
        ("total_secs", t.total_secs),
    ] {
        if !(1..=3600).contains(&v) {
            return Err(format!(
                "timeouts.{k}: {v} is out of range; give 1 to 3600 seconds"
            ));
        }
    }
    for (k, v) in [("poll_ms", t.poll_ms), ("settle_ms", t.settle_ms)] {
        if !(10..=60_000).contains(&v) {
            return Err(format!(
                "timeouts.{k}: {v} is out of range; give 10 to 60000"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[device]]
name = "motoko"
ipaddr = "motoko.alteeve.com"
login = "motoko"
passwd = "pw-in-config"

[device.aliases]
1 = "an-node01.alteeve.com"
2 = "an-node02.alteeve.com"
"#;

    #[test]
    fn defaults_are_the_published_agents() {
        let c = parse(GOOD).unwrap();
        let d = c.device("MOTOKO.alteeve.com").unwrap();
        assert_eq!(d.tcp_port, 238);
        assert_eq!(d.max_nodes, 4);
        assert_eq!(d.alias(2), Some("an-node02.alteeve.com"));
        assert_eq!(d.alias(3), None);
        assert_eq!(c.timeouts, Timeouts::default());
        assert!(c.device("other").is_none());
    }

    #[test]
    fn errors_give_position_and_never_the_password() {
        // An unterminated string on the passwd line.
        let bad = GOOD.replace("\"pw-in-config\"", "\"pw-in-config");
        let m = parse(&bad).unwrap_err().to_string();
        assert!(m.starts_with("6:"), "{m}");
        assert!(!m.contains("pw-in-config"), "{m}");
        // A password written as a bare word.
        let bad = GOOD.replace("\"pw-in-config\"", "pw-in-config");
        let m = parse(&bad).unwrap_err().to_string();
        assert!(!m.contains("pw-in-config"), "{m}");
        // A number where a string belongs: toml would quote it.
        let bad = GOOD.replace("\"pw-in-config\"", "918273645");
        let m = parse(&bad).unwrap_err().to_string();
        assert!(!m.contains("918273645"), "{m}");
        // Elsewhere the message is toml's, with the position.
        let bad = GOOD.replace("login =", "loign =");
        let m = parse(&bad).unwrap_err().to_string();
        assert!(m.contains("loign"), "{m}");
        assert!(m.starts_with("5:"), "{m}");
    }

    #[test]
    fn ranges_name_the_key() {
        let m = parse(&format!("{GOOD}\n[timeouts]\nread_secs = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(m.starts_with("timeouts.read_secs: 0"), "{m}");
        let m = parse(&GOOD.replace("[device.aliases]", "max_nodes = 0\n[device.aliases]"))
            .unwrap_err()
            .to_string();
        assert!(m.starts_with("device[1].max_nodes"), "{m}");
        let m = parse(&GOOD.replace("2 = ", "7 = "))
            .unwrap_err()
            .to_string();
        assert!(m.contains("key `7`"), "{m}");
        let twice = format!(
            "{GOOD}\n[[device]]\nipaddr = \"Motoko.alteeve.com\"\nlogin = \"a\"\npasswd = \"b\"\n"
        );
        assert!(parse(&twice).unwrap_err().message.contains("given twice"));
        assert!(parse("").unwrap_err().message.contains("no [[device]]"));
    }
}
