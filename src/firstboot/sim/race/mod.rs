//! The split race (test-only, cargo feature `sim`): both nodes of a pair
//! lose each other at the same moment, and both try to fence the other
//! through fenced and through DRBD's fence-peer handler. Which one
//! survives?
//!
//! Modelled, in virtual time ([`sched`]): the links (the cluster's and
//! DRBD's, cut together or one alone), when each node notices (cman: token
//! 10 s + consensus 4.8 s; DRBD: ping-int 10 s + ping-timeout 0.5 s, the
//! defaults of the seed's versions), fenced (`post_fail_delay`, then the
//! victim's methods and devices from cluster.conf, the agent fed the
//! `key=value` lines agent.c writes, retried every 5 s for ever), DRBD (a
//! Primary that loses its peer freezes I/O and runs the fence-peer handler;
//! exit 7 resumes I/O, anything else keeps it frozen), `fence_node` (one
//! pass over the methods), the fence devices (a Node Assassin whose fence
//! command drops the node's power 4 s later; an iLO-style management
//! board), and power: a node without power runs nothing more, so its own
//! pending fence never completes.
//!
//! Not modelled but run: the helper's own code. `fence_na` decides with
//! [`crate::fence_na::respond`] (stdin parsing, credentials, `delay`, the
//! off-and-verify loop) against the simulated Node Assassin;
//! `fence_clusterkick` is [`crate::fence_wrap::wrap`]; the handler is the
//! platform's `fence_peer` (el5: `fence_node` under a limit, retries,
//! exit 7 only on success). The shipped agent is a model of the 2009
//! fencing.py agents (`fence_ilo`): any stdin key it does not know (such
//! as `delay`) is a parse error, exit 2.

pub mod conf;
pub mod sched;

use crate::fence_na;
use crate::fence_na::actions::Clock;
use crate::fence_na::device::{Device, PortState, SetState};
use crate::fence_wrap;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::host::{Argv, CmdResult, Host};
use crate::firstboot::log::Logger;
use crate::firstboot::platform;
use crate::firstboot::real::Ended as ChildEnded;
use crate::firstboot::state::State;
use crate::firstboot::step::FencePeerRequest;
use conf::ClusterConf;
use sched::{Ended, Sched, Task, Timeline};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a node's cman and DRBD look at their links (the grid the
/// detections fall on; the same for both nodes).
const POLL: Duration = Duration::from_millis(100);
/// cman notices a lost member after the token timeout and consensus (cman
/// 2.0's defaults, seen in the seed's log: token 10000, consensus 4800).
pub const CMAN_DETECT: Duration = Duration::from_millis(14_800);
/// DRBD 8.3 notices a dead link when a ping goes unanswered: ping-int 10 s
/// plus ping-timeout 0.5 s (its defaults).
pub const DRBD_DETECT: Duration = Duration::from_millis(10_500);
/// fenced's pause between failed attempts (recover.c: sleep(5)).
const FENCED_RETRY: Duration = Duration::from_secs(5);
/// A Node Assassin's fence holds the node's power button: an ATX supply
/// cuts the power after 4 s.
pub const NA_OFF_LAG: Duration = Duration::from_secs(4);
/// A management board cuts the power about a second after the command.
pub const BMC_OFF_LAG: Duration = Duration::from_secs(1);
/// Where the agent's config is on a node (for its messages).
const NA_CONFIG: &str = "/etc/clusterkick/fence_na.toml";

/// What happens, and where.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// cluster.conf, as both nodes have it.
    pub cluster_conf: String,
    /// The nodes' first-boot configs (for the handler: peer, resource).
    pub nodes: [FirstbootConfig; 2],
    /// The fence agents in each node's /sbin.
    pub installed: Vec<String>,
    /// The cluster's link (cman) is cut at time 0.
    pub cut_cluster: bool,
    /// DRBD's link is cut at time 0.
    pub cut_drbd: bool,
    /// How much later than the other each node notices (per node, in the
    /// order of `nodes`).
    pub notice_later: [Duration; 2],
    /// The limit the handler runs `fence_node` under.
    pub handler_limit: Duration,
    /// How long to run.
    pub until: Duration,
}

/// One successful fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub at: Duration,
    pub by: String,
    pub victim: String,
    /// "fenced" or "drbd-fence-peer".
    pub path: String,
}

/// A node at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEnd {
    pub powered: bool,
    pub off_at: Option<Duration>,
    /// DRBD froze I/O (a Primary that lost its peer).
    pub frozen_at: Option<Duration>,
    /// DRBD let I/O go on again (the handler exited 7).
    pub resumed_at: Option<Duration>,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Report {
    /// By node name (cluster.conf's).
    pub nodes: BTreeMap<String, NodeEnd>,
    pub fences: Vec<Fence>,
    /// Both nodes wrote to their disks while apart, at one moment.
    pub split_brain: bool,
    /// Everything, in order, with the virtual time.
    pub log: Vec<String>,
    /// How each task ended: (task, node, how).
    pub tasks: Vec<(String, String, Ended)>,
}

impl Report {
    pub fn survivors(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.powered)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

struct NodeState {
    powered: bool,
    off_at: Option<Duration>,
    frozen_at: Option<Duration>,
    resumed_at: Option<Duration>,
}

/// A management board: the node it powers and the credentials it takes.
struct Bmc {
    node: String,
    login: String,
    passwd: String,
}

/// The world the tasks act on.
pub struct RaceWorld {
    nodes: BTreeMap<String, NodeState>,
    cluster_cut: bool,
    drbd_cut: bool,
    /// Power losses to come: (when, node).
    pending: Vec<(Duration, String)>,
    /// Node Assassin ports: (device ipaddr, port) -> node.
    na_ports: BTreeMap<(String, u8), String>,
    na_held: BTreeSet<(String, u8)>,
    bmcs: BTreeMap<String, Bmc>,
    split_brain: bool,
    log: Vec<String>,
    fences: Vec<Fence>,
}

fn stamp(t: Duration) -> String {
    format!("[{:>7.3} s]", t.as_secs_f64())
}

impl RaceWorld {
    fn note(&mut self, t: Duration, who: &str, what: impl AsRef<str>) {
        self.log
            .push(format!("{} {who}: {}", stamp(t), what.as_ref()));
    }

    /// When `me` lost its peer on a link (the link cut, or the peer's power
    /// gone), if it did.
    fn lost_at(&self, me: &str, cut: bool) -> Option<Duration> {
        let peer = self.nodes.keys().find(|k| k.as_str() != me)?;
        let off = self.nodes[peer].off_at;
        match (cut, off) {
            (true, _) => Some(Duration::ZERO),
            (false, off) => off,
        }
    }

    fn schedule_off(&mut self, at: Duration, node: &str) {
        if self.nodes.get(node).is_some_and(|n| n.powered)
            && !self.pending.iter().any(|(_, n)| n == node)
        {
            self.pending.push((at, node.to_string()));
        }
    }
}

impl Timeline for RaceWorld {
    fn next_event(&self) -> Option<Duration> {
        self.pending.iter().map(|(t, _)| *t).min()
    }

    fn advance_to(&mut self, t: Duration) {
        let mut due: Vec<(Duration, String)> = self
            .pending
            .iter()
            .filter(|(at, _)| *at <= t)
            .cloned()
            .collect();
        due.sort();
        self.pending.retain(|(at, _)| *at > t);
        for (at, node) in due {
            if let Some(n) = self.nodes.get_mut(&node) {
                if n.powered {
                    n.powered = false;
                    n.off_at = Some(at);
                    self.note(at, &node, "POWER OFF (its fence device cut the power)");
                }
            }
        }
    }

    fn alive(&self, node: &str) -> bool {
        self.nodes.get(node).is_some_and(|n| n.powered)
    }
}

/// What every task reads.
struct Env {
    conf: ClusterConf,
    na: fence_na::config::Config,
    installed: BTreeSet<String>,
}

/// The Node Assassin agent's clock: the task's.
struct VClock<'a>(&'a mut Task<RaceWorld>);

impl Clock for VClock<'_> {
    fn now(&self) -> Instant {
        self.0.instant()
    }
    fn sleep(&mut self, d: Duration) {
        self.0.sleep(d)
    }
}

/// A session with the simulated Node Assassin at `ipaddr`: commands take
/// no time; the node's power goes [`NA_OFF_LAG`] after a fence command.
struct SimNa {
    sched: Arc<Sched<RaceWorld>>,
    ipaddr: String,
}

impl Device for SimNa {
    fn states(&mut self) -> Result<BTreeMap<u8, PortState>, fence_na::error::Error> {
        let ip = self.ipaddr.clone();
        Ok(self.sched.with_world(|w| {
            (1..=fence_na::config::DEFAULT_MAX_NODES)
                .map(|port| {
                    let key = (ip.clone(), port);
                    let node = w.na_ports.get(&key);
                    (
                        port,
                        PortState {
                            power: w.na_held.contains(&key),
                            reset: false,
                            feed: node.is_some_and(|n| w.nodes[n].powered),
                        },
                    )
                })
                .collect()
        }))
    }

    fn set(&mut self, port: u8, state: SetState) -> Result<(), fence_na::error::Error> {
        let now = self.sched.now();
        let ip = self.ipaddr.clone();
        self.sched.with_world(|w| {
            let key = (ip.clone(), port);
            match state {
                SetState::Fence => {
                    w.na_held.insert(key.clone());
                    if let Some(node) = w.na_ports.get(&key).cloned() {
                        w.note(
                            now,
                            &format!("Node Assassin {ip}"),
                            format!("{port:02}:1 (fence {node})"),
                        );
                        w.schedule_off(now + NA_OFF_LAG, &node);
                    }
                }
                SetState::Release => {
                    w.na_held.remove(&key);
                }
                _ => {}
            }
        });
        Ok(())
    }
}

/// fence_wrap's [`fence_wrap::Env`] on a task.
struct SimWrap<'a> {
    t: &'a mut Task<RaceWorld>,
    env: &'a Env,
}

impl fence_wrap::Env for SimWrap<'_> {
    fn agent_exists(&mut self, path: &Path) -> bool {
        path.parent() == Some(Path::new(fence_wrap::AGENT_DIR))
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| self.env.installed.contains(n))
    }

    fn sleep(&mut self, d: Duration) {
        self.t.sleep(d)
    }

    fn run_agent(&mut self, path: &Path, stdin: &[u8], limit: Duration) -> fence_wrap::AgentRun {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let stdin = String::from_utf8_lossy(stdin).into_owned();
        let env = self.env;
        match self.t.limited(limit, |t| run_agent(t, env, &name, &stdin)) {
            Some((code, out)) => fence_wrap::AgentRun {
                ended: Ok(ChildEnded::Exited(code)),
                stdout: out.into_bytes(),
                stderr: Vec::new(),
            },
            None => fence_wrap::AgentRun {
                ended: Ok(ChildEnded::TimedOut),
                stdout: Vec::new(),
                stderr: Vec::new(),
            },
        }
    }
}

/// Runs agent `agent` (as fenced's execlp does) with `stdin` on the task's
/// node: (exit code, output).
fn run_agent(t: &mut Task<RaceWorld>, env: &Env, agent: &str, stdin: &str) -> (i32, String) {
    if !env.installed.contains(agent) {
        return (1, format!("{agent}: not found (execlp failed)"));
    }
    match agent {
        fence_na::PROGRAM => node_assassin_agent(t, env, stdin),
        fence_wrap::PROGRAM => {
            let out = fence_wrap::wrap(stdin.as_bytes(), &mut SimWrap { t, env });
            (
                out.code,
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        }
        _ => fencing_py_agent(t, agent, stdin),
    }
}

/// Our agent: the helper's own decision code, on the task's clock, against
/// the simulated device.
fn node_assassin_agent(t: &mut Task<RaceWorld>, env: &Env, stdin: &str) -> (i32, String) {
    let req = match fence_na::input::parse_stdin(stdin.as_bytes()) {
        Ok(r) => r,
        Err(e) => return (fence_na::EXIT_FAILED, e.to_string()),
    };
    let sched = t.sched();
    let mut warnings = Vec::new();
    let r = fence_na::respond(
        &req,
        || {
            req.passwd.clone().ok_or_else(|| {
                fence_na::error::Error::Usage("no passwd (the model runs no passwd_script)".into())
            })
        },
        &env.na,
        Path::new(NA_CONFIG),
        &mut VClock(t),
        |dev, _deadline| {
            Ok(SimNa {
                sched,
                ipaddr: dev.ipaddr.to_ascii_lowercase(),
            })
        },
        &mut |w| warnings.push(w),
    );
    match r {
        Ok((code, lines)) => (code, lines.join("\n")),
        Err(e) => (fence_na::EXIT_FAILED, e.to_string()),
    }
}

/// Keys the 2009 fencing.py agents take on stdin (the agent's option list
/// plus what every agent accepts); any other is "Parse error" (exit 2).
const FENCING_PY_KEYS: &[&str] = &[
    "agent",
    "action",
    "option",
    "ipaddr",
    "login",
    "passwd",
    "passwd_script",
    "port",
    "ipport",
    "ssl",
    "verbose",
    "debug",
    "power_wait",
    "login_timeout",
    "shell_timeout",
    "power_timeout",
];

/// A shipped Python agent (fence_ilo and its kin, 2009): parse stdin as
/// fencing.py's process_input did, log in (1 s), power off through the
/// board and poll its status once a second for up to 20 s.
fn fencing_py_agent(t: &mut Task<RaceWorld>, agent: &str, stdin: &str) -> (i32, String) {
    let mut opts: BTreeMap<String, String> = BTreeMap::new();
    for line in stdin.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        let k = if k == "option" { "action" } else { k };
        if !FENCING_PY_KEYS.contains(&k) {
            return (
                2,
                format!("{agent}: Parse error: Ignoring unknown option '{line}'"),
            );
        }
        opts.insert(k.to_string(), v.to_string());
    }
    let action = opts
        .get("action")
        .cloned()
        .unwrap_or_else(|| "reboot".into());
    let (Some(ip), Some(login), Some(passwd)) =
        (opts.get("ipaddr"), opts.get("login"), opts.get("passwd"))
    else {
        return (2, format!("{agent}: required option missing"));
    };
    t.sleep(Duration::from_secs(1));
    let now = t.now();
    let target = t.with(|w| {
        w.bmcs
            .get(ip)
            .filter(|b| &b.login == login && &b.passwd == passwd)
            .map(|b| b.node.clone())
    });
    let Some(node) = target else {
        return (
            1,
            format!("{agent}: Unable to connect/login to fencing device"),
        );
    };
    if action == "status" {
        let on = t.with(|w| w.nodes[&node].powered);
        return (
            if on { 0 } else { 2 },
            format!("Status: {}", if on { "ON" } else { "OFF" }),
        );
    }
    if action != "off" && action != "reboot" {
        return (1, format!("{agent}: action {action} not modelled"));
    }
    t.with(|w| {
        w.note(now, &format!("board {ip}"), format!("power off ({node})"));
        w.schedule_off(now + BMC_OFF_LAG, &node);
    });
    for _ in 0..20 {
        t.sleep(Duration::from_secs(1));
        if !t.with(|w| w.nodes[&node].powered) {
            return (0, "Success: Powered OFF".into());
        }
    }
    (1, format!("{agent}: Timed out waiting to power OFF"))
}

/// fenced's and fence_node's dispatch_fence_agent: the victim's methods in
/// order; a method succeeds when all its devices do. True on success.
fn dispatch(t: &mut Task<RaceWorld>, env: &Env, by: &str, victim: &str, path: &str) -> bool {
    let methods = env.conf.methods.get(victim).cloned().unwrap_or_default();
    for (mname, devs) in &methods {
        let mut ok = !devs.is_empty();
        for d in devs {
            let (agent, stdin) = match env.conf.agent_call(d) {
                Ok(x) => x,
                Err(e) => {
                    let now = t.now();
                    t.with(|w| w.note(now, by, format!("{path}: {e}")));
                    ok = false;
                    break;
                }
            };
            let (code, out) = run_agent(t, env, &agent, &stdin);
            let now = t.now();
            let first = out.lines().next().unwrap_or("").to_string();
            t.with(|w| {
                w.note(
                    now,
                    by,
                    format!("{path}: {agent} for {victim} (method {mname}) exited {code}: {first}"),
                )
            });
            if code != 0 {
                ok = false;
                break;
            }
        }
        if ok {
            let now = t.now();
            t.with(|w| {
                w.fences.push(Fence {
                    at: now,
                    by: by.to_string(),
                    victim: victim.to_string(),
                    path: path.to_string(),
                })
            });
            return true;
        }
    }
    false
}

/// The node as the handler's code sees it: `fence_node` runs on the
/// model; time is the task's.
struct RaceHost<'a> {
    t: &'a mut Task<RaceWorld>,
    env: &'a Env,
    me: String,
}

impl Host for RaceHost<'_> {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        self.run_for(argv, Duration::from_secs(3600))
    }

    fn run_for(&mut self, argv: &Argv, limit: Duration) -> CmdResult {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let ["fence_node", victim] = words.as_slice() else {
            return CmdResult {
                code: 127,
                stdout: String::new(),
                stderr: format!("race model: {argv} is not modelled\n"),
            };
        };
        let (env, me, victim) = (self.env, self.me.clone(), victim.to_string());
        // cman runs on both nodes, and a two_node cluster is quorate with
        // one member: fence_node goes ahead at once.
        match self
            .t
            .limited(limit, |t| dispatch(t, env, &me, &victim, "drbd-fence-peer"))
        {
            Some(true) => CmdResult::ok(""),
            Some(false) => CmdResult {
                code: 1,
                stdout: String::new(),
                stderr: format!("Fence of \"{victim}\" was unsuccessful\n"),
            },
            None => CmdResult {
                code: 124,
                stdout: String::new(),
                stderr: "killed after the limit\n".into(),
            },
        }
    }

    fn read_file(&mut self, path: &str) -> std::io::Result<String> {
        Err(std::io::Error::other(format!("race model: no file {path}")))
    }

    fn read_head(&mut self, path: &str, _len: usize) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other(format!(
            "race model: no device {path}"
        )))
    }

    fn write_file(&mut self, path: &str, _contents: &str) -> std::io::Result<()> {
        Err(std::io::Error::other(format!("race model: no file {path}")))
    }

    fn list_dir(&mut self, path: &str) -> std::io::Result<Vec<String>> {
        Err(std::io::Error::other(format!(
            "race model: no folder {path}"
        )))
    }

    fn now(&self) -> Instant {
        self.t.instant()
    }

    fn sleep(&mut self, d: Duration) {
        self.t.sleep(d)
    }
}

/// Waits (polling on the shared grid) until `me` notices its peer gone on
/// a link: `cut` for that link, `after` how long noticing takes.
fn notice(
    t: &mut Task<RaceWorld>,
    me: &str,
    link_cut: impl Fn(&RaceWorld) -> bool,
    after: Duration,
) {
    loop {
        t.sleep(POLL);
        let now = t.now();
        let lost = t.with(|w| {
            let cut = link_cut(w);
            w.lost_at(me, cut)
        });
        if lost.is_some_and(|l| now >= l + after) {
            return;
        }
    }
}

/// Runs a scenario.
pub fn run(s: &Scenario) -> Result<Report, String> {
    let conf = ClusterConf::parse(&s.cluster_conf)?;
    let names: Vec<String> = s.nodes.iter().map(|c| c.node.name.clone()).collect();
    for n in &names {
        if !conf.methods.contains_key(n) {
            return Err(format!("cluster.conf has no clusternode {n}"));
        }
    }
    // The devices, from cluster.conf: who each one powers, and (for the
    // Node Assassin) the agent's own config, as the overlay writes it.
    let mut na_ports = BTreeMap::new();
    let mut bmcs = BTreeMap::new();
    let mut na_devices: BTreeMap<String, toml::Value> = BTreeMap::new();
    for (node, methods) in &conf.methods {
        for (_, devs) in methods {
            for d in devs {
                let get = |attrs: &[(String, String)], k: &str| {
                    attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone())
                };
                let name = get(&d.attrs, "name").unwrap_or_default();
                let fd = conf
                    .fencedevices
                    .get(&name)
                    .ok_or_else(|| format!("no fencedevice {name}"))?;
                let agent = get(fd, "agent").unwrap_or_default();
                let real = if agent == fence_wrap::PROGRAM {
                    get(fd, "wrap_agent").unwrap_or_default()
                } else {
                    agent
                };
                let ip = get(fd, "ipaddr").unwrap_or_default();
                if real == fence_na::PROGRAM {
                    let port: u8 = get(&d.attrs, "port")
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| format!("{node}: fence_na device without a port"))?;
                    na_ports.insert((ip.to_ascii_lowercase(), port), node.clone());
                    let mut dev = toml::map::Map::new();
                    dev.insert("name".into(), toml::Value::String(name.clone()));
                    dev.insert("ipaddr".into(), toml::Value::String(ip.clone()));
                    dev.insert(
                        "login".into(),
                        toml::Value::String(get(fd, "login").unwrap_or_default()),
                    );
                    dev.insert(
                        "passwd".into(),
                        toml::Value::String(get(fd, "passwd").unwrap_or_default()),
                    );
                    na_devices.insert(name, toml::Value::Table(dev));
                } else {
                    bmcs.insert(
                        ip,
                        Bmc {
                            node: node.clone(),
                            login: get(fd, "login").unwrap_or_default(),
                            passwd: get(fd, "passwd").unwrap_or_default(),
                        },
                    );
                }
            }
        }
    }
    let mut table = toml::map::Map::new();
    table.insert(
        "device".into(),
        toml::Value::Array(na_devices.into_values().collect()),
    );
    let na: fence_na::config::Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e| format!("the agent's config: {e}"))?;
    let env = Arc::new(Env {
        conf: conf.clone(),
        na,
        installed: s.installed.iter().cloned().collect(),
    });
    let world = RaceWorld {
        nodes: names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    NodeState {
                        powered: true,
                        off_at: None,
                        frozen_at: None,
                        resumed_at: None,
                    },
                )
            })
            .collect(),
        cluster_cut: s.cut_cluster,
        drbd_cut: s.cut_drbd,
        pending: Vec::new(),
        na_ports,
        na_held: BTreeSet::new(),
        bmcs,
        split_brain: false,
        log: Vec::new(),
        fences: Vec::new(),
    };
    let sched = Sched::new(world);
    for (i, cfg) in s.nodes.iter().enumerate() {
        let me = cfg.node.name.clone();
        let victim = cfg.peer.name.clone();
        let later = s.notice_later[i];
        // fenced on this node.
        let env_f = env.clone();
        let (me_f, victim_f) = (me.clone(), victim.clone());
        let post_fail = Duration::from_secs(conf.post_fail_delay);
        sched.spawn(&me, &format!("fenced on {me}"), Duration::ZERO, move |t| {
            notice(t, &me_f, |w| w.cluster_cut, CMAN_DETECT + later);
            let now = t.now();
            t.with(|w| {
                w.note(
                    now,
                    &me_f,
                    format!(
                        "cman: {victim_f} left the cluster; fenced fences it after post_fail_delay"
                    ),
                )
            });
            t.sleep(post_fail);
            while !dispatch(t, &env_f, &me_f, &victim_f, "fenced") {
                t.sleep(FENCED_RETRY);
            }
        });
        // DRBD on this node: Primary (dual-primary), fencing
        // resource-and-stonith.
        let env_d = env.clone();
        let cfg_d = cfg.clone();
        let limit = s.handler_limit;
        sched.spawn(&me, &format!("DRBD on {me}"), Duration::ZERO, move |t| {
            let me = cfg_d.node.name.clone();
            notice(t, &me, |w| w.drbd_cut, DRBD_DETECT + later);
            let now = t.now();
            t.with(|w| {
                if let Some(n) = w.nodes.get_mut(&me) {
                    n.frozen_at = Some(now);
                }
                w.note(
                    now,
                    &me,
                    format!(
                        "DRBD {}: lost its peer while Primary: I/O frozen; runs the fence-peer handler",
                        cfg_d.drbd.resource
                    ),
                )
            });
            let req = FencePeerRequest {
                resource: Some(cfg_d.drbd.resource.clone()),
                peer: Some(cfg_d.peer.name.clone()),
                minor: None,
            };
            let fence = platform::for_id(cfg_d.platform).fence_peer;
            let (fenced, lines) = {
                let mut host = RaceHost {
                    t,
                    env: &env_d,
                    me: me.clone(),
                };
                let mut ctx = Ctx::new(
                    &cfg_d,
                    &mut host,
                    Logger::silent(&cfg_d.node.short),
                    State::new(&me),
                    false,
                    Vec::new(),
                );
                let ok = fence(&mut ctx, &req, limit);
                (ok, ctx.log.lines().to_vec())
            };
            let now = t.now();
            t.with(|w| {
                for l in &lines {
                    let msg = l.split_once("]: ").map_or(l.as_str(), |x| x.1);
                    w.note(now, &me, format!("(handler log) {msg}"));
                }
                if fenced {
                    let peer_on = w
                        .nodes
                        .iter()
                        .any(|(k, n)| k != &me && n.powered);
                    if peer_on {
                        w.split_brain = true;
                    }
                    if let Some(n) = w.nodes.get_mut(&me) {
                        n.resumed_at = Some(now);
                    }
                    w.note(now, &me, "DRBD: handler exited 7 (peer stonithed): I/O resumes");
                } else {
                    w.note(now, &me, "DRBD: handler exited 1: I/O stays frozen");
                }
            });
        });
    }
    let tasks = sched.run(s.until);
    let panics: Vec<String> = tasks
        .iter()
        .filter_map(|(n, _, e)| match e {
            Ended::Panicked(m) => Some(format!("{n}: {m}")),
            _ => None,
        })
        .collect();
    if !panics.is_empty() {
        return Err(format!("a task panicked: {}", panics.join("; ")));
    }
    Ok(sched.with_world(|w| Report {
        nodes: w
            .nodes
            .iter()
            .map(|(k, n)| {
                (
                    k.clone(),
                    NodeEnd {
                        powered: n.powered,
                        off_at: n.off_at,
                        frozen_at: n.frozen_at,
                        resumed_at: n.resumed_at,
                    },
                )
            })
            .collect(),
        fences: w.fences.clone(),
        split_brain: w.split_brain,
        log: w.log.clone(),
        tasks: tasks.clone(),
    }))
}
