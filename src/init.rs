//! `clusterkick init NAME --out PROFILE`: a new profile with the seed's
//! defaults (el5-xen) or the examples' (el9-kvm, debian12-kvm), every value
//! the user must fill a placeholder that `check` warns about
//! ([`crate::profile`]'s placeholder scan), and its secrets folder beside
//! it (`<stem>.secrets/`, 0700) holding a placeholder password file (0600)
//! per fence device.
//!
//! The text comes from a template per platform family (src/init/), with
//! the names put in: the output depends on the arguments alone, so the
//! same arguments give the same bytes. Nothing is overwritten: the profile
//! is created with `O_EXCL`, and an existing secrets folder is refused.

use crate::check::is_name;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The platforms `init` writes a profile for (the ids `cluster.platform`
/// takes).
pub const PLATFORMS: &[&str] = &["el5-xen", "el9-kvm", "debian12-kvm"];

const EL5_XEN: &str = include_str!("init/el5-xen.toml");
const PCMK: &str = include_str!("init/pcmk.toml");

/// The password a new fence password file holds: a placeholder `check`
/// knows (`profile::placeholder::password`).
const PLACEHOLDER_PASSWORD: &str = "changeme";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{name:?} is not a valid cluster name: cman and the GFS2 lock table take 1-16 characters, a letter first, then letters, digits, '-' or '_'")]
    BadName { name: String },
    #[error("unknown platform {0:?}; init knows el5-xen, el9-kvm, debian12-kvm")]
    BadPlatform(String),
    #[error("--out {0}: give a file name ending in .toml, e.g. {1}.toml")]
    BadOut(PathBuf, String),
    #[error("{0} exists; init never overwrites a file: choose another --out or move it away")]
    Exists(PathBuf),
    #[error("{0} exists (secrets of another profile?); init never writes into it: move it away or choose another --out")]
    SecretsExist(PathBuf),
    #[error("the folder {0} does not exist; create it first (init makes no folders but the secrets one)")]
    NoFolder(PathBuf),
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InitError {
    /// Whether the command line itself is wrong (exit 2), rather than the
    /// place it names (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            InitError::BadName { .. } | InitError::BadPlatform(_) | InitError::BadOut(..)
        )
    }
}

/// What [`init`] wrote.
#[derive(Debug)]
pub struct Written {
    pub profile: PathBuf,
    pub secrets: PathBuf,
    /// The password files made, in the secrets folder.
    pub password_files: Vec<PathBuf>,
}

/// The profile text for cluster `name` on `platform`, whose password files
/// are `<stem>.secrets/<device>.passwd` beside it. Checks `name` as
/// `cluster.name` is checked.
pub fn profile_text(name: &str, platform: &str, stem: &str) -> Result<NewProfile, InitError> {
    if !is_name(name) || name.len() > 16 {
        return Err(InitError::BadName { name: name.into() });
    }
    let text = match platform {
        "el5-xen" => EL5_XEN.to_string(),
        "el9-kvm" => PCMK
            .replace("@OS@", "RHEL 9 family (Rocky, AlmaLinux, RHEL)")
            .replace("@DRBD@", "9 (ELRepo)")
            .replace("@EXAMPLE@", "profiles/an-cluster-el9.toml")
            .replace(
                "@URL_NOTE@",
                "A BaseOS tree; AppStream, HighAvailability and ResilientStorage are beside it.",
            )
            .replace("@URL@", "http://192.0.2.1/rocky/9/BaseOS/x86_64/os"),
        "debian12-kvm" => PCMK
            .replace("@OS@", "Debian 12")
            .replace("@DRBD@", "8.4 (the kernel's)")
            .replace("@EXAMPLE@", "profiles/an-cluster-debian12.toml")
            .replace(
                "@URL_NOTE@",
                "A Debian mirror (bookworm), for the installer and apt.",
            )
            .replace("@URL@", "http://192.0.2.1/debian"),
        other => return Err(InitError::BadPlatform(other.into())),
    };
    // Host names: letters, digits and '-' only, so '_' becomes '-'.
    let node = format!("{}-node", name.to_ascii_lowercase().replace('_', "-"));
    let text = text
        .replace("@PLATFORM@", platform)
        .replace("@NAME@", name)
        .replace("@NODE@", &node);
    // Each `@PASSWD:<device>@` in one pass, so that nothing the stem holds
    // is read as a marker.
    let mut parts = text.split("@PASSWD:");
    let mut out = parts.next().unwrap_or_default().to_string();
    let mut devices = Vec::new();
    for part in parts {
        let (device, rest) = part.split_once('@').unwrap_or((part, ""));
        devices.push(device.to_string());
        // A TOML string, escaped as TOML escapes it: the stem is the
        // user's file name.
        let file = format!("{stem}.secrets/{device}.passwd");
        out.push_str(&toml_edit::Value::from(file).to_string());
        out.push_str(rest);
    }
    Ok(NewProfile { text: out, devices })
}

/// A new profile's text, and the fence devices it names a password file
/// for (`<stem>.secrets/<device>.passwd`), in order.
#[derive(Debug)]
pub struct NewProfile {
    pub text: String,
    pub devices: Vec<String>,
}

/// Writes the profile `out` for cluster `name` on `platform`, and its
/// secrets folder. Refuses an existing `out` or secrets folder and a
/// folder that does not exist; on a failure, removes what it made.
pub fn init(name: &str, platform: &str, out: &Path) -> Result<Written, InitError> {
    let stem = out
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_suffix(".toml"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| InitError::BadOut(out.to_path_buf(), name.to_string()))?;
    let new = profile_text(name, platform, stem)?;
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(InitError::NoFolder(folder));
    }
    if fs::symlink_metadata(out).is_ok() {
        return Err(InitError::Exists(out.to_path_buf()));
    }
    let secrets = out.with_file_name(format!("{stem}.secrets"));
    if fs::symlink_metadata(&secrets).is_ok() {
        return Err(InitError::SecretsExist(secrets));
    }
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { what, path, source }
    };
    // The profile first, with O_EXCL: a file made meanwhile is not replaced.
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => InitError::Exists(out.to_path_buf()),
            _ => io("creating", out)(e),
        })?;
    let written = f
        .write_all(new.text.as_bytes())
        .map_err(io("writing", out))
        .and_then(|()| secrets_folder(&secrets, &new.devices));
    match written {
        Ok(password_files) => Ok(Written {
            profile: out.to_path_buf(),
            secrets,
            password_files,
        }),
        Err(e) => {
            drop(f);
            let _ = fs::remove_file(out);
            Err(e)
        }
    }
}

/// Makes the secrets folder (0700) and a placeholder password file (0600)
/// per fence device; removes the folder again on a failure.
fn secrets_folder(secrets: &Path, devices: &[String]) -> Result<Vec<PathBuf>, InitError> {
    // The random secrets (first-boot key, DRBD secret, cluster authkey)
    // are made in it afterwards, as `clusterkick secrets` makes them
    // (commands::init).
    fs::DirBuilder::new()
        .mode(0o700)
        .create(secrets)
        .and_then(|()| fs::set_permissions(secrets, fs::Permissions::from_mode(0o700)))
        .map_err(|source| InitError::Io {
            what: "creating",
            path: secrets.to_path_buf(),
            source,
        })?;
    let mut made = Vec::new();
    for device in devices {
        let p = secrets.join(format!("{device}.passwd"));
        let r = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
            .and_then(|mut f| {
                f.set_permissions(fs::Permissions::from_mode(0o600))?;
                f.write_all(format!("{PLACEHOLDER_PASSWORD}\n").as_bytes())
            });
        if let Err(source) = r {
            let _ = fs::remove_dir_all(secrets);
            return Err(InitError::Io {
                what: "writing",
                path: p,
                source,
            });
        }
        made.push(p);
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marker_is_filled() {
        for p in PLATFORMS {
            let text = profile_text("new_cluster", p, "new-cluster").unwrap().text;
            assert!(!text.contains('@'), "{p}: a marker is left:\n{text}");
            assert!(text.contains("name = \"new-cluster-node01\""), "{text}");
            assert!(
                text.contains("passwd_file = \"new-cluster.secrets/"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_stem_is_written_as_a_toml_string() {
        let text = profile_text("c", "el5-xen", "we\"ird\\@PASSWD:x@")
            .unwrap()
            .text;
        let doc: toml_edit::DocumentMut = text.parse().unwrap();
        let f = doc["fence_devices"][0]["passwd_file"].as_str().unwrap();
        assert_eq!(f, "we\"ird\\@PASSWD:x@.secrets/na01.passwd");
    }

    #[test]
    fn a_bad_name_or_platform_is_refused() {
        for bad in ["", "1abc", "a.b", "seventeen-chars-x", "a b"] {
            assert!(matches!(
                profile_text(bad, "el5-xen", "x"),
                Err(InitError::BadName { .. })
            ));
        }
        assert!(matches!(
            profile_text("ok", "el6-xen", "x"),
            Err(InitError::BadPlatform(_))
        ));
    }
}
