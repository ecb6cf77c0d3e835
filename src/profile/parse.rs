//! Reading a profile: the TOML parsed once (every place kept), then split
//! into the tables every platform has and the tables of the platform that
//! `cluster.platform` names, each read into its raw types (unknown keys
//! refused).

use super::raw::{RawProfile, COMMON_TABLES};
use crate::check::from_table;
use crate::diag::{Diagnostics, Severity};
use crate::platform::{self, Spec, Tables};
use std::ops::Range;

/// A profile as read, not yet checked.
pub struct Parsed {
    pub raw: RawProfile,
    /// The platform `cluster.platform` names, with its tables read; `None`
    /// when it names none we know (validation says so).
    pub platform: Option<(&'static Spec, Box<dyn Tables>)>,
}

/// Parses `text`. A problem here (TOML syntax, a wrong type, an unknown or
/// missing key) is the one diagnostic pushed: reading stops at the first.
pub fn parse(text: &str, d: &mut Diagnostics) -> Option<Parsed> {
    let doc = toml_edit::ImDocument::parse(text)
        .map_err(|e| refuse(d, e.message(), e.span().or(Some(0..0))))
        .ok()?;
    super::placeholder::scan(doc.as_table(), d);
    let mut root = doc.into_table();
    let spec = root
        .get("cluster")
        .and_then(|c| c.get("platform"))
        .and_then(toml_edit::Item::as_str)
        .and_then(platform::spec);
    let own = split(&mut root, spec, d)?;
    // A table made here has no place of its own: a missing table is at the
    // top of the file.
    let mut at_top = |e: toml_edit::de::Error| {
        let span = e.span().or(Some(0..0));
        refuse(d, e.message(), span)
    };
    let raw = from_table::<RawProfile>(root).map_err(&mut at_top).ok()?;
    let platform = match spec {
        Some(s) => Some((s, (s.parse)(own).map_err(&mut at_top).ok()?)),
        None => None,
    };
    Some(Parsed { raw, platform })
}

/// Takes the platform's own tables out of `root`. A table no platform has
/// is refused; so is another platform's.
fn split(
    root: &mut toml_edit::Table,
    spec: Option<&Spec>,
    d: &mut Diagnostics,
) -> Option<toml_edit::Table> {
    let mut own = toml_edit::Table::new();
    let keys: Vec<String> = root.iter().map(|(k, _)| k.to_string()).collect();
    for k in keys {
        if COMMON_TABLES.contains(&k.as_str()) {
            continue;
        }
        let Some((key, item)) = root.remove_entry(&k) else {
            continue;
        };
        if spec.is_some_and(|s| s.tables.contains(&k.as_str())) {
            own.insert_formatted(&key, item);
            continue;
        }
        let owners: Vec<&str> = platform::SPECS
            .iter()
            .filter(|s| s.tables.contains(&k.as_str()))
            .map(|s| s.id)
            .collect();
        let message = match (spec, owners.is_empty()) {
            // cluster.platform names no platform we know (validation says
            // so): its tables cannot be checked.
            (None, false) => continue,
            (Some(s), false) => {
                let hint = s
                    .table_hints
                    .iter()
                    .find(|(t, _)| *t == k)
                    .map_or(String::new(), |(_, h)| format!(" ({h})"));
                format!(
                    "`{k}` is a table of {} {}; this profile's cluster.platform is {}, which has no such table: remove it{hint}",
                    if owners.len() == 1 { "platform" } else { "platforms" },
                    owners.join(", "),
                    s.id
                )
            }
            (_, true) => {
                let own_tables = spec.map_or(&[][..], |s| s.tables);
                let expected: Vec<String> = COMMON_TABLES
                    .iter()
                    .chain(own_tables)
                    .map(|t| format!("`{t}`"))
                    .collect();
                format!(
                    "unknown field `{k}`, expected one of {}",
                    expected.join(", ")
                )
            }
        };
        refuse(d, &message, key.span());
        return None;
    }
    Some(own)
}

/// A reading error as a diagnostic, worded as serde words it.
fn refuse(d: &mut Diagnostics, message: &str, span: Option<Range<usize>>) {
    let key = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or_default()
        .to_string();
    let msg = message.trim().replace('\n', " ");
    let msg = if msg.starts_with("unknown field") {
        format!("{msg} (a misspelt or misplaced key?)")
    } else {
        msg
    };
    d.push(Severity::Error, span, &key, msg);
}
