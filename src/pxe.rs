//! PXE tree and web-server snippet (issue 4; being written by the media work).

use crate::build::Output;
use crate::model::Cluster;

#[derive(Debug, thiserror::Error)]
pub enum PxeError {
    #[error("rendering the PXE tree: {0}")]
    Render(#[from] crate::render::RenderError),
}

/// Adds tftpboot/ and the web-server snippet to a build's output.
pub fn add(_cluster: &Cluster, _out: &mut Output) -> Result<(), PxeError> {
    Ok(())
}
