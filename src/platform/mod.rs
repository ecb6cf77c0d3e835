//! The platform seam: everything the builder does differently for one target
//! OS (installer, init system, cluster stack, hypervisor, DRBD version)
//! lives in that platform's folder here, behind two values:
//!
//! - a [`Spec`], what the profile loader needs before there is a cluster:
//!   the id a profile names, the top-level tables that belong to the
//!   platform, its rule for NIC names, and the parser of its tables, whose
//!   [`Tables::validate`] checks them and makes the payload;
//! - a [`Flavor`], the validated payload carried beside the neutral
//!   [`Cluster`], which implements [`Platform`]: helper target and binary
//!   check, package set, overlay file table, template context, installer
//!   files, and the platform's lines in SUMMARY.md and network-map.svg.
//!
//! Templates live in `overlays/<id>/`, then the platform's family folder
//! if it has one (`overlays/pcmk/`), and fall back to `overlays/common/`
//! (see [`crate::render`]).
//!
//! Adding a platform: a folder here and one under overlays/, one line in
//! [`SPECS`], one variant of [`Flavor`] and its arm in [`Flavor::platform`].
//! The pacemaker platforms (el9-kvm, debian12-kvm) share what they have in
//! common in [`pcmk`] and `overlays/pcmk/`.

pub mod debian12_kvm;
pub mod el5_xen;
pub mod el9_kvm;
pub mod pcmk;

use crate::check::S;
use crate::diag::Diagnostics;
use crate::firstboot::config::PacemakerConfig;
use crate::firstboot::platform::id::PlatformId;
use crate::installer::Media;
use crate::model::{Cluster, Clvm, Disks, Drbd, FenceDevice, NetRole, Network, Node, Secrets};
use crate::render::{RenderError, Renderer};
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// What the profile loader knows of a platform before there is a cluster.
pub struct Spec {
    /// What `cluster.platform` names, and the platform's folder under
    /// overlays/.
    pub id: &'static str,
    /// Top-level profile tables that belong to this platform alone.
    pub tables: &'static [&'static str],
    /// What is wrong with a NIC name (`networks.*.interface`) on this
    /// platform, if anything.
    pub interface_problem: fn(&str) -> Option<String>,
    /// Reads the platform's tables (taken out of the profile) into its raw
    /// types; unknown keys are refused here, as in the common tables.
    pub parse: fn(toml_edit::Table) -> Result<Box<dyn Tables>, toml_edit::de::Error>,
    /// What is wrong with a fence agent (`fence_devices[].agent`) on this
    /// platform, if anything: e.g. one it does not ship.
    pub agent_problem: fn(&str) -> Option<String>,
    /// The actions a node's fence entry may name (`nodes[].fence[].action`).
    pub fence_actions: &'static [&'static str],
    /// Whether each fence device is one resource of the cluster for every
    /// node it fences (a pacemaker stonith device): then the entries that
    /// name one device must agree on its action, and a device that fences
    /// both nodes needs each node's port. (cman asks a device per entry.)
    pub device_per_resource: bool,
    /// Whether `check` also warns when both nodes are fenced with a delay
    /// (the delay decides which node survives: give it to one).
    pub delay_on_one_node: bool,
    /// The DRBD versions (`drbd.version`) the platform has; the first is the
    /// default.
    pub drbd_versions: &'static [&'static str],
    /// Where the platform's DRBD comes from, said when a profile asks for
    /// another version.
    pub drbd_source: &'static str,
    /// Keys of the common tables that this platform requires, refuses, or
    /// needs to be true, each with the sentence that says why.
    pub keys: &'static [(&'static str, KeyRule)],
    /// `pxe.kernel` and `pxe.initrd` when the profile gives none: where the
    /// install tree keeps the network-boot kernel and initrd.
    pub pxe_defaults: (&'static str, &'static str),
    /// Said after "remove it" when a profile for this platform has another
    /// platform's table, e.g. `[totem]`: where this platform's equivalent is.
    pub table_hints: &'static [(&'static str, &'static str)],
}

/// What a platform says about a key of a common table.
#[derive(Debug, Clone, Copy)]
pub enum KeyRule {
    /// The key must be given; the sentence says what it is for.
    Required(&'static str),
    /// The key has no meaning on this platform; the sentence says why.
    Refused(&'static str),
    /// A true/false key that must not be false here; the sentence says why.
    NotFalse(&'static str),
}

/// The platforms a profile may name.
pub const SPECS: &[&Spec] = &[&el5_xen::SPEC, &el9_kvm::SPEC, &debian12_kvm::SPEC];

/// The platform a profile names, if there is one by that id.
pub fn spec(id: &str) -> Option<&'static Spec> {
    SPECS.iter().copied().find(|s| s.id == id)
}

/// A platform's tables as read, checked once the common sections have been.
pub trait Tables {
    /// Checks the platform's tables (and the platform's keys in common
    /// tables) and makes its payload; `None` when something is wrong (then
    /// `d` says what).
    fn validate(&self, common: &Common<'_>, d: &mut Diagnostics) -> Option<Flavor>;

    /// The ports the platform's tables have the nodes use, as written
    /// (values out of range are left to `validate`): the first-boot
    /// helper's port is chosen, or checked, against them.
    fn ports(&self) -> Vec<UsedPort> {
        Vec::new()
    }
}

/// A port a profile has the nodes use, and the key that sets it.
#[derive(Debug, Clone)]
pub struct UsedPort {
    pub port: u16,
    /// The key, e.g. `totem.rings[0].mcastport`.
    pub key: String,
    /// What uses it, e.g. "openais (UDP)".
    pub what: String,
    /// Where the key is (byte range in the profile).
    pub span: std::ops::Range<usize>,
}

/// A `[[fence_devices]]` table as written, for a platform's rules about
/// which agents its nodes have.
pub struct FenceDeviceAt<'a> {
    /// `fence_devices[j]`.
    pub key: String,
    pub name: &'a str,
    pub agent: &'a S<String>,
    pub ipaddr: Option<&'a S<String>>,
    pub login: Option<&'a S<String>>,
    /// `passwd_file` or `passwd_env` is given.
    pub has_passwd: bool,
    /// The whole table: where something missing from it is reported.
    pub at: Range<usize>,
}

/// One entry of a node's `fence` list as written.
pub struct FenceEntryAt<'a> {
    /// `nodes[i].fence[j]`.
    pub key: String,
    /// The node's short name.
    pub node: &'a str,
    /// The `[[fence_devices]]` name it uses.
    pub device: &'a str,
    pub port: Option<&'a S<String>>,
    pub delay: Option<i64>,
    /// The whole entry.
    pub at: Range<usize>,
}

/// What a platform's validation gets from the common sections. The
/// sections that did not validate are `None` (their problems are reported
/// already).
pub struct Common<'a> {
    /// `cluster.name` and `cluster.domain`.
    pub cluster_name: &'a str,
    pub domain: &'a str,
    /// The networks, validated, in interface order.
    pub networks: &'a [Network],
    /// `install.url` as written (for its place) and as validated.
    pub install_url: &'a S<String>,
    pub url: &'a str,
    /// `install.extras_url` as written, if given.
    pub extras_url: Option<&'a S<String>>,
    /// The fence devices and the nodes' fence entries, as written (for
    /// rules about which agents the nodes have, reported at their place).
    pub fence_devices_at: &'a [FenceDeviceAt<'a>],
    pub fence_entries_at: &'a [FenceEntryAt<'a>],
    /// The disks as validated (`None` when a size did not parse).
    pub disks: Option<&'a Disks>,
    /// The nodes, with their NICs and fence methods, in profile order.
    pub nodes: &'a [Node],
    /// The fence devices as validated.
    pub fence_devices: &'a [FenceDevice],
    pub drbd: Option<&'a Drbd>,
    pub clvm: &'a Clvm,
}

/// A validated platform payload: what only that platform's clusters have.
#[derive(Debug, Clone)]
pub enum Flavor {
    El5Xen(el5_xen::El5Xen),
    El9Kvm(el9_kvm::El9Kvm),
    Debian12Kvm(debian12_kvm::Debian12Kvm),
}

impl Flavor {
    /// The one place a cluster's platform is picked.
    pub fn platform(&self) -> &dyn Platform {
        match self {
            Flavor::El5Xen(p) => p,
            Flavor::El9Kvm(p) => p,
            Flavor::Debian12Kvm(p) => p,
        }
    }
}

/// Everything the builder does differently per platform, once the cluster
/// is valid. Implemented by each platform's payload.
pub trait Platform: std::fmt::Debug + Sync {
    /// The id a profile names; also the template folder under overlays/.
    fn id(&self) -> &'static str;

    /// The platform's template folders under overlays/, searched in this
    /// order before overlays/common/: its own (its id), then its family's.
    fn template_dirs(&self) -> &'static [&'static str];

    /// The plan the first-boot helper runs on this platform's nodes (the
    /// `platform` of firstboot.toml).
    fn firstboot_platform(&self) -> PlatformId;

    /// The `[pacemaker]` table of firstboot.toml, on a platform whose
    /// cluster runs pacemaker.
    fn firstboot_pacemaker(&self, _cluster: &Cluster) -> Option<PacemakerConfig> {
        None
    }

    /// Rust target triple the first-boot helper must be built for.
    fn helper_target(&self) -> &'static str;

    /// Why a helper binary cannot run on this platform's nodes, if it
    /// cannot (read from its ELF header).
    fn check_helper(&self, elf: &[u8]) -> Result<(), String>;

    /// Package groups and packages the installer installs.
    fn packages(&self) -> PackageSet;

    /// The platform's overlay files; the helper's config and key are added
    /// for every platform (see [`crate::overlay`]).
    fn overlay_files(&self) -> &'static [FileSpec];

    /// What this platform's templates see under `platform`.
    fn context(&self, cluster: &Cluster) -> Value;

    /// The extension of its installer files under ks/ (kickstart: `ks`).
    fn installer_ext(&self) -> &'static str;

    /// A node's installer file (a kickstart, a preseed), for `media`. `ctx`
    /// is [`crate::installer::context`]: the node's context plus media,
    /// paths and pinned hashes.
    fn installer_file(
        &self,
        r: &Renderer,
        ctx: &Value,
        media: Media,
    ) -> Result<String, RenderError>;

    /// The script the installer runs in the new system (a kickstart's
    /// %post), alone: `clusterkick render ... post`.
    fn post_script(&self, r: &Renderer, ctx: &Value) -> Result<String, RenderError>;

    /// Whether the post-install script is a file of its own beside the
    /// installer file ([`crate::layout::post_script`]), which the installer
    /// file fetches and pins by its sha256 (a preseed's late_command takes
    /// one line), rather than a part of it (a kickstart's %post). Then
    /// `installer_file` gets its sha256 as `post_sha256` in its context.
    fn post_script_file(&self) -> bool {
        false
    }

    /// The authkey the cluster's nodes share to encrypt and sign their
    /// membership traffic (cman/openais `keyfile`, corosync's `authkey`),
    /// made once by `clusterkick secrets` beside the profile.
    fn cluster_authkey(&self) -> &'static AuthkeySpec;

    /// The cluster-wide config that carries `config_version` (cluster.conf,
    /// corosync.conf): the lock file raises it by one whenever that file's
    /// content changes ([`crate::lockfile`]).
    fn versioned_config(&self) -> &'static str;

    /// The platform's lines in SUMMARY.md.
    fn summary(&self, cluster: &Cluster) -> SummaryText;

    /// The platform's notes in network-map.svg.
    fn map_notes(&self, cluster: &Cluster) -> MapNotes;
}

/// A platform's cluster authkey: its file in `<profile>.secrets/`, what
/// the diagnostics call it, and the sizes its reader takes.
#[derive(Debug)]
pub struct AuthkeySpec {
    /// The file name in the secrets folder.
    pub file: &'static str,
    /// For diagnostics: "corosync authkey".
    pub what: &'static str,
    /// Bytes its reader accepts, and how many a new key has.
    pub min: usize,
    pub max: usize,
    pub new: usize,
}

/// Package groups (comps ids) and packages.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSet {
    pub groups: Vec<&'static str>,
    pub packages: Vec<&'static str>,
}

/// A platform's sentences in SUMMARY.md.
#[derive(Debug, Clone)]
pub struct SummaryText {
    /// "Disks (each node)": the layout the installer makes.
    pub disk_layout: String,
    /// "Cluster": the cluster stack's bullets, before DRBD's.
    pub stack: Vec<String>,
    /// "First boot": what the helper starts, in order.
    pub first_boot: String,
    /// "Secrets": the overlay file that holds the fence passwords.
    pub passwords_in: String,
    /// "Secrets": the keys the overlays carry besides the passwords, e.g.
    /// "the first-boot key".
    pub keys: String,
    /// "Cluster": what the shared VG is called, e.g. "clustered VG".
    pub vg_kind: String,
    /// "Secrets": what the installer files are called, e.g. "Kickstarts".
    pub installer_files: String,
    /// One of them, e.g. "kickstart": the row in "Nodes" and the warning
    /// at the top.
    pub installer_file: String,
    /// "Nodes": the initial sync source's role at first boot.
    pub sync_source: String,
}

/// A platform's notes in network-map.svg.
#[derive(Debug, Clone, Default)]
pub struct MapNotes {
    /// On each node, after its id (e.g. dom0's memory).
    pub node: Option<String>,
    /// Under each NIC of a network.
    pub nic: BTreeMap<NetRole, String>,
    /// In a network's box, before DRBD's note: the cluster stack's links.
    pub links: BTreeMap<NetRole, Vec<String>>,
    /// In a network's box, last: what else the network carries.
    pub traffic: BTreeMap<NetRole, String>,
}

/// One file of a node's overlay, as a platform lists it.
#[derive(Debug, Clone, Copy)]
pub struct FileSpec {
    /// Where it goes on the node, without a leading '/'. For a per-NIC file
    /// `{nic}` stands for the NIC's interface name, for a per-fence-device
    /// file `{device}` for the device's name; in any path `{resource}`
    /// stands for the DRBD resource's name.
    pub path: &'static str,
    pub mode: u32,
    pub scope: Scope,
    pub source: Source,
    /// Written only when this says so.
    pub when: Option<fn(&Cluster) -> bool>,
}

/// How many copies of a file a cluster has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The same bytes on every node, rendered once per cluster.
    Cluster,
    /// One per node.
    Node,
    /// One per NIC of each node.
    Nic,
    /// One per fence device (the same on every node).
    FenceDevice,
}

/// Makes a file's bytes from the cluster and its secrets (a config the
/// builder serializes from the struct its reader uses). The error says
/// what is missing; it never holds a secret.
pub type MadeFn = fn(&Cluster, &Secrets) -> Result<Vec<u8>, String>;

/// Where a file's bytes come from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// `rootfs/<path>.j2` in the platform's template folder.
    Template,
    /// The same, rendered with the secrets in its context
    /// ([`crate::render::context::with_secrets`]).
    TemplateWithSecrets,
    /// `rootfs/<path>`, copied as it is.
    Verbatim,
    /// The first-boot helper's config, serialized from the model.
    HelperConfig,
    /// The cluster's first-boot key.
    HelperKey,
    /// Made by the platform's own function.
    Made(MadeFn),
    /// A fence device's password, on one line (a per-device file).
    FencePassword,
    /// The cluster's authkey (binary): [`Platform::cluster_authkey`].
    ClusterAuthkey,
}

impl FileSpec {
    /// A per-node file rendered from `rootfs/<path>.j2`.
    pub const fn template(path: &'static str, mode: u32) -> Self {
        Self {
            path,
            mode,
            scope: Scope::Node,
            source: Source::Template,
            when: None,
        }
    }

    /// A file copied from `rootfs/<path>` as it is.
    pub const fn verbatim(path: &'static str, mode: u32) -> Self {
        Self {
            source: Source::Verbatim,
            ..Self::template(path, mode)
        }
    }

    /// A per-node file made by the builder itself.
    pub const fn made(path: &'static str, mode: u32, source: Source) -> Self {
        Self {
            source,
            ..Self::template(path, mode)
        }
    }

    /// The same on every node: rendered once per cluster.
    pub const fn cluster_wide(self) -> Self {
        Self {
            scope: Scope::Cluster,
            ..self
        }
    }

    /// One per NIC: `{nic}` in the path is the interface.
    pub const fn per_nic(self) -> Self {
        Self {
            scope: Scope::Nic,
            ..self
        }
    }

    /// One per fence device: `{device}` in the path is its name.
    pub const fn per_fence_device(self) -> Self {
        Self {
            scope: Scope::FenceDevice,
            ..self
        }
    }

    /// Rendered with the secrets a config file may hold (the fence
    /// passwords, the DRBD shared secret).
    pub const fn with_secrets(self) -> Self {
        Self {
            source: Source::TemplateWithSecrets,
            ..self
        }
    }

    /// Written only for clusters where `f` holds.
    pub const fn only_if(self, f: fn(&Cluster) -> bool) -> Self {
        Self {
            when: Some(f),
            ..self
        }
    }

    /// The template (or verbatim file) it is made from, in the platform's
    /// template folder.
    pub fn template_name(&self) -> String {
        match self.source {
            Source::Template | Source::TemplateWithSecrets => format!("rootfs/{}.j2", self.path),
            Source::Verbatim
            | Source::HelperConfig
            | Source::HelperKey
            | Source::Made(_)
            | Source::FencePassword
            | Source::ClusterAuthkey => format!("rootfs/{}", self.path),
        }
    }
}
