//! DRBD 8.4 or 9 through drbd-utils 9's drbdadm: metadata, up/down,
//! connection and handshake (resync or split brain), roles, the resync;
//! /proc/drbd (8.4) and `drbdsetup status --json` (9).

use super::*;

fn hex16(u: u64) -> String {
    format!("{u:016X}")
}

impl World {
    fn v9(&self) -> bool {
        self.generation == "9"
    }

    pub(super) fn drbdadm(&mut self, me: &str, args: &[&str]) -> (CmdResult, bool) {
        let q = |r: CmdResult| (r, false);
        let c = |r: CmdResult| (r, true);
        let v9 = self.v9();
        let ours = |r: &str| r == self.node(me).resource;
        match args {
            ["dump-md", r] if ours(r) => q(self.dump_md(me)),
            ["get-gi", r] if ours(r) => q(self.get_gi(me)),
            ["create-md", r] if ours(r) => c(self.create_md(me)),
            ["up", r] if ours(r) => c(self.drbd_up(me, false)),
            ["adjust", r] if ours(r) => c(self.drbd_adjust(me)),
            ["down", r] if ours(r) => {
                if self.node(me).drbd.role == "Primary" && !self.node(me).mounts.is_empty() {
                    return c(res(
                        11,
                        "",
                        "0: State change failed: (-12) Device is held open by someone\n",
                    ));
                }
                self.drbd_down(me);
                c(res(0, "", ""))
            }
            ["primary", "--force", r] if ours(r) => c(self.primary(me, true)),
            ["primary", r] if ours(r) => c(self.primary(me, false)),
            ["secondary", r] if ours(r) => {
                let n = self.node_mut(me);
                if !n.drbd.up {
                    return c(res(10, "", format!("{r}: No such resource\n")));
                }
                n.drbd.role = "Secondary".into();
                c(res(0, "", ""))
            }
            ["--", "--clear-bitmap", "new-current-uuid", r] if ours(r) && !v9 => {
                c(self.clear_bitmap(me))
            }
            ["new-current-uuid", "--clear-bitmap", r] if ours(r) && v9 => c(self.clear_bitmap(me)),
            _ => (
                res(
                    20,
                    "",
                    format!("drbdadm: unknown or misspelt command: {}\n", args.join(" ")),
                ),
                true,
            ),
        }
    }

    fn dump_md(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        if n.drbd.up {
            return res(20, "Operation canceled.\n", format!("open({}) failed: Device or resource busy\n\nExclusive open failed. Do it anyways?\nstdin not a TTY, not waiting for confirmation\nCommand 'drbdmeta {} v08 {} internal dump-md' terminated with exit code 20\n", n.backing_path(), n.minor, n.backing_path()));
        }
        if !n.has_backing() {
            return res(
                20,
                "",
                format!(
                    "open({}) failed: No such file or directory\n",
                    n.backing_path()
                ),
            );
        }
        let Some(md) = &n.drbd.md else {
            return res(1, "", "No valid meta data found\n");
        };
        let u = md.uuids;
        let text = if self.v9() {
            let mut s = format!("# DRBD meta data dump\n#\n\nversion \"v09\";\n\nmax-peers 1;\nnode-id -1;\ncurrent-uuid 0x{};\nflags 0x00000080;\npeer[0] {{\n    bitmap-index -1;\n    bitmap-uuid 0x{};\n    bitmap-dagtag 0x0000000000000000;\n    flags 0x00000000;\n}}\nhistory-uuids {{\n", hex16(u[0]), hex16(u[1]));
            s.push_str(&format!(
                "        0x{}; 0x{}; 0x0000000000000000; 0x0000000000000000;\n}}\n",
                hex16(u[2]),
                hex16(u[3])
            ));
            s
        } else {
            format!("# DRBD meta data dump\n#\n\nversion \"v08\";\n\nuuid {{\n    0x{}; 0x{}; 0x{}; 0x{};\n    flags 0x00000000;\n}}\nla-size-sect 0;\n", hex16(u[0]), hex16(u[1]), hex16(u[2]), hex16(u[3]))
        };
        res(0, text, "")
    }

    fn get_gi(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let Some(md) = &n.drbd.md else {
            return res(255, "", "No valid meta data found\n");
        };
        let u = md.uuids;
        let d = &n.drbd;
        let flags = [
            u8::from(d.disk == "UpToDate"),
            u8::from(d.disk == "UpToDate"),
            u8::from(d.role == "Primary"),
            u8::from(d.net == "Connected"),
            0,
            u8::from(d.net == "Connected"),
            0,
        ];
        let mut f: Vec<String> = flags.iter().map(|x| x.to_string()).collect();
        if self.v9() {
            f.extend(["0", "0", "0", "0", "0"].map(String::from));
        }
        res(
            0,
            format!(
                "{}:{}:{}:{}:{}\n",
                hex16(u[0]),
                hex16(u[1]),
                hex16(u[2]),
                hex16(u[3]),
                f.join(":")
            ),
            "",
        )
    }

    fn create_md(&mut self, me: &str) -> CmdResult {
        let n = self.node_mut(me);
        if n.drbd.up {
            return res(20, "", "Device is configured!\n");
        }
        if !n.has_backing() {
            return res(
                20,
                "",
                format!(
                    "open({}) failed: No such file or directory\n",
                    n.backing_path()
                ),
            );
        }
        if n.drbd.md.is_some() || n.data.pv || n.data.raw.is_some() {
            // drbdmeta asks; stdin is closed (tests/fixtures/pcmk/create-md-existing.txt).
            return res(
                1,
                "Operation cancelled.\n",
                format!("You want me to create a v08 style flexible-size internal meta data block.\nThere appears to be a v08 flexible-size internal meta data block\nalready in place on {} at byte offset 429496725504\n\nDo you really want to overwrite the existing meta-data?\nstdin not a TTY, not waiting for confirmation\n", n.backing_path()),
            );
        }
        n.drbd.md = Some(Md::brand_new());
        res(0, "initializing bitmap (32 KB) to all zero\ninitializing activity log\nWriting meta data...\nNew drbd meta data block successfully created.\n", "")
    }

    /// `drbdadm up` (by hand, or pacemaker's agent starting it).
    pub(super) fn drbd_up(&mut self, me: &str, by_pacemaker: bool) -> CmdResult {
        let n = self.node_mut(me);
        if n.drbd.up {
            return res(0, "", "");
        }
        let Some(md) = n.drbd.md.clone() else {
            return res(10, "", format!("No valid meta data found\nCommand 'drbdmeta {} v08 {} internal apply-al' terminated with exit code 255\n", n.minor, n.backing_path()));
        };
        n.drbd.up = true;
        n.drbd.by_pacemaker = by_pacemaker;
        n.drbd.role = "Secondary".into();
        n.drbd.disk = if md.uptodate {
            "UpToDate"
        } else {
            "Inconsistent"
        }
        .into();
        self.drbd_connect(me, by_pacemaker)
    }

    /// The secret the simulated drbdadm echoes when a connect is slow
    /// (tests look for it in every log line).
    pub const ECHOED_SECRET: &'static str = "5ea1ed5ecre7f0rte575";

    /// drbdsetup's `connect`: on to Connecting, or (fault) not ended in
    /// drbdadm's 5 s, leaving the resource StandAlone.
    fn drbd_connect(&mut self, me: &str, by_pacemaker: bool) -> CmdResult {
        let n = self.node_mut(me);
        if !by_pacemaker && n.faults.slow_drbd_connect > 0 {
            n.faults.slow_drbd_connect -= 1;
            let line = format!(
                "Command 'drbdsetup-84 connect {} ipv4:10.0.0.1:7789 ipv4:10.0.0.2:7789 --protocol=C --cram-hmac-alg=sha256 --shared-secret={} --allow-two-primaries=yes' did not terminate within 5 seconds\n",
                n.resource,
                Self::ECHOED_SECRET
            );
            return res(20, "", line);
        }
        n.drbd.net = "Connecting".into();
        let peer = self.peer_of(me);
        if self.node(&peer).drbd.up && self.node(&peer).drbd.net == "Connecting" {
            self.handshake(me, &peer);
        }
        res(0, "", "")
    }

    /// `drbdadm adjust`: up if down; a connection where there is none.
    fn drbd_adjust(&mut self, me: &str) -> CmdResult {
        let n = self.node(me);
        if !n.drbd.up {
            return self.drbd_up(me, false);
        }
        if n.drbd.net == "StandAlone" {
            return self.drbd_connect(me, false);
        }
        res(0, "", "")
    }

    pub(super) fn drbd_down(&mut self, me: &str) {
        let peer = self.peer_of(me);
        if self.node(me).drbd.net == "Connected" {
            self.node_mut(&peer).drbd.net = "Connecting".into();
        }
        if self
            .sync
            .as_ref()
            .is_some_and(|s| s.source == me || s.target == me)
        {
            // The resync stops; it goes on when both are connected again.
            self.sync = None;
        }
        let n = self.node_mut(me);
        if n.drbd.up {
            if let Some(md) = n.drbd.md.as_mut() {
                md.uptodate = n.drbd.disk == "UpToDate";
            }
        }
        n.drbd.up = false;
        n.drbd.by_pacemaker = false;
        n.drbd.net = "StandAlone".into();
        n.drbd.role = "Secondary".into();
        n.drbd.disk = "Diskless".into();
    }

    fn handshake(&mut self, a: &str, b: &str) {
        let ma = self.node(a).drbd.md.clone().unwrap_or_else(Md::brand_new);
        let mb = self.node(b).drbd.md.clone().unwrap_or_else(Md::brand_new);
        let (da, db) = (
            self.node(a).drbd.disk.clone(),
            self.node(b).drbd.disk.clone(),
        );
        let source: Option<(String, String)> = if ma.uuids[0] == mb.uuids[0] {
            // Same data generation: a target that was cut off mid-resync
            // goes on with it.
            match (da == "UpToDate", db == "UpToDate") {
                (true, false) => Some((a.into(), b.into())),
                (false, true) => Some((b.into(), a.into())),
                _ => None,
            }
        } else if ma.is_brand_new() {
            Some((b.into(), a.into()))
        } else if mb.is_brand_new() {
            Some((a.into(), b.into()))
        } else if mb.uuids[1..].contains(&ma.uuids[0]) {
            Some((b.into(), a.into()))
        } else if ma.uuids[1..].contains(&mb.uuids[0]) {
            Some((a.into(), b.into()))
        } else {
            for n in [a, b] {
                self.node_mut(n).drbd.net = "StandAlone".into();
            }
            self.events
                .push("Split-Brain detected but unresolved, dropping connection!".into());
            return;
        };
        for n in [a, b] {
            self.node_mut(n).drbd.net = "Connected".into();
        }
        if let Some((src, tgt)) = source {
            // A disk that is consistent but not current (Outdated) is
            // nobody's sync source: connected, nothing synced.
            if matches!(
                self.node(&src).drbd.disk.as_str(),
                "Outdated" | "Consistent"
            ) {
                return;
            }
            self.start_sync(&src, &tgt);
        }
    }

    pub(super) fn start_sync(&mut self, src: &str, tgt: &str) {
        let data = self.node(src).data.clone();
        let md = self.node(src).drbd.md.clone();
        let t = self.node_mut(tgt);
        t.data = data;
        t.drbd.disk = "Inconsistent".into();
        if let (Some(tm), Some(sm)) = (t.drbd.md.as_mut(), md) {
            tm.uuids = sm.uuids;
            tm.uptodate = false;
        }
        self.node_mut(src).drbd.disk = "UpToDate".into();
        self.sync = Some(SyncJob {
            source: src.into(),
            target: tgt.into(),
            permille: 0,
        });
    }

    /// Each status read moves the resync on by a tenth.
    pub(super) fn advance_sync(&mut self) {
        let Some(mut s) = self.sync.clone() else {
            return;
        };
        s.permille += 100;
        if s.permille >= 1000 {
            self.node_mut(&s.target).drbd.disk = "UpToDate".into();
            if let Some(md) = self.node_mut(&s.target).drbd.md.as_mut() {
                md.uptodate = true;
            }
            self.sync = None;
            self.unfence_after_resync(&s.source, &s.target);
        } else {
            self.sync = Some(s);
        }
    }

    /// The handler that lifts crm-fence-peer's constraint once the peer is
    /// UpToDate again: DRBD 8.4 runs after-resync-target on the target,
    /// DRBD 9 unfence-peer on the node that fenced. The script talks to
    /// the local pacemaker: where it does not run, the constraint stays.
    fn unfence_after_resync(&mut self, source: &str, target: &str) {
        if self.fence_constraint.is_none() {
            return;
        }
        let runs_on = if self.v9() { source } else { target };
        if self.node(runs_on).in_cluster() {
            self.fence_constraint = None;
            self.events.push(format!(
                "{runs_on}: crm-unfence-peer removed the fence constraint"
            ));
        } else {
            self.events.push(format!(
                "{runs_on}: crm-unfence-peer could not reach the CIB; the fence constraint stays"
            ));
        }
    }

    fn primary(&mut self, me: &str, force: bool) -> CmdResult {
        let peer = self.peer_of(me);
        let n = self.node(me);
        if !n.drbd.up {
            return res(10, "", format!("{}: No such resource\n", n.resource));
        }
        let peer_up = n.drbd.net == "Connected" && self.node(&peer).drbd.disk == "UpToDate";
        if !force && n.drbd.disk != "UpToDate" && !peer_up {
            return res(
                11,
                "",
                format!(
                    "{}: State change failed: (-2) Need access to UpToDate data\n",
                    n.minor
                ),
            );
        }
        if force && n.drbd.disk != "UpToDate" {
            // A new data generation on this node; the peer syncs from it.
            let u = self.next_uuid();
            let n = self.node_mut(me);
            n.drbd.md = Some(Md {
                uuids: [u, 0, 0, 0],
                uptodate: true,
            });
            n.drbd.disk = "UpToDate".into();
            if n.drbd.net == "Connected" {
                self.start_sync(me, &peer);
            }
        }
        self.node_mut(me).drbd.role = "Primary".into();
        res(0, "", "")
    }

    fn clear_bitmap(&mut self, me: &str) -> CmdResult {
        let peer = self.peer_of(me);
        let (n, p) = (self.node(me), self.node(&peer));
        if !(n.drbd.up
            && n.drbd.net == "Connected"
            && n.drbd.disk == "Inconsistent"
            && p.drbd.disk == "Inconsistent")
        {
            return res(
                11,
                "",
                format!(
                    "{}: State change failed: (-2) Need both sides Inconsistent and connected\n",
                    n.minor
                ),
            );
        }
        let u = self.next_uuid();
        for s in [me.to_string(), peer] {
            let n = self.node_mut(&s);
            n.drbd.md = Some(Md {
                uuids: [u, 0, 0, 0],
                uptodate: true,
            });
            n.drbd.disk = "UpToDate".into();
        }
        res(0, "", "")
    }

    fn sync_role(&self, me: &str) -> Option<&'static str> {
        match &self.sync {
            Some(s) if s.source == me => Some("SyncSource"),
            Some(s) if s.target == me => Some("SyncTarget"),
            _ => None,
        }
    }

    /// /proc/drbd as DRBD 8.4.11 prints it (DRBD 9's holds the version
    /// only).
    pub(super) fn proc_drbd(&self, me: &str) -> String {
        let n = self.node(me);
        if self.v9() {
            return "version: 9.2.12 (api:2/proto:86-122)\nGIT-hash: 0000000000000000000000000000000000000000 build by mockbuild@, 2024-01-01 00:00:00\nTransports (api:21): tcp (9.2.12)\n".into();
        }
        let mut s = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420 \n"
            .to_string();
        if !n.drbd.up {
            return s;
        }
        let peer = self.node(&self.peer_of(me));
        let connected = n.drbd.net == "Connected";
        let cs = match (connected, self.sync_role(me)) {
            (true, Some(r)) => r.to_string(),
            (true, None) => "Connected".into(),
            (false, _) if n.drbd.net == "Connecting" => "WFConnection".into(),
            _ => n.drbd.net.clone(),
        };
        let (prole, pdisk) = if connected {
            (peer.drbd.role.as_str(), peer.drbd.disk.as_str())
        } else {
            ("Unknown", "DUnknown")
        };
        s.push_str(&format!(
            "{:2}: cs:{cs} ro:{}/{prole} ds:{}/{pdisk} C r-----\n    ns:0 nr:0 dw:0 dr:0 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:{}\n",
            n.minor,
            n.drbd.role,
            n.drbd.disk,
            if self.sync.is_some() { 1_048_508 } else { 0 }
        ));
        if let (true, Some(j)) = (connected, self.sync.as_ref()) {
            let x = (j.permille / 50) as usize;
            s.push_str(&format!(
                "\t[{}>{}] sync'ed: {:4}.{}% ({}/1048508)K\n\tfinish: 0:00:{:02} speed: 33,792 (33,792) K/sec\n",
                "=".repeat(x.saturating_sub(1)),
                ".".repeat(20 - x.min(20)),
                j.permille / 10,
                j.permille % 10,
                1_048_508 * u64::from(1000 - j.permille) / 1000,
                (1000 - j.permille) / 30
            ));
        }
        s
    }

    /// `drbdsetup status <res> --json` of DRBD 9.
    pub(super) fn drbdsetup_status(&mut self, me: &str, r: &str) -> CmdResult {
        if !self.v9() {
            return res(20, "", "drbdsetup-84: unknown command 'status'\n");
        }
        self.advance_sync();
        let n = self.node(me);
        if !n.drbd.up || r != n.resource {
            return res(10, "", format!("{r}: No such resource\n"));
        }
        let peer = self.node(&self.peer_of(me));
        let connected = n.drbd.net == "Connected";
        let repl = match (connected, self.sync_role(me)) {
            (true, Some(r)) => r,
            (true, None) => "Established",
            _ => "Off",
        };
        let pct = self
            .sync
            .as_ref()
            .map_or(100.0, |j| f64::from(j.permille) / 10.0);
        let (prole, pdisk) = if connected {
            (peer.drbd.role.as_str(), peer.drbd.disk.as_str())
        } else {
            ("Unknown", "DUnknown")
        };
        let out = format!(
            "[\n{{\n  \"name\": \"{r}\",\n  \"node-id\": {},\n  \"role\": \"{}\",\n  \"suspended\": false,\n  \"write-ordering\": \"flush\",\n  \"devices\": [\n    {{\n      \"volume\": 0,\n      \"minor\": {},\n      \"disk-state\": \"{}\",\n      \"client\": false,\n      \"quorum\": true,\n      \"size\": 1048508,\n      \"read\": 0,\n      \"written\": 0,\n      \"al-writes\": 0,\n      \"bm-writes\": 0,\n      \"upper-pending\": 0,\n      \"lower-pending\": 0\n    }} ],\n  \"connections\": [\n    {{\n      \"peer-node-id\": {},\n      \"name\": \"{}\",\n      \"connection-state\": \"{}\",\n      \"congested\": false,\n      \"peer-role\": \"{prole}\",\n      \"ap-in-flight\": 0,\n      \"rs-in-flight\": 0,\n      \"peer_devices\": [\n        {{\n          \"volume\": 0,\n          \"replication-state\": \"{repl}\",\n          \"peer-disk-state\": \"{pdisk}\",\n          \"peer-client\": false,\n          \"resync-suspended\": \"no\",\n          \"received\": 0,\n          \"sent\": 0,\n          \"out-of-sync\": 0,\n          \"pending\": 0,\n          \"unacked\": 0,\n          \"has-sync-details\": false,\n          \"has-online-verify-details\": false,\n          \"percent-in-sync\": {pct:.2}\n        }} ]\n    }} ]\n}}\n]\n",
            n.id - 1,
            n.drbd.role,
            n.minor,
            n.drbd.disk,
            peer.id - 1,
            peer.name,
            n.drbd.net,
        );
        res(0, out, "")
    }
}
