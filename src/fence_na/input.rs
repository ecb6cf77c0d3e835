//! What the agent is asked to do, from fenced's stdin or from a command line.
//!
//! fenced (and fence_node) write `key=value` lines to the agent's stdin and
//! close it: the victim's `<device>` attributes, then the `<fencedevice>`'s
//! (`name=` left out, `agent=` included). Per the FenceAgentAPI, `#` lines
//! are comments, the last of repeated keys wins, and keys the agent does not
//! know are ignored (as the 2010 Node Assassin agent ended up doing, so that
//! `quiet`, `nodename`, `agent` ... never break a fence).
//!
//! With any of `-a -l -p -S -n -o --delay` on the command line the agent
//! reads no stdin, as the published agent did.

use super::error::Error;
use super::secret::Secret;
use clap::Parser;
use std::path::PathBuf;

/// fenced passes a few hundred bytes (its buffer is 512); more is refused.
pub const MAX_STDIN_BYTES: usize = 64 * 1024;

/// The longest `delay` accepted. fenced has no timeout on its agents, so a
/// larger value would only stall fencing.
pub const MAX_DELAY_SECS: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Off,
    On,
    Reboot,
    Status,
    Monitor,
    List,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "off" => Self::Off,
            "on" => Self::On,
            "reboot" => Self::Reboot,
            "status" => Self::Status,
            "monitor" => Self::Monitor,
            "list" => Self::List,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::On => "on",
            Self::Reboot => "reboot",
            Self::Status => "status",
            Self::Monitor => "monitor",
            Self::List => "list",
        }
    }

    /// `delay` is a head start for the survivor of a split: it applies to
    /// the actions that take a node down, never to a status or an `on`.
    pub fn honours_delay(self) -> bool {
        matches!(self, Self::Off | Self::Reboot)
    }

    /// Actions about one node need its port.
    pub fn needs_port(self) -> bool {
        !matches!(self, Self::Monitor | Self::List)
    }
}

/// One request, whichever way it came.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: Action,
    pub port: Option<u8>,
    pub ipaddr: String,
    pub login: String,
    pub passwd: Option<Secret>,
    pub passwd_script: Option<String>,
    pub delay_secs: u64,
    pub quiet: bool,
    /// stdin lines the agent does not use (unknown keys, no `=`), reported
    /// with -v by number only.
    pub ignored: Vec<usize>,
}

/// Parses fenced's stdin. When `action` is absent it is `reboot`, the
/// default every EL5 agent has (fencing.py's `-o` default): cluster.conf
/// need not say it.
pub fn parse_stdin(bytes: &[u8]) -> Result<Request, Error> {
    if bytes.len() > MAX_STDIN_BYTES {
        return Err(Error::Usage(format!(
            "stdin: more than {MAX_STDIN_BYTES} bytes; fenced passes a few key=value lines"
        )));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::Usage("stdin: not UTF-8 text".into()))?;
    let mut raw = Raw::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            raw.ignored.push(n);
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let slot = match key {
            "action" | "option" => &mut raw.action,
            "port" => &mut raw.port,
            "ipaddr" => &mut raw.ipaddr,
            "login" => &mut raw.login,
            "passwd" => &mut raw.passwd,
            "passwd_script" => &mut raw.passwd_script,
            "delay" => &mut raw.delay,
            "quiet" => &mut raw.quiet,
            _ => {
                // Named by line only: even a key could be a pasted password.
                raw.ignored.push(n);
                continue;
            }
        };
        *slot = Some((n, value.to_string()));
    }
    raw.finish(Source::Stdin)
}

/// The command line, for an operator (`fence_na -a ... -n 2 -o status`).
#[derive(Debug, Parser)]
#[command(
    name = "fence_na",
    about = "Node Assassin fence agent (clusterkick). Reads key=value lines on stdin \
             as fenced passes them, or takes the options below.",
    disable_version_flag = true,
    after_help = "Exit status: 0 success (status: the port has power), 1 failure, \
                  2 status: the port has no power. See docs/fence_na.md."
)]
pub struct Cli {
    /// Node Assassin address, as in the config's `ipaddr` (stdin: ipaddr=).
    #[arg(short = 'a', value_name = "ADDRESS")]
    pub ipaddr: Option<String>,
    /// Login (stdin: login=).
    #[arg(short = 'l', value_name = "LOGIN")]
    pub login: Option<String>,
    /// Password (stdin: passwd=). Other users can see it in `ps`: prefer -S.
    #[arg(short = 'p', value_name = "PASSWORD")]
    pub passwd: Option<String>,
    /// Command whose first line of output is the password (stdin: passwd_script=).
    #[arg(short = 'S', value_name = "COMMAND")]
    pub passwd_script: Option<String>,
    /// Port (node) number on the device, 1-99 (stdin: port=).
    #[arg(short = 'n', value_name = "PORT")]
    pub port: Option<String>,
    /// off, on, reboot, status, monitor or list (stdin: action=).
    #[arg(short = 'o', value_name = "ACTION")]
    pub action: Option<String>,
    /// Seconds to wait before an off or reboot (stdin: delay=).
    #[arg(long, value_name = "SECONDS")]
    pub delay: Option<String>,
    /// The agent's config file.
    #[arg(long, value_name = "PATH", default_value = super::config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Print only errors (stdin: quiet=).
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Tell on stderr what is sent and read (never the password).
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Print the version and exit.
    #[arg(short = 'V', long = "version")]
    pub version: bool,
}

impl Cli {
    /// True when the command line says what to do (stdin is then not read).
    pub fn has_request(&self) -> bool {
        self.ipaddr.is_some()
            || self.login.is_some()
            || self.passwd.is_some()
            || self.passwd_script.is_some()
            || self.port.is_some()
            || self.action.is_some()
            || self.delay.is_some()
    }

    pub fn request(&self) -> Result<Request, Error> {
        let opt = |v: &Option<String>| v.as_ref().map(|s| (0, s.clone()));
        let raw = Raw {
            action: opt(&self.action),
            port: opt(&self.port),
            ipaddr: opt(&self.ipaddr),
            login: opt(&self.login),
            passwd: opt(&self.passwd),
            passwd_script: opt(&self.passwd_script),
            delay: opt(&self.delay),
            quiet: self.quiet.then(|| (0, "1".to_string())),
            ignored: Vec::new(),
        };
        raw.finish(Source::CommandLine)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Source {
    Stdin,
    CommandLine,
}

/// Values as given, with the stdin line each came from (0: command line).
/// Error messages name the key and the line, never the value: a password
/// pasted into the wrong key must not reach fenced's syslog.
#[derive(Default)]
struct Raw {
    action: Option<(usize, String)>,
    port: Option<(usize, String)>,
    ipaddr: Option<(usize, String)>,
    login: Option<(usize, String)>,
    passwd: Option<(usize, String)>,
    passwd_script: Option<(usize, String)>,
    delay: Option<(usize, String)>,
    quiet: Option<(usize, String)>,
    ignored: Vec<usize>,
}

impl Raw {
    fn finish(self, source: Source) -> Result<Request, Error> {
        let at = |n: usize, key: &str, flag: &str| {
            if source == Source::Stdin {
                format!("stdin line {n}: `{key}`")
            } else {
                format!("option {flag}")
            }
        };
        let missing = |key: &str, flag: &str| {
            Error::Usage(if source == Source::Stdin {
                format!("stdin: no `{key}=` line")
            } else {
                format!("option {flag} is required")
            })
        };
        let action = match &self.action {
            Some((n, v)) => Action::parse(v).ok_or_else(|| {
                Error::Usage(format!(
                    "{} is not an action; give off, on, reboot, status, monitor or list",
                    at(*n, "action", "-o")
                ))
            })?,
            None if source == Source::Stdin => Action::Reboot,
            None => return Err(missing("action", "-o")),
        };
        let port = match &self.port {
            Some((n, v)) => Some(
                parse_port(v)
                    .map_err(|why| Error::Usage(format!("{} {why}", at(*n, "port", "-n"))))?,
            ),
            None if action.needs_port() => return Err(missing("port", "-n")),
            None => None,
        };
        let ipaddr = match self.ipaddr {
            Some((_, v)) if !v.is_empty() => v,
            _ => return Err(missing("ipaddr", "-a")),
        };
        let login = match self.login {
            Some((_, v)) if !v.is_empty() => v,
            _ => return Err(missing("login", "-l")),
        };
        let passwd = self.passwd.map(|(_, v)| Secret::new(v));
        let passwd_script = self.passwd_script.map(|(_, v)| v).filter(|v| !v.is_empty());
        if passwd.is_none() && passwd_script.is_none() {
            return Err(Error::Usage(if source == Source::Stdin {
                "stdin: neither `passwd=` nor `passwd_script=`".into()
            } else {
                "give the password with -p or -S".into()
            }));
        }
        let delay_secs = match &self.delay {
            Some((n, v)) => parse_delay(v)
                .map_err(|why| Error::Usage(format!("{} {why}", at(*n, "delay", "--delay"))))?,
            None => 0,
        };
        // The 2010 agent took any `quiet=` as quiet; so do we, except an
        // explicit 0/false/no.
        let quiet = self.quiet.is_some_and(|(_, v)| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        });
        Ok(Request {
            action,
            port,
            ipaddr,
            login,
            passwd,
            passwd_script,
            delay_secs,
            quiet,
            ignored: self.ignored,
        })
    }
}

/// `2` or `02` (cluster.conf writes either); 1 to 99.
pub fn parse_port(v: &str) -> Result<u8, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a port: give the node's number on the device, 1 to 99".into());
    }
    match v.parse::<u8>() {
        Ok(0) => Err("is not a port: 00 asks the device for its state; nodes start at 01".into()),
        Ok(p) => Ok(p),
        Err(_) => Err("is not a port".into()),
    }
}

/// Whole seconds, 0 to [`MAX_DELAY_SECS`].
pub fn parse_delay(v: &str) -> Result<u64, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "is not a delay: give whole seconds, 0 to {MAX_DELAY_SECS}"
        ));
    }
    match v.parse::<u64>() {
        Ok(d) if d <= MAX_DELAY_SECS => Ok(d),
        _ => Err(format!(
            "is too long: at most {MAX_DELAY_SECS} seconds (fenced waits for the agent with no limit)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdin(s: &str) -> Result<Request, Error> {
        parse_stdin(s.as_bytes())
    }

    #[test]
    fn fenced_input_as_the_seed_passes_it() {
        // EL5 fenced: the <device> attributes, then the <fencedevice>'s,
        // name= left out.
        let r = stdin(
            "port=02\naction=off\nagent=fence_na\nipaddr=motoko.alteeve.com\n\
             login=motoko\npasswd=secret\nquiet=true\n",
        )
        .unwrap();
        assert_eq!(r.action, Action::Off);
        assert_eq!(r.port, Some(2));
        assert_eq!(r.ipaddr, "motoko.alteeve.com");
        assert_eq!(r.login, "motoko");
        assert!(r.passwd.unwrap().matches(&Secret::new("secret".into())));
        assert!(r.quiet);
        assert_eq!(r.delay_secs, 0);
        assert_eq!(r.ignored, vec![3], "agent=");
    }

    #[test]
    fn api_rules_comments_whitespace_last_wins_alias_unknown() {
        let r = stdin(
            "# a comment\n\n  option = on \nport=1\nport=3\nnodename=an-node02\n\
             ipaddr=a\nlogin=l\npasswd= p w \ndelay=15\nno equals sign\n",
        )
        .unwrap();
        assert_eq!(r.action, Action::On);
        assert_eq!(r.port, Some(3));
        assert_eq!(r.delay_secs, 15);
        // The value is trimmed at both ends, inner spaces kept.
        assert!(r.passwd.unwrap().matches(&Secret::new("p w".into())));
        assert_eq!(r.ignored, vec![6, 11], "nodename= and a line without =");
        assert!(!r.quiet);
    }

    #[test]
    fn action_defaults_to_reboot_on_stdin_only() {
        let r = stdin("port=1\nipaddr=a\nlogin=l\npasswd=p\n").unwrap();
        assert_eq!(r.action, Action::Reboot);
        let cli =
            Cli::try_parse_from(["fence_na", "-a", "a", "-l", "l", "-p", "p", "-n", "1"]).unwrap();
        assert!(cli.has_request());
        let e = cli.request().unwrap_err().to_string();
        assert!(e.contains("-o is required"), "{e}");
    }

    #[test]
    fn bad_values_name_the_line_and_never_a_password() {
        let e = stdin("action=halt\nport=1\nipaddr=a\nlogin=l\npasswd=p\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("stdin line 1: `action` is not an action"),
            "{e}"
        );
        for bad in ["0", "00", "100", "-1", "two", ""] {
            let e = stdin(&format!(
                "port={bad}\nipaddr=a\nlogin=l\npasswd=zzsecretzz\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("`port`"), "{bad}: {e}");
            assert!(!e.contains("zzsecretzz"), "{e}");
        }
        for bad in ["601", "-5", "1.5", "x"] {
            let e = stdin(&format!(
                "port=1\nipaddr=a\nlogin=l\npasswd=p\ndelay={bad}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("`delay`"), "{bad}: {e}");
        }
        let e = stdin("port=1\nipaddr=a\nlogin=l\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("passwd"), "{e}");
        assert!(stdin("port=1\nipaddr=a\npasswd=p\n").is_err());
        assert!(stdin(&"x".repeat(MAX_STDIN_BYTES + 1)).is_err());
        assert!(parse_stdin(b"port=1\xff\n").is_err());
    }

    #[test]
    fn monitor_and_list_need_no_port() {
        let r = stdin("action=list\nipaddr=a\nlogin=l\npasswd_script=/bin/true\n").unwrap();
        assert_eq!((r.action, r.port), (Action::List, None));
        assert!(stdin("action=status\nipaddr=a\nlogin=l\npasswd=p\n").is_err());
    }

    #[test]
    fn only_off_and_reboot_wait_for_delay() {
        use Action::*;
        let waits: Vec<_> = [Off, On, Reboot, Status, Monitor, List]
            .into_iter()
            .filter(|a| a.honours_delay())
            .collect();
        assert_eq!(waits, vec![Off, Reboot]);
    }
}
