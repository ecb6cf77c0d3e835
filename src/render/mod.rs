//! Templates: the files under `overlays/`, embedded in the binary, rendered
//! with minijinja in strict mode (an undefined variable is an error, never
//! an empty string).
//!
//! `overlays/<platform>/` holds a platform's templates (its `rootfs/`
//! mirrors the node's file system; `kickstart/` or `preseed/` its installer
//! files), `overlays/<family>/` what a family of platforms shares (`pcmk/`:
//! the pacemaker platforms' cluster configuration), and `overlays/common/`
//! what every platform shares (the %post's fetch-and-verify prologue, the
//! DVD copy step, PXE and DVD menus, the nginx snippet). A name is looked up
//! in the platform's folders in order (its own, then its family's), then in
//! common/ (cobbler's override order): a platform overrides a shared
//! template by having one of the same name. A name in none is an error.

pub mod context;

use include_dir::{include_dir, Dir};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use std::sync::{Mutex, PoisonError};

static OVERLAYS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/overlays");

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering {template}")]
    Template {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("no embedded file {name} under {}overlays/{COMMON}/", dirs.iter().map(|d| format!("overlays/{d}/, ")).collect::<String>())]
    Missing {
        dirs: &'static [&'static str],
        name: String,
    },
    #[error("writing the first-boot helper's config")]
    HelperConfig(#[from] crate::toml_out::Error),
    #[error("packing the overlay of {node}")]
    Pack {
        node: String,
        #[source]
        source: std::io::Error,
    },
}

/// Escapes a value for an XML attribute or text node.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The folder of templates every platform shares.
pub const COMMON: &str = "common";

/// The file `name` in a template tree: from the first of `dirs` that has
/// it, else the common one.
fn lookup(
    tree: &'static Dir<'static>,
    dirs: &[&str],
    name: &str,
) -> Option<&'static include_dir::File<'static>> {
    dirs.iter()
        .chain(&[COMMON])
        .find_map(|d| tree.get_file(format!("{d}/{name}")))
}

pub struct Renderer {
    tree: &'static Dir<'static>,
    /// The folders searched before common/: the platform's own, then its
    /// family's.
    dirs: &'static [&'static str],
    env: Environment<'static>,
}

impl Renderer {
    /// One renderer per platform and process: templates are parsed once, on
    /// first use. `dirs` are the platform's folders under overlays/, its own
    /// first ([`crate::platform::Platform::template_dirs`]).
    pub fn for_platform(dirs: &'static [&'static str]) -> &'static Renderer {
        static MADE: Mutex<Vec<&'static Renderer>> = Mutex::new(Vec::new());
        let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = made.iter().find(|r| r.dirs == dirs) {
            return r;
        }
        // A handful of platforms, each made once: kept for the process.
        let r: &'static Renderer = Box::leak(Box::new(Renderer::new(dirs)));
        made.push(r);
        r
    }

    pub fn new(dirs: &'static [&'static str]) -> Self {
        Self::with_tree(&OVERLAYS, dirs)
    }

    fn with_tree(tree: &'static Dir<'static>, dirs: &'static [&'static str]) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        // No escaping by file name (minijinja would HTML-escape a template
        // named *.xml.j2): an XML template escapes what it takes from the
        // profile itself, with the `xml` filter.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_loader(move |name| {
            Ok(lookup(tree, dirs, name)
                .and_then(|f| f.contents_utf8())
                .map(str::to_owned))
        });
        env.add_filter("xml", |s: String| xml_escape(&s));
        Self { tree, dirs, env }
    }

    /// Renders the template `name` (the platform's, else the common one)
    /// with the given context.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let wrap = |source| RenderError::Template {
            template: name.to_string(),
            source,
        };
        let tmpl = self.env.get_template(name).map_err(wrap)?;
        tmpl.render(ctx).map_err(wrap)
    }

    /// An embedded file that is copied as it is (not a template), looked
    /// up as templates are.
    pub fn raw(&self, name: &str) -> Result<&'static [u8], RenderError> {
        lookup(self.tree, self.dirs, name)
            .map(|f| f.contents())
            .ok_or_else(|| RenderError::Missing {
                dirs: self.dirs,
                name: name.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_covers_attribute_breakers() {
        assert_eq!(xml_escape(r#"a"b<c>&'d"#), "a&quot;b&lt;c&gt;&amp;&apos;d");
    }

    #[test]
    fn undefined_variables_are_errors() {
        let r = Renderer::new(&["el5-xen"]);
        let err = r
            .render("rootfs/etc/sysconfig/network.j2", &Value::from(()))
            .unwrap_err();
        assert!(err.to_string().contains("network.j2"), "{err}");
    }

    /// tests/fixtures/render: a common/ tree, a platform `p` that
    /// overrides a.j2 and kickstart/c.j2 but not b.j2, and a family `f`
    /// that overrides b.j2 and kickstart/c.j2.
    static FIXTURE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/render");

    #[test]
    fn a_platform_template_overrides_the_common_one() {
        let x = minijinja::context! { x => 1 };
        let p = Renderer::with_tree(&FIXTURE, &["p"]);
        assert_eq!(p.render("a.j2", &x).unwrap(), "p a: 1\n");
        // b.j2 is common's; what it includes is looked up for `p` again.
        assert_eq!(p.render("b.j2", &x).unwrap(), "common b: p c\n");
        let q = Renderer::with_tree(&FIXTURE, &["q"]);
        assert_eq!(q.render("a.j2", &x).unwrap(), "common a: 1\n");
        assert_eq!(q.render("b.j2", &x).unwrap(), "common b: common c\n");
        assert_eq!(q.raw("kickstart/c.j2").unwrap(), b"common c\n");
        assert_eq!(p.raw("kickstart/c.j2").unwrap(), b"p c\n");
    }

    #[test]
    fn a_family_folder_sits_between_the_platform_and_common() {
        let x = minijinja::context! { x => 1 };
        // p's own first, then its family f's, then common's.
        let pf = Renderer::with_tree(&FIXTURE, &["p", "f"]);
        assert_eq!(pf.render("a.j2", &x).unwrap(), "p a: 1\n");
        assert_eq!(pf.render("b.j2", &x).unwrap(), "f b: p c\n");
        let qf = Renderer::with_tree(&FIXTURE, &["q", "f"]);
        assert_eq!(qf.render("a.j2", &x).unwrap(), "common a: 1\n");
        assert_eq!(qf.render("b.j2", &x).unwrap(), "f b: f c\n");
        let err = qf.raw("no/such").unwrap_err();
        assert!(
            err.to_string()
                .contains("no/such under overlays/q/, overlays/f/, overlays/common/"),
            "{err}"
        );
    }

    #[test]
    fn a_template_in_neither_folder_is_an_error() {
        let p = Renderer::with_tree(&FIXTURE, &["p"]);
        let err = p.render("no/such.j2", &Value::from(())).unwrap_err();
        assert!(err.to_string().contains("no/such.j2"), "{err}");
        let err = p.raw("no/such").unwrap_err();
        assert!(
            err.to_string()
                .contains("no/such under overlays/p/, overlays/common/"),
            "{err}"
        );
        // Strict: an undefined variable in a found template is an error too.
        assert!(p.render("a.j2", &Value::from(())).is_err());
    }

    #[test]
    fn the_shipped_tree_has_common_and_el5_templates() {
        assert!(lookup(&OVERLAYS, &["el5-xen"], "pxe/pxelinux.cfg.j2")
            .is_some_and(|f| f.path().starts_with(COMMON)));
        assert!(lookup(&OVERLAYS, &["el5-xen"], "kickstart/post.sh.j2")
            .is_some_and(|f| f.path().starts_with("el5-xen")));
    }

    #[test]
    fn one_renderer_per_platform() {
        let a = Renderer::for_platform(&["el5-xen"]);
        let b = Renderer::for_platform(&["el5-xen"]);
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.dirs, ["el5-xen"]);
    }
}
