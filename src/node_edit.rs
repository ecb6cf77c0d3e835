//! `clusterkick node replace` and `node rejoined`: edits of one node's
//! table in a profile, made in place with toml_edit so that the user's
//! comments and layout stay as they are.
//!
//! - `replace PROFILE NODE --mac IFACE=MAC...` sets the node's MACs (new
//!   hardware) and marks it `role = "replacement"`: its first-boot helper
//!   joins the peer, which holds the data, and never initializes.
//! - `rejoined PROFILE NODE` drops the role once the node is back in the
//!   cluster: the profile then describes a pair again, and a later
//!   replacement of the other node is possible.
//!
//! Every argument is checked before anything is written, and so is the
//! edited profile (the validation `check` runs): on any problem the
//! profile is left as it was. The new text replaces the old one
//! atomically (a temporary file in the same folder, renamed over it), with
//! the old file's mode.

use crate::check::parse_mac;
use crate::diag::InvalidProfile;
use crate::model::Node;
use crate::profile::{self, Loaded, Mode};
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

/// The comment written above a `role = "replacement"` that `replace` adds.
const ROLE_COMMENT: &str =
    "# New hardware for a dead node (clusterkick node replace): its first-boot\n\
     # helper joins the peer, which holds the data, and never initializes.\n\
     # `clusterkick node rejoined` removes this once the node is back.\n";

#[derive(Debug, thiserror::Error)]
pub enum NodeEditError {
    #[error("no node {node:?} in {profile}; nodes: {nodes}")]
    NoSuchNode {
        node: String,
        profile: PathBuf,
        nodes: String,
    },
    #[error("--mac {0:?}: give IFACE=MAC, e.g. eth0=00:1B:21:72:96:E8")]
    BadMacArg(String),
    #[error(
        "--mac {iface}={mac:?}: not a MAC address; write six hex pairs, e.g. 00:1B:21:72:96:E8"
    )]
    BadMac { iface: String, mac: String },
    #[error(
        "--mac {iface}=...: {node} has no interface {iface:?}; its interfaces are {interfaces}"
    )]
    NoSuchInterface {
        iface: String,
        node: String,
        interfaces: String,
    },
    #[error("--mac {0}=... is given twice")]
    SameInterface(String),
    #[error("{profile}: {what}; edit the profile by hand (README.md, \"Replacing a node\")")]
    Layout { profile: PathBuf, what: String },
    /// The profile as it would be after the edit does not pass `check`.
    #[error("nothing written: {0} would not pass `check` after this edit (the lines above are about the edited text)")]
    Invalid(PathBuf, InvalidProfile),
    /// The profile as it is does not pass `check`.
    #[error(transparent)]
    Profile(#[from] InvalidProfile),
    #[error("{0} changed while it was being edited; nothing written: run the command again")]
    Changed(PathBuf),
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl NodeEditError {
    /// Whether the command line itself is wrong (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            NodeEditError::NoSuchNode { .. }
                | NodeEditError::BadMacArg(_)
                | NodeEditError::BadMac { .. }
                | NodeEditError::NoSuchInterface { .. }
                | NodeEditError::SameInterface(_)
        )
    }
}

/// What an edit did.
#[derive(Debug)]
pub enum Outcome {
    /// The profile was rewritten; the edited profile's warnings, for the
    /// user.
    Written(Box<Loaded>),
    /// The profile already said so: nothing written.
    Unchanged,
}

/// What an edit needs: the profile as loaded and as text.
struct Target {
    loaded: Loaded,
    bytes: Vec<u8>,
    doc: DocumentMut,
}

fn open(path: &Path) -> Result<Target, NodeEditError> {
    let bytes = profile::read(path)?;
    let loaded = profile::load_bytes(path, &bytes, Mode::Check)?;
    // load_bytes accepted it: UTF-8 text that parses.
    let text = String::from_utf8_lossy(&bytes);
    let doc = text
        .parse::<DocumentMut>()
        .map_err(|e| NodeEditError::Layout {
            profile: path.into(),
            what: format!("cannot be edited: {}", e.message()),
        })?;
    Ok(Target { loaded, bytes, doc })
}

fn find_node<'a>(loaded: &'a Loaded, path: &Path, name: &str) -> Result<&'a Node, NodeEditError> {
    loaded
        .cluster
        .node(name)
        .ok_or_else(|| NodeEditError::NoSuchNode {
            node: name.into(),
            profile: path.into(),
            nodes: loaded
                .cluster
                .nodes
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The `[[nodes]]` table of the node called `short`.
fn node_table<'a>(
    doc: &'a mut DocumentMut,
    path: &Path,
    short: &str,
) -> Result<&'a mut toml_edit::Table, NodeEditError> {
    doc.get_mut("nodes")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|a| {
            a.iter_mut()
                .find(|t| t.get("name").and_then(Item::as_str) == Some(short))
        })
        .ok_or_else(|| NodeEditError::Layout {
            profile: path.into(),
            what: format!("{short} is not a [[nodes]] table"),
        })
}

/// `IFACE=MAC` arguments, checked against the node's interfaces: each
/// interface once, each MAC as `check` reads it (upper case, colons).
pub fn parse_macs(node: &Node, args: &[String]) -> Result<Vec<(String, String)>, NodeEditError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for arg in args {
        let (iface, mac) = arg
            .split_once('=')
            .ok_or_else(|| NodeEditError::BadMacArg(arg.clone()))?;
        if !node.nics.iter().any(|n| n.interface == iface) {
            return Err(NodeEditError::NoSuchInterface {
                iface: iface.into(),
                node: node.name.clone(),
                interfaces: node
                    .nics
                    .iter()
                    .map(|n| n.interface.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mac = parse_mac(mac).ok_or_else(|| NodeEditError::BadMac {
            iface: iface.into(),
            mac: mac.into(),
        })?;
        if out.iter().any(|(i, _)| i == iface) {
            return Err(NodeEditError::SameInterface(iface.into()));
        }
        out.push((iface.into(), mac));
    }
    Ok(out)
}

/// Puts `new` in place of the string `v`, keeping what surrounds it.
fn set_string(v: &mut Value, new: &str) {
    let decor = v.decor().clone();
    *v = Value::from(new);
    *v.decor_mut() = decor;
}

/// `clusterkick node replace`: new MACs for `node` and `role =
/// "replacement"`.
pub fn replace(path: &Path, node: &str, macs: &[String]) -> Result<Outcome, NodeEditError> {
    let mut t = open(path)?;
    let n = find_node(&t.loaded, path, node)?;
    let short = n.name.clone();
    let macs = parse_macs(n, macs)?;
    let table = node_table(&mut t.doc, path, &short)?;
    let layout = |what: String| NodeEditError::Layout {
        profile: path.into(),
        what,
    };
    for (iface, mac) in &macs {
        let v = match table.get_mut("mac") {
            Some(Item::Value(Value::InlineTable(it))) => it.get_mut(iface),
            Some(Item::Table(sub)) => sub.get_mut(iface).and_then(Item::as_value_mut),
            _ => None,
        }
        .ok_or_else(|| {
            layout(format!(
                "{short}'s mac.{iface} is not a string in its table"
            ))
        })?;
        set_string(v, mac);
    }
    match table.get_mut("role").and_then(Item::as_value_mut) {
        Some(v) => set_string(v, "replacement"),
        None => {
            table.insert("role", toml_edit::value("replacement"));
            if let Some(mut k) = table.key_mut("role") {
                k.leaf_decor_mut().set_prefix(ROLE_COMMENT);
            }
        }
    }
    finish(path, t)
}

/// `clusterkick node rejoined`: drops `node`'s `role`.
pub fn rejoined(path: &Path, node: &str) -> Result<Outcome, NodeEditError> {
    let mut t = open(path)?;
    let short = find_node(&t.loaded, path, node)?.name.clone();
    let table = node_table(&mut t.doc, path, &short)?;
    if table.remove("role").is_none() {
        return Ok(Outcome::Unchanged);
    }
    finish(path, t)
}

/// Checks the edited text as `check` would, then writes it in place.
fn finish(path: &Path, t: Target) -> Result<Outcome, NodeEditError> {
    let text = t.doc.to_string();
    if text.as_bytes() == t.bytes {
        return Ok(Outcome::Unchanged);
    }
    let loaded = profile::load_str(path, &text, Mode::Check)
        .map_err(|e| NodeEditError::Invalid(path.into(), e))?;
    write_in_place(path, &t.bytes, text.as_bytes())?;
    Ok(Outcome::Written(Box::new(loaded)))
}

/// Replaces the file at `path` (a symbolic link's target: the link stays)
/// with `new`: a temporary file in the same folder, with the old file's
/// mode (and owner, where the user may keep it), renamed over it. Refuses
/// when the file no longer holds `old` (someone edited it meanwhile).
pub fn write_in_place(path: &Path, old: &[u8], new: &[u8]) -> Result<(), NodeEditError> {
    let io = |what: &'static str, p: &Path| {
        let path = p.to_path_buf();
        move |source| NodeEditError::Io { what, path, source }
    };
    let real = fs::canonicalize(path).map_err(io("resolving", path))?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let meta = fs::metadata(&real).map_err(io("reading", &real))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".clusterkick-edit-")
        .tempfile_in(dir)
        .map_err(io("creating a temporary file in", dir))?;
    let f = tmp.as_file();
    // The owner, where we may (root); else at least the group.
    if rustix::fs::fchown(f, Some(uid(meta.uid())), Some(gid(meta.gid()))).is_err() {
        let _ = rustix::fs::fchown(f, None, Some(gid(meta.gid())));
    }
    f.set_permissions(meta.permissions())
        .and_then(|()| tmp.write_all(new))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io("writing", tmp.path()))?;
    if fs::read(&real).map_err(io("reading", &real))? != old {
        return Err(NodeEditError::Changed(path.into()));
    }
    tmp.persist(&real)
        .map_err(|e| io("replacing", &real)(e.error))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn uid(n: u32) -> rustix::fs::Uid {
    rustix::fs::Uid::from_raw(n)
}

fn gid(n: u32) -> rustix::fs::Gid {
    rustix::fs::Gid::from_raw(n)
}
