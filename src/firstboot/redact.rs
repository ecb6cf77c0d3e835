//! Hides secrets that a tool prints back. The helper never logs a secret
//! of its own, but the tools it runs may: when drbdadm gives up on a
//! `drbdsetup connect` it prints the whole command line, DRBD's
//! `--shared-secret=…` included (seen in a CI run's journal). Every
//! command's last line (what errors quote) and every log line pass
//! through [`redact`].

use std::borrow::Cow;

/// What stands in for a hidden value.
pub const HIDDEN: &str = "<hidden>";

/// Option and key names whose value is a secret, as drbdsetup, drbdadm,
/// corosync and the fence agents spell them.
const KEYS: [&str; 4] = ["shared-secret", "password", "passwd", "secret"];

/// `text` with the value after every secret key hidden. The forms:
/// `key=value`, `--key value`, `key value;` and `key "value"` (the quotes
/// are kept). A value ends at white space, a quote or `;`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !KEYS.iter().any(|k| lower.contains(k)) {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let Some(key) = key_at(&lower, i) else {
            i += 1;
            continue;
        };
        let mut j = i + key.len();
        let option = i >= 2 && &b[i - 2..i] == b"--";
        // The separator: '=', or white space (then the value must be
        // quoted, follow an option `--key`, or end with `;` as in a
        // config file: prose like "no secret here" is left alone).
        let loose = match b.get(j) {
            Some(b'=') => {
                j += 1;
                false
            }
            Some(b' ' | b'\t') => {
                while b.get(j).is_some_and(|c| *c == b' ' || *c == b'\t') {
                    j += 1;
                }
                !option
            }
            // `secrets`, `passwordless`: a longer word, not a key.
            _ => {
                i += key.len();
                continue;
            }
        };
        let quote = match b.get(j) {
            Some(q @ (b'"' | b'\'')) => {
                j += 1;
                Some(*q)
            }
            _ => None,
        };
        let value_start = j;
        while let Some(&c) = b.get(j) {
            let ends = match quote {
                Some(q) => c == q,
                None => c.is_ascii_whitespace() || c == b';' || c == b'"' || c == b'\'',
            };
            if ends {
                break;
            }
            j += 1;
        }
        if loose && quote.is_none() && b.get(j) != Some(&b';') {
            i = value_start;
            continue;
        }
        if j > value_start {
            out.push_str(&text[copied..value_start]);
            out.push_str(HIDDEN);
            copied = j;
        }
        i = j.max(i + key.len());
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The secret key that starts at byte `i` as a word of its own (not the
/// tail of a longer word like `drbd_secret_dir`).
fn key_at(lower: &str, i: usize) -> Option<&'static str> {
    let before = i.checked_sub(1).map(|p| lower.as_bytes()[p]);
    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return None;
    }
    let rest = lower.get(i..)?;
    KEYS.iter().copied().find(|k| rest.starts_with(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_drbdadm_s_echo_of_the_connect_command() {
        let line = "Command 'drbdsetup-84 connect r0 ipv4:10.99.1.2:7789 ipv4:10.99.1.1:7789 \
                    --protocol=C --cram-hmac-alg=sha256 --shared-secret=af66f7a7e957 \
                    --allow-two-primaries=yes' did not terminate within 5 seconds";
        let got = redact(line);
        assert!(!got.contains("af66f7a7e957"), "{got}");
        assert!(
            got.contains("--shared-secret=<hidden> --allow-two-primaries=yes' did not"),
            "{got}"
        );
        assert!(got.contains("--cram-hmac-alg=sha256"), "{got}");
    }

    #[test]
    fn hides_the_config_file_forms() {
        assert_eq!(
            redact("    shared-secret \"s3cr et\";"),
            "    shared-secret \"<hidden>\";"
        );
        assert_eq!(redact("shared-secret s3cret;"), "shared-secret <hidden>;");
        assert_eq!(
            redact("fence_ipmilan password=hunter2 ip=10.0.0.1"),
            "fence_ipmilan password=<hidden> ip=10.0.0.1"
        );
        assert_eq!(redact("--password hunter2"), "--password <hidden>");
        assert_eq!(redact("Password: hunter2"), "Password: hunter2");
    }

    #[test]
    fn text_that_is_not_ascii_is_safe() {
        // Bytes before a key may be the middle of a character.
        assert_eq!(redact("€secret=x y"), "€secret=<hidden> y");
        assert_eq!(redact("é secret été"), "é secret été");
        assert_eq!(
            redact("--shared-secret=日本語 z"),
            "--shared-secret=<hidden> z"
        );
    }

    #[test]
    fn leaves_other_words_alone() {
        for s in [
            "no secret here",
            "the shared-secret is missing",
            "the secrets folder",
            "passwordless login",
            "drbd_secret_dir=/x",
            "DRBD r0 is up",
            "",
        ] {
            assert_eq!(redact(s), s, "{s}");
            assert!(matches!(redact(s), Cow::Borrowed(_)), "{s}");
        }
    }
}
