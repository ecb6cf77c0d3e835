//! Loading a cluster profile: TOML → raw structs (unknown keys refused) →
//! validated [`Cluster`] plus the secrets it names.

pub mod raw;
pub mod validate;

use crate::diag::{Diagnostic, Diagnostics, InvalidProfile, Severity};
use crate::model::{Cluster, Secrets};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use validate::PasswdSource;

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
    pub secrets: Secrets,
    /// Warnings (and, in Check mode, notes) that did not stop validation.
    pub warnings: Vec<Diagnostic>,
    pub path: PathBuf,
}

/// Default key file for a profile: `<dir>/<stem>.secrets/firstboot.key`.
pub fn default_key_file(profile: &Path) -> PathBuf {
    let stem = profile
        .file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
    profile
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}.secrets"))
        .join("firstboot.key")
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
    let raw: raw::RawProfile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let key = e
                .message()
                .split('`')
                .nth(1)
                .filter(|_| e.message().contains("field"))
                .unwrap_or_default()
                .to_string();
            let msg = e.message().trim().replace('\n', " ");
            let msg = if msg.starts_with("unknown field") {
                format!("{msg} (a misspelt or misplaced key?)")
            } else {
                msg
            };
            d.push(Severity::Error, e.span(), &key, msg);
            return Err(InvalidProfile(d.items));
        }
    };
    let Some(v) = validate::validate(&raw, &mut d) else {
        return Err(finish(d));
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut secrets = Secrets::default();
    for (device, source, span) in &v.passwd_sources {
        let key = format!("fence_devices.{device}");
        match source {
            PasswdSource::File(f) => {
                let p = base.join(f);
                match fs::read_to_string(&p) {
                    Ok(s) => {
                        let pw = s.strip_suffix('\n').unwrap_or(&s).to_string();
                        if pw.is_empty() || pw.chars().any(char::is_control) {
                            d.error(span.clone(), &format!("{key}.passwd_file"), format!("{} must hold the password on one line, without control characters", p.display()));
                        }
                        if fs::metadata(&p).is_ok_and(|m| m.permissions().mode() & 0o004 != 0) {
                            d.warn(
                                span.clone(),
                                &format!("{key}.passwd_file"),
                                format!("{} is readable by every user; chmod 600 it", p.display()),
                            );
                        }
                        secrets.fence_passwords.push((device.clone(), pw));
                    }
                    Err(e) => d.error(
                        span.clone(),
                        &format!("{key}.passwd_file"),
                        format!("cannot read {}: {e}", p.display()),
                    ),
                }
            }
            PasswdSource::Env(var) => match std::env::var(var) {
                Ok(pw) if !pw.is_empty() && !pw.chars().any(char::is_control) => {
                    secrets.fence_passwords.push((device.clone(), pw));
                }
                Ok(_) => d.error(
                    span.clone(),
                    &format!("{key}.passwd_env"),
                    format!("${var} is empty or holds a control character"),
                ),
                Err(_) => d.error(
                    span.clone(),
                    &format!("{key}.passwd_env"),
                    format!("${var} is not set; export it before running clusterkick"),
                ),
            },
        }
    }
    let (key_path, key_span) = match &v.key_file {
        Some((f, s)) => (base.join(f), Some(s.clone())),
        None => (default_key_file(path), None),
    };
    let key_key = "firstboot.key_file";
    match fs::read_to_string(&key_path) {
        Ok(k) => {
            let k = k.trim().to_string();
            if k.len() < 32 || !k.chars().all(|c| c.is_ascii_hexdigit()) {
                d.push(Severity::Error, key_span, key_key, format!("{} must hold a hex key of at least 16 bytes (32 hex digits); delete it to have build make a new one", key_path.display()));
            } else {
                secrets.firstboot_key = k.to_ascii_lowercase();
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match mode {
            Mode::Check => {}
            Mode::Build => match make_key(&key_path) {
                Ok(k) => {
                    eprintln!("note: made a new first-boot key in {} (keep it: the nodes of this cluster share it)", key_path.display());
                    secrets.firstboot_key = k;
                }
                Err(e) => d.push(
                    Severity::Error,
                    key_span,
                    key_key,
                    format!("cannot create {}: {e}", key_path.display()),
                ),
            },
        },
        Err(e) => d.push(
            Severity::Error,
            key_span,
            key_key,
            format!("cannot read {}: {e}", key_path.display()),
        ),
    }
    if d.has_errors() {
        return Err(finish(d));
    }
    Ok(Loaded {
        cluster: v.cluster,
        secrets,
        warnings: d.items,
        path: path.to_path_buf(),
    })
}

fn finish(mut d: Diagnostics) -> InvalidProfile {
    d.items.sort_by_key(|x| (x.severity, x.line, x.column));
    InvalidProfile(d.items)
}

/// 32 random bytes, hex, written once with mode 0600 in a 0700 folder.
fn make_key(path: &Path) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let key = hex::encode(bytes);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(format!("{key}\n").as_bytes())?;
    f.sync_all()?;
    Ok(key)
}
