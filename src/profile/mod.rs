//! Loading a cluster profile: TOML parsed once and split into the common
//! tables and the platform's (`parse`), checked section by section
//! (`validate`), then the secrets it names (`secrets`): a neutral
//! [`Cluster`] and its platform's [`Flavor`].

mod files;
mod folder;
mod parse;
mod placeholder;
pub mod raw;
mod secrets;
pub mod validate;

pub use folder::{expand, ExpandError};
pub use secrets::{
    beside, default_key_file, make_command, secret_file, NewKey, NewSecret, SecretKind, DRBD_SECRET,
};

use crate::diag::{Diagnostic, Diagnostics, InvalidProfile, Severity};
use crate::model::{Cluster, Secrets};
use crate::platform::Flavor;
use std::path::{Path, PathBuf};

/// What loading does about the cluster's secrets that do not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuses them, naming the command that makes them (`check`,
    /// `build`, `render`, `iso`, `diff`: none of them makes a secret).
    Check,
    /// Leaves them to be made ([`Loaded::new_key`],
    /// [`Loaded::new_secrets`], [`Loaded::make_secrets`]): `clusterkick
    /// secrets` and `init`.
    Secrets,
}

#[derive(Debug)]
pub struct Loaded {
    pub cluster: Cluster,
    /// The platform's payload: what only that platform's clusters have.
    pub flavor: Flavor,
    pub secrets: Secrets,
    /// Warnings that did not stop validation, in file order.
    pub warnings: Vec<Diagnostic>,
    /// What was done besides reading (e.g. made a first-boot key), for
    /// the user.
    pub notes: Vec<String>,
    pub path: PathBuf,
    /// The first-boot key, when it does not exist yet ([`Mode::Secrets`]):
    /// its place has been checked; [`Loaded::make_secrets`] makes it.
    pub new_key: Option<NewKey>,
    /// The other secrets that do not exist yet ([`Mode::Secrets`]).
    pub new_secrets: Vec<NewSecret>,
}

impl Loaded {
    /// Makes every missing secret, and says so in `notes`. `clusterkick
    /// secrets` calls it only once every profile of the run is valid, so
    /// that a refused run makes none.
    pub fn make_secrets(&mut self) -> Result<(), InvalidProfile> {
        if let Some(k) = &self.new_key {
            let made = secrets::make_key(k).map_err(|d| InvalidProfile(vec![d]))?;
            self.secrets.firstboot_key = made.key;
            self.notes.push(made.note);
            self.new_key = None;
        }
        for n in std::mem::take(&mut self.new_secrets) {
            let (secret, note) = secrets::make_secret(&n).map_err(|e| {
                InvalidProfile(vec![Diagnostic {
                    severity: Severity::Error,
                    file: self.path.clone(),
                    line: 1,
                    column: 1,
                    key: n.what.into(),
                    message: format!("cannot create {}: {e}", n.path.display()),
                }])
            })?;
            match n.kind {
                SecretKind::DrbdSecret => {
                    self.secrets.drbd_secret = String::from_utf8(secret).unwrap_or_default()
                }
                SecretKind::ClusterAuthkey => self.secrets.cluster_authkey = secret,
            }
            self.notes.push(note);
        }
        Ok(())
    }

    /// Whether every secret exists.
    pub fn secrets_complete(&self) -> bool {
        self.new_key.is_none() && self.new_secrets.is_empty()
    }
}

/// Loads the profile at `path`. Only a regular file of at most 1 MiB is
/// read (a FIFO, a device or a folder there is refused, never waited on).
pub fn load(path: &Path, mode: Mode) -> Result<Loaded, InvalidProfile> {
    load_bytes(path, &read(path)?, mode)
}

/// The profile's bytes, read as [`load`] reads them.
pub fn read(path: &Path) -> Result<Vec<u8>, InvalidProfile> {
    files::read_capped(path, files::PROFILE_CAP)
        .map(|(bytes, _)| bytes)
        .map_err(|e| {
            let mut d = Diagnostics::new(path, "");
            d.push(
                Severity::Error,
                None,
                "",
                format!("cannot read the profile: {e}"),
            );
            finish(d)
        })
}

/// Loads a profile from its bytes; text that is not UTF-8 is refused at
/// the line and column of its first bad byte.
pub fn load_bytes(path: &Path, bytes: &[u8], mode: Mode) -> Result<Loaded, InvalidProfile> {
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(path, text, mode),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let text = std::str::from_utf8(good).unwrap_or_default();
            let mut d = Diagnostics::new(path, text);
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
            d.push(
                Severity::Error,
                Some(text.len()..text.len()),
                "",
                format!("the profile is not UTF-8 text: byte 0x{bad:02X} here is not part of a UTF-8 character; save the file as UTF-8"),
            );
            Err(finish(d))
        }
    }
}

pub fn load_str(path: &Path, text: &str, mode: Mode) -> Result<Loaded, InvalidProfile> {
    let mut d = Diagnostics::new(path, text);
    let Some(parsed) = parse::parse(text, &mut d) else {
        return Err(finish(d));
    };
    let Some(v) = validate::validate(&parsed, &mut d) else {
        return Err(finish(d));
    };
    let missing = match mode {
        Mode::Check => secrets::Missing::Refuse,
        Mode::Secrets => secrets::Missing::Make,
    };
    let read = secrets::read(path, &v, missing, &mut d);
    if d.has_errors() {
        return Err(finish(d));
    }
    let loaded = Loaded {
        cluster: v.cluster,
        flavor: v.flavor,
        secrets: read.secrets,
        warnings: finish(d).0,
        notes: Vec::new(),
        path: path.to_path_buf(),
        new_key: read.new_key,
        new_secrets: read.new_secrets,
    };
    Ok(loaded)
}

/// Every diagnostic, errors first, each kind in file order.
fn finish(mut d: Diagnostics) -> InvalidProfile {
    d.items.sort_by_key(|x| (x.severity, x.line, x.column));
    InvalidProfile(d.items)
}
