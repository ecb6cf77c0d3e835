//! What fenced and fence_node read from cluster.conf (through ccsd): each
//! node's fence methods and their devices, the fence devices, and
//! `fence_daemon`'s delays. A small XML reader for the subset cluster.conf
//! uses (elements, attributes in either quote, comments, the declaration).

use std::collections::BTreeMap;

/// An element: its name, its attributes in document order, its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parses the document's root element.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element {
        name: String::new(),
        attrs: Vec::new(),
        children: Vec::new(),
    }];
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("an unterminated comment")?;
            rest = &r[end + 3..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("an unterminated declaration")?;
            rest = &r[end + 2..];
            continue;
        }
        let end = rest.find('>').ok_or("an unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let done = stack.pop().ok_or("an end tag without a start")?;
            if done.name != name.trim() {
                return Err(format!("</{}> closes <{}>", name.trim(), done.name));
            }
            stack
                .last_mut()
                .ok_or("an end tag without a start")?
                .children
                .push(done);
            continue;
        }
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let tag = tag.trim();
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let mut el = Element {
            name: tag[..name_end].to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
        };
        let mut a = tag[name_end..].trim_start();
        while !a.is_empty() {
            let eq = a
                .find('=')
                .ok_or_else(|| format!("<{}>: an attribute without =", el.name))?;
            let key = a[..eq].trim().to_string();
            let v = a[eq + 1..].trim_start();
            let q = v.chars().next().ok_or("an attribute without a value")?;
            if q != '"' && q != '\'' {
                return Err(format!("<{}>: {key} is not quoted", el.name));
            }
            let close = v[1..].find(q).ok_or("an unterminated attribute value")?;
            el.attrs.push((key, unescape(&v[1..1 + close])));
            a = v[close + 2..].trim_start();
        }
        if empty {
            stack
                .last_mut()
                .ok_or("a tag outside the document")?
                .children
                .push(el);
        } else {
            stack.push(el);
        }
    }
    let mut top = stack.pop().ok_or("no document")?;
    if !stack.is_empty() {
        return Err(format!("<{}> is not closed", top.name));
    }
    top.children
        .pop()
        .ok_or_else(|| "no root element".to_string())
}

/// One device of a fence method: the `<device>` element's attributes.
#[derive(Debug, Clone)]
pub struct MethodDevice {
    pub attrs: Vec<(String, String)>,
}

/// cluster.conf, as fencing reads it.
#[derive(Debug, Clone)]
pub struct ClusterConf {
    /// Node name -> its methods (name, devices) in order.
    pub methods: BTreeMap<String, Vec<(String, Vec<MethodDevice>)>>,
    /// Fence device name -> its attributes, in order.
    pub fencedevices: BTreeMap<String, Vec<(String, String)>>,
    pub post_fail_delay: u64,
    pub post_join_delay: u64,
}

impl ClusterConf {
    pub fn parse(text: &str) -> Result<Self, String> {
        let root = parse(text)?;
        if root.name != "cluster" {
            return Err(format!("the root is <{}>, not <cluster>", root.name));
        }
        let mut methods = BTreeMap::new();
        for node in root
            .child("clusternodes")
            .map(|c| c.all("clusternode").collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let name = node
                .attr("name")
                .ok_or("a clusternode without a name")?
                .to_string();
            let ms = node
                .child("fence")
                .map(|f| {
                    f.all("method")
                        .map(|m| {
                            (
                                m.attr("name").unwrap_or("").to_string(),
                                m.all("device")
                                    .map(|d| MethodDevice {
                                        attrs: d.attrs.clone(),
                                    })
                                    .collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            methods.insert(name, ms);
        }
        let mut fencedevices = BTreeMap::new();
        if let Some(fds) = root.child("fencedevices") {
            for fd in fds.all("fencedevice") {
                let name = fd.attr("name").ok_or("a fencedevice without a name")?;
                fencedevices.insert(name.to_string(), fd.attrs.clone());
            }
        }
        let fd = root.child("fence_daemon");
        let num = |k: &str, default: u64| {
            fd.and_then(|f| f.attr(k))
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Ok(ClusterConf {
            methods,
            fencedevices,
            // fenced's defaults (fd.h): post_fail_delay 0, post_join_delay 6.
            post_fail_delay: num("post_fail_delay", 0),
            post_join_delay: num("post_join_delay", 6),
        })
    }

    /// What fenced writes to the agent's stdin for one device of a method
    /// (agent.c, make_args): every attribute of the `<device>` but `name`,
    /// then every attribute of the `<fencedevice>` but `name`, one
    /// `key=value` line each. And the agent to run.
    pub fn agent_call(&self, dev: &MethodDevice) -> Result<(String, String), String> {
        let name = dev
            .attrs
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.as_str())
            .ok_or("a device without a name")?;
        let fd = self
            .fencedevices
            .get(name)
            .ok_or_else(|| format!("no fencedevice {name}"))?;
        let mut stdin = String::new();
        for (k, v) in dev.attrs.iter().chain(fd.iter()) {
            if k != "name" {
                stdin.push_str(&format!("{k}={v}\n"));
            }
        }
        let agent = fd
            .iter()
            .find(|(k, _)| k == "agent")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("fencedevice {name} has no agent"))?;
        Ok((agent, stdin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_fenced_reads() {
        let c = ClusterConf::parse(
            r#"<?xml version="1.0"?>
<!-- a comment <with> tags -->
<cluster name="c" config_version="1">
  <clusternodes>
    <clusternode name="n1" nodeid="1">
      <fence><method name="m"><device name="d" port="01" action="off" delay="15"/></method></fence>
    </clusternode>
    <clusternode name='n2' nodeid="2"><fence/></clusternode>
  </clusternodes>
  <fencedevices>
    <fencedevice name="d" agent="fence_na" ipaddr="a" passwd="p&amp;q"/>
  </fencedevices>
  <fence_daemon post_join_delay="60"/>
</cluster>"#,
        )
        .unwrap();
        assert_eq!(c.post_join_delay, 60);
        assert_eq!(c.post_fail_delay, 0);
        let (agent, stdin) = c.agent_call(&c.methods["n1"][0].1[0]).unwrap();
        assert_eq!(agent, "fence_na");
        assert_eq!(
            stdin,
            "port=01\naction=off\ndelay=15\nagent=fence_na\nipaddr=a\npasswd=p&q\n"
        );
        assert!(c.methods["n2"].is_empty());
        assert!(parse("<a><b></a>").is_err());
    }
}
