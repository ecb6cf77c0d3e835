//! The lock file beside a profile (`<stem>.lock`, text, committed with the
//! profile): what the last build wrote into each cluster-wide config, as a
//! keyed fingerprint, and the `config_version` it gave cluster.conf (the
//! platform's [`crate::platform::Platform::versioned_config`]).
//!
//! cman refuses a cluster.conf whose content changed under the same
//! `config_version`, and a version lower than the running one. So a build
//! renders the versioned config at the locked version: the same content
//! keeps the version (and the outputs stay byte-identical); any change
//! raises it by exactly one. The profile's `cluster.config_version`, when
//! given, is a floor (the version a running cluster already has when it
//! first meets clusterkick). The version is a function of the profile, its
//! secrets and the lock alone, so a build on another machine from the same
//! three gives the same bytes; only `build` writes the lock, and writing
//! it again is harmless (it holds what the next build would compute).
//!
//! Fingerprints are HMAC-SHA256 keyed with the cluster's first-boot key:
//! the configs hold secrets (fence passwords, the DRBD secret), and a plain
//! hash of a file with a short password in it could be searched offline.

use crate::model::{Cluster, Secrets};
use crate::overlay;
use crate::platform::Flavor;
use crate::render::RenderError;
use crate::session::RenderSession;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}: {why}; clusterkick build writes this file: restore it from version control (removing it would start config_version again from the profile's cluster.config_version, or 1, and cman refuses a version lower than the one it runs)", .path.display())]
    Invalid { path: PathBuf, why: String },
    #[error("reading {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("writing {}", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
    #[error("{}: config_version {version} is the largest there is; start a new lock at a lower cluster.config_version only on a cluster you rebuild from scratch", .path.display())]
    Exhausted { path: PathBuf, version: u32 },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The lock file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockData {
    config_version: u32,
    /// The versioned config's path in the overlay.
    versioned: String,
    /// Overlay path → `hmac-sha256:<hex>` of each cluster-wide config.
    files: BTreeMap<String, String>,
}

/// The lock beside `profile`: `<dir>/<stem>.lock`.
pub fn path_for(profile: &Path) -> PathBuf {
    crate::profile::beside(profile, ".lock")
}

/// What a build decided: the version it gives the cluster, and the lock it
/// leaves ([`Resolved::write`]).
#[derive(Debug)]
pub struct Resolved {
    pub path: PathBuf,
    pub config_version: u32,
    /// The locked version before this build, if there was a lock.
    pub previous: Option<u32>,
    /// The cluster-wide configs whose content changed since the lock.
    pub changed: Vec<String>,
    text: String,
    /// Whether the file on disk already holds `text`.
    current: bool,
}

impl Resolved {
    /// One line for the user, when the version moved or the lock is new.
    pub fn note(&self) -> Option<String> {
        match self.previous {
            None => Some(format!(
                "note: config_version {} ({} is new: commit it with the profile)",
                self.config_version,
                self.path.display()
            )),
            Some(p) if p != self.config_version => Some(format!(
                "note: config_version {p} -> {} ({} changed)",
                self.config_version,
                self.changed.join(", ")
            )),
            Some(_) => None,
        }
    }

    /// Writes the lock if it changed: a new file beside it, renamed over
    /// it (mode 0644: it holds no secret).
    pub fn write(&self) -> Result<(), LockError> {
        if self.current {
            return Ok(());
        }
        let err = |e| LockError::Write(self.path.clone(), e);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".clusterkick-lock")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .tempfile_in(dir)
            .map_err(err)?;
        tmp.write_all(self.text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(err)?;
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

/// Sets `cluster.config_version` from the lock beside `profile` and
/// returns what the build should leave there.
pub fn resolve(
    profile: &Path,
    cluster: &mut Cluster,
    flavor: &Flavor,
    secrets: &Secrets,
) -> Result<Resolved, LockError> {
    let path = path_for(profile);
    let old = read(&path)?;
    let versioned = flavor.platform().versioned_config().to_string();
    let floor = cluster.config_version_floor.unwrap_or(1);
    let base = old.as_ref().map_or(floor, |o| o.config_version.max(floor));
    cluster.config_version = base;
    let mut files = fingerprints(cluster, flavor, secrets)?;
    let version = match &old {
        Some(o) if o.config_version == base && o.files.get(&versioned) == files.get(&versioned) => {
            base
        }
        // The profile raised the floor above the lock: that version, as it is.
        Some(o) if base > o.config_version => base,
        Some(_) => {
            let next = base.checked_add(1).ok_or_else(|| LockError::Exhausted {
                path: path.clone(),
                version: base,
            })?;
            cluster.config_version = next;
            files = fingerprints(cluster, flavor, secrets)?;
            next
        }
        None => base,
    };
    let changed = match &old {
        Some(o) => files
            .iter()
            .filter(|(p, f)| o.files.get(*p) != Some(f))
            .map(|(p, _)| p.clone())
            .chain(o.files.keys().filter(|p| !files.contains_key(*p)).cloned())
            .collect(),
        None => Vec::new(),
    };
    let data = LockData {
        config_version: version,
        versioned,
        files,
    };
    let text = render_lock(profile, &data);
    let current =
        old.as_ref() == Some(&data) && std::fs::read(&path).is_ok_and(|b| b == text.as_bytes());
    Ok(Resolved {
        path,
        config_version: version,
        previous: old.map(|o| o.config_version),
        changed,
        text,
        current,
    })
}

fn read(path: &Path) -> Result<Option<LockData>, LockError> {
    let bytes = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LockError::Read(path.to_path_buf(), e)),
        Ok(m) if !m.is_file() => {
            return Err(LockError::Invalid {
                path: path.to_path_buf(),
                why: "not a regular file".into(),
            })
        }
        Ok(m) if m.len() > 1 << 20 => {
            return Err(LockError::Invalid {
                path: path.to_path_buf(),
                why: "larger than 1 MiB".into(),
            })
        }
        Ok(_) => std::fs::read(path).map_err(|e| LockError::Read(path.to_path_buf(), e))?,
    };
    let invalid = |why: String| LockError::Invalid {
        path: path.to_path_buf(),
        why,
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
    let data: LockData = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let col = text[..s.start]
                    .rsplit('\n')
                    .next()
                    .map_or(0, |l| l.chars().count())
                    + 1;
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default();
        invalid(format!("{at}{}", crate::diag::one_line(e.message(), 200)))
    })?;
    if data.config_version == 0 {
        return Err(invalid("config_version must be at least 1".into()));
    }
    Ok(Some(data))
}

/// Each cluster-wide config's fingerprint, rendered as the build renders it.
fn fingerprints(
    cluster: &Cluster,
    flavor: &Flavor,
    secrets: &Secrets,
) -> Result<BTreeMap<String, String>, LockError> {
    let s = RenderSession::new(cluster, flavor, secrets);
    let Some(node) = cluster.nodes.first() else {
        return Ok(BTreeMap::new());
    };
    let ctx = s.node_context(node);
    Ok(overlay::cluster_files(&s, node, &ctx)?
        .into_iter()
        .map(|f| {
            let fp = fingerprint(secrets.firstboot_key.as_bytes(), &f.contents);
            (f.path, fp)
        })
        .collect())
}

fn fingerprint(key: &[u8], contents: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(contents);
    format!("hmac-sha256:{}", hex::encode(mac.finalize().into_bytes()))
}

fn render_lock(profile: &Path, data: &LockData) -> String {
    let name = profile
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = format!(
        "# clusterkick's lock for {name}: commit it with the profile.\n\
         # `clusterkick build` writes it; do not edit it. config_version goes up\n\
         # by one exactly when {} changes.\n\
         # Fingerprints: HMAC-SHA256 of each cluster-wide config, keyed with the\n\
         # cluster's first-boot key (the configs hold secrets).\n",
        data.versioned
    );
    out.push_str(&format!(
        "config_version = {}\nversioned = {}\n\n[files]\n",
        data.config_version,
        toml_string(&data.versioned)
    ));
    for (p, f) in &data.files {
        out.push_str(&format!("{} = {}\n", toml_string(p), toml_string(f)));
    }
    out
}

/// A TOML basic string (paths here are plain; quotes and backslashes are
/// escaped all the same).
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_keyed() {
        let a = fingerprint(b"k1", b"same");
        assert_eq!(a, fingerprint(b"k1", b"same"));
        assert_ne!(a, fingerprint(b"k2", b"same"));
        assert_ne!(a, fingerprint(b"k1", b"other"));
        // Not the plain sha256 of the contents.
        use sha2::Digest;
        assert!(!a.contains(&hex::encode(sha2::Sha256::digest(b"same"))));
    }

    #[test]
    fn a_written_lock_reads_back() {
        let d = LockData {
            config_version: 7,
            versioned: "etc/cluster/cluster.conf".into(),
            files: [("etc/a \"b\"".to_string(), "hmac-sha256:00".to_string())].into(),
        };
        let text = render_lock(Path::new("p.toml"), &d);
        let back: LockData = toml::from_str(&text).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn a_bad_lock_is_refused_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        std::fs::write(
            &p,
            "config_version = 3\nversioned = \"a\"\nbogus = 1\n[files]\n",
        )
        .unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("line 3, column 1"), "{e}");
        assert!(e.contains("restore it from version control"), "{e}");
        std::fs::write(&p, "config_version = 0\nversioned = \"a\"\n[files]\n").unwrap();
        assert!(read(&p).unwrap_err().to_string().contains("at least 1"));
        assert!(read(&dir.path().join("none.lock")).unwrap().is_none());
    }
}
