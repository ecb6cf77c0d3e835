//! isolinux.cfg: find how the base boots its installer, and add (or replace)
//! one cluster's block of entries at the end, leaving the base's own entries
//! and its default as they were.

/// Kernel and initrd of the base's installer entry, as isolinux.cfg names
/// them (relative to isolinux/).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFiles {
    pub kernel: String,
    pub initrd: String,
}

impl Default for BootFiles {
    /// What every RHEL/CentOS 5 DVD has.
    fn default() -> Self {
        Self {
            kernel: "vmlinuz".into(),
            initrd: "initrd.img".into(),
        }
    }
}

#[derive(Debug, Default)]
struct Label {
    name: String,
    kernel: Option<String>,
    initrd: Option<String>,
}

/// Splits a config line into its keyword (lower case) and the rest.
fn keyword(line: &str) -> Option<(String, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (k, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    Some((k.to_ascii_lowercase(), rest.trim()))
}

/// The kernel and initrd of the label `default` names; failing that, of the
/// first label that has both; failing that, [`BootFiles::default`].
pub fn boot_files(cfg: &str) -> BootFiles {
    let mut default = None;
    let mut labels: Vec<Label> = Vec::new();
    for (k, rest) in cfg.lines().filter_map(keyword) {
        match (k.as_str(), labels.last_mut()) {
            ("default", _) => default = Some(rest.to_string()),
            ("label", _) => labels.push(Label {
                name: rest.to_string(),
                ..Label::default()
            }),
            ("kernel" | "linux", Some(l)) => l.kernel = Some(rest.to_string()),
            ("initrd", Some(l)) => l.initrd = Some(rest.to_string()),
            ("append", Some(l)) => {
                if let Some(i) = rest
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("initrd="))
                {
                    l.initrd = Some(i.to_string());
                }
            }
            _ => {}
        }
    }
    let usable = |l: &&Label| l.kernel.is_some() && l.initrd.is_some();
    labels
        .iter()
        .filter(usable)
        .find(|l| Some(&l.name) == default.as_ref())
        .or_else(|| labels.iter().find(usable))
        .and_then(|l| {
            Some(BootFiles {
                kernel: l.kernel.clone()?,
                initrd: l.initrd.clone()?,
            })
        })
        .unwrap_or_default()
}

pub fn begin_marker(cluster: &str) -> String {
    format!("# clusterkick begin {cluster}")
}

pub fn end_marker(cluster: &str) -> String {
    format!("# clusterkick end {cluster}")
}

/// `cfg` with `block` (which starts with [`begin_marker`] and ends with
/// [`end_marker`]) appended, after removing any earlier block for the same
/// cluster, so that running `clusterkick iso` on its own output does not
/// list a node twice. Keeps the file's line endings.
pub fn with_block(cfg: &str, cluster: &str, block: &str) -> String {
    let eol = if cfg.contains("\r\n") { "\r\n" } else { "\n" };
    let (begin, end) = (begin_marker(cluster), end_marker(cluster));
    let mut out = String::with_capacity(cfg.len() + block.len());
    let mut inside = false;
    for line in cfg.lines() {
        let bare = line.trim_end();
        if bare == begin {
            inside = true;
        } else if inside && bare == end {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push_str(eol);
        }
    }
    for line in block.lines() {
        out.push_str(line);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENTOS5: &str = "default linux\nprompt 1\ntimeout 600\ndisplay boot.msg\n\
        label linux\n  kernel vmlinuz\n  append initrd=initrd.img\n\
        label text\n  kernel vmlinuz\n  append initrd=initrd.img text\n\
        label local\n  localboot 1\n";

    #[test]
    fn finds_the_default_installer_entry() {
        assert_eq!(boot_files(CENTOS5), BootFiles::default());
        let other =
            "DEFAULT inst\nLABEL rescue\n KERNEL r/vmlinuz\n APPEND initrd=r/i.img rescue\n\
            LABEL inst\n KERNEL i/vmlinuz\n APPEND ks=x initrd=i/initrd.img\n";
        assert_eq!(
            boot_files(other),
            BootFiles {
                kernel: "i/vmlinuz".into(),
                initrd: "i/initrd.img".into()
            }
        );
        // A menu module as the default: the first real entry wins.
        let menu = "default vesamenu.c32\nlabel a\n kernel k2\n append initrd=i2 x\n";
        assert_eq!(boot_files(menu).kernel, "k2");
        assert_eq!(boot_files("prompt 1\n"), BootFiles::default());
    }

    #[test]
    fn block_is_appended_once_and_replaced_on_rerun() {
        let block = "# clusterkick begin c\nlabel x\n# clusterkick end c\n";
        let once = with_block(CENTOS5, "c", block);
        assert!(once.starts_with(CENTOS5));
        assert!(once.ends_with(block));
        let twice = with_block(
            &once,
            "c",
            "# clusterkick begin c\nlabel y\n# clusterkick end c\n",
        );
        assert_eq!(twice.matches("clusterkick begin c").count(), 1);
        assert!(twice.contains("label y") && !twice.contains("label x"));
        // Another cluster's block stays.
        let other = with_block(
            &once,
            "d",
            "# clusterkick begin d\nlabel z\n# clusterkick end d\n",
        );
        assert!(other.contains("label x") && other.contains("label z"));
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let out = with_block("default linux\r\n", "c", "a\nb\n");
        assert_eq!(out, "default linux\r\na\r\nb\r\n");
    }
}
