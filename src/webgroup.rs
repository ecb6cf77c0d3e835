//! The group of the web server that serves a build to the nodes
//! (`build --web-group NAME`). Every file a node fetches over HTTP
//! (kickstarts, overlays, the helper) is written mode 0640 with this group,
//! in folders of mode 0750 with it: the web server reads them, nobody else
//! but root does. The overlays hold the fence passwords and the
//! first-boot key.
//!
//! The default is the usual group of the build host's distribution, from
//! /etc/os-release: `www-data` in the Debian family (Debian's nginx and
//! Apache run as www-data), `nginx` in the EL family (nginx.org's and EPEL's
//! packages run as nginx); anything else is refused with a request for
//! the option (docs/evidence/el5.md §8). The group must exist
//! (`getent group`, so NSS groups count). The group is a property of the
//! files on this host only: it is in no tarball (entries stay root:root),
//! not in SHA256SUMS, not in the manifest.

use std::path::Path;
use std::process::Command;

/// Where a host says what it is.
pub const OS_RELEASE: &str = "/etc/os-release";

/// A group that exists on the build host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebGroup {
    pub name: String,
    pub gid: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum WebGroupError {
    #[error("cannot tell which group this host's web server runs as: {why}; name it with --web-group NAME (the group of the `user` in nginx.conf; Apache: `apache` on EL, `www-data` on Debian)")]
    NoDefault { why: String },
    #[error("--web-group {0:?} is not a group name (letters, digits, '.', '_' and '-', not starting with '-')")]
    BadName(String),
    #[error("group {name:?} does not exist on this host ({how}); create it, or name the web server's group with --web-group NAME")]
    Missing { name: String, how: String },
    #[error("cannot run getent to look up group {name:?}")]
    Getent {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// The default group for a host whose /etc/os-release says `text`.
pub fn default_for(text: &str) -> Result<&'static str, String> {
    let mut words = Vec::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == "ID" || k.trim() == "ID_LIKE" {
            let v = v.trim().trim_matches(['"', '\'']);
            words.extend(v.split_whitespace().map(str::to_ascii_lowercase));
        }
    }
    if words.is_empty() {
        return Err(format!("{OS_RELEASE} names no ID"));
    }
    if words.iter().any(|w| w == "debian" || w == "ubuntu") {
        Ok("www-data")
    } else if words
        .iter()
        .any(|w| ["rhel", "fedora", "centos"].contains(&w.as_str()))
    {
        Ok("nginx")
    } else {
        Err(format!(
            "{OS_RELEASE} says ID/ID_LIKE {:?}, neither the Debian nor the EL family",
            words.join(" ")
        ))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// `getent group NAME`: its gid, or why not.
fn lookup(name: &str) -> Result<WebGroup, WebGroupError> {
    let o = Command::new("getent")
        .args(["group", name])
        .output()
        .map_err(|source| WebGroupError::Getent {
            name: name.to_string(),
            source,
        })?;
    let missing = |how: String| WebGroupError::Missing {
        name: name.to_string(),
        how,
    };
    if !o.status.success() {
        return Err(missing(format!(
            "`getent group {name}` exits {}",
            o.status
                .code()
                .map_or("on a signal".into(), |c| c.to_string())
        )));
    }
    let line = String::from_utf8_lossy(&o.stdout);
    let gid = line
        .lines()
        .next()
        .and_then(|l| l.split(':').nth(2))
        .and_then(|g| g.trim().parse::<u32>().ok())
        .ok_or_else(|| missing(format!("`getent group {name}` printed no gid")))?;
    Ok(WebGroup {
        name: name.to_string(),
        gid,
    })
}

/// The group `--web-group` names, else this host's default; it must exist.
pub fn resolve(given: Option<&str>, os_release: &Path) -> Result<WebGroup, WebGroupError> {
    let name = match given {
        Some(n) if !valid_name(n) => return Err(WebGroupError::BadName(n.to_string())),
        Some(n) => n.to_string(),
        None => {
            let text =
                std::fs::read_to_string(os_release).map_err(|e| WebGroupError::NoDefault {
                    why: format!("cannot read {}: {e}", os_release.display()),
                })?;
            default_for(&text)
                .map_err(|why| WebGroupError::NoDefault { why })?
                .to_string()
        }
    };
    lookup(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_follows_the_distribution_family() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
        assert_eq!(default_for(debian), Ok("www-data"));
        let ubuntu = "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n";
        assert_eq!(default_for(ubuntu), Ok("www-data"));
        let rocky = "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";
        assert_eq!(default_for(rocky), Ok("nginx"));
        assert_eq!(default_for("ID=fedora\n"), Ok("nginx"));
        assert_eq!(
            default_for("ID=\"centos\"\nID_LIKE=\"rhel fedora\"\n"),
            Ok("nginx")
        );
        let arch = default_for("NAME=\"Arch Linux\"\nID=arch\n").unwrap_err();
        assert!(arch.contains("arch"), "{arch}");
        assert!(default_for("NAME=x\n").is_err());
    }

    #[test]
    fn names_are_checked_before_getent_sees_them() {
        for bad in ["", "-x", "a b", "a:b", "a/b", "a\nb"] {
            assert!(
                matches!(
                    resolve(Some(bad), Path::new("/nonexistent")),
                    Err(WebGroupError::BadName(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_group_that_does_not_exist_is_refused() {
        let e = resolve(Some("clusterkick-no-such-group"), Path::new(OS_RELEASE)).unwrap_err();
        assert!(matches!(e, WebGroupError::Missing { .. }), "{e}");
        // root's group exists everywhere, with gid 0.
        assert_eq!(
            resolve(Some("root"), Path::new("/nonexistent")).unwrap(),
            WebGroup {
                name: "root".into(),
                gid: 0
            }
        );
    }
}
