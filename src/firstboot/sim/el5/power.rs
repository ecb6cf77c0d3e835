//! Power and fencing in the process simulator: the world's clock, a node's
//! power, fenced's startup fencing (a node that starts cman without its
//! peer fences it after `post_join_delay`, unless the peer joins first),
//! and `fence_node` (which waits for ever without a quorate cluster, and
//! otherwise fences the node at once through its device).
//!
//! The race between two nodes' fence agents (delay, devices, who dies
//! first) is modelled in [`crate::firstboot::sim::race`]; here a fence
//! simply powers the victim off, which is all the boot tests need.

use super::*;

/// A fence: who fenced whom, how, and when (the world's sequence number).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FenceEvent {
    pub seq: u64,
    /// The node that fenced (short name).
    pub by: String,
    /// The node fenced (short name).
    pub victim: String,
    /// "fence_node" or "fenced (startup fencing)".
    pub how: String,
}

impl World {
    /// The world's clock, in ms: the wall clock sped up by `time_scale`
    /// (1: real time). Only differences are used.
    pub fn vnow_ms(&self) -> u64 {
        now_ms().saturating_mul(self.time_scale.max(1))
    }

    /// What happens on its own as time passes, run before every command:
    /// fenced's startup fencing.
    pub fn tick(&mut self) {
        let shorts: Vec<String> = self.nodes.keys().cloned().collect();
        for me in shorts {
            let Some(since) = self.node(&me).fenced_watch_ms else {
                continue;
            };
            let peer = self.peer_of(&me);
            let n = self.node(&me);
            if !n.powered || !n.is_running("cman") {
                self.node_mut(&me).fenced_watch_ms = None;
                continue;
            }
            if self.node(&peer).is_running("cman") {
                // The peer joined within post_join_delay: no victim.
                self.node_mut(&me).fenced_watch_ms = None;
                continue;
            }
            let waited = now_ms()
                .saturating_sub(since)
                .saturating_mul(self.time_scale.max(1));
            if waited >= n.post_join_delay_secs.saturating_mul(1000) {
                self.node_mut(&me).fenced_watch_ms = None;
                self.fence(&me, &peer, "fenced (startup fencing after post_join_delay)");
            }
        }
    }

    /// Whether `fence_node` on `me` would wait for ever: it needs a quorate
    /// cluster (ccs_connect), i.e. cman running here (two_node: alone is
    /// quorate).
    pub(super) fn fence_node_blocks(&self, me: &str) -> bool {
        !self.node(me).is_running("cman")
    }

    /// `fence_node <name>` on `me`, with cman running: fences the node.
    pub(super) fn fence_node(&mut self, me: &str, name: &str) -> CmdResult {
        let victim = self
            .nodes
            .iter()
            .find(|(short, n)| n.name == name || short.as_str() == name)
            .map(|(s, _)| s.clone());
        let Some(victim) = victim else {
            return res(1, "", format!("fence_node: unknown node {name}\n"));
        };
        if victim == me {
            return res(1, "", format!("fence_node: {name} is this node\n"));
        }
        self.fence(me, &victim, "fence_node");
        res(0, "", "")
    }

    /// Powers `victim` off through its fence device: everything on it
    /// stops; its peer's DRBD loses the connection.
    pub fn fence(&mut self, by: &str, victim: &str, how: &str) {
        self.power_off(victim);
        self.seq += 1;
        let seq = self.seq;
        self.fences.push(FenceEvent {
            seq,
            by: by.to_string(),
            victim: victim.to_string(),
            how: how.to_string(),
        });
        self.events
            .push(format!("{by} fenced {victim} ({how}): powered off"));
    }

    /// A node loses power (and stays off).
    pub fn power_off(&mut self, me: &str) {
        self.reboot_without_boot(me);
        self.node_mut(me).powered = false;
    }

    /// A node that was off powers on and boots.
    pub fn power_on(&mut self, me: &str) {
        self.node_mut(me).powered = true;
        self.boot_services(me);
        self.events.push(format!("{me} powered on"));
    }
}
