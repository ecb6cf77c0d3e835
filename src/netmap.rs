//! network-map.svg: both nodes with their NICs and addresses, the three
//! subnets between them, and the fence devices on the back channel, with
//! the platform's notes (el5-xen: dom0 memory, Xen bridges, totem rings).
//! Plain SVG 1.1 with no scripts or external references.

use crate::model::{Cluster, NetRole, Node};
use crate::platform::{MapNotes, Platform};
use crate::render::xml_escape as e;
use std::fmt::Write;

const W: i32 = 1280;
const NODE_W: i32 = 360;
const ROW_H: i32 = 120;
const TOP: i32 = 130;

fn colour(role: NetRole) -> &'static str {
    match role {
        NetRole::Internet => "#c0392b",
        NetRole::Drbd => "#2471a3",
        NetRole::BackChannel => "#1e8449",
    }
}

fn node_box(s: &mut String, c: &Cluster, notes: &MapNotes, n: &Node, x: i32, primary: bool) {
    let rows = c.networks.len() as i32;
    let h = rows * ROW_H + 90;
    let _ = write!(
        s,
        r##"<g class="node" id="node-{id}">
<rect x="{x}" y="{y}" width="{NODE_W}" height="{h}" rx="10" fill="#fbfcfc" stroke="#2c3e50" stroke-width="2"/>
<text x="{tx}" y="{ty}" class="title">{name}</text>
<text x="{tx}" y="{ty2}" class="small">{about}</text>
<text x="{tx}" y="{ty3}" class="small" font-weight="bold">{prim}</text>
"##,
        id = n.id,
        y = TOP - 80,
        tx = x + 14,
        ty = TOP - 54,
        ty2 = TOP - 34,
        ty3 = TOP - 16,
        name = e(&n.fqdn),
        about = e(&[
            Some(format!("node {}", n.id)),
            notes.node.clone(),
            Some(format!("local VG {}", n.vg))
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")),
        prim = if primary {
            "DRBD: initial sync source"
        } else {
            "DRBD: initial sync target"
        },
    );
    for (i, net) in c.networks.iter().enumerate() {
        let nic = n.nic(net.role);
        let y = TOP + i as i32 * ROW_H;
        let col = colour(net.role);
        let _ = write!(
            s,
            r##"<rect x="{bx}" y="{y}" width="{bw}" height="{bh}" rx="6" fill="white" stroke="{col}" stroke-width="2"/>
<text x="{tx}" y="{t1}" class="nic" fill="{col}">{ifc}  {ip}</text>
<text x="{tx}" y="{t2}" class="mono">HWADDR {mac}</text>
<text x="{tx}" y="{t3}" class="small">{note}</text>
"##,
            bx = x + 10,
            bw = NODE_W - 20,
            bh = ROW_H - 30,
            tx = x + 22,
            t1 = y + 24,
            t2 = y + 46,
            t3 = y + 68,
            ifc = e(&nic.interface),
            ip = nic.ip,
            mac = e(&nic.mac),
            note = e(notes.nic.get(&net.role).map_or("", String::as_str)),
        );
    }
    s.push_str("</g>\n");
}

pub fn svg(c: &Cluster, platform: &dyn Platform) -> String {
    let pn = platform.map_notes(c);
    let rows = c.networks.len() as i32;
    let fence_y = TOP + rows * ROW_H + 20;
    let h = fence_y + 30 + 60 * c.fence_devices.len().max(1) as i32 + 10;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="DejaVu Sans, Arial, sans-serif">
<title>Cluster {name}: network map</title>
<style>
.title {{ font-size: 17px; font-weight: bold; fill: #2c3e50; }}
.nic {{ font-size: 15px; font-weight: bold; }}
.small {{ font-size: 11.5px; fill: #34495e; }}
.mono {{ font-size: 12px; font-family: DejaVu Sans Mono, monospace; fill: #34495e; }}
.net {{ font-size: 14px; font-weight: bold; fill: white; }}
.netnote {{ font-size: 12px; fill: white; }}
</style>
<rect width="{W}" height="{h}" fill="white"/>
<text x="{cx}" y="28" text-anchor="middle" class="title">Cluster {name} ({domain}) · {platform}</text>
"##,
        name = e(&c.name),
        domain = e(&c.domain),
        platform = platform.id(),
        cx = W / 2,
    );
    let left = 20;
    let right = W - 20 - NODE_W;
    let mid_x = left + NODE_W + 40;
    let mid_w = right - 40 - mid_x;
    for (i, net) in c.networks.iter().enumerate() {
        let y = TOP + i as i32 * ROW_H;
        let cy = y + (ROW_H - 30) / 2;
        let col = colour(net.role);
        // Links from each node's NIC to the subnet.
        let notes = net_notes(c, &pn, net.role);
        let box_h = 30 + 16 * notes.len() as i32;
        let _ = write!(
            s,
            r##"<line x1="{a}" y1="{cy}" x2="{b}" y2="{cy}" stroke="{col}" stroke-width="4"/>
<line x1="{c2}" y1="{cy}" x2="{d}" y2="{cy}" stroke="{col}" stroke-width="4"/>
<rect x="{mid_x}" y="{ry}" width="{mid_w}" height="{box_h}" rx="8" fill="{col}"/>
<text x="{tx}" y="{t1}" text-anchor="middle" class="net">{title} network {subnet}</text>
"##,
            a = left + NODE_W - 10,
            b = mid_x,
            c2 = mid_x + mid_w,
            d = right + 10,
            ry = cy - box_h / 2,
            tx = mid_x + mid_w / 2,
            t1 = cy - box_h / 2 + 20,
            title = net.role.title(),
            subnet = net.subnet,
        );
        for (k, note) in notes.iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{tx}" y="{ty}" text-anchor="middle" class="netnote">{note}</text>"##,
                tx = mid_x + mid_w / 2,
                ty = cy - box_h / 2 + 38 + 16 * k as i32,
                note = e(note),
            );
        }
    }
    let primary = |n: &Node| n.name == c.drbd.primary;
    node_box(&mut s, c, &pn, &c.nodes[0], left, primary(&c.nodes[0]));
    node_box(&mut s, c, &pn, &c.nodes[1], right, primary(&c.nodes[1]));
    // Fence devices hang off the back channel.
    let bc_index = c
        .networks
        .iter()
        .position(|n| n.role == NetRole::BackChannel)
        .unwrap_or(0) as i32;
    let bc_box_h = 30 + 16 * net_notes(c, &pn, NetRole::BackChannel).len() as i32;
    let bc_bottom = TOP + bc_index * ROW_H + (ROW_H - 30) / 2 + bc_box_h / 2;
    for (i, f) in c.fence_devices.iter().enumerate() {
        let y = fence_y + 30 + i as i32 * 60;
        let ports: Vec<String> = c
            .nodes
            .iter()
            .flat_map(|n| {
                n.fence.iter().flat_map(move |m| {
                    m.devices
                        .iter()
                        .filter(|r| r.device == f.name)
                        .map(move |r| match r.port.as_deref() {
                            Some(port) => format!(
                                "{} port {port}{}",
                                n.name,
                                r.delay.map_or(String::new(), |d| format!(" (delay {d}s)"))
                            ),
                            // A device of the node's own (a BMC): its delay
                            // is what makes the node survive a split.
                            None => format!(
                                "{}{}",
                                n.name,
                                r.delay.map_or(String::new(), |d| format!(
                                    " (waits {d} s: {} survives a split)",
                                    n.name
                                ))
                            ),
                        })
                })
            })
            .collect();
        let _ = write!(
            s,
            r##"<line x1="{cx}" y1="{bc_bottom}" x2="{cx}" y2="{y}" stroke="{bc}" stroke-width="3" stroke-dasharray="6 4"/>
<rect x="{x}" y="{y}" width="{w}" height="50" rx="8" fill="#fdf2e9" stroke="#a04000" stroke-width="2"/>
<text x="{cx}" y="{t1}" text-anchor="middle" class="title" font-size="14px">fence device {name} ({agent})</text>
<text x="{cx}" y="{t2}" text-anchor="middle" class="small">{ports}</text>
"##,
            cx = W / 2,
            bc = colour(NetRole::BackChannel),
            x = mid_x,
            w = mid_w,
            t1 = y + 20,
            t2 = y + 38,
            name = e(&f.name),
            agent = e(&f.agent),
            ports = e(&ports.join(" · ")),
        );
    }
    s.push_str("</svg>\n");
    s
}

fn net_notes(c: &Cluster, pn: &MapNotes, role: NetRole) -> Vec<String> {
    let mut parts = Vec::new();
    let n = c.network(role);
    if let Some(g) = n.gateway {
        parts.push(format!("gateway {g}"));
    }
    parts.extend(pn.links.get(&role).into_iter().flatten().cloned());
    if c.drbd.network == role {
        parts.push(format!(
            "DRBD {} replication, port {}",
            c.drbd.resource, c.drbd.port
        ));
    }
    if role == NetRole::BackChannel {
        parts.push(format!(
            "/etc/hosts names, fencing, first-boot port {}",
            c.firstboot.port
        ));
    }
    parts.extend(pn.traffic.get(&role).cloned());
    parts
}
