//! Checks of single profile values, shared by every section of every
//! platform: each reports a diagnostic at the value's place (file, line,
//! column, key) and returns what it could make of the value.

use crate::diag::Diagnostics;
use crate::model::Mib;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::str::FromStr;

/// A profile value with its place in the file (byte range).
pub type S<T> = toml::Spanned<T>;

/// Reads profile tables (a table split off the parsed profile, its places
/// kept) into raw serde types.
pub fn from_table<T: serde::de::DeserializeOwned>(
    t: toml_edit::Table,
) -> Result<T, toml_edit::de::Error> {
    T::deserialize(toml_edit::de::Deserializer::from(
        toml_edit::DocumentMut::from(t),
    ))
}

/// Characters that may appear in any value that lands in a generated file.
/// Control characters (newline, tab, NUL…) break the line they land on in a
/// kickstart, an ifcfg file or drbd.conf, so they are refused everywhere.
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Values written unquoted on a kickstart or config line: no blanks, quotes,
/// comment or escape characters.
pub fn is_plain_token(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\"'`#\\;{}$<>&|".contains(c))
}

pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A DNS label as luci and RFC 1123 accept it: letters, digits, '-', not at
/// either end, at most 63 characters. No '_'.
pub fn hostname_label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("is empty".into());
    }
    if label.len() > 63 {
        return Some("is longer than 63 characters".into());
    }
    if label.contains('_') {
        return Some("contains '_', which luci refuses in host names; use '-'".into());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Some(format!("contains {c:?}; use only letters, digits and '-'"));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some("starts or ends with '-'".into());
    }
    None
}

/// Parses "200M", "2G", "20GiB", "500GB", "1T" into MiB. Binary units (M, G,
/// T with or without "iB") are powers of 1024; "MB", "GB", "TB" are the
/// decimal units disk vendors print.
pub fn parse_size(s: &str) -> Result<Mib, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{s:?} has no unit; write e.g. \"200M\", \"20G\" or \"500GB\""))?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number followed by a unit, e.g. \"20G\""))?;
    let bytes_per: u128 = match unit {
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "{s:?} has an unknown unit {unit:?}; use M, G, T (binary) or MB, GB, TB (decimal)"
            ))
        }
    };
    let mib = (u128::from(n) * bytes_per) >> 20;
    if n == 0 {
        return Err(format!("{s:?} is zero"));
    }
    u64::try_from(mib)
        .map(Mib)
        .map_err(|_| format!("{s:?} is too large"))
}

pub fn parse_mac(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_uppercase())
}

pub fn sp<T>(v: &S<T>) -> Range<usize> {
    v.span()
}

pub fn int_in<T: TryFrom<i64> + Default>(
    d: &mut Diagnostics,
    v: &S<i64>,
    key: &str,
    lo: i64,
    hi: i64,
) -> T {
    let n = *v.get_ref();
    if n < lo || n > hi {
        d.error(
            sp(v),
            key,
            format!("{n} is out of range; expected {lo}..={hi}"),
        );
        return T::default();
    }
    T::try_from(n).unwrap_or_default()
}

pub fn size(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Mib> {
    parse_size(v.get_ref())
        .map_err(|m| d.error(sp(v), key, m))
        .ok()
}

pub fn ip_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Ipv4Addr> {
    Ipv4Addr::from_str(v.get_ref())
        .map_err(|_| {
            d.error(
                sp(v),
                key,
                format!(
                    "{:?} is not an IPv4 address (dotted quad, e.g. \"10.0.1.71\")",
                    v.get_ref()
                ),
            )
        })
        .ok()
}

pub fn subnet_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Ipv4Net> {
    let s = v.get_ref();
    let net = match Ipv4Net::from_str(s) {
        Ok(n) => n,
        Err(_) => {
            d.error(
                sp(v),
                key,
                format!("{s:?} is not a subnet in CIDR form, e.g. \"10.0.1.0/24\""),
            );
            return None;
        }
    };
    if net.addr() != net.network() {
        d.error(sp(v), key, format!("{s:?} has host bits set; write the network address {} (openais's bindnetaddr must be the network address)", net.trunc()));
        return None;
    }
    if net.prefix_len() > 30 {
        d.error(
            sp(v),
            key,
            format!("{s:?} is too small for two nodes; use a /30 or larger"),
        );
        return None;
    }
    Some(net)
}

pub fn token(d: &mut Diagnostics, v: &S<String>, key: &str, example: &str) -> String {
    let s = v.get_ref();
    if !is_plain_token(s) {
        d.error(sp(v), key, format!("{s:?} cannot go on a kickstart line (blank, quote, control or shell character); expected {example}"));
    }
    s.clone()
}

/// What is wrong with a URL a kickstart or a %post line takes, if anything.
pub fn url_problem(s: &str) -> Option<String> {
    if !(s.starts_with("http://") || s.starts_with("https://") || s.starts_with("ftp://"))
        || !is_plain_token(s)
        || s.len() < 10
    {
        return Some(format!("{s:?} is not a usable URL: http://, https:// or ftp://, no blanks, quotes or shell characters"));
    }
    None
}

/// A URL, without trailing slashes.
pub fn url_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> String {
    let s = v.get_ref();
    if let Some(why) = url_problem(s) {
        d.error(sp(v), key, why);
    }
    s.trim_end_matches('/').to_string()
}

/// A value that lands in an XML attribute: escaping handles <, >, &, quotes;
/// control characters cannot be escaped in XML 1.0, so they are refused.
pub fn xml_text(d: &mut Diagnostics, v: &S<String>, key: &str) -> String {
    let s = v.get_ref();
    if has_control(s) {
        d.error(sp(v), key, "contains a control character (newline, tab…), which cannot be written into cluster.conf");
    }
    s.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(parse_size("200M").unwrap(), Mib(200));
        assert_eq!(parse_size("2G").unwrap(), Mib(2048));
        assert_eq!(parse_size("20GiB").unwrap(), Mib(20480));
        // 500 GB = 500e9 bytes = 476837.158 MiB, rounded down.
        assert_eq!(parse_size("500GB").unwrap(), Mib(476837));
        assert!(parse_size("20").is_err());
        assert!(parse_size("2.5G").is_err());
        assert!(parse_size("0G").is_err());
        assert!(parse_size("99999999999999T").is_err());
    }

    #[test]
    fn macs_normalise_to_upper_colon_form() {
        assert_eq!(
            parse_mac("90:e6:ba:71:82:d8").as_deref(),
            Some("90:E6:BA:71:82:D8")
        );
        assert_eq!(
            parse_mac("90-E6-BA-71-82-D8").as_deref(),
            Some("90:E6:BA:71:82:D8")
        );
        assert_eq!(parse_mac("90:E6:BA:71:82"), None);
        assert_eq!(parse_mac("90:E6:BA:71:82:ZZ"), None);
    }

    #[test]
    fn hostname_rules() {
        assert!(hostname_label_problem("an-node01").is_none());
        assert!(hostname_label_problem("an_node01").unwrap().contains('_'));
        assert!(hostname_label_problem("-a").is_some());
    }
}
