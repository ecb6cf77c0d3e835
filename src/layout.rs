//! The layout of a build's output, DIR/<cluster>/, and of the install DVD's
//! /clusterkick/<cluster>/ folder: the one place that knows where each kind
//! of file goes. Code asks these functions; templates get the same paths in
//! their context (`paths`), so no template spells a folder name.

use crate::model::Node;

/// Per-node installer files (el5-xen: kickstarts).
pub const KS_DIR: &str = "ks";
/// Per-node %post overlays (tarballs that hold secrets).
pub const OVERLAY_DIR: &str = "overlay";
/// Files named by their sha256: the first-boot helper.
pub const BLOBS_DIR: &str = "blobs";
/// The TFTP root of the PXE side.
pub const TFTPBOOT_DIR: &str = "tftpboot";
/// The web-server snippet that confines each node to its own files.
pub const NGINX_SNIPPET: &str = "nginx-clusterkick.conf";
pub const NETWORK_MAP: &str = "network-map.svg";
pub const SUMMARY: &str = "SUMMARY.md";
/// `sha256sum -c` list of every other file.
pub const SHA256SUMS: &str = "SHA256SUMS";
/// The build's record of what it wrote there (sha256, mode, path of each
/// file): how a rebuild knows its own folder and files (crate::outdir).
pub const MANIFEST: &str = ".clusterkick-manifest";
/// In DIR: the lock builds into DIR take turns on.
pub const LOCK_FILE: &str = ".clusterkick.lock";
/// In DIR: staging (and retired) trees' names start with this.
pub const TMP_PREFIX: &str = ".clusterkick-tmp-";
/// In a staging tree: marks it as still being written, so that a later
/// build may remove it whole. Removed before the tree is switched in.
pub const STAGE_MARKER: &str = ".clusterkick-stage";

/// Top folder on the install DVD; a cluster's files go below it, laid out
/// as in a build.
pub const DVD_ROOT: &str = "clusterkick";

/// A node's installer file, e.g. `ks/an-node01.ks`; `ext` is its
/// platform's ([`crate::platform::Platform::installer_ext`]).
pub fn installer_file(node: &Node, ext: &str) -> String {
    format!("{KS_DIR}/{}.{ext}", node.name)
}

/// A node's post-install script, when its platform keeps it apart from the
/// installer file (a preseed's late_command fetches it), e.g.
/// `ks/an-node01.post.sh`.
pub fn post_script(node: &Node) -> String {
    format!("{KS_DIR}/{}.post.sh", node.name)
}

/// A node's overlay, e.g. `overlay/an-node01.tar.gz`.
pub fn overlay(node: &Node) -> String {
    format!("{OVERLAY_DIR}/{}.tar.gz", node.name)
}

/// A blob, by the sha256 of its bytes.
pub fn blob(sha256: &str) -> String {
    format!("{BLOBS_DIR}/{sha256}")
}

/// The sha256 a blob's path names, or `None` for any other path.
pub fn blob_sha256(rel: &str) -> Option<&str> {
    rel.strip_prefix(BLOBS_DIR)?.strip_prefix('/')
}

/// A file of pxelinux's config folder, e.g. `tftpboot/pxelinux.cfg/default`.
pub fn pxelinux_cfg(name: &str) -> String {
    format!("{TFTPBOOT_DIR}/pxelinux.cfg/{name}")
}

/// A cluster's folder on the install DVD, relative to the disc's root,
/// e.g. `clusterkick/an-cluster`.
pub fn dvd_dir(cluster: &str) -> String {
    format!("{DVD_ROOT}/{cluster}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_round_trip() {
        assert_eq!(blob("ab12"), "blobs/ab12");
        assert_eq!(blob_sha256(&blob("ab12")), Some("ab12"));
        assert_eq!(blob_sha256("blobsx/ab12"), None);
        assert_eq!(blob_sha256("ks/an-node01.ks"), None);
    }
}
