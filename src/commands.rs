//! One function per subcommand: load, do the work, report.

use crate::cmdline::{BuildConfig, CheckConfig, HelperArg, IsoConfig, RenderConfig};
use crate::helper_blob::{self, HelperBlob};
use crate::installer::Media;
use crate::outdir::Job;
use crate::platform::Platform;
use crate::profile::{self, Loaded, Mode};
use crate::session::RenderSession;
use std::io::Write;
use std::path::Path;

/// A command's failure, already worded for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

fn load(path: &Path, mode: Mode) -> Result<Loaded, Failed> {
    let loaded = profile::load(path, mode).map_err(|e| Failed(e.to_string()))?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    Ok(loaded)
}

fn helper(platform: &dyn Platform, arg: &HelperArg) -> Result<HelperBlob, Failed> {
    helper_blob::locate(platform, arg.helper.as_deref()).map_err(|e| Failed(format!("error: {e}")))
}

pub fn check(c: &CheckConfig) -> Result<(), Failed> {
    load(&c.profile, Mode::Check).map(|_| ())
}

pub fn build(c: &BuildConfig) -> Result<(), Failed> {
    // Validate every profile before writing anything.
    let mut loaded = Vec::with_capacity(c.profiles.len());
    let mut names = std::collections::BTreeMap::new();
    for p in &c.profiles {
        let l = load(p, Mode::Build)?;
        if let Some(first) = names.insert(l.cluster.name.clone(), p.clone()) {
            return Err(Failed(format!(
                "error: {} and {} both name cluster {:?}; each writes DIR/<cluster>/",
                first.display(),
                p.display(),
                l.cluster.name
            )));
        }
        loaded.push(l);
    }
    let mut blobs = BlobCache::default();
    let helpers = loaded
        .iter()
        .map(|l| blobs.helper(l.flavor.platform(), &c.helper))
        .collect::<Result<Vec<_>, _>>()?;
    let jobs: Vec<Job> = loaded
        .iter()
        .zip(&helpers)
        .map(|(l, helper)| Job {
            cluster: &l.cluster,
            flavor: &l.flavor,
            secrets: &l.secrets,
            helper,
        })
        .collect();
    let built = crate::outdir::build(&c.out, &jobs, &|m| eprintln!("{m}"))
        .map_err(|e| Failed(format!("error: {e}")))?;
    match built.as_slice() {
        [one] => eprintln!(
            "built {} ({} files, {} nodes) in {}",
            one.cluster,
            one.files,
            one.nodes,
            one.path.display()
        ),
        many => eprintln!("built {} clusters in {}", many.len(), c.out.display()),
    }
    Ok(())
}

/// The helper is read and checked once per platform and run.
#[derive(Default)]
struct BlobCache {
    by_platform: Vec<(&'static str, HelperBlob)>,
}

impl BlobCache {
    fn helper(&mut self, platform: &dyn Platform, arg: &HelperArg) -> Result<HelperBlob, Failed> {
        if let Some((_, b)) = self.by_platform.iter().find(|(p, _)| *p == platform.id()) {
            return Ok(b.clone());
        }
        let b = helper(platform, arg)?;
        self.by_platform.push((platform.id(), b.clone()));
        Ok(b)
    }
}

pub fn render(c: &RenderConfig) -> Result<(), Failed> {
    let l = load(&c.profile, Mode::Check)?;
    let cl = &l.cluster;
    let node = cl.node(&c.node).ok_or_else(|| {
        Failed(format!(
            "error: no node {:?} in {}; nodes: {}",
            c.node,
            c.profile.display(),
            cl.nodes
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let fail = |e: &dyn std::fmt::Display| Failed(format!("error: {e}"));
    let needs_key = l.secrets.firstboot_key.is_empty();
    let s = RenderSession::new(cl, &l.flavor, &l.secrets);
    let packed = crate::pipeline::pack_nodes(&s)
        .map_err(|e| fail(&e))?
        .into_iter()
        .find(|p| p.node.name == node.name)
        .ok_or_else(|| {
            Failed(format!(
                "error: internal: node {} was not rendered",
                node.name
            ))
        })?;
    let files = &packed.files;
    let text: Vec<u8> = match c.path.as_str() {
        "ks" | "post" => {
            if needs_key {
                return Err(Failed(format!(
                    "error: no first-boot key yet ({}); run `clusterkick build` once to make it",
                    profile::default_key_file(&c.profile).display()
                )));
            }
            let blob = helper(l.flavor.platform(), &c.helper)?;
            let text = if c.path == "ks" {
                packed.installer_file(&s, Media::Http, &blob.sha256)
            } else {
                packed.post_script(&s, Media::Http, &blob.sha256)
            };
            text.map_err(|e| fail(&e))?.into_bytes()
        }
        p => {
            let p = p.trim_start_matches('/');
            let f = files.iter().find(|f| f.path == p).ok_or_else(|| {
                Failed(format!(
                    "error: {p:?} is not a generated file; choose ks, post or one of: {}",
                    files
                        .iter()
                        .map(|f| f.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            f.contents.clone()
        }
    };
    std::io::stdout().write_all(&text).map_err(|e| fail(&e))
}

pub fn iso(c: &IsoConfig) -> Result<(), Failed> {
    let l = load(&c.profile, Mode::Build)?;
    let blob = helper(l.flavor.platform(), &c.helper)?;
    crate::iso::write_iso(&l.cluster, &l.flavor, &l.secrets, &blob, &c.base, &c.out)
        .map_err(|e| Failed(format!("error: {e}")))?;
    eprintln!(
        "wrote {} ({} with {} node entries for {})",
        c.out.display(),
        c.base.display(),
        l.cluster.nodes.len(),
        l.cluster.name
    );
    Ok(())
}
