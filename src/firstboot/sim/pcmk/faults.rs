//! Faults the tests inject by editing the world: disks that hold data, a
//! live CIB that already has resources. (Crashes, hangs and power loss
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
}
