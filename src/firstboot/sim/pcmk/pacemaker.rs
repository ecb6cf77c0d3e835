//! Pacemaker running the loaded CIB: after every command it "acts"
//! ([`World::converge`]): on each node in the cluster with quorum, the
//! stonith devices, the DRBD promotable clone (start = `drbdadm up`,
//! promote when it has or reaches UpToDate data), dlm + lvmlockd, and
//! LVM-activate + Filesystem once DRBD is Promoted and lvmlockd runs
//! there. Clones held `target-role=Stopped` do not run. What it prints:
//! `crm_mon --output-as=xml` (pacemaker 2.1.5's layout, see the fixtures),
//! `cibadmin --query`, `cibadmin --replace`, `crm_resource`.

use super::*;

/// A primitive of the loaded configuration.
struct Prim {
    id: String,
    /// The top-level clone, if any.
    clone: Option<String>,
    /// `class:provider:type` (or `stonith:type`).
    agent: String,
    params: BTreeMap<String, String>,
    promotable: bool,
    /// Its clone (or itself) has meta target-role=Stopped.
    held: bool,
}

fn meta(n: roxmltree::Node, name: &str) -> Option<String> {
    n.children()
        .filter(|c| c.has_tag_name("meta_attributes"))
        .flat_map(|m| m.children())
        .find(|nv| nv.has_tag_name("nvpair") && nv.attribute("name") == Some(name))
        .and_then(|nv| nv.attribute("value").map(str::to_string))
}

fn agent_of(p: roxmltree::Node) -> String {
    let class = p.attribute("class").unwrap_or("");
    let ty = p.attribute("type").unwrap_or("");
    match p.attribute("provider") {
        Some(pr) => format!("{class}:{pr}:{ty}"),
        None => format!("{class}:{ty}"),
    }
}

/// The primitives of a `<configuration>` in document order.
fn primitives(conf: &str) -> Vec<Prim> {
    let Ok(doc) = roxmltree::Document::parse(conf) else {
        return Vec::new();
    };
    let Some(resources) = doc.descendants().find(|n| n.has_tag_name("resources")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for top in resources.children().filter(|c| c.is_element()) {
        let clone = top
            .has_tag_name("clone")
            .then(|| top.attribute("id").unwrap_or("").to_string());
        let promotable = meta(top, "promotable").as_deref() == Some("true");
        let top_held = meta(top, "target-role").as_deref() == Some("Stopped");
        for p in top.descendants().filter(|d| d.has_tag_name("primitive")) {
            let params = p
                .children()
                .filter(|c| c.has_tag_name("instance_attributes"))
                .flat_map(|a| a.children())
                .filter(|nv| nv.has_tag_name("nvpair"))
                .filter_map(|nv| {
                    Some((
                        nv.attribute("name")?.to_string(),
                        nv.attribute("value")?.to_string(),
                    ))
                })
                .collect();
            out.push(Prim {
                id: p.attribute("id").unwrap_or("").to_string(),
                clone: clone.clone(),
                agent: agent_of(p),
                params,
                promotable,
                held: top_held || meta(p, "target-role").as_deref() == Some("Stopped"),
            });
        }
    }
    out
}

impl World {
    /// Pacemaker acts: brings each node's resources to what the CIB asks,
    /// as far as the node's state allows.
    pub fn converge(&mut self) {
        let shorts: Vec<String> = self.nodes.keys().cloned().collect();
        if shorts
            .iter()
            .all(|s| self.node(s).is_running("corosync.service"))
        {
            for s in &shorts {
                self.node_mut(s).seen_both = true;
            }
        }
        let prims = self.cib.as_deref().map(primitives).unwrap_or_default();
        for me in &shorts {
            if !self.node(me).in_cluster() {
                // Pacemaker is not running here: what it ran is stopped.
                if self.node(me).drbd.by_pacemaker {
                    self.drbd_down(me);
                }
                let n = self.node_mut(me);
                n.resources.clear();
                continue;
            }
            if !self.quorate(me) {
                // no-quorum-policy=freeze.
                continue;
            }
            for p in &prims {
                self.act_on(me, p);
            }
        }
    }

    fn set(&mut self, me: &str, id: &str, role: Option<&str>) {
        let n = self.node_mut(me);
        match role {
            Some(r) => {
                n.resources.insert(id.to_string(), r.to_string());
            }
            None => {
                n.resources.remove(id);
            }
        }
    }

    fn act_on(&mut self, me: &str, p: &Prim) {
        if self.node(me).resources.get(&p.id).map(String::as_str) == Some("Failed") {
            return;
        }
        let peer = self.peer_of(me);
        match p.agent.as_str() {
            a if a.starts_with("stonith:") => {
                // Each device runs on the node it does not fence, or on
                // the only node there is.
                let target_is_me = p.params.get("pcmk_host_list").is_some_and(|h| {
                    let n = self.node(me);
                    h == &n.name || h == me
                });
                let peer_runs = self.node(&peer).in_cluster();
                let here = !p.held && (!target_is_me || !peer_runs);
                self.set(me, &p.id, here.then_some("Started"));
            }
            "ocf:linbit:drbd" => {
                if p.held {
                    if self.node(me).drbd.by_pacemaker {
                        self.drbd_down(me);
                    }
                    self.set(me, &p.id, None);
                    return;
                }
                if !self.node(me).drbd.up && !self.drbd_up(me, true).success() {
                    self.set(me, &p.id, Some("Failed"));
                    return;
                }
                let d = &self.node(me).drbd;
                let peer_good = d.net == "Connected" && self.node(&peer).drbd.disk == "UpToDate";
                let fenced_off = self.fence_constraint.as_deref().is_some_and(|s| s != me);
                if p.promotable
                    && d.role != "Primary"
                    && !fenced_off
                    && (d.disk == "UpToDate" || peer_good)
                {
                    self.node_mut(me).drbd.role = "Primary".into();
                }
                let role = if self.node(me).drbd.role == "Primary" {
                    "Promoted"
                } else {
                    "Started"
                };
                self.set(me, &p.id, Some(role));
            }
            "ocf:pacemaker:controld" | "ocf:heartbeat:lvmlockd" => {
                self.set(me, &p.id, (!p.held).then_some("Started"));
            }
            "ocf:heartbeat:LVM-activate" => {
                let ready = !p.held
                    && self.runs(me, "ocf:heartbeat:lvmlockd")
                    && self.node(me).drbd_readable();
                if !ready {
                    self.stop_lv(me, p);
                    return;
                }
                let vg = p.params.get("vgname").cloned().unwrap_or_default();
                let lv = p.params.get("lvname").cloned().unwrap_or_default();
                let exists = self.node(me).data.vg.as_ref().is_some_and(|v| {
                    v.name == vg && v.lock_type == "dlm" && v.lvs.iter().any(|l| l.name == lv)
                });
                if !exists {
                    self.set(me, &p.id, Some("Failed"));
                    return;
                }
                let n = self.node_mut(me);
                n.lockspace = true;
                n.active.insert(format!("{vg}/{lv}"));
                self.set(me, &p.id, Some("Started"));
            }
            "ocf:heartbeat:Filesystem" => {
                let dev = p.params.get("device").cloned().unwrap_or_default();
                let dir = p.params.get("directory").cloned().unwrap_or_default();
                let vglv = dev.trim_start_matches("/dev/").to_string();
                if p.held || !self.node(me).active.contains(&vglv) {
                    let n = self.node_mut(me);
                    n.mounts.retain(|m| m.dir != dir);
                    self.set(me, &p.id, None);
                    return;
                }
                let has_gfs2 = self.lv(me, &vglv).is_some_and(|l| l.gfs2.is_some());
                if !has_gfs2 {
                    self.set(me, &p.id, Some("Failed"));
                    return;
                }
                let n = self.node_mut(me);
                if !n.mounts.iter().any(|m| m.dir == dir) {
                    n.mounts.push(ModelMount {
                        device: dev.clone(),
                        dir,
                        lv: vglv,
                    });
                }
                self.set(me, &p.id, Some("Started"));
            }
            _ => self.set(me, &p.id, Some("Failed")),
        }
    }

    fn stop_lv(&mut self, me: &str, p: &Prim) {
        let vg = p.params.get("vgname").cloned().unwrap_or_default();
        let lv = p.params.get("lvname").cloned().unwrap_or_default();
        let n = self.node_mut(me);
        let was = n.resources.remove(&p.id).is_some();
        if was {
            n.active.remove(&format!("{vg}/{lv}"));
        }
    }

    /// A resource with this agent runs (Started) on the node.
    fn runs(&self, me: &str, agent: &str) -> bool {
        let prims = self.cib.as_deref().map(primitives).unwrap_or_default();
        prims.iter().any(|p| {
            p.agent == agent
                && self.node(me).resources.get(&p.id).map(String::as_str) == Some("Started")
        })
    }

    fn not_connected(&self, me: &str, what: &str) -> Option<CmdResult> {
        (!self.node(me).in_cluster()).then(|| {
            if what == "crm_mon" {
                // What pacemaker 2.1.5's crm_mon prints (a real capture is
                // in tests/fixtures/pcmk/).
                return res(
                    102,
                    "<pacemaker-result api-version=\"2.25\" request=\"crm_mon --one-shot --inactive --output-as=xml\">\n  <status code=\"102\" message=\"Not connected\">\n    <errors>\n      <error>error: Could not connect to launcher: Connection refused</error>\n      <error>crm_mon: Connection to cluster failed: Connection refused</error>\n    </errors>\n  </status>\n</pacemaker-result>\n",
                    "",
                );
            }
            res(102, "", format!("{what}: Connection to cluster failed: Connection refused\n"))
        })
    }

    /// `crm_mon --one-shot --inactive --output-as=xml`.
    pub(super) fn crm_mon(&self, me: &str) -> CmdResult {
        if let Some(r) = self.not_connected(me, "crm_mon") {
            return r;
        }
        let quorate = self.quorate(me);
        let mut nodes: Vec<&NodeWorld> = self.nodes.values().collect();
        nodes.sort_by_key(|n| n.id);
        let dc = nodes
            .iter()
            .find(|n| n.in_cluster())
            .map(|n| n.name.clone())
            .unwrap_or_default();
        let prims = self.cib.as_deref().map(primitives).unwrap_or_default();
        let mut s = String::from("<pacemaker-result api-version=\"2.25\" request=\"crm_mon --one-shot --inactive --output-as=xml\">\n  <summary>\n    <stack type=\"corosync\"/>\n");
        s.push_str(&format!(
            "    <current_dc present=\"true\" version=\"2.1.5-a3f44794f94\" name=\"{dc}\" id=\"1\" with_quorum=\"{quorate}\"/>\n    <nodes_configured number=\"2\"/>\n    <resources_configured number=\"{}\" disabled=\"0\" blocked=\"0\"/>\n  </summary>\n  <nodes>\n",
            prims.len() * 2
        ));
        for n in &nodes {
            let on = n.in_cluster();
            s.push_str(&format!(
                "    <node name=\"{}\" id=\"{}\" online=\"{on}\" standby=\"false\" standby_onfail=\"false\" maintenance=\"false\" pending=\"false\" unclean=\"false\" health=\"green\" shutdown=\"false\" expected_up=\"{on}\" is_dc=\"{}\" resources_running=\"{}\" type=\"member\"/>\n",
                n.name,
                n.id,
                n.name == dc,
                n.resources.len()
            ));
        }
        s.push_str("  </nodes>\n");
        if prims.is_empty() {
            // pacemaker prints no <resources> when none are configured.
            s.push_str("  <status code=\"0\" message=\"OK\"/>\n</pacemaker-result>\n");
            return res(0, s, "");
        }
        s.push_str("  <resources>\n");
        let instance = |p: &Prim, n: Option<&NodeWorld>| -> String {
            let state = n.and_then(|n| n.resources.get(&p.id));
            let (role, active, failed) = match state.map(String::as_str) {
                Some("Failed") => ("Started", true, true),
                Some(r) => (r, true, false),
                None => ("Stopped", false, false),
            };
            let mut r = format!(
                "<resource id=\"{}\" resource_agent=\"{}\" role=\"{role}\" active=\"{active}\" orphaned=\"false\" blocked=\"false\" managed=\"true\" failed=\"{failed}\" failure_ignored=\"false\" nodes_running_on=\"{}\"",
                p.id,
                p.agent,
                u8::from(active)
            );
            match (active, n) {
                (true, Some(n)) => r.push_str(&format!(
                    ">\n<node name=\"{}\" id=\"{}\" cached=\"true\"/>\n</resource>\n",
                    n.name, n.id
                )),
                _ => r.push_str("/>\n"),
            }
            r
        };
        let mut i = 0;
        while i < prims.len() {
            let p = &prims[i];
            let Some(clone) = p.clone.clone() else {
                let on = nodes
                    .iter()
                    .copied()
                    .find(|n| n.resources.contains_key(&p.id));
                s.push_str(&instance(p, on));
                i += 1;
                continue;
            };
            let members: Vec<&Prim> = prims[i..]
                .iter()
                .take_while(|q| q.clone.as_deref() == Some(&clone))
                .collect();
            s.push_str(&format!(
                "<clone id=\"{clone}\" multi_state=\"{}\" unique=\"false\" managed=\"true\" disabled=\"false\" failed=\"false\" failure_ignored=\"false\">\n",
                p.promotable
            ));
            for (k, n) in nodes.iter().enumerate() {
                let grouped = members.len() > 1;
                if grouped {
                    s.push_str(&format!("<group id=\"{}:{k}\" number_resources=\"{}\" managed=\"true\" disabled=\"false\">\n", clone.trim_end_matches("-clone"), members.len()));
                }
                for m in &members {
                    s.push_str(&instance(m, Some(n)));
                }
                if grouped {
                    s.push_str("</group>\n");
                }
            }
            s.push_str("</clone>\n");
            i += members.len();
        }
        s.push_str("  </resources>\n  <status code=\"0\" message=\"OK\"/>\n</pacemaker-result>\n");
        res(0, s, "")
    }

    /// `cibadmin --query --scope resources`.
    pub(super) fn cib_query(&self, me: &str) -> CmdResult {
        if let Some(r) = self.not_connected(me, "cibadmin") {
            return r;
        }
        let section = self.cib.as_deref().and_then(|c| {
            let doc = roxmltree::Document::parse(c).ok()?;
            let r = doc.descendants().find(|n| n.has_tag_name("resources"))?;
            Some(c[r.range()].to_string())
        });
        res(
            0,
            format!("{}\n", section.unwrap_or_else(|| "<resources/>".into())),
            "",
        )
    }

    /// `cibadmin --replace --scope configuration --xml-file FILE`.
    pub(super) fn cib_replace(&mut self, me: &str, file: &str) -> CmdResult {
        if let Some(r) = self.not_connected(me, "cibadmin") {
            return r;
        }
        let Some(text) = self.node(me).files.get(file).cloned() else {
            return res(66, "", format!("Couldn't parse input file: {file}\n"));
        };
        match roxmltree::Document::parse(&text) {
            Ok(d) if d.root_element().has_tag_name("configuration") => {}
            _ => return res(66, "", "Call cib_replace failed (-203): Update does not conform to the configured schema\n"),
        }
        self.cib = Some(text);
        res(0, "", "")
    }

    /// `crm_resource --resource ID --meta --delete-parameter target-role`.
    pub(super) fn crm_resource_delete(&mut self, me: &str, id: &str) -> CmdResult {
        if let Some(r) = self.not_connected(me, "crm_resource") {
            return r;
        }
        let Some(conf) = self.cib.clone() else {
            return res(
                105,
                "",
                format!("crm_resource: Resource '{id}' not found\n"),
            );
        };
        let cut = {
            let Ok(doc) = roxmltree::Document::parse(&conf) else {
                return res(1, "", "CIB is not XML\n");
            };
            let Some(el) = doc
                .descendants()
                .find(|n| n.attribute("id") == Some(id) && !n.has_tag_name("nvpair"))
            else {
                return res(
                    105,
                    "",
                    format!("crm_resource: Resource '{id}' not found\n"),
                );
            };
            el.children()
                .filter(|c| c.has_tag_name("meta_attributes"))
                .flat_map(|m| m.children())
                .find(|nv| nv.has_tag_name("nvpair") && nv.attribute("name") == Some("target-role"))
                .map(|nv| (nv.range(), nv.attribute("id").unwrap_or("").to_string()))
        };
        let Some((range, nvid)) = cut else {
            // pacemaker 2.1.5 deletes a meta attribute that is not there
            // silently.
            return res(0, "", "");
        };
        let mut conf = conf;
        conf.replace_range(range, "");
        self.cib = Some(conf);
        res(
            0,
            format!("Deleted '{id}' option: id={nvid} name=target-role\n"),
            "",
        )
    }
}
