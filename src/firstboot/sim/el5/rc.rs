//! SysV init as CentOS 5 runs it: init scripts with their `# chkconfig:`
//! headers (in the node's files, /etc/rc.d/init.d/<name>), the rc links in
//! rc0.d..rc6.d, chkconfig 1.3.30's rules for changing them (non-LSB
//! scripts, as all of these are: docs/evidence/el5.md §6), the subsys
//! locks, and what rc does at boot (S links in order, skipped when the lock
//! exists) and at shutdown (K links in order, only where the lock exists).
//!
//! chkconfig 1.3.30 (fedora-sysv/chkconfig `chkconfig-1.3.30.2`,
//! chkconfig.c): `--add` links only the runlevels that have no link of the
//! service yet (S<start> where the header's levels say on, else K<stop>);
//! `--del` removes every link; `on`/`off` (runlevels 2-5 unless `--level`)
//! and `reset`/`resetpriorities` (0-6) delete the links of those levels and
//! make them again with the header's priorities (`resetpriorities` keeps
//! each level's on/off). A query (`chkconfig <name>`) exits 0 when the
//! service is on in the current runlevel (3).

use super::*;

/// Init scripts as the nodes have them after the %post: (name, header).
/// The headers are the packages' (cman 2.0: `345 21 79`; lvm2-cluster
/// 2.02.46's clvmd: `- 24 76`; gfs2-utils' gfs2: `345 26 74`; drbd83
/// 8.3.8: `- 70 08`), xend's as the %post edits it (the seed's 4.2.4), and
/// ours.
pub const INIT_SCRIPTS: &[(&str, &str)] = &[
    ("xend", "2345 11 89"),
    ("cman", "345 21 79"),
    ("clusterkick-drbd", "2345 22 78"),
    ("clvmd", "- 24 76"),
    ("gfs2", "345 26 74"),
    ("drbd", "- 70 08"),
    ("clusterkick-firstboot", "345 99 01"),
];

/// The header xen's package ships (`/etc/init.d/xend` after an update).
pub const XEND_STOCK_HEADER: &str = "2345 98 01";
/// The header of drbd83 8.3.2's script (on in 3-5 at 70).
pub const DRBD_832_HEADER: &str = "345 70 08";

/// The path of an init script.
pub fn init_script(name: &str) -> String {
    format!("/etc/rc.d/init.d/{name}")
}

/// An init script's text with this header (the rest does not matter here).
pub fn script_text(name: &str, header: &str) -> String {
    format!("#!/bin/bash\n#\n# {name}\n#\n# chkconfig: {header}\n# description: {name}\n")
}

/// (levels on, start, stop) from a script's `# chkconfig:` line.
fn header_of(text: &str) -> Option<(Vec<u8>, u32, u32)> {
    text.lines().find_map(|l| {
        let rest = l
            .strip_prefix('#')?
            .trim_start()
            .strip_prefix("chkconfig:")?;
        let mut w = rest.split_whitespace();
        let levels = w.next()?;
        let start = w.next()?.parse().ok()?;
        let stop = w.next()?.parse().ok()?;
        let levels = if levels == "-" {
            Vec::new()
        } else {
            levels
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| b - b'0')
                .collect()
        };
        Some((levels, start, stop))
    })
}

/// A link's service name (`S21cman` -> `cman`).
fn link_service(link: &str) -> &str {
    link.get(3..).unwrap_or("")
}

fn level_key(level: u8) -> String {
    level.to_string()
}

impl NodeWorld {
    fn header(&self, svc: &str) -> Option<(Vec<u8>, u32, u32)> {
        header_of(self.files.get(&init_script(svc))?)
    }

    fn links_at(&self, level: u8) -> Vec<String> {
        self.rc
            .get(&level_key(level))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn del_links(&mut self, svc: &str, level: u8) {
        if let Some(set) = self.rc.get_mut(&level_key(level)) {
            set.retain(|l| link_service(l) != svc);
        }
    }

    fn configured(&self, svc: &str, level: u8) -> bool {
        self.links_at(level).iter().any(|l| link_service(l) == svc)
    }

    /// On at `level`: an S link there.
    pub fn is_on(&self, svc: &str, level: u8) -> bool {
        self.links_at(level)
            .iter()
            .any(|l| l.starts_with('S') && link_service(l) == svc)
    }

    fn set_link(&mut self, svc: &str, level: u8, on: bool, start: u32, stop: u32) {
        self.del_links(svc, level);
        let link = if on {
            format!("S{start:02}{svc}")
        } else {
            format!("K{stop:02}{svc}")
        };
        self.rc.entry(level_key(level)).or_default().insert(link);
    }

    /// `chkconfig <args>` as chkconfig 1.3.30 does it: (exit code, stderr).
    pub fn chkconfig(&mut self, args: &[&str]) -> (i32, String) {
        let missing = |svc: &str| {
            (
                1,
                format!("error reading information on service {svc}: No such file or directory\n"),
            )
        };
        match args {
            ["--add", svc] => {
                let Some((levels, start, stop)) = self.header(svc) else {
                    return missing(svc);
                };
                for l in 0..=6u8 {
                    if !self.configured(svc, l) {
                        self.set_link(svc, l, levels.contains(&l), start, stop);
                    }
                }
                (0, String::new())
            }
            ["--del", svc] => {
                if self.header(svc).is_none() {
                    return missing(svc);
                }
                for l in 0..=6u8 {
                    self.del_links(svc, l);
                }
                (0, String::new())
            }
            [svc, state @ ("on" | "off" | "reset" | "resetpriorities")] => {
                let Some((levels, start, stop)) = self.header(svc) else {
                    return missing(svc);
                };
                let which: Vec<u8> = match *state {
                    "on" | "off" => vec![2, 3, 4, 5],
                    _ => (0..=6).collect(),
                };
                for l in which {
                    let on = match *state {
                        "on" => true,
                        "off" => false,
                        "reset" => levels.contains(&l),
                        _ => {
                            if !self.configured(svc, l) {
                                continue;
                            }
                            self.is_on(svc, l)
                        }
                    };
                    self.set_link(svc, l, on, start, stop);
                }
                (0, String::new())
            }
            [svc] => {
                if self.header(svc).is_none() {
                    return missing(svc);
                }
                (i32::from(!self.is_on(svc, 3)), String::new())
            }
            _ => (1, "usage: chkconfig ...\n".into()),
        }
    }
}

impl World {
    /// The rc links of a node in runlevel `level`, sorted.
    pub fn list_rc(&self, short: &str, level: u8) -> Vec<String> {
        self.node(short).links_at(level)
    }

    /// The names in a directory the helper lists: the rc link folders.
    pub(super) fn list_dir(&self, me: &str, path: &str) -> io::Result<Vec<String>> {
        let level = path
            .strip_prefix("/etc/rc.d/rc")
            .and_then(|r| r.strip_suffix(".d"))
            .and_then(|l| l.parse::<u8>().ok())
            .filter(|l| *l <= 6);
        match level {
            Some(l) => Ok(self.node(me).links_at(l)),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            )),
        }
    }

    /// `/etc/init.d/<svc> start` for the services the helper starts: each
    /// takes its subsys lock when it starts.
    pub(super) fn service_start(&mut self, me: &str, svc: &str) -> CmdResult {
        let r = match svc {
            "cman" => self.cman_start(me),
            "clvmd" => self.clvmd_start(me),
            // drbd83's own script and ours both load the module and adjust
            // the resources (the package's would then wait and promote
            // with become-primary-on; the el5 drbd.conf has none).
            "drbd" | "clusterkick-drbd" => self.drbd_start(me),
            "gfs2" => self.gfs2_start(me),
            "clusterkick-firstboot" | "xend" => {
                self.events.push(format!("{me}: service {svc} started"));
                res(0, format!("Starting {svc}: [  OK  ]\n"), "")
            }
            other => return res(127, "", format!("sim: no init script {other} simulated\n")),
        };
        if r.success() {
            self.node_mut(me).subsys.insert(svc.to_string());
        }
        r
    }

    /// What rc runs at boot in runlevel 3: the S links in order.
    pub(super) fn boot_services(&mut self, me: &str) {
        let mut links = self.node(me).links_at(3);
        links.sort();
        for link in links.iter().filter(|l| l.starts_with('S')) {
            let svc = link_service(link).to_string();
            if self.node(me).subsys.contains(&svc) {
                continue;
            }
            self.events.push(format!("{me}: rc3.d/{link} start"));
            let _ = self.service_start(me, &svc);
        }
    }

    /// What rc would run at a shutdown (runlevel 0): the K links, in order,
    /// of the services that hold their subsys lock.
    pub fn shutdown_order(&self, me: &str) -> Vec<String> {
        let n = self.node(me);
        let mut links = n.links_at(0);
        links.sort();
        links
            .into_iter()
            .filter(|l| l.starts_with('K') && n.subsys.contains(link_service(l)))
            .collect()
    }

    /// The rc links and init scripts a node has after its %post: every
    /// package's `chkconfig --add` at install, then the %post's own
    /// commands (xend re-added with its edited header; the cluster's
    /// services off; ours added; the helper on).
    pub(super) fn install_rc(n: &mut NodeWorld) {
        for (name, header) in INIT_SCRIPTS {
            n.files.insert(init_script(name), script_text(name, header));
        }
        for (name, _) in INIT_SCRIPTS {
            let _ = n.chkconfig(&["--add", name]);
        }
        for cmd in [
            &["--del", "xend"][..],
            &["--add", "xend"],
            &["cman", "off"],
            &["clvmd", "off"],
            &["drbd", "off"],
            &["gfs2", "off"],
            &["clusterkick-drbd", "off"],
            &["clusterkick-firstboot", "on"],
        ] {
            let _ = n.chkconfig(cmd);
        }
    }

    /// An update of the xen package: its own init script comes back
    /// (header `2345 98 01`) and its %post runs `chkconfig --add xend`,
    /// which changes no link that exists.
    pub fn update_xen_package(&mut self, me: &str) {
        let n = self.node_mut(me);
        n.files
            .insert(init_script("xend"), script_text("xend", XEND_STOCK_HEADER));
        let _ = n.chkconfig(&["--add", "xend"]);
        self.events.push(format!("{me}: xen updated"));
    }

    /// An update of drbd83 (8.3.2's script: on in 3-5 at 70) and its
    /// %post's `chkconfig --add drbd`.
    pub fn update_drbd_package(&mut self, me: &str) {
        let n = self.node_mut(me);
        n.files
            .insert(init_script("drbd"), script_text("drbd", DRBD_832_HEADER));
        let _ = n.chkconfig(&["--add", "drbd"]);
        self.events.push(format!("{me}: drbd83 updated"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeWorld {
        let mut n: NodeWorld = toml::from_str(
            "name = \"n\"\nid = 1\naddress = \"a\"\ndrbd_version = \"8.3.2\"\nresource = \"r0\"\n\
             minor = 0\nbacking_vg = \"vg\"\nbacking_lv = \"lv\"\ncluster_vg = \"c\"\nchanges = 0\n\
             [drbd]\nloaded = false\nattached = false\nnet = \"StandAlone\"\nrole = \"Secondary\"\n\
             disk = \"Diskless\"\n[data]\npv = false\n[faults]\n",
        )
        .expect("a node");
        World::install_rc(&mut n);
        n
    }

    #[test]
    fn after_the_post_only_xend_and_the_helper_start() {
        let n = node();
        let on3: Vec<String> = n
            .links_at(3)
            .into_iter()
            .filter(|l| l.starts_with('S'))
            .collect();
        assert_eq!(on3, ["S11xend", "S99clusterkick-firstboot"]);
        assert_eq!(
            n.links_at(0),
            [
                "K01clusterkick-firstboot",
                "K08drbd",
                "K74gfs2",
                "K76clvmd",
                "K78clusterkick-drbd",
                "K79cman",
                "K89xend"
            ]
        );
    }

    #[test]
    fn chkconfig_1_3_30_rules() {
        let mut n = node();
        // An update puts xend's stock header back; --add keeps the links.
        n.files
            .insert(init_script("xend"), script_text("xend", XEND_STOCK_HEADER));
        n.chkconfig(&["--add", "xend"]);
        assert!(n.links_at(3).contains(&"S11xend".to_string()));
        // The next `on` rewrites them from the header.
        n.chkconfig(&["xend", "on"]);
        assert!(n.links_at(3).contains(&"S98xend".to_string()));
        assert!(
            n.links_at(0).contains(&"K89xend".to_string()),
            "0 untouched by on"
        );
        // resetpriorities rewrites every level, keeping on/off.
        n.chkconfig(&["xend", "resetpriorities"]);
        assert!(n.links_at(0).contains(&"K01xend".to_string()));
        // drbd off everywhere: an 8.3.2 update's --add adds nothing.
        n.files
            .insert(init_script("drbd"), script_text("drbd", DRBD_832_HEADER));
        n.chkconfig(&["--add", "drbd"]);
        assert!(!n.is_on("drbd", 3));
        // A query answers for runlevel 3.
        assert_eq!(n.chkconfig(&["drbd"]).0, 1);
        assert_eq!(n.chkconfig(&["xend"]).0, 0);
        assert_eq!(n.chkconfig(&["nosuch"]).0, 1);
        n.chkconfig(&["--del", "drbd"]);
        assert!((0..=6).all(|l| !n.configured("drbd", l)));
    }
}
