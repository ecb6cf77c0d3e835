//! The secrets a profile names but never holds: fence passwords (from a
//! file beside the profile or an environment variable) and the cluster's
//! random secrets in `<profile>.secrets/`: the first-boot key, the DRBD
//! peers' shared secret and the cluster's authkey (cman's or corosync's),
//! made once by `clusterkick secrets` (or `init`), then kept.
//!
//! Every file is read as [`files::read_capped`] reads it (a regular file,
//! small). Reading never creates anything: `check` and `build` refuse a
//! missing secret and name the command that makes it; for `secrets` a
//! missing one is a [`NewKey`] / [`NewSecret`], made ([`make_key`],
//! [`make_secret`]) only once every profile of the run is valid. The checks
//! a new key needs (where it goes, who else could write there) are made
//! here, so that `check` reports what `secrets` would refuse.

use super::files::{self, FileProblem, SECRET_CAP};
use super::placeholder;
use super::validate::{PasswdSource, Validated};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::Secrets;
use crate::platform::AuthkeySpec;
use std::fs;
use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What lives beside a profile `<dir>/<stem>.toml`: `<dir>/<stem><suffix>`
/// (its `.secrets` folder, its `.lock`).
pub fn beside(profile: &Path, suffix: &str) -> PathBuf {
    let stem = profile
        .file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
    profile
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}{suffix}"))
}

/// Default key file for a profile: `<dir>/<stem>.secrets/firstboot.key`.
pub fn default_key_file(profile: &Path) -> PathBuf {
    beside(profile, ".secrets").join("firstboot.key")
}

/// A secret file of the cluster's in `<dir>/<stem>.secrets/`.
pub fn secret_file(profile: &Path, name: &str) -> PathBuf {
    default_key_file(profile).with_file_name(name)
}

/// The DRBD peers' shared secret's file name.
pub const DRBD_SECRET: &str = "drbd.secret";
/// DRBD keeps `shared-secret` in a 64-byte buffer with its NUL
/// (SHARED_SECRET_MAX): at most 63 characters. A new one is 24 random
/// bytes in hex (48 characters).
const DRBD_SECRET_MIN: usize = 16;
const DRBD_SECRET_MAX: usize = 63;
const DRBD_SECRET_NEW: usize = 24;

const KEY_KEY: &str = "firstboot.key_file";

/// A first-boot key that does not exist yet, and where `build` makes it.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub path: PathBuf,
    /// Whether the profile names it (`firstboot.key_file`), and where: a
    /// problem making it is reported there (at 1:1 for the default place).
    named: bool,
    profile: PathBuf,
    line: usize,
    column: usize,
}

/// A shared secret of the cluster's that does not exist yet: where
/// `clusterkick secrets` makes it, and how.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub path: PathBuf,
    pub what: &'static str,
    pub kind: SecretKind,
    /// Random bytes it takes, and whether they are written as hex text.
    len: usize,
    hex: bool,
}

/// What the profile's secrets are, as far as they exist.
pub struct Read {
    pub secrets: Secrets,
    /// The first-boot key when it is still to be made.
    pub new_key: Option<NewKey>,
    /// The other secrets still to be made.
    pub new_secrets: Vec<NewSecret>,
}

/// Which of [`Secrets`]' fields a [`NewSecret`] fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    DrbdSecret,
    ClusterAuthkey,
}

/// What reading does about a secret that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An error that says how to make it (`check`, `build`, …).
    Refuse,
    /// Kept to be made (`clusterkick secrets`, `init`).
    Make,
}

/// The command that makes a profile's missing secrets, for messages.
pub fn make_command(profile: &Path) -> String {
    format!("clusterkick secrets {}", files::shell_word(profile))
}

/// Reads every secret the validated profile at `path` names.
pub fn read(path: &Path, v: &Validated, missing: Missing, d: &mut Diagnostics) -> Read {
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
    let mut new_key = None;
    match firstboot_key(&key_path, key_span.clone(), d) {
        Key::Present(k) => secrets.firstboot_key = k,
        Key::Missing if missing == Missing::Refuse => d.push(
            Severity::Error,
            key_span.clone(),
            KEY_KEY,
            format!(
                "{} does not exist yet; make the cluster's secrets once with `{}` (it makes only the missing ones; build never makes one)",
                key_words(&key_path, key_span.is_some()),
                make_command(path)
            ),
        ),
        Key::Missing => {
            let (line, column) = key_span.as_ref().map_or((1, 1), |s| d.line_col(s.start));
            new_key = Some(NewKey {
                path: key_path,
                named: key_span.is_some(),
                profile: d.file().to_path_buf(),
                line,
                column,
            })
        }
        Key::Refused => {}
    }
    let mut new_secrets = Vec::new();
    let mut wanted = |found: Found, new: NewSecret, d: &mut Diagnostics| match found {
        Found::Present(k) => {
            if placeholder::is_published_secret(&k) {
                d.push(
                    Severity::Warning,
                    None,
                    new.what,
                    format!("{} holds an example's {}, which is published with clusterkick: a placeholder; move it away and run `{}` to make your own", new.path.display(), new.what, make_command(path)),
                );
            }
            Some(k)
        }
        Found::Missing if missing == Missing::Refuse => {
            d.push(
                Severity::Error,
                None,
                new.what,
                format!(
                    "{} does not exist yet; make the cluster's secrets once with `{}` (it makes only the missing ones; build never makes one)",
                    new.path.display(),
                    make_command(path)
                ),
            );
            None
        }
        Found::Missing => {
            new_secrets.push(new);
            None
        }
        Found::Refused => None,
    };
    let drbd = secret_file(path, DRBD_SECRET);
    let found = drbd_secret(&drbd, d);
    let new = NewSecret {
        path: drbd,
        what: "DRBD shared secret",
        kind: SecretKind::DrbdSecret,
        len: DRBD_SECRET_NEW,
        hex: true,
    };
    if let Some(k) = wanted(found, new, d) {
        secrets.drbd_secret = String::from_utf8(k).unwrap_or_default();
    }
    let spec = v.flavor.platform().cluster_authkey();
    let authkey = secret_file(path, spec.file);
    let found = cluster_authkey(&authkey, spec, d);
    let new = NewSecret {
        path: authkey,
        what: spec.what,
        kind: SecretKind::ClusterAuthkey,
        len: spec.new,
        hex: false,
    };
    if let Some(k) = wanted(found, new, d) {
        secrets.cluster_authkey = k;
    }
    Read {
        secrets,
        new_key,
        new_secrets,
    }
}

/// The profile's words for a key file: `key_file`'s place, or a note that
/// it is the default one.
fn key_words(path: &Path, named: bool) -> String {
    match named {
        true => path.display().to_string(),
        false => format!(
            "{} (the default key file; firstboot.key_file names another)",
            path.display()
        ),
    }
}

/// Warns when a secret file can be read by anyone but its owner.
fn warn_readable(
    d: &mut Diagnostics,
    span: Option<Range<usize>>,
    key: &str,
    path: &Path,
    meta: &fs::Metadata,
) {
    let mode = files::mode(meta);
    if let Some(who) = files::readable_by_others(mode) {
        d.push(
            Severity::Warning,
            span,
            key,
            format!(
                "{} holds a secret but is readable by {who} (mode {mode:04o}); fix: chmod 600 {}",
                path.display(),
                files::shell_word(path)
            ),
        );
    }
}

/// What reading a shared secret found.
enum Found {
    Present(Vec<u8>),
    Missing,
    /// A diagnostic says why.
    Refused,
}

/// Reads a secret file: a problem other than its absence is an error.
fn secret_bytes(path: &Path, cap: usize, what: &str, d: &mut Diagnostics) -> Found {
    match files::read_capped(path, cap as u64 + 1) {
        Ok((k, meta)) => {
            warn_readable(d, None, what, path, &meta);
            Found::Present(k)
        }
        Err(FileProblem::Missing) => Found::Missing,
        Err(e) => {
            d.push(
                Severity::Error,
                None,
                what,
                format!("cannot read {}: {e}", path.display()),
            );
            Found::Refused
        }
    }
}

/// The cluster's authkey, read and its size checked.
fn cluster_authkey(path: &Path, spec: &AuthkeySpec, d: &mut Diagnostics) -> Found {
    match secret_bytes(path, spec.max, spec.what, d) {
        Found::Present(k) if !(spec.min..=spec.max).contains(&k.len()) => {
            d.push(Severity::Error, None, spec.what, format!("{} holds {} bytes; it takes a key of {} to {} bytes: move it away and run `clusterkick secrets` to make a new one (every node then needs the new one)", path.display(), k.len(), spec.min, spec.max));
            Found::Refused
        }
        found => found,
    }
}

/// The DRBD peers' shared secret: letters and digits on one line (it goes
/// between double quotes in DRBD's config).
fn drbd_secret(path: &Path, d: &mut Diagnostics) -> Found {
    let what = "DRBD shared secret";
    match secret_bytes(path, DRBD_SECRET_MAX + 1, what, d) {
        Found::Present(k) => {
            let line = k.strip_suffix(b"\n").unwrap_or(&k);
            if (DRBD_SECRET_MIN..=DRBD_SECRET_MAX).contains(&line.len())
                && line.iter().all(u8::is_ascii_alphanumeric)
            {
                Found::Present(line.to_vec())
            } else {
                d.push(Severity::Error, None, what, format!("{} must hold {DRBD_SECRET_MIN} to {DRBD_SECRET_MAX} letters and digits on one line (DRBD's shared-secret); move it away and run `clusterkick secrets` to make a new one", path.display()));
                Found::Refused
            }
        }
        found => found,
    }
}

/// Makes a missing shared secret: random bytes (as hex text, or raw) in
/// a new file of mode 0600; its folder, when it has to be made, 0700 (no
/// existing folder's mode is changed). Returns the secret and a note.
pub fn make_secret(n: &NewSecret) -> std::io::Result<(Vec<u8>, String)> {
    if let Some(dir) = n.path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let mut bytes = vec![0u8; n.len];
    getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let (secret, file) = if n.hex {
        let h = hex::encode(&bytes);
        (h.clone().into_bytes(), format!("{h}\n").into_bytes())
    } else {
        (bytes.clone(), bytes)
    };
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&n.path)?;
    if let Err(e) = f.write_all(&file).and_then(|()| f.sync_all()) {
        drop(f);
        let _ = fs::remove_file(&n.path);
        return Err(e);
    }
    let note = format!(
        "note: made a new {} in {} (keep it: the nodes of this cluster share it)",
        n.what,
        crate::diag::one_line(&n.path.to_string_lossy(), 1000)
    );
    Ok((secret, note))
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
            let key = format!("{key}.passwd_file");
            let p = base.join(f);
            let (bytes, meta) = match files::read_capped(&p, SECRET_CAP) {
                Ok(read) => read,
                Err(FileProblem::Missing) => {
                    d.error(
                        span.clone(),
                        &key,
                        format!("cannot read {}: {}", p.display(), FileProblem::Missing),
                    );
                    return None;
                }
                Err(e) => {
                    d.error(
                        span.clone(),
                        &key,
                        format!(
                            "cannot read {}: {e}; passwd_file names a small file holding the password on one line",
                            p.display()
                        ),
                    );
                    return None;
                }
            };
            warn_readable(d, Some(span.clone()), &key, &p, &meta);
            let Ok(s) = String::from_utf8(bytes) else {
                d.error(
                    span.clone(),
                    &key,
                    format!("{} is not UTF-8 text", p.display()),
                );
                return None;
            };
            let pw = s.strip_suffix('\n').unwrap_or(&s).to_string();
            if pw.is_empty() || pw.chars().any(char::is_control) {
                d.error(
                    span.clone(),
                    &key,
                    format!(
                        "{} must hold the password on one line, without control characters",
                        p.display()
                    ),
                );
                return None;
            }
            if let Some(why) = placeholder::password(&pw) {
                d.warn(
                    span.clone(),
                    &key,
                    format!(
                        "{} holds {why}, a placeholder: put the device's real password in it",
                        p.display()
                    ),
                );
            }
            Some(pw)
        }
        PasswdSource::Env(var) => {
            let key = format!("{key}.passwd_env");
            match std::env::var(var) {
                Ok(pw) if !pw.is_empty() && !pw.chars().any(char::is_control) => {
                    if let Some(why) = placeholder::password(&pw) {
                        d.warn(
                            span.clone(),
                            &key,
                            format!("${var} holds {why}, a placeholder: export the device's real password"),
                        );
                    }
                    Some(pw)
                }
                Ok(_) => {
                    d.error(
                        span.clone(),
                        &key,
                        format!("${var} is empty or holds a control character"),
                    );
                    None
                }
                Err(_) => {
                    d.error(
                        span.clone(),
                        &key,
                        format!("${var} is not set; export it before running clusterkick"),
                    );
                    None
                }
            }
        }
    }
}

enum Key {
    Present(String),
    /// Not there yet; its place has been checked: `build` may make it.
    Missing,
    /// A diagnostic says why.
    Refused,
}

fn firstboot_key(key_path: &Path, span: Option<Range<usize>>, d: &mut Diagnostics) -> Key {
    let words = key_words(key_path, span.is_some());
    let refuse = |d: &mut Diagnostics, message: String| {
        d.push(Severity::Error, span.clone(), KEY_KEY, message);
        Key::Refused
    };
    let folder = match key_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match files::read_capped(key_path, SECRET_CAP) {
        Ok((bytes, meta)) => {
            if let Some(why) = others_may_write(&folder) {
                return refuse(d, format!("{words} is in {why}"));
            }
            warn_readable(d, span.clone(), KEY_KEY, key_path, &meta);
            let k = String::from_utf8(bytes).unwrap_or_default();
            let k = k.trim();
            if k.len() < 32 || !k.chars().all(|c| c.is_ascii_hexdigit()) {
                return refuse(d, format!("{words} must hold a hex key of at least 16 bytes (32 hex digits); delete it to have build make a new one"));
            }
            let k = k.to_ascii_lowercase();
            if placeholder::is_published_secret(k.as_bytes()) {
                d.push(
                    Severity::Warning,
                    span.clone(),
                    KEY_KEY,
                    format!("{words} holds an example's first-boot key, which is published with clusterkick: a placeholder; move it away and run `clusterkick secrets` to make a key of your own"),
                );
            }
            Key::Present(k)
        }
        Err(FileProblem::Missing) => {
            if fs::symlink_metadata(key_path).is_ok() {
                return refuse(
                    d,
                    format!(
                        "{words} is a symbolic link to nothing; remove it or point it at the key"
                    ),
                );
            }
            match files::existing_ancestor(&folder) {
                Ok((existing, _)) => {
                    if let Some(why) = others_may_write(&existing) {
                        return refuse(
                            d,
                            format!("cannot make the key {words}: it would be in {why}"),
                        );
                    }
                    if let Err(e) = rustix::fs::access(
                        &existing,
                        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
                    ) {
                        return refuse(
                            d,
                            format!(
                                "cannot make the key {words}: {} is not writable by you ({e})",
                                existing.display()
                            ),
                        );
                    }
                    Key::Missing
                }
                Err((at, e)) => refuse(
                    d,
                    format!(
                        "cannot make the key {words}: {}: {e}; a folder must be there",
                        at.display()
                    ),
                ),
            }
        }
        Err(e) => refuse(
            d,
            format!("cannot read {words}: {e}; the key file must be a small file holding the key"),
        ),
    }
}

/// Why a key may not be kept in `folder`: other users could replace it
/// (or, in a folder they can write to, put their own there first).
fn others_may_write(folder: &Path) -> Option<String> {
    let m = fs::metadata(folder).ok()?;
    let mode = files::mode(&m);
    let who = files::writable_by_others(mode)?;
    // Never advise to chmod a shared folder such as /tmp.
    let fix = if mode & 0o1000 != 0 {
        "keep the key in a folder only you can write to (firstboot.key_file names it; the default is <profile>.secrets/ beside the profile)".to_string()
    } else {
        format!(
            "fix: chmod go-w {}, or keep the key elsewhere (firstboot.key_file)",
            files::shell_word(folder)
        )
    };
    Some(format!(
        "{}, a folder that {who} can write to (mode {mode:04o}): they could replace the key both nodes trust; {fix}",
        folder.display()
    ))
}

/// Makes the missing first-boot key: 32 random bytes, hex, in a new file
/// of mode 0600. Folders it has to create are created 0700; no existing
/// folder's mode is changed.
pub fn make_key(k: &NewKey) -> Result<MadeKey, Diagnostic> {
    let words = key_words(&k.path, k.named);
    let fail = |message: String| Diagnostic {
        severity: Severity::Error,
        file: k.profile.clone(),
        line: k.line,
        column: k.column,
        key: KEY_KEY.into(),
        message: format!("cannot make the key {words}: {message}"),
    };
    let folder = match k.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (existing, to_make) = files::existing_ancestor(&folder)
        .map_err(|(at, e)| fail(format!("{}: {e}", at.display())))?;
    if let Some(why) = others_may_write(&existing) {
        return Err(fail(format!("it would be in {why}")));
    }
    for dir in &to_make {
        let made = fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o700)));
        match made {
            Ok(()) => {}
            // Made meanwhile by someone else: used only if no one else
            // can write to it, and left as it is.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if let Some(why) = others_may_write(dir) {
                    return Err(fail(format!("it would be in {why}")));
                }
            }
            Err(e) => return Err(fail(format!("creating {}: {e}", dir.display()))),
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| fail(format!("no random bytes: {e}")))?;
    let key = hex::encode(bytes);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&k.path)
        .map_err(|e| fail(e.to_string()))?;
    if let Err(e) = f
        .write_all(format!("{key}\n").as_bytes())
        .and_then(|()| f.sync_all())
    {
        // The file is this run's own: a half-written key is removed.
        drop(f);
        let _ = fs::remove_file(&k.path);
        return Err(fail(format!("writing: {e}")));
    }
    Ok(MadeKey {
        note: format!(
            "note: made a new first-boot key in {} (keep it: the nodes of this cluster share it)",
            crate::diag::one_line(&k.path.to_string_lossy(), 1000)
        ),
        key,
    })
}

/// A key [`make_key`] made.
pub struct MadeKey {
    pub key: String,
    /// For the user: where it is, and to keep it.
    pub note: String,
}
