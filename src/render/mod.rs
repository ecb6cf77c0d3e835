//! Templates: the files under `overlays/`, embedded in the binary, rendered
//! with minijinja in strict mode (an undefined variable is an error, never
//! an empty string).

pub mod context;
pub mod session;

use include_dir::{include_dir, Dir};
use minijinja::{Environment, UndefinedBehavior, Value};

static OVERLAYS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/overlays");

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering {template}: {source}")]
    Template {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("no embedded file {0} under overlays/")]
    Missing(String),
    #[error("packing the overlay of {node}: {source}")]
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

pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// One renderer per process: templates are parsed once, on first use.
    pub fn shared() -> &'static Renderer {
        static SHARED: std::sync::OnceLock<Renderer> = std::sync::OnceLock::new();
        SHARED.get_or_init(Renderer::new)
    }

    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_loader(|name| {
            Ok(OVERLAYS
                .get_file(name)
                .and_then(|f| f.contents_utf8())
                .map(str::to_owned))
        });
        env.add_filter("xml", |s: String| xml_escape(&s));
        Self { env }
    }

    /// Renders `overlays/<name>` with the given context.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let wrap = |source| RenderError::Template {
            template: name.to_string(),
            source,
        };
        let tmpl = self.env.get_template(name).map_err(wrap)?;
        tmpl.render(ctx).map_err(wrap)
    }

    /// An embedded file that is copied as it is (not a template).
    pub fn raw(&self, name: &str) -> Result<&'static [u8], RenderError> {
        OVERLAYS
            .get_file(name)
            .map(|f| f.contents())
            .ok_or_else(|| RenderError::Missing(name.to_string()))
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
        let r = Renderer::new();
        let err = r
            .render("etc/sysconfig/network.j2", &Value::from(()))
            .unwrap_err();
        assert!(err.to_string().contains("network.j2"), "{err}");
    }
}
