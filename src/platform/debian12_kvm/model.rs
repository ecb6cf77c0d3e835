//! The debian12-kvm payload: the family's, plus the mirror as the
//! installer's questions take it.

use crate::platform::pcmk::Pcmk;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Debian12Kvm {
    #[serde(flatten)]
    pub family: Pcmk,
    /// `install.url`, split as debian-installer asks for it.
    pub mirror: Mirror,
    /// bookworm-security, split the same way.
    pub security: Mirror,
    /// Whether a fence agent of the profile drives ipmitool (fence_ipmilan
    /// and its aliases): then ipmitool is installed with it.
    pub ipmitool: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mirror {
    /// http or https.
    pub protocol: String,
    /// Host, and port if any.
    pub host: String,
    /// The path, starting with '/'.
    pub directory: String,
}
