//! cman: membership and quorum as `cman_tool` prints them.

use super::*;

impl World {
    pub(super) fn cman_start(&mut self, me: &str) -> CmdResult {
        let peer_member = self.node(&self.peer_of(me)).is_running("cman");
        let n = self.node_mut(me);
        if !n.is_running("cman") {
            n.running.insert("cman".into(), true);
            n.cman_started_ms = Some(now_ms());
            // fenced joins the fence domain: unless the peer is a member
            // within post_join_delay, it is fenced (World::tick).
            if !peer_member {
                n.fenced_watch_ms = Some(now_ms());
            }
        }
        res(
            0,
            "Starting cluster: \n   Loading modules... done\n   Mounting configfs... done\n   Starting ccsd... done\n   Starting cman... done\n   Starting daemons... done\n   Starting fencing... done\n                                                           [  OK  ]\n",
            "",
        )
    }

    pub(super) fn members(&self) -> Vec<&NodeWorld> {
        self.nodes
            .values()
            .filter(|n| n.is_running("cman"))
            .collect()
    }

    pub(super) fn cman_status(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        if !n.is_running("cman") {
            return res(
                1,
                "",
                "cman_tool: Cannot open connection to cman, is it running ?\n",
            );
        }
        let members = self.members().len();
        let out = format!(
            "Version: 6.2.0\nConfig Version: 1\nCluster Name: {}\nCluster Id: 26777\nCluster Member: Yes\nCluster Generation: {}\nMembership state: Cluster-Member\nNodes: {members}\nExpected votes: 1\nTotal votes: {members}\nQuorum: 1  \nActive subsystems: 7\nFlags: 2node Dirty \nPorts Bound: 0  \nNode name: {}\nNode ID: {}\nMulticast addresses: 239.192.104.2 \nNode addresses: {} \n",
            self.cluster,
            4 * members,
            n.name,
            n.id,
            n.address
        );
        res(0, out, "")
    }

    pub(super) fn cman_nodes(&self, me: &str) -> CmdResult {
        if !self.node(me).is_running("cman") {
            return res(
                1,
                "",
                "cman_tool: Cannot open connection to cman, is it running ?\n",
            );
        }
        let mut rows: Vec<&NodeWorld> = self.nodes.values().collect();
        rows.sort_by_key(|n| n.id);
        let mut out = String::from("Node  Sts   Inc   Joined               Name\n");
        for n in rows {
            if n.is_running("cman") {
                out.push_str(&format!(
                    "{:4}   M  {:5}   2010-05-10 20:54:35  {}\n",
                    n.id, 4, n.name
                ));
            } else {
                out.push_str(&format!(
                    "{:4}   X  {:5}   {:19}  {}\n",
                    n.id, 0, "", n.name
                ));
            }
        }
        res(0, out, "")
    }
}
