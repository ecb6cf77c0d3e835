//! The secrets a profile names but never holds: fence passwords (from a
//! file beside the profile or an environment variable) and the cluster's
//! first-boot key (made once by the first build, then kept).

use super::validate::{PasswdSource, Validated};
use super::Mode;
use crate::diag::{Diagnostics, Severity};
use crate::model::Secrets;
use std::fs;
use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// corosync's authkey for a profile: `<dir>/<stem>.secrets/corosync.authkey`.
pub fn corosync_key_file(profile: &Path) -> PathBuf {
    default_key_file(profile).with_file_name("corosync.authkey")
}

/// corosync 3 (knet) takes a key of 1024 to 32768 bits; corosync-keygen
/// makes 2048.
const AUTHKEY_MIN: usize = 128;
const AUTHKEY_MAX: usize = 4096;
const AUTHKEY_NEW: usize = 256;

/// Reads every secret the validated profile at `path` names. In Build mode
/// a missing first-boot key (and corosync authkey) is made; `notes` then
/// says where.
pub fn load(
    path: &Path,
    v: &Validated,
    mode: Mode,
    notes: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Secrets {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut secrets = Secrets::default();
    for (device, source, span) in &v.passwd_sources {
        if let Some(pw) = fence_password(base, device, source, span, d) {
            secrets.fence_passwords.push((device.clone(), pw));
        }
    }
    let (key_path, key_span) = match &v.key_file {
        Some((f, s)) => (base.join(f), Some(s.clone())),
        None => (default_key_file(path), None),
    };
    if let Some(k) = firstboot_key(&key_path, key_span, mode, notes, d) {
        secrets.firstboot_key = k;
    }
    if v.flavor.platform().corosync_authkey() {
        if let Some(k) = corosync_authkey(&corosync_key_file(path), mode, notes, d) {
            secrets.corosync_authkey = k;
        }
    }
    secrets
}

/// The cluster's corosync authkey: read, or (Build mode) made once.
fn corosync_authkey(
    path: &Path,
    mode: Mode,
    notes: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Option<Vec<u8>> {
    let key = "corosync authkey";
    match fs::read(path) {
        Ok(k) if (AUTHKEY_MIN..=AUTHKEY_MAX).contains(&k.len()) => {
            if fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0) {
                d.push(
                    Severity::Warning,
                    None,
                    key,
                    format!("{} is readable by every user; chmod 600 it", path.display()),
                );
            }
            Some(k)
        }
        Ok(k) => {
            d.push(Severity::Error, None, key, format!("{} holds {} bytes; corosync takes a key of {AUTHKEY_MIN} to {AUTHKEY_MAX} bytes: delete it to have build make a new one", path.display(), k.len()));
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match mode {
            Mode::Check => None,
            Mode::Build => {
                let mut bytes = vec![0u8; AUTHKEY_NEW];
                let made = getrandom::getrandom(&mut bytes)
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .and_then(|()| write_new_secret(path, &bytes));
                match made {
                    Ok(()) => {
                        notes.push(format!("note: made a new corosync authkey in {} (keep it: the nodes of this cluster share it)", path.display()));
                        Some(bytes)
                    }
                    Err(e) => {
                        d.push(
                            Severity::Error,
                            None,
                            key,
                            format!("cannot create {}: {e}", path.display()),
                        );
                        None
                    }
                }
            }
        },
        Err(e) => {
            d.push(
                Severity::Error,
                None,
                key,
                format!("cannot read {}: {e}", path.display()),
            );
            None
        }
    }
}

fn fence_password(
    base: &Path,
    device: &str,
    source: &PasswdSource,
    span: &Range<usize>,
    d: &mut Diagnostics,
) -> Option<String> {
    let key = format!("fence_devices.{device}");
    match source {
        PasswdSource::File(f) => {
            let p = base.join(f);
            match fs::read_to_string(&p) {
                Ok(s) => {
                    let pw = s.strip_suffix('\n').unwrap_or(&s).to_string();
                    if pw.is_empty() || pw.chars().any(char::is_control) {
                        d.error(
                            span.clone(),
                            &format!("{key}.passwd_file"),
                            format!(
                                "{} must hold the password on one line, without control characters",
                                p.display()
                            ),
                        );
                    }
                    if fs::metadata(&p).is_ok_and(|m| m.permissions().mode() & 0o004 != 0) {
                        d.warn(
                            span.clone(),
                            &format!("{key}.passwd_file"),
                            format!("{} is readable by every user; chmod 600 it", p.display()),
                        );
                    }
                    Some(pw)
                }
                Err(e) => {
                    d.error(
                        span.clone(),
                        &format!("{key}.passwd_file"),
                        format!("cannot read {}: {e}", p.display()),
                    );
                    None
                }
            }
        }
        PasswdSource::Env(var) => match std::env::var(var) {
            Ok(pw) if !pw.is_empty() && !pw.chars().any(char::is_control) => Some(pw),
            Ok(_) => {
                d.error(
                    span.clone(),
                    &format!("{key}.passwd_env"),
                    format!("${var} is empty or holds a control character"),
                );
                None
            }
            Err(_) => {
                d.error(
                    span.clone(),
                    &format!("{key}.passwd_env"),
                    format!("${var} is not set; export it before running clusterkick"),
                );
                None
            }
        },
    }
}

fn firstboot_key(
    key_path: &Path,
    key_span: Option<Range<usize>>,
    mode: Mode,
    notes: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Option<String> {
    let key_key = "firstboot.key_file";
    match fs::read_to_string(key_path) {
        Ok(k) => {
            let k = k.trim().to_string();
            if k.len() < 32 || !k.chars().all(|c| c.is_ascii_hexdigit()) {
                d.push(Severity::Error, key_span, key_key, format!("{} must hold a hex key of at least 16 bytes (32 hex digits); delete it to have build make a new one", key_path.display()));
                None
            } else {
                Some(k.to_ascii_lowercase())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match mode {
            Mode::Check => None,
            Mode::Build => match make_key(key_path) {
                Ok(k) => {
                    notes.push(format!("note: made a new first-boot key in {} (keep it: the nodes of this cluster share it)", key_path.display()));
                    Some(k)
                }
                Err(e) => {
                    d.push(
                        Severity::Error,
                        key_span,
                        key_key,
                        format!("cannot create {}: {e}", key_path.display()),
                    );
                    None
                }
            },
        },
        Err(e) => {
            d.push(
                Severity::Error,
                key_span,
                key_key,
                format!("cannot read {}: {e}", key_path.display()),
            );
            None
        }
    }
}

/// 32 random bytes, hex, written once with mode 0600 in a 0700 folder.
fn make_key(path: &Path) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let key = hex::encode(bytes);
    write_new_secret(path, format!("{key}\n").as_bytes())?;
    Ok(key)
}

/// Writes a new secret file (never over an existing one), mode 0600, in a
/// folder of mode 0700.
fn write_new_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
