//! Loading a cluster profile: TOML parsed once and split into the common
//! tables and the platform's (`parse`), checked section by section
//! (`validate`), then the secrets it names (`secrets`): a neutral
//! [`Cluster`] and its platform's [`Flavor`].

mod files;
mod parse;
mod placeholder;
pub mod raw;
mod secrets;
pub mod validate;

pub use secrets::{default_key_file, NewKey};

use crate::diag::{Diagnostic, Diagnostics, InvalidProfile, Severity};
use crate::model::{Cluster, Secrets};
use crate::platform::Flavor;
use std::path::{Path, PathBuf};

/// What loading may do beyond reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only: a missing first-boot key is left missing
    /// ([`Loaded::new_key`]).
    Check,
    /// Once the profile is valid, a missing first-boot key is made (in
    /// place of [`Loaded::make_key`]: for a run of one profile).
    Build,
}

#[derive(Debug)]
pub struct Loaded {
    pub cluster: Cluster,
    /// The platform's payload: what only that platform's clusters have.
    pub flavor: Flavor,
    pub secrets: Secrets,
    /// Warnings that did not stop validation, in file order.
    pub warnings: Vec<Diagnostic>,
    /// What loading did besides reading (e.g. made a first-boot key), for
    /// the user.
    pub notes: Vec<String>,
    pub path: PathBuf,
    /// The first-boot key, when it does not exist yet: its place has been
    /// checked; [`Loaded::make_key`] makes it.
    pub new_key: Option<NewKey>,
    /// corosync's authkey, when the platform needs one and it does not
    /// exist yet; [`Loaded::make_key`] makes it too.
    pub new_authkey: Option<PathBuf>,
}

impl Loaded {
    /// Makes the first-boot key if it is missing, and says so in `notes`.
    /// A build calls it only once every profile of the run is valid, so
    /// that a refused run makes no key.
    pub fn make_key(&mut self) -> Result<(), InvalidProfile> {
        if let Some(k) = &self.new_key {
            let made = secrets::make_key(k).map_err(|d| InvalidProfile(vec![d]))?;
            self.secrets.firstboot_key = made.key;
            self.notes.push(made.note);
            self.new_key = None;
        }
        if let Some(path) = &self.new_authkey {
            let (key, note) = secrets::make_authkey(path).map_err(|e| {
                InvalidProfile(vec![Diagnostic {
                    severity: Severity::Error,
                    file: self.path.clone(),
                    line: 1,
                    column: 1,
                    key: "corosync authkey".into(),
                    message: format!("cannot create {}: {e}", path.display()),
                }])
            })?;
            self.secrets.corosync_authkey = key;
            self.notes.push(note);
            self.new_authkey = None;
        }
        Ok(())
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
    let read = secrets::read(path, &v, &mut d);
    if d.has_errors() {
        return Err(finish(d));
    }
    let mut loaded = Loaded {
        cluster: v.cluster,
        flavor: v.flavor,
        secrets: read.secrets,
        warnings: finish(d).0,
        notes: Vec::new(),
        path: path.to_path_buf(),
        new_key: read.new_key,
        new_authkey: read.new_authkey,
    };
    if mode == Mode::Build {
        loaded.make_key()?;
    }
    Ok(loaded)
}

/// Every diagnostic, errors first, each kind in file order.
fn finish(mut d: Diagnostics) -> InvalidProfile {
    d.items.sort_by_key(|x| (x.severity, x.line, x.column));
    InvalidProfile(d.items)
}
