//! No secret's bytes in what `diff` prints.
//!
//! - [`values`] lists every secret of a build ([`Secrets`], each field);
//!   each occurrence in a shown line (as it is, XML-escaped or as a TOML
//!   string holds it) becomes `<secret>`.
//! - Old secrets (a password since changed) are not known by value. The
//!   build is rendered a second time with every secret replaced by a
//!   marker ([`sentinels`]); where a marker lands is a *slot*: the text
//!   before it on its line (back to the first word, e.g. `passwd="`) and
//!   the character that ends it. Whatever follows that text up to that
//!   character, in any shown line old or new, is masked, and learned as a
//!   value to mask everywhere else.
//! - A file that is a secret (nothing but a marker, or a marker at the
//!   start of a line) is never shown: only "secret changed".

use crate::model::Secrets;
use std::collections::BTreeSet;

pub const MASK: &str = "<secret>";
const MARK: &[u8] = b"CLUSTERKICKSECRETMARK";

/// Every secret value of a build, as bytes; none empty. A field added to
/// [`Secrets`] does not compile here until it is listed (no `..`).
pub fn values(s: &Secrets) -> Vec<Vec<u8>> {
    let Secrets {
        fence_passwords,
        firstboot_key,
        drbd_secret,
        cluster_authkey,
    } = s;
    let mut v: Vec<Vec<u8>> = fence_passwords
        .iter()
        .map(|(_, p)| p.as_bytes().to_vec())
        .collect();
    v.push(firstboot_key.as_bytes().to_vec());
    v.push(drbd_secret.as_bytes().to_vec());
    v.push(cluster_authkey.clone());
    v.retain(|x| !x.is_empty());
    v
}

/// The same secrets, each replaced by its own marker (an empty one stays
/// empty: whether a secret is set may decide what is rendered). Listed
/// field by field, as in [`values`].
pub fn sentinels(s: &Secrets) -> Secrets {
    let Secrets {
        fence_passwords,
        firstboot_key,
        drbd_secret,
        cluster_authkey,
    } = s;
    let mut n = 0;
    let mut mark = |v: &[u8]| -> Vec<u8> {
        n += 1;
        if v.is_empty() {
            Vec::new()
        } else {
            let mut m = MARK.to_vec();
            m.extend(format!("{n:04}X").bytes());
            m
        }
    };
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap_or_default();
    Secrets {
        fence_passwords: fence_passwords
            .iter()
            .map(|(d, p)| (d.clone(), text(mark(p.as_bytes()))))
            .collect(),
        firstboot_key: text(mark(firstboot_key.as_bytes())),
        drbd_secret: text(mark(drbd_secret.as_bytes())),
        cluster_authkey: mark(cluster_authkey),
    }
}

/// Where a secret sits in a line: after `prefix`, up to `term` (not
/// counting one escaped with a backslash) or the end of the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    prefix: Vec<u8>,
    term: Option<u8>,
}

/// What masks a run's output: secret values and slots.
#[derive(Debug, Default)]
pub struct Masker {
    values: BTreeSet<Vec<u8>>,
    slots: BTreeSet<Slot>,
}

impl Masker {
    /// Masks these values wherever they appear, in the forms the
    /// renderers write them.
    pub fn add_values(&mut self, vals: impl IntoIterator<Item = Vec<u8>>) {
        for v in vals.into_iter().filter(|v| !v.is_empty()) {
            if let Ok(t) = std::str::from_utf8(&v) {
                let xml = t
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#x27;");
                // A TOML (or JSON, or shell "...") string's escapes.
                let quoted: String = t
                    .chars()
                    .flat_map(|c| match c {
                        '"' | '\\' => vec!['\\', c],
                        '\n' => vec!['\\', 'n'],
                        '\t' => vec!['\\', 't'],
                        '\r' => vec!['\\', 'r'],
                        c => vec![c],
                    })
                    .collect();
                let toml = toml::Value::String(t.to_string()).to_string();
                let toml = toml.get(1..toml.len().saturating_sub(1)).unwrap_or(t);
                self.values.insert(xml.into_bytes());
                self.values.insert(quoted.into_bytes());
                self.values.insert(toml.as_bytes().to_vec());
            }
            self.values.insert(v);
        }
    }

    /// Learns the slots of a text rendered with [`sentinels`]. Returns
    /// whether the file itself is a secret (then it is never shown).
    pub fn learn(&mut self, marked: &[u8]) -> bool {
        if find(marked, MARK).is_none() {
            return false;
        }
        let mut rest = marked.to_vec();
        while let Some(i) = find(&rest, MARK) {
            let end = (i + MARK.len() + 5).min(rest.len());
            rest.drain(i..end);
        }
        if rest.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        let mut whole = false;
        for line in marked.split(|&c| c == b'\n') {
            let mut from = 0;
            while let Some(i) = find(&line[from..], MARK).map(|i| i + from) {
                let end = (i + MARK.len() + 5).min(line.len());
                // After an earlier marker on the same line, not before it.
                let before = &line[from..i];
                let prefix = prefix_of(before);
                if prefix.is_empty() {
                    whole = true;
                } else {
                    self.slots.insert(Slot {
                        prefix: prefix.to_vec(),
                        term: line.get(end).copied(),
                    });
                }
                from = end;
            }
        }
        whole
    }

    /// Old secret values found in the slots of `text` (an old file's):
    /// masked everywhere from then on.
    pub fn learn_old(&mut self, text: &[u8]) {
        let mut found = Vec::new();
        for line in text.split(|&c| c == b'\n') {
            for (s, e) in self.slot_ranges(line) {
                found.push(line[s..e].to_vec());
            }
        }
        self.add_values(found);
    }

    fn slot_ranges(&self, line: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for slot in &self.slots {
            let mut from = 0;
            while let Some(i) = find(&line[from..], &slot.prefix).map(|i| i + from) {
                let s = i + slot.prefix.len();
                let mut e = s;
                while e < line.len() && line[e] != b'\n' && line[e] != b'\r' {
                    if Some(line[e]) == slot.term && (e == s || line[e - 1] != b'\\') {
                        break;
                    }
                    e += 1;
                }
                if e > s {
                    out.push((s, e));
                }
                from = s.max(i + 1);
            }
        }
        out
    }

    /// `line` with every secret in it replaced by `<secret>`.
    pub fn line(&self, line: &str) -> String {
        let b = line.as_bytes();
        let mut ranges = self.slot_ranges(b);
        for v in &self.values {
            let mut from = 0;
            while let Some(i) = find(&b[from..], v).map(|i| i + from) {
                ranges.push((i, i + v.len()));
                from = i + 1;
            }
        }
        if ranges.is_empty() {
            return line.to_string();
        }
        ranges.sort_unstable();
        let mut out = Vec::with_capacity(b.len());
        let mut at = 0;
        for (s, e) in ranges {
            if e <= at {
                continue;
            }
            if s >= at {
                out.extend_from_slice(&b[at..s]);
                out.extend_from_slice(MASK.as_bytes());
            }
            at = e;
        }
        out.extend_from_slice(&b[at..]);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The text before a secret that says what it is: back to the start of
/// the nearest word (`passwd="`, `shared-secret "`, `password = "`).
fn prefix_of(before: &[u8]) -> &[u8] {
    let mut start = before.len();
    loop {
        let tok = before[..start]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |i| i + 1);
        let word = before[tok..start].iter().any(u8::is_ascii_alphanumeric);
        start = tok;
        if word || start == 0 {
            break;
        }
        start = before[..start]
            .iter()
            .rposition(|c| !c.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        if start == 0 {
            break;
        }
    }
    &before[start..]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets {
            fence_passwords: vec![("motoko".into(), "pa\"ss&1".into())],
            firstboot_key: "ab12".repeat(16),
            drbd_secret: "cd34".repeat(12),
            cluster_authkey: vec![0xff, 0x00, 0x41],
        }
    }

    #[test]
    fn every_field_is_a_value_and_gets_its_own_marker() {
        let s = secrets();
        assert_eq!(values(&s).len(), 4);
        let m = sentinels(&s);
        let vals = values(&m);
        assert_eq!(vals.len(), 4);
        assert_eq!(vals.iter().collect::<BTreeSet<_>>().len(), 4);
        assert!(vals.iter().all(|v| v.starts_with(MARK)));
        // Empty stays empty.
        assert!(sentinels(&Secrets::default()).firstboot_key.is_empty());
    }

    #[test]
    fn known_values_are_masked_raw_and_escaped() {
        let mut m = Masker::default();
        m.add_values(values(&secrets()));
        let l = m.line(r#"<fencedevice passwd="pa&quot;ss&amp;1" name="x"/>"#);
        assert_eq!(l, r#"<fencedevice passwd="<secret>" name="x"/>"#);
        assert_eq!(
            m.line(r#"password = "pa\"ss&1""#),
            r#"password = "<secret>""#
        );
        assert_eq!(m.line("nothing here"), "nothing here");
    }

    #[test]
    fn slots_mask_an_old_secret_never_seen_by_value() {
        let s = sentinels(&secrets());
        let pw = &s.fence_passwords[0].1;
        let conf =
            format!("<a/>\n  <fencedevice agent=\"fence_na\" passwd=\"{pw}\" quiet=\"1\"/>\n");
        let toml = format!("[device]\npassword = \"{pw}\"\n");
        let mut m = Masker::default();
        assert!(!m.learn(conf.as_bytes()));
        assert!(!m.learn(toml.as_bytes()));
        // The old tree: another password, and another address beside it.
        let old = "  <fencedevice agent=\"fence_na\" ipaddr=\"10.0.0.9\" passwd=\"hunter2\" quiet=\"1\"/>";
        assert_eq!(
            m.line(old),
            "  <fencedevice agent=\"fence_na\" ipaddr=\"10.0.0.9\" passwd=\"<secret>\" quiet=\"1\"/>"
        );
        assert_eq!(
            m.line(r#"password = "hun\"ter2""#),
            r#"password = "<secret>""#
        );
        // Learned from an old file, it is masked where no slot is.
        m.learn_old(old.as_bytes());
        assert_eq!(m.line("# hunter2"), "# <secret>");
    }

    #[test]
    fn a_file_that_is_a_secret_is_known_as_one() {
        let s = sentinels(&secrets());
        let mut m = Masker::default();
        assert!(m.learn(format!("{}\n", s.firstboot_key).as_bytes()));
        assert!(m.learn(&s.cluster_authkey));
        assert!(m.learn(format!("# key\n{}\n", s.firstboot_key).as_bytes()));
        assert!(!m.learn(b"no secret\n"));
    }
}
