//! The CIB: the document the build wrote (`[pacemaker] cib_file`, a
//! `<cib>` or its `<configuration>`), and the live resources section
//! (`cibadmin --query --scope resources`).

use crate::firstboot::error::{perr, ParseError};

const FILE: &str = "the CIB file";
const LIVE: &str = "cibadmin --query --scope resources";

/// The `<configuration>` element of the document, byte for byte as the
/// build wrote it (what `cibadmin --replace --scope configuration` loads).
pub fn configuration(text: &str) -> Result<String, ParseError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| perr(FILE, e.to_string()))?;
    let root = doc.root_element();
    let conf = if root.has_tag_name("configuration") {
        root
    } else if root.has_tag_name("cib") {
        root.children()
            .find(|c| c.has_tag_name("configuration"))
            .ok_or_else(|| perr(FILE, "<cib> without <configuration>"))?
    } else {
        return Err(perr(
            FILE,
            format!(
                "root element <{}>, not <cib> or <configuration>",
                root.tag_name().name()
            ),
        ));
    };
    Ok(text[conf.range()].to_string())
}

/// The value of a resource's meta attribute (e.g. `target-role`), if the
/// resource is in the `<resources>` of `root`.
fn meta_of<'a>(root: roxmltree::Node<'a, 'a>, id: &str, name: &str) -> Option<Option<&'a str>> {
    let res = root.descendants().find(|n| n.has_tag_name("resources"))?;
    let el = res
        .descendants()
        .find(|n| n.is_element() && n.attribute("id") == Some(id) && !n.has_tag_name("nvpair"))?;
    let v = el
        .children()
        .filter(|c| c.has_tag_name("meta_attributes"))
        .flat_map(|m| m.children())
        .find(|nv| nv.has_tag_name("nvpair") && nv.attribute("name") == Some(name))
        .and_then(|nv| nv.attribute("value"));
    Some(v)
}

/// Checks that the document holds each resource the helper will act on,
/// and that those it starts later are held `target-role=Stopped`: one
/// sentence per problem.
pub fn check_document(text: &str, held: &[&str], present: &[&str]) -> Result<(), String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    let mut problems = Vec::new();
    for id in present {
        if meta_of(root, id, "target-role").is_none() {
            problems.push(format!("it has no resource {id:?}"));
        }
    }
    for id in held {
        match meta_of(root, id, "target-role") {
            None => problems.push(format!("it has no resource {id:?}")),
            Some(Some("Stopped")) => {}
            Some(v) => problems.push(format!(
                "{id} must start with meta target-role=Stopped (the helper starts it once its storage exists), not {}",
                v.map_or("unset".to_string(), |v| format!("{v:?}"))
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The live `<resources>` section: the ids of its top-level entries (empty
/// on a new cluster).
pub fn live_resource_ids(text: &str) -> Result<Vec<String>, ParseError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| perr(LIVE, e.to_string()))?;
    let root = doc.root_element();
    let res = if root.has_tag_name("resources") {
        root
    } else {
        root.descendants()
            .find(|n| n.has_tag_name("resources"))
            .ok_or_else(|| perr(LIVE, "no <resources>"))?
    };
    Ok(res
        .children()
        .filter(|c| c.is_element())
        .filter_map(|c| c.attribute("id").map(str::to_string))
        .collect())
}

/// A live resource's `target-role` meta attribute: None when the resource
/// does not exist, Some(None) when it is not set.
pub fn live_target_role(text: &str, id: &str) -> Result<Option<Option<String>>, ParseError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| perr(LIVE, e.to_string()))?;
    let root = doc.root_element();
    Ok(meta_of(root, id, "target-role").map(|v| v.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cib() -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/cib.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn configuration_is_cut_out_verbatim() {
        let text = cib();
        let c = configuration(&text).unwrap();
        assert!(c.starts_with("<configuration>") && c.ends_with("</configuration>"));
        assert!(text.contains(&c));
        // A <configuration> document is its own configuration.
        assert_eq!(configuration(&c).unwrap(), c);
        assert!(configuration("<status/>").is_err());
        assert!(configuration("<cib><status/></cib>").is_err());
    }

    #[test]
    fn held_resources() {
        let text = cib();
        check_document(
            &text,
            &["drbd_r0-clone", "storage_drbd_vg0-clone"],
            &["locking-clone"],
        )
        .unwrap();
        let e = check_document(&text, &["locking-clone", "nope"], &[]).unwrap_err();
        assert!(
            e.contains("locking-clone must start with meta target-role=Stopped"),
            "{e}"
        );
        assert!(e.contains("it has no resource \"nope\""), "{e}");
    }

    #[test]
    fn live_resources_as_cibadmin_prints_them() {
        assert!(live_resource_ids(&fixture("cibadmin-resources-empty.xml"))
            .unwrap()
            .is_empty());
        let live = fixture("cibadmin-resources-loaded.xml");
        assert_eq!(
            live_resource_ids(&live).unwrap(),
            [
                "fence_node1",
                "fence_node2",
                "drbd_r0-clone",
                "locking-clone",
                "shared_vg1-clone"
            ]
        );
        assert_eq!(
            live_target_role(&live, "shared_vg1-clone").unwrap(),
            Some(Some("Stopped".into()))
        );
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn live_resources() {
        assert!(live_resource_ids("<resources/>").unwrap().is_empty());
        let text = cib();
        let c = configuration(&text).unwrap();
        let ids = live_resource_ids(&c).unwrap();
        assert_eq!(
            ids,
            [
                "fence_an-node01",
                "fence_an-node02",
                "drbd_r0-clone",
                "locking-clone",
                "storage_drbd_vg0-clone"
            ]
        );
        assert_eq!(
            live_target_role(&c, "drbd_r0-clone").unwrap(),
            Some(Some("Stopped".into()))
        );
        assert_eq!(live_target_role(&c, "locking-clone").unwrap(), Some(None));
        assert_eq!(live_target_role(&c, "nope").unwrap(), None);
    }
}
