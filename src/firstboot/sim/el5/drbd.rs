//! DRBD 8.3: start, connection and handshake (resync or split brain),
//! the resync, /proc/drbd in the 8.3.2 or 8.3.12 layout, drbdadm.

use super::*;

impl World {
    pub(super) fn drbd_start(&mut self, me: &str) -> CmdResult {
        let n = self.node_mut(me);
        n.drbd.loaded = true;
        let res_name = n.resource.clone();
        if n.drbd.attached {
            return res(0, "Starting DRBD resources: [ ].\n", "");
        }
        if !n.has_backing() {
            let msg = format!("open({}) failed: No such file or directory\nCommand '{}' terminated with exit code 20\n", n.backing_path(), n.drbdmeta("apply-al"));
            return res(
                0,
                format!("Starting DRBD resources: [ d({res_name}) ].\n"),
                msg,
            );
        }
        let Some(md) = n.drbd.md.clone() else {
            let msg = format!(
                "No valid meta data found\nCommand '{}' terminated with exit code 255\n",
                n.drbdmeta("apply-al")
            );
            return res(
                0,
                format!("Starting DRBD resources: [ d({res_name}) ].\n"),
                msg,
            );
        };
        n.drbd.attached = true;
        n.drbd.role = "Secondary".into();
        n.drbd.disk = if md.flags.get(1) == Some(&1) {
            "UpToDate"
        } else {
            "Inconsistent"
        }
        .into();
        self.try_connect(me);
        res(
            0,
            format!("Starting DRBD resources: [ d({res_name}) s({res_name}) n({res_name}) ].\n"),
            "",
        )
    }

    pub(super) fn try_connect(&mut self, me: &str) {
        let peer = self.peer_of(me);
        self.node_mut(me).drbd.net = "WFConnection".into();
        let p = self.node(&peer);
        if p.drbd.attached && p.drbd.net == "WFConnection" {
            self.handshake(me, &peer);
        }
    }

    pub(super) fn handshake(&mut self, a: &str, b: &str) {
        let ua = self
            .node(a)
            .drbd
            .md
            .clone()
            .map(|m| m.uuids)
            .unwrap_or_default();
        let ub = self
            .node(b)
            .drbd
            .md
            .clone()
            .map(|m| m.uuids)
            .unwrap_or_default();
        let new_a = self.node(a).drbd.md.as_ref().is_some_and(Md::is_brand_new);
        let new_b = self.node(b).drbd.md.as_ref().is_some_and(Md::is_brand_new);
        let (da, db) = (self.node(a).drbd.discard, self.node(b).drbd.discard);
        let source: Option<(String, String)> = if da && !db {
            Some((b.into(), a.into()))
        } else if db && !da {
            Some((a.into(), b.into()))
        } else if ua.first() == ub.first() || (new_a && new_b) {
            None
        } else if new_a {
            Some((b.into(), a.into()))
        } else if new_b {
            Some((a.into(), b.into()))
        } else if ub.iter().skip(1).any(|u| Some(u) == ua.first()) {
            Some((b.into(), a.into()))
        } else if ua.iter().skip(1).any(|u| Some(u) == ub.first()) {
            Some((a.into(), b.into()))
        } else {
            for n in [a, b] {
                self.node_mut(n).drbd.net = "StandAlone".into();
            }
            self.events
                .push("Split-Brain detected, dropping connection!".into());
            return;
        };
        for n in [a, b] {
            let d = &mut self.node_mut(n).drbd;
            d.net = "Connected".into();
            d.discard = false;
        }
        if let Some((src, tgt)) = source {
            self.start_sync(&src, &tgt);
        }
    }

    pub(super) fn start_sync(&mut self, src: &str, tgt: &str) {
        let data = self.node(src).data.clone();
        let total = self.node(src).backing_kib().max(1024);
        let t = self.node_mut(tgt);
        t.data = data;
        t.drbd.disk = "Inconsistent".into();
        self.node_mut(src).drbd.disk = "UpToDate".into();
        self.sync = Some(SyncJob {
            source: src.into(),
            target: tgt.into(),
            total_kib: total,
            left_kib: total,
            step_kib: total / 10,
        });
    }

    pub(super) fn advance_sync(&mut self) {
        let Some(mut s) = self.sync.clone() else {
            return;
        };
        let both = [&s.source, &s.target].iter().all(|n| {
            self.nodes
                .get(*n)
                .is_some_and(|n| n.drbd.net == "Connected")
        });
        if !both {
            return;
        }
        s.left_kib = s.left_kib.saturating_sub(s.step_kib.max(1));
        if s.left_kib == 0 {
            if let Some(md) = self.node_mut(&s.source).drbd.md.as_mut() {
                if md.uuids[1].chars().any(|c| c != '0') {
                    md.uuids[3] = md.uuids[2].clone();
                    md.uuids[2] = md.uuids[1].clone();
                    md.uuids[1] = format!("{:016X}", 0);
                }
            }
            let md = self.node(&s.source).drbd.md.clone();
            let t = self.node_mut(&s.target);
            t.drbd.disk = "UpToDate".into();
            t.drbd.md = md;
            self.sync = None;
        } else {
            self.sync = Some(s);
        }
    }

    pub(super) fn cs(&self, me: &str) -> String {
        let n = self.node(me);
        if n.drbd.net != "Connected" {
            return n.drbd.net.clone();
        }
        match &self.sync {
            Some(s) if s.source == me => "SyncSource".into(),
            Some(s) if s.target == me => "SyncTarget".into(),
            _ => "Connected".into(),
        }
    }

    /// /proc/drbd as this node's DRBD version prints it.
    pub fn proc_drbd(&self, me: &str) -> String {
        let n = self.node(me);
        let new = n.drbd_version != "8.3.2";
        let mut s = if new {
            "version: 8.3.12 (api:88/proto:86-96)\nGIT-hash: e2a8ef4656be026bbae540305fcb998a5991090f build by mockbuild@builder10.centos.org, 2012-01-28 13:52:25\n".to_string()
        } else {
            "version: 8.3.2 (api:88/proto:86-90)\nGIT-hash: dd7985327f146f33b86d4bff5ca8c94234ce840e build by mockbuild@v20z-x86-64.home.local, 2009-08-29 14:08:07\n".to_string()
        };
        if n.minor > 0 {
            s.push('\n');
        }
        if !n.drbd.attached {
            s.push_str(&format!("{:2}: cs:Unconfigured\n", n.minor));
            return s;
        }
        let peer = self.node(&self.peer_of(me));
        let cs = self.cs(me);
        let connected = n.drbd.net == "Connected";
        let (prole, pdisk) = if connected {
            (peer.drbd.role.as_str(), peer.drbd.disk.as_str())
        } else {
            ("Unknown", "DUnknown")
        };
        let proto = if n.drbd.net == "StandAlone" { ' ' } else { 'C' };
        let flags = if new { "r-----" } else { "r----" };
        s.push_str(&format!(
            "{:2}: cs:{cs} ro:{}/{prole} ds:{}/{pdisk} {proto} {flags}\n",
            n.minor, n.drbd.role, n.drbd.disk
        ));
        let (done, oos) = match &self.sync {
            Some(j) if cs.starts_with("Sync") => (j.total_kib - j.left_kib, j.left_kib),
            _ => (0, 0),
        };
        s.push_str(&format!(
            "    ns:{} nr:{} dw:{} dr:{} al:0 bm:{} lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:{oos}\n",
            if cs == "SyncSource" { done } else { 0 },
            if cs == "SyncTarget" { done } else { 0 },
            if cs == "SyncTarget" { done } else { 0 },
            if cs == "SyncSource" { done } else { 0 },
            done / 4096
        ));
        if let Some(j) = self.sync.as_ref().filter(|_| cs.starts_with("Sync")) {
            let permille = ((j.total_kib - j.left_kib) * 1000 / j.total_kib) as u32;
            let x = (permille / 50) as usize;
            let bar = format!(
                "[{}>{}]",
                "=".repeat(x.saturating_sub(1)),
                ".".repeat(20 - x.min(20))
            );
            let big = j.total_kib > 1024 * 1024;
            let (left, total, unit) = if big {
                (j.left_kib / 1024, j.total_kib / 1024, 'M')
            } else {
                (j.left_kib, j.total_kib, 'K')
            };
            let secs = j.left_kib / SYNC_KPS;
            let want = if new && cs == "SyncTarget" {
                format!(" want: {}", thousands(SYNC_KPS))
            } else {
                String::new()
            };
            s.push_str(&format!(
                "\t{bar} sync'ed:{:3}.{}% ({left}/{total}){unit}\n\tfinish: {}:{:02}:{:02} speed: {} ({}){want} K/sec\n",
                permille / 10,
                permille % 10,
                secs / 3600,
                (secs % 3600) / 60,
                secs % 60,
                thousands(SYNC_KPS),
                thousands(SYNC_KPS)
            ));
        }
        s
    }

    pub(super) fn drbdadm(&mut self, me: &str, args: &[&str]) -> (CmdResult, bool) {
        let (opts, rest): (Vec<&str>, Vec<&str>) = match args {
            ["--", more @ ..] => more.iter().partition(|a| a.starts_with("--")),
            _ => (Vec::new(), args.to_vec()),
        };
        let [cmd, resname] = rest.as_slice() else {
            return (res(20, "", "drbdadm: usage error\n"), false);
        };
        if *resname != self.node(me).resource {
            return (
                res(10, "", format!("'{resname}' not defined in your config.\n")),
                false,
            );
        }
        match *cmd {
            "dump-md" => self.drbdadm_dump_md(me, resname),
            "get-gi" => self.drbdadm_get_gi(me),
            "create-md" => self.drbdadm_create_md(me, resname, &opts),
            "primary" => self.drbdadm_primary(me, &opts),
            "secondary" => self.drbdadm_secondary(me),
            "connect" => self.drbdadm_connect(me, &opts),
            "disconnect" => self.drbdadm_disconnect(me),
            "new-current-uuid" => self.drbdadm_new_current_uuid(me, &opts),
            "cstate" => self.drbdadm_cstate(me),
            "dstate" => self.drbdadm_dstate(me),
            "role" => self.drbdadm_role(me),
            other => (
                res(20, "", format!("drbdadm: unknown command '{other}'\n")),
                true,
            ),
        }
    }

    /// `drbdadm dump-md`: the metadata, when detached.
    fn drbdadm_dump_md(&mut self, me: &str, resname: &str) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let n = self.node(me);
        if attached {
            return (
                res(
                    20,
                    "",
                    format!(
                        "Device '{}' is configured!\nCommand '{}' terminated with exit code 20\n",
                        n.device(),
                        n.drbdmeta("dump-md")
                    ),
                ),
                false,
            );
        }
        if !n.has_backing() {
            return (res(20, "", format!("open({}) failed: No such file or directory\nCommand '{}' terminated with exit code 20\n", n.backing_path(), n.drbdmeta("dump-md"))), false);
        }
        match &n.drbd.md {
            None => (res(255, "", format!("Command '{}' terminated with exit code 255\ndrbdadm dump-md {resname}: exited with code 255\n", n.drbdmeta("dump-md"))), false),
            Some(md) => (res(0, format!(
                "# DRBD meta data dump\n# 2010-05-10 20:54:32 +0000 [1273524872]\n# {}> {}\n#\n\nversion \"v08\";\n\n# md_size_sect 262144\n# md_offset 429496725504\n# al_offset 429496692736\n# bm_offset 429483585536\n\nuuid {{\n    0x{}; 0x{}; 0x{}; 0x{};\n    flags 0x{:08X};\n}}\n# al-extents 257;\nla-size-sect 838860800;\nbm-byte-per-bit 4096;\ndevice-uuid 0x2A8B2C1D3E4F5061;\n# bm-bytes 13107200;\nbm {{\n}}\n# bits-set 0;\n",
                n.name, n.drbdmeta("dump-md"), md.uuids[0], md.uuids[1], md.uuids[2], md.uuids[3],
                md.flags.iter().enumerate().map(|(i, f)| u32::from(*f) << i).sum::<u32>()
            ), ""), false),
        }
    }

    /// `drbdadm get-gi`: the generation identifiers and flags.
    fn drbdadm_get_gi(&mut self, me: &str) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let n = self.node(me);
        if !n.has_backing() {
            return (
                res(
                    20,
                    "",
                    format!(
                        "open({}) failed: No such file or directory\n",
                        n.backing_path()
                    ),
                ),
                false,
            );
        }
        let Some(md) = &n.drbd.md else {
            return (
                res(
                    255,
                    "",
                    format!(
                        "No valid meta data found\nCommand '{}' terminated with exit code 255\n",
                        n.drbdmeta("get-gi")
                    ),
                ),
                false,
            );
        };
        let flags = if attached {
            n.live_flags()
        } else {
            md.flags.clone()
        };
        let line = format!(
            "{}:{}\n",
            md.uuids.join(":"),
            flags
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(":")
        );
        (res(0, line, ""), false)
    }

    /// `drbdadm create-md` (`--force` answers the overwrite question).
    fn drbdadm_create_md(&mut self, me: &str, resname: &str, opts: &[&str]) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let opt = |o: &str| opts.contains(&o);
        let n = self.node(me);
        if attached {
            return (
                res(
                    20,
                    "",
                    format!(
                        "Device '{}' is configured!\nCommand '{}' terminated with exit code 20\n",
                        n.device(),
                        n.drbdmeta("create-md")
                    ),
                ),
                true,
            );
        }
        if !n.has_backing() {
            return (
                res(
                    20,
                    "",
                    format!(
                        "open({}) failed: No such file or directory\n",
                        n.backing_path()
                    ),
                ),
                true,
            );
        }
        let force = opt("--force");
        let mut err = String::new();
        if n.drbd.md.is_some() {
            err.push_str("\nDo you really want to overwrite the existing v08 meta-data?\n[need to type 'yes' to confirm] ");
            if !force {
                return (res(1, "", format!("{err}\nOperation cancelled.\n")), true);
            }
            err.push_str("*** confirmation forced via --force option ***\n");
        } else if n.data.pv || n.data.raw.is_some() {
            err.push_str("md_offset 429496725504\nal_offset 429496692736\nbm_offset 429483585536\n\nFound LVM2 physical volume signature\n 419430400 kB left usable by current configuration\nCould not determine the size of the actually used data area.\n\nDevice size would be truncated, which\nwould corrupt data and result in\n'access beyond end of device' errors.\nIf you want me to do this, you need to zero out the first part\nof the device (destroy the content).\nYou should be very sure that you mean it.\nOperation refused.\n\n");
            return (res(40, "", format!("{err}Command '{}' terminated with exit code 40\ndrbdadm create-md {resname}: exited with code 40\n", n.drbdmeta("create-md"))), true);
        }
        self.node_mut(me).drbd.md = Some(Md::brand_new());
        (res(0, "Writing meta data...\ninitializing activity log\nNew drbd meta data block successfully created.\n", format!("{err}NOT initialized bitmap\n")), true)
    }

    /// `drbdadm primary` (`--overwrite-data-of-peer` starts the full sync).
    fn drbdadm_primary(&mut self, me: &str, opts: &[&str]) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let minor = self.node(me).minor;
        let opt = |o: &str| opts.contains(&o);
        if !attached {
            return (res(10, "", format!("{minor}: Failure: (127) Device minor not allocated\nCommand 'drbdsetup {minor} primary' terminated with exit code 10\n")), true);
        }
        let peer = self.peer_of(me);
        let connected = self.node(me).drbd.net == "Connected";
        if opt("--overwrite-data-of-peer") {
            let u = self.next_uuid();
            let n = self.node_mut(me);
            n.drbd.role = "Primary".into();
            n.drbd.disk = "UpToDate".into();
            if let Some(md) = n.drbd.md.as_mut() {
                md.uuids[0] = format!("{u:016X}");
                md.flags = vec![1, 1, 1, u8::from(connected), 0, 0, 0];
            }
            if connected {
                self.start_sync(me, &peer);
            }
            return (res(0, "", ""), true);
        }
        let n = self.node(me);
        if !connected && n.drbd.role != "Primary" {
            // Peer unknown: DRBD 8.3 calls the fence-peer handler first
            // (SimHost runs it: World::primary_after_handler); without it
            // the promotion is refused.
            return (
                drbdsetup_fail(
                    minor,
                    11,
                    "(-7) Refusing to be Primary while peer is not outdated",
                    "primary",
                ),
                true,
            );
        }
        let peer_ok = connected && self.node(&peer).drbd.disk == "UpToDate";
        if n.drbd.disk != "UpToDate" && !peer_ok {
            return (
                drbdsetup_fail(
                    minor,
                    17,
                    "(-2) Refusing to be Primary without at least one UpToDate disk",
                    "primary",
                ),
                true,
            );
        }
        self.node_mut(me).drbd.role = "Primary".into();
        (res(0, "", ""), true)
    }

    /// Whether `drbdadm primary` on `me` makes DRBD call its fence-peer
    /// handler first: attached, not Primary, the peer unknown (not
    /// connected) and this disk current enough to fence for (DRBD skips the
    /// handler below Consistent).
    pub fn primary_needs_fence_peer(&self, me: &str) -> bool {
        let d = &self.node(me).drbd;
        d.attached && d.role != "Primary" && d.net != "Connected" && d.disk == "UpToDate"
    }

    /// `drbdadm primary` after the fence-peer handler exited `code`: 7
    /// (peer stonithed) marks the peer Outdated and the promotion goes
    /// through; anything else leaves it unknown and DRBD refuses.
    pub fn primary_after_handler(&mut self, me: &str, code: i32) -> CmdResult {
        let minor = self.node(me).minor;
        if code != 7 {
            return drbdsetup_fail(
                minor,
                11,
                &format!(
                    "(-7) Refusing to be Primary while peer is not outdated (fence-peer helper returned {code})"
                ),
                "primary",
            );
        }
        self.events.push(format!(
            "{me}: fence-peer helper returned 7 (peer was stonithed)"
        ));
        self.node_mut(me).drbd.role = "Primary".into();
        res(0, "", "")
    }

    /// `drbdadm secondary`: refused while the device is in use.
    fn drbdadm_secondary(&mut self, me: &str) -> (CmdResult, bool) {
        let minor = self.node(me).minor;
        let n = self.node(me);
        let in_use = !n.mounts.is_empty()
            || n.data.vg.as_ref().is_some_and(|v| {
                v.lvs
                    .iter()
                    .any(|l| n.active.contains(&format!("{}/{}", v.name, l.name)))
            });
        if in_use {
            return (
                drbdsetup_fail(
                    minor,
                    11,
                    "(-12) Device is held open by someone",
                    "secondary",
                ),
                true,
            );
        }
        self.node_mut(me).drbd.role = "Secondary".into();
        (res(0, "", ""), true)
    }

    /// `drbdadm connect` (`--discard-my-data` on the split-brain victim).
    fn drbdadm_connect(&mut self, me: &str, opts: &[&str]) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let minor = self.node(me).minor;
        let opt = |o: &str| opts.contains(&o);
        let n = self.node(me);
        if !attached {
            return (
                res(
                    10,
                    "",
                    format!("{minor}: Failure: (127) Device minor not allocated\n"),
                ),
                true,
            );
        }
        if n.drbd.net != "StandAlone" {
            return (res(10, "", format!("{minor}: Failure: (125) Device has a net-config (use disconnect first)\nCommand 'drbdsetup {minor} net ...' terminated with exit code 10\n")), true);
        }
        if opt("--discard-my-data") {
            if n.drbd.role == "Primary" {
                return (res(10, "", format!("{minor}: Failure: (123) --discard-my-data not allowed when primary.\nCommand 'drbdsetup {minor} net ...' terminated with exit code 10\n")), true);
            }
            self.node_mut(me).drbd.discard = true;
        }
        if opt("--overwrite-data-of-peer") {
            return (res(20, "", "drbdsetup net: unrecognized option '--overwrite-data-of-peer'\nCommand 'drbdsetup 0 net ...' terminated with exit code 20\n"), true);
        }
        self.try_connect(me);
        (res(0, "", ""), true)
    }

    /// `drbdadm disconnect`.
    fn drbdadm_disconnect(&mut self, me: &str) -> (CmdResult, bool) {
        let peer = self.peer_of(me);
        if self.node(me).drbd.net == "Connected" {
            self.node_mut(&peer).drbd.net = "WFConnection".into();
        }
        self.node_mut(me).drbd.net = "StandAlone".into();
        (res(0, "", ""), true)
    }

    /// `drbdadm new-current-uuid` (`--clear-bitmap`: no initial sync).
    fn drbdadm_new_current_uuid(&mut self, me: &str, opts: &[&str]) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let minor = self.node(me).minor;
        let opt = |o: &str| opts.contains(&o);
        let peer = self.peer_of(me);
        let both_connected = self.node(me).drbd.net == "Connected";
        if !attached || !both_connected {
            return (
                res(
                    10,
                    "",
                    format!(
                        "{minor}: Failure: (131) Need a connection to start verify or resync\n"
                    ),
                ),
                true,
            );
        }
        if opt("--clear-bitmap") {
            let u = self.next_uuid();
            for n in [me.to_string(), peer] {
                let n = self.node_mut(&n);
                n.drbd.disk = "UpToDate".into();
                if let Some(md) = n.drbd.md.as_mut() {
                    md.uuids = vec![
                        format!("{u:016X}"),
                        format!("{:016X}", 0),
                        format!("{:016X}", 0),
                        format!("{:016X}", 0),
                    ];
                    md.flags = vec![1, 1, 0, 1, 0, 0, 0];
                }
            }
        }
        (res(0, "", ""), true)
    }

    /// `drbdadm cstate`.
    fn drbdadm_cstate(&mut self, me: &str) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let out = if attached {
            self.cs(me)
        } else {
            "Unconfigured".into()
        };
        (res(0, format!("{out}\n"), ""), false)
    }

    /// `drbdadm dstate`.
    fn drbdadm_dstate(&mut self, me: &str) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let n = self.node(me);
        let out = if attached {
            let peer = self.node(&self.peer_of(me));
            let pd = if n.drbd.net == "Connected" {
                peer.drbd.disk.as_str()
            } else {
                "DUnknown"
            };
            format!("{}/{pd}", n.drbd.disk)
        } else {
            "Unconfigured".into()
        };
        (res(0, format!("{out}\n"), ""), false)
    }

    /// `drbdadm role`.
    fn drbdadm_role(&mut self, me: &str) -> (CmdResult, bool) {
        let attached = self.node(me).drbd.attached;
        let n = self.node(me);
        let out = if attached {
            let peer = self.node(&self.peer_of(me));
            let pr = if n.drbd.net == "Connected" {
                peer.drbd.role.as_str()
            } else {
                "Unknown"
            };
            format!("{}/{pr}", n.drbd.role)
        } else {
            "Unconfigured".into()
        };
        (res(0, format!("{out}\n"), ""), false)
    }
}

/// drbdsetup's refusal of a state change, as drbdadm passes it on.
fn drbdsetup_fail(minor: u32, code: i32, msg: &str, sub: &str) -> CmdResult {
    res(
        code,
        "",
        format!("{minor}: State change failed: {msg}\nCommand 'drbdsetup {minor} {sub}' terminated with exit code {code}\n"),
    )
}
