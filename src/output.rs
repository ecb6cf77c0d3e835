//! What a build makes, in memory: every file of DIR/<cluster>/ with its mode,
//! before anything is written. The producers (overlays, kickstarts, PXE tree,
//! summary, map) and the writers depend on this module; it depends on
//! nothing but [`crate::layout`].

use crate::layout;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One output file: bytes and mode.
#[derive(Debug, Clone)]
pub struct OutFile {
    /// Shared, so that the helper's bytes are not copied per cluster.
    pub contents: Arc<[u8]>,
    pub mode: u32,
}

/// Everything a build writes under DIR/<cluster>/, keyed by relative path.
#[derive(Debug, Default)]
pub struct Output {
    pub files: BTreeMap<String, OutFile>,
    /// sha256 of each node's overlay, by node short name.
    pub overlay_sha256: BTreeMap<String, String>,
    pub helper_sha256: String,
}

impl Output {
    pub fn add(&mut self, path: impl Into<String>, mode: u32, contents: impl Into<Arc<[u8]>>) {
        self.files.insert(
            path.into(),
            OutFile {
                contents: contents.into(),
                mode,
            },
        );
    }
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// `sha256sum -c` format: "<hex>  <relative path>", sorted by path.
pub fn sha256sums(out: &Output) -> String {
    out.files
        .iter()
        .filter(|(p, _)| p.as_str() != layout::SHA256SUMS)
        .map(|(p, f)| {
            // A blob is named by its sha256 already: no need to hash it again.
            let sha = match layout::blob_sha256(p) {
                Some(name) => name.to_string(),
                None => sha256_hex(&f.contents),
            };
            format!("{sha}  {p}\n")
        })
        .collect()
}
