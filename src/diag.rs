//! Diagnostics: an error or warning about a profile, pinned to the file, line
//! and column of the key it is about.
//!
//! One diagnostic is one line, always with a position: a problem with the
//! file as a whole is at 1:1, and whatever a diagnostic quotes from the
//! profile (a key, a value, a path) is shown with its control characters
//! escaped (`\n`, `\0`, `\u{202e}`) and, when very long, shortened in
//! the middle.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based line and column (columns count characters); 1:1 when the
    /// problem is the file as a whole or something it does not name.
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `nodes[0].ip.drbd`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let file = self.file.to_string_lossy();
        write!(
            f,
            "{}:{}:{}: {level}",
            one_line(&file, MAX_QUOTED),
            self.line.max(1),
            self.column.max(1)
        )?;
        if !self.key.is_empty() {
            write!(f, ": `{}`", one_line(&self.key, MAX_QUOTED))?;
        }
        write!(f, ": {}", one_line(&self.message, MAX_MESSAGE))
    }
}

/// Keys and paths longer than this many characters are shortened.
const MAX_QUOTED: usize = 200;
/// Messages longer than this are shortened in the middle: the start (what
/// is wrong, with the value) and the end (what would be right) stay.
const MAX_MESSAGE: usize = 1000;

/// Characters that would end or disturb a line on a terminal: control
/// characters, the Unicode line and paragraph separators, and the
/// invisible formatting and bidirectional overrides (a value could hide or
/// reorder text with them).
fn disturbs(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// `s` on one line: every character that [`disturbs`] a line escaped as
/// Rust escapes it (`\n`, `\t`, `\0`, `\u{7f}`), and the middle of a text
/// longer than `max` characters replaced by a count of what was left out.
pub fn one_line(s: &str, max: usize) -> Cow<'_, str> {
    let long = s.chars().count() > max;
    if !long && !s.chars().any(disturbs) {
        return Cow::Borrowed(s);
    }
    let escape = |t: &str| -> String {
        t.chars()
            .map(|c| {
                if disturbs(c) {
                    c.escape_debug().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    if !long {
        return Cow::Owned(escape(s));
    }
    let n = s.chars().count();
    let keep = max / 2;
    let head: String = s.chars().take(keep).collect();
    let tail: String = s.chars().skip(n - keep).collect();
    Cow::Owned(format!(
        "{}[…{} characters left out…]{}",
        escape(&head),
        n - 2 * keep,
        escape(&tail)
    ))
}

/// Collects diagnostics for one source file and turns byte offsets into
/// line/column pairs.
#[derive(Debug)]
pub struct Diagnostics {
    file: PathBuf,
    text: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &Path, text: &str) -> Self {
        Self {
            file: file.to_path_buf(),
            text: text.to_string(),
            items: Vec::new(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// 1-based (line, column) of a byte offset; columns count characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub fn push(
        &mut self,
        severity: Severity,
        span: Option<Range<usize>>,
        key: &str,
        message: String,
    ) {
        let (line, column) = span.map_or((1, 1), |s| self.line_col(s.start));
        self.items.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            message,
        });
    }

    pub fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        self.push(Severity::Error, Some(span), key, message.into());
    }

    pub fn warn(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        self.push(Severity::Warning, Some(span), key, message.into());
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(key: &str, message: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("p.toml"),
            line: 3,
            column: 7,
            key: key.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_diagnostic_is_one_line_whatever_it_quotes() {
        let d = diag(
            "mac.\"eth\n0\"",
            "value \"a\nb\tc\0d\u{1b}[31m\u{202e}x\u{2028}\" is wrong",
        );
        let shown = d.to_string();
        assert_eq!(
            shown,
            "p.toml:3:7: error: `mac.\"eth\\n0\"`: value \"a\\nb\\tc\\0d\\u{1b}[31m\\u{202e}x\\u{2028}\" is wrong"
        );
        assert_eq!(shown.lines().count(), 1);
        // Ordinary text, accents included, is left alone.
        assert_eq!(one_line("Montréal ok", 100), "Montréal ok");
    }

    #[test]
    fn long_values_are_shortened_in_the_middle() {
        let value = "x".repeat(100_000);
        let d = diag("k", &format!("{value} is too long; write a short one"));
        let shown = d.to_string();
        assert!(shown.len() < 1200, "{}", shown.len());
        assert!(shown.ends_with("write a short one"), "{shown}");
        assert!(shown.contains("characters left out"), "{shown}");
    }

    #[test]
    fn a_problem_without_a_place_is_at_the_top_of_the_file() {
        let mut ds = Diagnostics::new(Path::new("p.toml"), "a = 1\n");
        ds.push(Severity::Error, None, "", "unreadable".into());
        assert_eq!(ds.items[0].to_string(), "p.toml:1:1: error: unreadable");
    }
}

/// A profile that did not validate: every diagnostic found, errors first.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.0))]
pub struct InvalidProfile(pub Vec<Diagnostic>);

fn render(items: &[Diagnostic]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
