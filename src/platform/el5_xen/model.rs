//! The el5-xen payload: what only this platform's clusters have.

use super::fence::FenceAgent;
use crate::model::NetRole;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Serialize)]
pub struct El5Xen {
    /// Xen's `dom0_mem`, e.g. "512M".
    pub dom0_memory: String,
    /// The runlevel inittab boots to.
    pub runlevel: u8,
    /// CentOS extras, where drbd83 and kmod-drbd83-xen come from.
    pub extras_url: String,
    /// openais's totem section.
    pub totem: Totem,
    /// One Xen bridge per network, in network (interface) order.
    pub bridges: Vec<Bridge>,
    /// How cluster.conf names each fence device's agent, by device name.
    pub fence_agents: BTreeMap<String, FenceAgent>,
}

/// Xen's network-bridge for one NIC: ethN becomes pethN under xenbrN.
#[derive(Debug, Clone, Serialize)]
pub struct Bridge {
    pub role: NetRole,
    pub interface: String,
    /// xenbr<N> for eth<N>.
    pub bridge: String,
    /// The number in ethN (vifnum for network-bridge).
    pub vifnum: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ring {
    pub number: u32,
    pub network: NetRole,
    pub bindnetaddr: Ipv4Addr,
    pub mcastaddr: Ipv4Addr,
    pub mcastport: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totem {
    pub version: u32,
    pub secauth: bool,
    pub threads: u32,
    pub rrp_mode: String,
    pub rings: Vec<Ring>,
}
