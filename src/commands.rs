//! One function per subcommand: load, do the work, report.

use crate::cmdline::{BuildConfig, CheckConfig, HelperArg, IsoConfig, RenderConfig};
use crate::helper_blob::{self, HelperBlob};
use crate::installer::Media;
use crate::outdir::Job;
use crate::platform::Platform;
use crate::profile::{self, Loaded, Mode};
use crate::report::{say, CliError};
use crate::session::RenderSession;
use std::io::Write;
use std::path::Path;

fn load(path: &Path, mode: Mode) -> Result<Loaded, CliError> {
    let loaded = profile::load(path, mode)?;
    for w in &loaded.warnings {
        say(w);
    }
    for n in &loaded.notes {
        say(n);
    }
    Ok(loaded)
}

fn helper(platform: &dyn Platform, arg: &HelperArg) -> Result<HelperBlob, CliError> {
    Ok(helper_blob::locate(platform, arg.helper.as_deref())?)
}

pub fn check(c: &CheckConfig) -> Result<(), CliError> {
    load(&c.profile, Mode::Check).map(|_| ())
}

/// What `build` and `diff` both start from, checked, with nothing written:
/// every profile loaded and validated (its warnings printed), no two of one
/// cluster, the web server's group, and the helper of each profile's
/// platform. A missing key is still missing (`Loaded::new_key`): `build`
/// makes it once this has passed, `diff` never does. Keep it free of
/// writes: whatever a build writes once it has passed belongs in `build`.
pub struct Prepared {
    pub loaded: Vec<Loaded>,
    pub helpers: Vec<HelperBlob>,
    pub web_gid: u32,
}

impl Prepared {
    pub fn jobs(&self) -> Vec<Job<'_>> {
        self.loaded
            .iter()
            .zip(&self.helpers)
            .map(|(l, helper)| Job {
                cluster: &l.cluster,
                flavor: &l.flavor,
                secrets: &l.secrets,
                helper,
            })
            .collect()
    }
}

pub fn prepare(c: &BuildConfig) -> Result<Prepared, CliError> {
    // Validate every profile before writing anything, a first-boot key
    // included: keys are made only once the whole run is valid.
    let mut loaded = Vec::with_capacity(c.profiles.len());
    let mut names = std::collections::BTreeMap::new();
    for p in &c.profiles {
        let l = load(p, Mode::Check)?;
        if let Some(first) = names.insert(l.cluster.name.clone(), p.clone()) {
            return Err(CliError::SameCluster {
                first,
                second: p.clone(),
                name: l.cluster.name.clone(),
            });
        }
        loaded.push(l);
    }
    // Who may read what the nodes fetch; refused before anything is written.
    let web = crate::webgroup::resolve(
        c.web_group.as_deref(),
        Path::new(crate::webgroup::OS_RELEASE),
    )?;
    let mut blobs = BlobCache::default();
    let helpers = loaded
        .iter()
        .map(|l| blobs.helper(l.flavor.platform(), &c.helper))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared {
        loaded,
        helpers,
        web_gid: web.gid,
    })
}

pub fn build(c: &BuildConfig) -> Result<(), CliError> {
    let mut p = prepare(c)?;
    for l in &mut p.loaded {
        l.make_key()?;
        for n in l.notes.drain(..) {
            say(n);
        }
    }
    let built = crate::outdir::build(&c.out, &p.jobs(), Some(p.web_gid), &|m| say(m))?;
    match built.as_slice() {
        [one] => say(format_args!(
            "built {} ({} files, {} nodes) in {}",
            one.cluster,
            one.files,
            one.nodes,
            one.path.display()
        )),
        many => say(format_args!(
            "built {} clusters in {}",
            many.len(),
            c.out.display()
        )),
    }
    Ok(())
}

/// What a build with these arguments would change, on standard output;
/// Ok(true) when it would change anything. Writes nothing, makes no key.
pub fn diff(c: &BuildConfig) -> Result<bool, CliError> {
    let mut p = prepare(c)?;
    for l in &mut p.loaded {
        for n in crate::diff::stand_in_keys(l)? {
            say(n);
        }
    }
    let r = crate::diff::diff(&c.out, &p.jobs(), Some(p.web_gid))?;
    let mut out = std::io::stdout().lock();
    out.write_all(r.text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)?;
    for n in &r.notes {
        say(n);
    }
    Ok(r.changed)
}

/// The helper is read and checked once per platform and run.
#[derive(Default)]
struct BlobCache {
    by_platform: Vec<(&'static str, HelperBlob)>,
}

impl BlobCache {
    fn helper(&mut self, platform: &dyn Platform, arg: &HelperArg) -> Result<HelperBlob, CliError> {
        if let Some((_, b)) = self.by_platform.iter().find(|(p, _)| *p == platform.id()) {
            return Ok(b.clone());
        }
        let b = helper(platform, arg)?;
        self.by_platform.push((platform.id(), b.clone()));
        Ok(b)
    }
}

pub fn render(c: &RenderConfig) -> Result<(), CliError> {
    let l = load(&c.profile, Mode::Check)?;
    let cl = &l.cluster;
    let no_such_node = || CliError::NoSuchNode {
        node: c.node.clone(),
        profile: c.profile.clone(),
        nodes: cl
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let node = cl.node(&c.node).ok_or_else(no_such_node)?;
    let s = RenderSession::new(cl, &l.flavor, &l.secrets);
    let packed = crate::pipeline::pack_nodes(&s)?
        .into_iter()
        .find(|p| p.node.name == node.name)
        .ok_or_else(no_such_node)?;
    let text: Vec<u8> = match c.path.as_str() {
        "ks" | "post" => {
            if let Some(k) = &l.new_key {
                return Err(CliError::NoKey(k.path.clone()));
            }
            let blob = helper(l.flavor.platform(), &c.helper)?;
            let text = if c.path == "ks" {
                packed.installer_file(&s, Media::Http, &blob.sha256)?
            } else {
                packed.post_script(&s, Media::Http, &blob.sha256)?
            };
            text.into_bytes()
        }
        p => {
            let p = p.trim_start_matches('/');
            let files = &packed.files;
            let f = files
                .iter()
                .find(|f| f.path == p)
                .ok_or_else(|| CliError::NotGenerated {
                    path: p.to_string(),
                    files: files
                        .iter()
                        .map(|f| f.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            f.contents.clone()
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

pub fn iso(c: &IsoConfig) -> Result<(), CliError> {
    // As in build: the key is made only once the profile and the helper
    // have passed.
    let mut l = load(&c.profile, Mode::Check)?;
    let blob = helper(l.flavor.platform(), &c.helper)?;
    l.make_key()?;
    for n in l.notes.drain(..) {
        say(n);
    }
    crate::iso::write_iso(&l.cluster, &l.flavor, &l.secrets, &blob, &c.base, &c.out)?;
    say(format_args!(
        "wrote {} ({} with {} node entries for {})",
        c.out.display(),
        c.base.display(),
        l.cluster.nodes.len(),
        l.cluster.name
    ));
    Ok(())
}
