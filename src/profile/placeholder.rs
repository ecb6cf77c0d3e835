//! Placeholders: values that stand for a real one and must be replaced
//! before a real install. `check` and `build` warn, naming the key, for
//! every one; a real value in its place removes the warning, and there is
//! no marker to delete.
//!
//! A value is a placeholder when it comes from a range reserved for
//! documentation, which no real network uses:
//! - a MAC address in 00:00:5E:00:53:00-FF (RFC 7042, section 2.1.2);
//! - an IPv4 address or subnet in 192.0.2.0/24, 198.51.100.0/24 or
//!   203.0.113.0/24 (RFC 5737), alone or as a URL's host;
//! - a domain or host name under example.com, example.net, example.org or
//!   the `.example` top-level domain (RFC 2606), alone or as a URL's host;
//!
//! or when it is one of the example's published secrets: the root
//! password hashes of `changeme` the example profiles use, a fence password
//! `secret` (the seed's) or `changeme`, and the example's first-boot key;
//! or when it is the word `changeme` itself (any key: `clusterkick init`
//! writes it where no reserved range fits, e.g. a fence device's login).
//! Every string value of the profile is looked at, in every table
//! (a platform's own tables too).

use crate::check::parse_mac;
use crate::diag::{Diagnostics, Severity};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use std::str::FromStr;
use toml_edit::{Item, Table, Value};

/// The address blocks RFC 5737 reserves for documentation.
const DOC_NETS: [&str; 3] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];

/// The domains RFC 2606 reserves for documentation (and their subdomains).
const DOC_DOMAINS: [&str; 3] = ["example.com", "example.net", "example.org"];

/// Root password hashes of known placeholder passwords: the example's.
/// The el5 example's MD5 hash, and the SHA-512 one of the pacemaker
/// examples (and of the profiles `clusterkick init` writes).
const KNOWN_HASHES: [(&str, &str); 2] = [
    ("$1$clusterk$WQVv5GfLpTu5h7o68qMw6/", "changeme"),
    (
        "$6$clusterk$fvSOBj7bwOfAexfNpxvhi41dqMmhAUpSVV/TQT23MfYei9hxPNiX2qZD//MXV03Wl13dL6zIKAlVQbqO26nb/.",
        "changeme",
    ),
];

/// A value to fill in, where no reserved range fits (a fence device's
/// login, in the profiles `clusterkick init` writes).
const FILL_IN: &str = "changeme";

/// The sha256 of each random secret committed with the example profiles
/// (profiles/*.secrets/: first-boot keys as their hex text, DRBD secrets
/// as their line, authkeys as their bytes): anyone can read them.
const PUBLISHED_SECRETS: [&str; 9] = [
    "6c434ca68114433ca16078a6b1b6a4ab6719adb1a067cac01c79b356abf5d5f0",
    "3018279914a392c96c107740cc5492d380c18a1f206cf73cba55f233cdac49f1",
    "8baff7cc2a698bac43c382781f9f286fe05c2f6a4385c80c11b7700d4f5fa555",
    "9166fd24f0aa6ac4a2790d5f304090d3f8b102a012b3415cb4a097d60982536e",
    "abe99d981c144d5eb3356d58e28e6d4bec2be8ecfc526029431eb4d11bd7d74c",
    "6e0a172660dfb6bf1cfdeee52d20d4e0061c579e8341870c92b7bc0dd31f6947",
    "c6b7f821dc6e9ca95550aa5b18ca40ce6a314a7834b7ad83ebc5ed246c55537e",
    "2580abacbfc84a7aec9955ec973c7fe07fa3b6919ae176ede243d8da4babf28c",
    "48df55b9dcfd039f617e46ad3b2eb91b5346359ab3f115a6907bbddf2678ba85",
];

/// Warns for every string value in the profile that is a placeholder.
pub fn scan(root: &Table, d: &mut Diagnostics) {
    for (k, item) in root.iter() {
        item_values(k, item, d);
    }
}

fn item_values(key: &str, item: &Item, d: &mut Diagnostics) {
    match item {
        Item::Value(v) => values(key, v, d),
        Item::Table(t) => {
            for (k, i) in t.iter() {
                item_values(&format!("{key}.{k}"), i, d);
            }
        }
        Item::ArrayOfTables(a) => {
            for (n, t) in a.iter().enumerate() {
                for (k, i) in t.iter() {
                    item_values(&format!("{key}[{n}].{k}"), i, d);
                }
            }
        }
        Item::None => {}
    }
}

fn values(key: &str, v: &Value, d: &mut Diagnostics) {
    match v {
        Value::String(s) => {
            if let Some(why) = why(s.value()) {
                d.push(
                    Severity::Warning,
                    v.span(),
                    key,
                    format!(
                        "{:?} is {why}: a placeholder; put the real value here before you install",
                        s.value()
                    ),
                );
            }
        }
        Value::Array(a) => {
            for (n, x) in a.iter().enumerate() {
                values(&format!("{key}[{n}]"), x, d);
            }
        }
        Value::InlineTable(t) => {
            for (k, x) in t.iter() {
                values(&format!("{key}.{k}"), x, d);
            }
        }
        _ => {}
    }
}

/// Why `s` is a placeholder, if it is one.
pub fn why(s: &str) -> Option<String> {
    if let Some((_, pw)) = KNOWN_HASHES.iter().find(|(h, _)| *h == s) {
        return Some(format!("the hash of {pw:?}, the example's root password"));
    }
    if s == FILL_IN {
        return Some("the word \"changeme\", which stands for a value to fill in".into());
    }
    if let Some(mac) = parse_mac(s) {
        return mac.starts_with("00:00:5E:00:53:").then(|| {
            "a MAC address reserved for documentation (00:00:5E:00:53:00-FF, RFC 7042)".into()
        });
    }
    if let Some(host) = url_host(s) {
        return host_why(host).map(|w| format!("a URL whose host is {w}"));
    }
    host_why(s)
}

/// Why a host (an address, a subnet or a name) is a placeholder.
fn host_why(s: &str) -> Option<String> {
    let doc_net = |net: &Ipv4Net| {
        DOC_NETS
            .iter()
            .filter_map(|n| Ipv4Net::from_str(n).ok())
            .find(|doc| doc.contains(net) || net.contains(doc))
    };
    if let Ok(ip) = Ipv4Addr::from_str(s) {
        return doc_net(&Ipv4Net::from(ip))
            .map(|n| format!("an address reserved for documentation ({n}, RFC 5737)"));
    }
    if let Ok(net) = Ipv4Net::from_str(s) {
        return doc_net(&net)
            .map(|n| format!("a subnet reserved for documentation ({n}, RFC 5737)"));
    }
    let name = s.trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = !name.is_empty()
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !labels_ok || !name.contains('.') {
        return None;
    }
    if let Some(doc) = DOC_DOMAINS
        .iter()
        .find(|dom| name == **dom || name.ends_with(&format!(".{dom}")))
    {
        return Some(format!(
            "a name under {doc}, a domain reserved for documentation (RFC 2606)"
        ));
    }
    name.ends_with(".example").then(|| {
        "a name under .example, a top-level domain reserved for documentation (RFC 2606)".into()
    })
}

/// The host of an http, https or ftp URL.
fn url_host(s: &str) -> Option<&str> {
    let rest = ["http://", "https://", "ftp://"]
        .iter()
        .find_map(|scheme| s.strip_prefix(scheme))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port.split(':').next().unwrap_or(host_port);
    Some(host)
}

/// Why a fence password is a placeholder, if it is one; the words never
/// hold the password itself (a secret is never printed).
pub fn password(pw: &str) -> Option<&'static str> {
    match pw {
        "secret" => Some("the seed's example password"),
        "changeme" => Some("the example's well-known default password"),
        _ => None,
    }
}

/// Whether `hex` (lower case) is the example's published first-boot key.
pub fn is_published_secret(secret: &[u8]) -> bool {
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(secret));
    PUBLISHED_SECRETS.contains(&h.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_ranges_are_placeholders_and_their_neighbours_are_not() {
        for p in [
            "00:00:5E:00:53:00",
            "00:00:5e:00:53:ff",
            "00-00-5E-00-53-2A",
            "192.0.2.1",
            "198.51.100.254",
            "203.0.113.0/24",
            "203.0.113.128/25",
            "example.com",
            "motoko.example.org",
            "Node1.Example.NET.",
            "fence.lab.example",
            "http://192.0.2.10/centos/5.4/os/x86_64",
            "https://user@mirror.example.com:8443/x",
            "$1$clusterk$WQVv5GfLpTu5h7o68qMw6/",
            KNOWN_HASHES[1].0,
            "changeme",
        ] {
            assert!(why(p).is_some(), "{p} is a placeholder");
        }
        for real in [
            "00:00:5E:00:54:00",
            "00:00:5E:00:52:FF",
            "90:E6:BA:71:82:D8",
            "192.0.3.1",
            "192.168.1.1",
            "198.51.101.1",
            "10.0.0.0/8",
            "203.0.112.0/24",
            "alteeve.com",
            "myexample.com",
            "example.com.au",
            "example",
            "http://10.0.1.1/centos/5.4/os/x86_64",
            "http://example.community/x",
            "$1$clusterk$otherhashxxxxxxxxxxxxx",
            "America/Toronto",
            "changeme2",
            "admin",
        ] {
            assert_eq!(why(real), None, "{real} is a real value");
        }
        // A larger subnet that holds a documentation block is one too.
        assert!(why("192.0.0.0/16").is_some());
    }

    #[test]
    fn the_known_secrets_are_the_examples() {
        assert!(password("secret").is_some() && password("changeme").is_some());
        assert_eq!(password("Secret1"), None);
        // Every random secret committed with an example, as it is read.
        let profiles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let mut seen = 0;
        for dir in std::fs::read_dir(&profiles).unwrap() {
            let dir = dir.unwrap().path();
            if dir.extension().is_none_or(|e| e != "secrets") {
                continue;
            }
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                let bytes = std::fs::read(&f).unwrap();
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                let value = match name.as_str() {
                    "firstboot.key" | "drbd.secret" => bytes.trim_ascii_end().to_vec(),
                    n if n.ends_with(".authkey") => bytes,
                    _ => continue,
                };
                assert!(is_published_secret(&value), "{} is not listed", f.display());
                seen += 1;
            }
        }
        assert_eq!(seen, PUBLISHED_SECRETS.len());
        assert!(!is_published_secret(b"0123456789abcdef0123456789abcdef"));
        let pw = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("profiles/an-cluster.secrets/motoko.passwd"),
        )
        .unwrap();
        assert!(password(pw.trim_end()).is_some());
    }

    /// The example's root password hash is the hash of "changeme", as the
    /// example's header says: checked with OpenSSL, not taken on trust.
    #[test]
    fn the_examples_root_hash_is_that_of_changeme() {
        for (hash, pw) in KNOWN_HASHES {
            let kind = format!("-{}", hash.split('$').nth(1).unwrap());
            let salt = hash.split('$').nth(2).unwrap();
            let out = std::process::Command::new("openssl")
                .args(["passwd", &kind, "-salt", salt, pw])
                .output()
                .expect("openssl is required (scripts/test-deps.sh installs it)");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), hash);
        }
    }
}
