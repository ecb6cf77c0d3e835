//! A password that never prints: no `Display`, a `Debug` that hides it, and
//! a comparison whose time does not depend on where two values first differ.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when both hold the same bytes. Every byte of the longer value is
    /// looked at whatever the contents, so timing tells at most the length.
    pub fn matches(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        let mut diff = u8::from(a.len() != b.len());
        for i in 0..a.len().max(b.len()) {
            diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
        }
        diff == 0
    }
}

impl Secret {
    /// True when `text` contains this secret (used to keep a value out of a
    /// message when it may be a password given in the wrong place).
    pub fn appears_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(&self.0)
    }

    /// `text` with every occurrence of this secret replaced by `with` (for
    /// output passed on from a program that was given it).
    pub fn replace_in(&self, text: &str, with: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, with)
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<not shown>)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Writing the agent's config (the overlay does, at mode 0600) needs the
/// value itself.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_identical_values() {
        let s = |v: &str| Secret::new(v.to_string());
        assert!(s("secret").matches(&s("secret")));
        assert!(!s("secret").matches(&s("secreT")));
        assert!(!s("secret").matches(&s("secret ")));
        assert!(!s("secret").matches(&s("")));
        assert!(!s("").matches(&s("\0")));
        assert!(s("").matches(&s("")));
    }

    #[test]
    fn debug_does_not_show_the_value() {
        let text = format!("{:?}", Secret::new("hunter2".into()));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
