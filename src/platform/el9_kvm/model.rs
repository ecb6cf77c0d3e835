//! The el9-kvm payload: the family's, plus its repositories and the
//! packages of the profile's fence agents.

use crate::platform::pcmk::Pcmk;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct El9Kvm {
    #[serde(flatten)]
    pub family: Pcmk,
    pub repos: Repos,
    /// The fence-agents-* packages of the profile's agents.
    pub fence_packages: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Repos {
    pub appstream: String,
    pub high_availability: String,
    pub resilient_storage: String,
    pub elrepo: String,
    pub elrepo_key: String,
}
