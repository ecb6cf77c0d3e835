//! What reads and writes see: files under a GFS2 mount live on the
//! clustered LV (and so on DRBD), others on the node; the raw head of a
//! device for the signature probe.

use super::*;

impl World {
    /// Writes to /dev/drbd0 reach the peer's disk while connected.
    /// A Primary writing while disconnected starts a new data generation
    /// (DRBD moves the current UUID to the bitmap slot), so that the next
    /// connect resyncs from it, or detects a split brain.
    pub(super) fn write_data(&mut self, me: &str, mut f: impl FnMut(&mut DrbdData)) {
        let peer = self.peer_of(me);
        let connected = self.node(me).drbd.net == "Connected"
            && self
                .nodes
                .get(&peer)
                .is_some_and(|p| p.drbd.net == "Connected");
        if !connected {
            let needs_new = self
                .node(me)
                .drbd
                .md
                .as_ref()
                .is_some_and(|m| m.uuids.get(1).is_some_and(|b| b.chars().all(|c| c == '0')));
            if needs_new && self.node(me).drbd.attached {
                let u = self.next_uuid();
                if let Some(md) = self.node_mut(me).drbd.md.as_mut() {
                    md.uuids[1] = md.uuids[0].clone();
                    md.uuids[0] = format!("{u:016X}");
                }
            }
        }
        f(&mut self.node_mut(me).data);
        if connected {
            f(&mut self.node_mut(&peer).data);
        }
    }

    /// Runs `f` on the file map a path lives in: a GFS2 mount's LV (shared
    /// through DRBD) or the node's own files.
    pub(super) fn with_file_home<R>(
        &mut self,
        me: &str,
        path: &str,
        f: impl Fn(&mut BTreeMap<String, String>) -> R,
    ) -> R {
        if let Some(m) = self.node(me).mount_for(path).cloned() {
            let mut out = None;
            self.write_data(me, |d| {
                if let Some(v) = d.vg.as_mut() {
                    let vname = v.name.clone();
                    if let Some(lv) = v
                        .lvs
                        .iter_mut()
                        .find(|l| format!("{vname}/{}", l.name) == m.lv)
                    {
                        let r = f(&mut lv.files);
                        if out.is_none() {
                            out = Some(r);
                        }
                    }
                }
            });
            if let Some(r) = out {
                return r;
            }
        }
        f(&mut self.node_mut(me).files)
    }

    pub(super) fn read(&mut self, me: &str, path: &str) -> io::Result<String> {
        let not_found = || {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        };
        match path {
            "/proc/drbd" => {
                if !self.node(me).drbd.loaded {
                    return not_found();
                }
                self.advance_sync();
                Ok(self.proc_drbd(me))
            }
            "/proc/mounts" => {
                let n = self.node(me);
                let mut s = format!("rootfs / rootfs rw 0 0\n/dev/root / ext3 rw,data=ordered 0 0\n/dev /dev tmpfs rw 0 0\n/proc /proc proc rw 0 0\n/sys /sys sysfs rw 0 0\n/dev/mapper/{}-lv01 / ext3 rw,data=ordered 0 0\n", n.backing_vg);
                for (i, m) in n.mounts.iter().enumerate() {
                    s.push_str(&format!(
                        "/dev/mapper/{} {} gfs2 rw,hostdata=jid={}:id=65537:first=1 0 0\n",
                        m.lv.replace('/', "-"),
                        m.dir,
                        i
                    ));
                }
                Ok(s)
            }
            _ => {
                let n = self.node(me);
                if let Some(m) = n.mount_for(path) {
                    let lv = m.lv.clone();
                    let v = n.data.vg.as_ref();
                    return v
                        .and_then(|v| {
                            v.lvs
                                .iter()
                                .find(|l| format!("{}/{}", v.name, l.name) == lv)
                        })
                        .and_then(|l| l.files.get(path).cloned())
                        .map_or_else(not_found, Ok);
                }
                n.files.get(path).cloned().map_or_else(not_found, Ok)
            }
        }
    }

    pub(super) fn write(&mut self, me: &str, path: &str, contents: &str) -> io::Result<()> {
        let (p, c) = (path.to_string(), contents.to_string());
        self.with_file_home(me, path, |files| {
            files.insert(p.clone(), c.clone());
        });
        Ok(())
    }

    pub(super) fn head(&self, me: &str, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let n = self.node(me);
        if path != n.backing_path() || !n.has_backing() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            ));
        }
        let mut b = vec![0u8; len];
        let mut put = |at: usize, bytes: &[u8]| {
            if at + bytes.len() <= b.len() {
                b[at..at + bytes.len()].copy_from_slice(bytes);
            }
        };
        if n.data.pv && !n.faults.probe_blind {
            put(512, b"LABELONE");
            put(536, b"LVM2 001");
        }
        match n.data.raw.as_deref() {
            Some("gfs2") => put(65536, &[0x01, 0x16, 0x19, 0x70]),
            Some("ext3") => put(1080, &[0x53, 0xEF]),
            _ => {}
        }
        Ok(b)
    }
}
