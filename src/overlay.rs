//! Which files each node's %post overlay holds, with modes: the platform's
//! table ([`crate::platform::Platform::overlay_files`]) plus the first-boot
//! helper's config and key, which every platform ships.

pub use crate::archive::OverlayFile;
use crate::helper_config;
use crate::model::Node;
use crate::platform::{FileSpec, Scope, Source};
use crate::render::context::with_secrets;
use crate::render::RenderError;
use crate::session::RenderSession;
use minijinja::{context, Value};

/// Where the overlay puts the helper's config (what the helper reads by
/// default) and the cluster's key.
pub const HELPER_CONFIG: &str = "etc/clusterkick/firstboot.toml";
pub const HELPER_KEY: &str = "etc/clusterkick/firstboot.key";

/// Every platform's files.
const COMMON: &[FileSpec] = &[
    FileSpec::made(HELPER_CONFIG, 0o600, Source::HelperConfig),
    FileSpec::made(HELPER_KEY, 0o600, Source::HelperKey),
];

/// The cluster's file table: common, then the platform's, without the
/// files its cluster does not get.
fn specs<'s>(s: &'s RenderSession<'_>) -> impl Iterator<Item = &'static FileSpec> + 's {
    COMMON
        .iter()
        .chain(s.platform.overlay_files())
        .filter(|f| f.when.is_none_or(|w| w(s.cluster)))
}

/// A file's path on the node: `{resource}` is the DRBD resource.
fn path(s: &RenderSession<'_>, f: &FileSpec) -> String {
    f.path.replace("{resource}", &s.cluster.drbd.resource)
}

/// One file's bytes. `node` is the node whose context `ctx` is; a
/// per-device file's context names its fence device (`device`).
fn make(
    s: &RenderSession<'_>,
    f: &FileSpec,
    path: String,
    node: &Node,
    ctx: &Value,
) -> Result<OverlayFile, RenderError> {
    let contents = match f.source {
        Source::Template => s.render(&f.template_name(), ctx)?.into_bytes(),
        Source::TemplateWithSecrets => s
            .render(&f.template_name(), &with_secrets(ctx, s.secrets))?
            .into_bytes(),
        Source::Verbatim => s.raw(&f.template_name())?.to_vec(),
        Source::HelperConfig => helper_config::to_toml(
            s.cluster,
            s.platform.firstboot_platform(),
            s.platform.firstboot_pacemaker(s.cluster),
            node,
        )?
        .into_bytes(),
        Source::HelperKey => format!("{}\n", s.secrets.firstboot_key).into_bytes(),
        Source::Made(make) => make(s.cluster, s.secrets).map_err(|message| RenderError::Made {
            path: path.clone(),
            message,
        })?,
        Source::FencePassword => {
            let device = ctx
                .get_attr("device")
                .ok()
                .and_then(|d| d.as_str().map(str::to_owned))
                .unwrap_or_default();
            let pw = s
                .secrets
                .fence_passwords
                .iter()
                .find(|(d, _)| *d == device)
                .map_or("", |(_, p)| p.as_str());
            format!("{pw}\n").into_bytes()
        }
        Source::ClusterAuthkey => s.secrets.cluster_authkey.clone(),
    };
    Ok(OverlayFile {
        path,
        mode: f.mode,
        contents,
    })
}

/// The overlay files that are the same on every node of the cluster (el5:
/// cluster.conf, openais.conf, drbd.conf, which cman and DRBD want
/// identical): rendered once per cluster, with any node's context.
pub fn cluster_files(
    s: &RenderSession<'_>,
    node: &Node,
    ctx: &Value,
) -> Result<Vec<OverlayFile>, RenderError> {
    let mut files = Vec::new();
    for f in specs(s) {
        match f.scope {
            Scope::Cluster => files.push(make(s, f, path(s, f), node, ctx)?),
            Scope::FenceDevice => {
                for dev in &s.cluster.fence_devices {
                    // Only a device with a password has a password file.
                    if matches!(f.source, Source::FencePassword) && dev.passwd_source.is_none() {
                        continue;
                    }
                    let dev_ctx = context! { device => dev.name, ..ctx.clone() };
                    let p = path(s, f).replace("{device}", &dev.name);
                    files.push(make(s, f, p, node, &dev_ctx)?);
                }
            }
            Scope::Node | Scope::Nic => {}
        }
    }
    Ok(files)
}

/// Every overlay file for one node, sorted by path: the cluster-wide files
/// (from [`cluster_files`]) and the node's own, rendered with its context.
pub fn node_files(
    s: &RenderSession<'_>,
    node: &Node,
    ctx: &Value,
    shared: &[OverlayFile],
) -> Result<Vec<OverlayFile>, RenderError> {
    let mut files = shared.to_vec();
    for f in specs(s) {
        match f.scope {
            Scope::Cluster | Scope::FenceDevice => {}
            Scope::Node => files.push(make(s, f, path(s, f), node, ctx)?),
            Scope::Nic => {
                for nic in &node.nics {
                    let nic_ctx = context! {
                        nic => Value::from_serialize(nic),
                        nic_net => Value::from_serialize(s.cluster.network(nic.role)),
                        ..ctx.clone()
                    };
                    let p = path(s, f).replace("{nic}", &nic.interface);
                    files.push(make(s, f, p, node, &nic_ctx)?);
                }
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_config_is_where_the_helper_looks() {
        assert_eq!(
            format!("/{HELPER_CONFIG}"),
            crate::firstboot::config::DEFAULT_CONFIG_PATH
        );
        assert_eq!(format!("/{HELPER_KEY}"), crate::helper_config::KEY_FILE);
    }
}
