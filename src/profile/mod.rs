//! Loading a cluster profile: TOML parsed once and split into the common
//! tables and the platform's (`parse`), checked section by section
//! (`validate`), then the secrets it names (`secrets`): a neutral
//! [`Cluster`] and its platform's [`Flavor`].

mod parse;
pub mod raw;
mod secrets;
pub mod validate;

pub use secrets::default_key_file;

use crate::diag::{Diagnostic, Diagnostics, InvalidProfile, Severity};
use crate::model::{Cluster, Secrets};
use crate::platform::Flavor;
use std::fs;
use std::path::{Path, PathBuf};

/// What loading may do beyond reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only: a missing first-boot key is reported, not made.
    Check,
    /// A missing first-boot key is generated once and kept beside the profile.
    Build,
}

#[derive(Debug)]
pub struct Loaded {
    pub cluster: Cluster,
    /// The platform's payload: what only that platform's clusters have.
    pub flavor: Flavor,
    pub secrets: Secrets,
    /// Warnings (and, in Check mode, notes) that did not stop validation.
    pub warnings: Vec<Diagnostic>,
    /// What loading did besides reading (e.g. made a first-boot key), for
    /// the user.
    pub notes: Vec<String>,
    pub path: PathBuf,
}

pub fn load(path: &Path, mode: Mode) -> Result<Loaded, InvalidProfile> {
    let text = fs::read_to_string(path).map_err(|e| {
        InvalidProfile(vec![Diagnostic {
            severity: Severity::Error,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the profile: {e}"),
        }])
    })?;
    load_str(path, &text, mode)
}

pub fn load_str(path: &Path, text: &str, mode: Mode) -> Result<Loaded, InvalidProfile> {
    let mut d = Diagnostics::new(path, text);
    let Some(parsed) = parse::parse(text, &mut d) else {
        return Err(finish(d));
    };
    let Some(v) = validate::validate(&parsed, &mut d) else {
        return Err(finish(d));
    };
    let mut notes = Vec::new();
    let secrets = secrets::load(path, &v, mode, &mut notes, &mut d);
    if d.has_errors() {
        return Err(finish(d));
    }
    Ok(Loaded {
        cluster: v.cluster,
        flavor: v.flavor,
        secrets,
        warnings: d.items,
        notes,
        path: path.to_path_buf(),
    })
}

fn finish(mut d: Diagnostics) -> InvalidProfile {
    d.items.sort_by_key(|x| (x.severity, x.line, x.column));
    InvalidProfile(d.items)
}
