//! The PXE side of a build: `tftpboot/` for a TFTP server (pxelinux.cfg/
//! with one file per node's boot NIC and a `default`), and an nginx snippet
//! that confines the HTTP side to each node's own files.
//!
//! Nothing here installs by accident: every pxelinux file boots the local
//! disk unless someone types (or picks) a node's entry, whose label says it
//! erases that node's disks.

use crate::layout;
use crate::model::Node;
use crate::output::Output;
use crate::render::{context::header, RenderError};
use crate::session::RenderSession;
use minijinja::{context, Value};
use serde::Serialize;

/// Seconds the boot: prompt waits before it boots the local disk.
pub const PROMPT_TIMEOUT_SECS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum PxeError {
    #[error("rendering the PXE tree")]
    Render(#[from] RenderError),
    #[error("install.overlay_url {url:?} {why}")]
    OverlayUrl { url: String, why: &'static str },
}

/// The output's folder and file names the PXE files' comments mention.
fn layout_names() -> Value {
    context! {
        tftpboot => layout::TFTPBOOT_DIR,
        sums => layout::SHA256SUMS,
    }
}

/// pxelinux's per-NIC file name: `01-` (ARP type Ethernet), then the MAC in
/// lower case with dashes.
pub fn pxelinux_file_name(mac: &str) -> String {
    format!("01-{}", mac.to_ascii_lowercase().replace(':', "-"))
}

/// The label typed at the boot: prompt to reinstall a node.
pub fn install_label(node: &Node) -> String {
    format!("erase-and-install-{}", node.name)
}

/// One node's install entry, as the pxelinux templates see it.
#[derive(Debug, Serialize)]
struct Entry {
    node: String,
    label: String,
    interface: String,
    /// Upper case with colons, as the profile's model and ifcfg's HWADDR
    /// have it.
    mac: String,
    ip: String,
    ks_url: String,
}

fn entry(s: &RenderSession<'_>, node: &Node) -> Entry {
    let cluster = s.cluster;
    let nic = node.nic(cluster.pxe.boot_network);
    Entry {
        node: node.name.clone(),
        label: install_label(node),
        interface: nic.interface.clone(),
        mac: nic.mac.clone(),
        ip: nic.ip.to_string(),
        ks_url: format!("{}/{}", cluster.install.overlay_url, s.installer_path(node)),
    }
}

/// Adds tftpboot/ and the web-server snippet to a build's output.
pub fn add(s: &RenderSession<'_>, out: &mut Output) -> Result<(), PxeError> {
    let cluster = s.cluster;
    let entries: Vec<Entry> = cluster.nodes.iter().map(|n| entry(s, n)).collect();
    let base = context! {
        header => header(cluster),
        layout => layout_names(),
        cluster_name => cluster.name,
        domain => cluster.domain,
        install_url => cluster.install.url,
        boot_nic_title => cluster.pxe.boot_network.title().to_lowercase(),
        kernel => cluster.pxe.kernel,
        initrd => cluster.pxe.initrd,
        disks => cluster.disks.devices.join(", "),
        timeout_secs => PROMPT_TIMEOUT_SECS,
    };
    // One template for both kinds of file: `default` lists every node,
    // a node's own file only that node.
    let default = s.render(
        "pxe/pxelinux.cfg.j2",
        &context! { node => (), entries => Value::from_serialize(&entries), ..base.clone() },
    )?;
    out.add(layout::pxelinux_cfg("default"), 0o644, default.into_bytes());
    for e in &entries {
        let one = Value::from_serialize(e);
        let file = s.render(
            "pxe/pxelinux.cfg.j2",
            &context! { node => one.clone(), entries => vec![one], ..base.clone() },
        )?;
        out.add(
            layout::pxelinux_cfg(&pxelinux_file_name(&e.mac)),
            0o644,
            file.into_bytes(),
        );
    }
    out.add(
        layout::NGINX_SNIPPET,
        0o644,
        nginx_snippet(s, out)?.into_bytes(),
    );
    Ok(())
}

fn nginx_snippet(s: &RenderSession<'_>, out: &Output) -> Result<String, PxeError> {
    let cluster = s.cluster;
    let url = &cluster.install.overlay_url;
    let url_path = nginx_location(url).map_err(|why| PxeError::OverlayUrl {
        url: url.clone(),
        why,
    })?;
    let boot = cluster.network(cluster.pxe.boot_network);
    let nodes: Vec<Value> = cluster
        .nodes
        .iter()
        .map(|n| {
            context! {
                node => n.name,
                ip => n.nic(cluster.pxe.boot_network).ip.to_string(),
                ks => s.installer_path(n),
                post => s.platform.post_script_file().then(|| layout::post_script(n)),
                overlay => layout::overlay(n),
            }
        })
        .collect();
    let installer_file = s.platform.summary(cluster).installer_file;
    let installer_what = if s.platform.post_script_file() {
        format!("{installer_file} and post-install script")
    } else {
        installer_file
    };
    let ctx = context! {
        header => header(cluster),
        layout => layout_names(),
        cluster_name => cluster.name,
        installer_what => installer_what,
        overlay_url => cluster.install.overlay_url,
        url_path => url_path,
        boot_net_title => boot.role.title().to_lowercase(),
        boot_subnet => boot.subnet.to_string(),
        nodes => nodes,
        blob => layout::blob(&out.helper_sha256),
    };
    Ok(s.render("pxe/nginx-clusterkick.conf.j2", &ctx)?)
}

/// The path part of the overlay URL, as the nginx snippet's location names
/// it: no trailing slash, never the web server's root (the snippet refuses
/// everything under it that is not a node's own file). Profile validation
/// makes this same check, so `check` refuses what `build` would.
pub fn nginx_location(url: &str) -> Result<String, &'static str> {
    let after_scheme = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or("has no scheme")?;
    let path = after_scheme
        .find('/')
        .map_or("", |i| &after_scheme[i..])
        .trim_end_matches('/');
    if path.is_empty() {
        return Err("names the web server's root: give the build its own folder, e.g. http://10.0.1.1/an-cluster, so that the nginx snippet can refuse everything in it but each node's own files");
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~/+:@".contains(c);
    if !path.chars().all(plain) || path.split('/').any(|s| s == "..") {
        return Err("has a path with characters that cannot go into an nginx location as they are: use letters, digits and - . _ ~ + : @ /");
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pxelinux_names_are_lower_case_dashed_with_arp_type() {
        assert_eq!(
            pxelinux_file_name("00:0E:0C:59:45:78"),
            "01-00-0e-0c-59-45-78"
        );
    }

    #[test]
    fn url_paths_are_folders_nginx_can_name() {
        assert_eq!(
            nginx_location("http://10.0.1.1/an-cluster/").unwrap(),
            "/an-cluster"
        );
        assert_eq!(nginx_location("https://h:8080/a/b_c").unwrap(), "/a/b_c");
        assert!(nginx_location("http://10.0.1.1").is_err());
        assert!(nginx_location("http://10.0.1.1/").is_err());
        assert!(nginx_location("http://10.0.1.1/a%20b").is_err());
        assert!(nginx_location("http://10.0.1.1/a?b").is_err());
        assert!(nginx_location("http://10.0.1.1/a/../b").is_err());
    }
}
