//! Faults the tests inject by editing the world: disks that hold data, a
//! live CIB that already has resources, a node replaced by new hardware;
//! and the reads and writes of an application on a node. (Crashes, hangs and power loss
//! after the n-th change are `Faults` on a node, applied by `SimHost`.)

use super::*;

impl World {
    /// DRBD metadata with a data generation history on a node's backing LV.
    pub fn inject_metadata_with_history(&mut self, short: &str) {
        let u = self.next_uuid();
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.drbd.md = Some(Md::with_history(u));
        n.data.pv = true;
    }

    /// A PV label at the start of the backing LV with brand-new DRBD
    /// metadata; `wipefs_blind`: wipefs misses it (only `pvs` finds it).
    pub fn inject_pv_signature(&mut self, short: &str, wipefs_blind: bool) {
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.drbd.md = Some(Md::brand_new());
        n.data.pv = true;
        n.faults.wipefs_blind = wipefs_blind;
    }

    /// A file system directly on the backing device.
    pub fn inject_raw_fs(&mut self, short: &str, kind: &str) {
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.data.raw = Some(kind.to_string());
    }

    /// A live CIB that someone already configured (one resource).
    pub fn inject_live_cib(&mut self) {
        self.cib = Some("<configuration><crm_config/><nodes/><resources><primitive id=\"someone-elses-ip\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\"/></resources><constraints/></configuration>".into());
    }

    /// `dead` dies for good and new hardware takes its place. On the
    /// survivor: DRBD loses its peer (Connecting), pacemaker fences the
    /// dead node and carries on alone (quorate: two_node), DRBD's
    /// crm-fence-peer handler places its constraint. The new hardware is
    /// as the installer leaves a node: the node VG without the backing
    /// LV, nothing running, the helper enabled at boot, the build's CIB
    /// file; its command log starts empty.
    pub fn replace_node(&mut self, dead: &str) {
        let survivor = self.peer_of(dead);
        self.power_off(dead);
        self.sync = None;
        let cib_files: BTreeMap<String, String> = self
            .node(dead)
            .files
            .iter()
            .filter(|(k, _)| k.starts_with("/etc/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let n = self.node_mut(dead);
        n.enabled = ["clusterkick-firstboot.service".to_string()].into();
        n.drbd = DrbdNode {
            net: "StandAlone".into(),
            role: "Secondary".into(),
            disk: "Diskless".into(),
            ..Default::default()
        };
        n.data = DrbdData::default();
        n.faults = Faults::default();
        n.local_lvs.retain(|l| l.name != n.backing_lv);
        n.files = cib_files;
        n.log.clear();
        n.changes = 0;
        let s = self.node_mut(&survivor);
        s.drbd.net = "Connecting".into();
        self.fence_constraint = Some(survivor.clone());
        self.events.push(format!(
            "{dead} died and was fenced; {survivor} runs alone; new hardware in {dead}'s place"
        ));
        self.converge();
    }

    /// A file written on `short` outside any helper (an application's
    /// write: on GFS2 where a mount holds the path), logged nowhere.
    pub fn write_as(&mut self, short: &str, path: &str, contents: &str) -> io::Result<()> {
        self.write(short, path, contents)
    }

    /// A file read on `short` outside any helper, logged nowhere.
    pub fn read_as(&mut self, short: &str, path: &str) -> io::Result<String> {
        self.read(short, path)
    }
}
