//! One function per subcommand: load, do the work, report.

use crate::cmdline::{BuildConfig, CheckConfig, HelperArg, IsoConfig, RenderConfig, SecretsConfig};
use crate::helper_blob::{self, HelperBlob};
use crate::installer::Media;
use crate::outdir::Job;
use crate::platform::Platform;
use crate::profile::{self, Loaded, Mode};
use crate::report::{say, CliError};
use crate::session::RenderSession;
use std::io::Write;
use std::path::{Path, PathBuf};

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
/// cluster, config_version from each profile's lock (not written), the web
/// server's group, and the helper of each profile's platform. Keep it free
/// of writes: whatever a build writes once it has passed belongs in `build`.
pub struct Prepared {
    pub loaded: Vec<Loaded>,
    pub helpers: Vec<HelperBlob>,
    pub web_gid: u32,
    /// What each profile's lock file should hold after the build.
    pub locks: Vec<crate::lockfile::Resolved>,
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

/// Loads every profile of a run (a folder stands for the `*.toml` profiles
/// in it); two profiles of one cluster are refused.
fn load_all(profiles: &[PathBuf], mode: Mode) -> Result<Vec<Loaded>, CliError> {
    let mut loaded = Vec::with_capacity(profiles.len());
    let mut names = std::collections::BTreeMap::new();
    for p in crate::profile::expand(profiles)? {
        let l = load(&p, mode)?;
        if let Some(first) = names.insert(l.cluster.name.clone(), p.clone()) {
            return Err(CliError::SameCluster {
                first,
                second: p,
                name: l.cluster.name.clone(),
            });
        }
        loaded.push(l);
    }
    Ok(loaded)
}

pub fn secrets(c: &SecretsConfig) -> Result<(), CliError> {
    // Every profile is valid and every secret's place checked before one
    // is made.
    let mut loaded = load_all(&c.profiles, Mode::Secrets)?;
    for l in &mut loaded {
        let complete = l.secrets_complete();
        l.make_secrets()?;
        for n in l.notes.drain(..) {
            say(n);
        }
        if complete {
            say(format_args!(
                "{}: every secret exists; nothing made",
                l.cluster.name
            ));
        }
    }
    Ok(())
}

pub fn prepare(c: &BuildConfig) -> Result<Prepared, CliError> {
    // Validate every profile before writing anything. A build never makes
    // a secret: a missing one is refused with the command that makes it.
    let mut loaded = load_all(&c.profiles, Mode::Check)?;
    // config_version from each profile's lock; the locks are written only
    // once the output is in place.
    let locks = loaded.iter_mut().map(lock).collect::<Result<Vec<_>, _>>()?;
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
        locks,
    })
}

pub fn build(c: &BuildConfig) -> Result<(), CliError> {
    let p = prepare(c)?;
    let built = crate::outdir::build(&c.out, &p.jobs(), Some(p.web_gid), &|m| say(m))?;
    // The locks only once the output is in place.
    for r in &p.locks {
        r.write()?;
        if let Some(n) = r.note() {
            say(n);
        }
    }
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

/// Sets the cluster's config_version from its profile's lock file.
fn lock(l: &mut Loaded) -> Result<crate::lockfile::Resolved, CliError> {
    Ok(crate::lockfile::resolve(
        &l.path,
        &mut l.cluster,
        &l.flavor,
        &l.secrets,
    )?)
}

/// What a build with these arguments would change, on standard output;
/// Ok(true) when it would change anything. Writes nothing: no output, no
/// lock, no secret.
pub fn diff(c: &BuildConfig) -> Result<bool, CliError> {
    let p = prepare(c)?;
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
    let mut l = load(&c.profile, Mode::Check)?;
    // What the next build would write; the lock is left as it is.
    lock(&mut l)?;
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
    let mut l = load(&c.profile, Mode::Check)?;
    let blob = helper(l.flavor.platform(), &c.helper)?;
    // As the next build would have it; only build writes the lock.
    lock(&mut l)?;
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

// --- issue 9: init, node (regen-init) ---

pub fn init(c: &crate::cmdline::InitConfig) -> Result<(), CliError> {
    let w = crate::init::init(&c.name, c.platform.id(), &c.out)?;
    // The cluster's random secrets, as `clusterkick secrets` makes them
    // (the placeholders are only warnings, printed by `check`).
    let mut l = profile::load(&w.profile, Mode::Secrets)?;
    l.make_secrets()?;
    for n in l.notes.drain(..) {
        say(n);
    }
    say(format_args!(
        "wrote {} (cluster {}, {}) and {}/",
        w.profile.display(),
        c.name,
        c.platform.id(),
        w.secrets.display()
    ));
    say(format_args!(
        "next: fill in every value `clusterkick check {}` warns about (its header lists them), and the password in {}",
        w.profile.display(),
        w.password_files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

pub fn node(c: &crate::cmdline::NodeCmd) -> Result<(), CliError> {
    use crate::cmdline::NodeCmd;
    use crate::node_edit::{self, Outcome};
    match c {
        NodeCmd::Replace(r) => match node_edit::replace(&r.profile, &r.node, &r.macs)? {
            Outcome::Unchanged => say(format_args!(
                "{} already has these MACs and role = \"replacement\" for {}; nothing changed",
                r.profile.display(),
                r.node
            )),
            Outcome::Written(l) => {
                for w in &l.warnings {
                    say(w);
                }
                let node = l.cluster.node(&r.node).map_or(r.node.as_str(), |n| &n.name);
                let survivor = l
                    .cluster
                    .node(node)
                    .map_or("its peer", |n| l.cluster.peer_of(n).name.as_str());
                say(format_args!(
                    "{}: {node} has the new MACs and role = \"replacement\"",
                    r.profile.display()
                ));
                say(format_args!(
                        "next: clusterkick build {} --out DIR; then install {node} from it (PXE or DVD). On {survivor}: nothing; the helper on {node} joins it. Once {node} is back: clusterkick node rejoined {} {node}",
                        r.profile.display(),
                        r.profile.display()
                    ));
            }
        },
        NodeCmd::Rejoined(r) => match node_edit::rejoined(&r.profile, &r.node)? {
            Outcome::Unchanged => say(format_args!(
                "{} has no role for {}; nothing changed",
                r.profile.display(),
                r.node
            )),
            Outcome::Written(l) => {
                for w in &l.warnings {
                    say(w);
                }
                say(format_args!(
                    "{}: {} is no longer marked as a replacement",
                    r.profile.display(),
                    r.node
                ));
            }
        },
    }
    Ok(())
}
// --- end issue 9 ---
