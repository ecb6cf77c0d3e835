//! Install DVD (issue 4; being written by the media work).

use crate::helper_blob::HelperBlob;
use crate::model::{Cluster, Secrets};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    #[error("clusterkick iso is not available in this build yet")]
    NotYet,
}

pub fn write_iso(
    _cluster: &Cluster,
    _secrets: &Secrets,
    _helper: &HelperBlob,
    _base: &Path,
    _out: &Path,
) -> Result<(), IsoError> {
    Err(IsoError::NotYet)
}
