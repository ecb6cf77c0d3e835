//! Everything that makes the agent fail. Every message names what was being
//! done and, where it can, what would be right; none carries a password.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line or stdin (key=value) input.
    #[error("{0}")]
    Usage(String),
    /// The agent's own config file is missing, unsafe or invalid.
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },
    /// The config is not valid TOML for its schema, at this place.
    #[error("{}:{line}:{col}: {message}", path.display())]
    ConfigAt {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    /// login/passwd given by fenced or the operator do not match the config.
    #[error(
        "login or password does not match device `{device}` in {path} \
         (cluster.conf's fencedevice login/passwd must equal the config's)"
    )]
    Credentials { device: String, path: PathBuf },
    /// passwd_script did not give a password.
    #[error("passwd_script `{script}`: {message}")]
    PasswdScript { script: String, message: String },
    /// Could not reach the device, or it answered something unusable.
    #[error("Node Assassin `{device}`: {message}")]
    Device { device: String, message: String },
    /// The device took the command but the port did not reach the state the
    /// action needs (the one failure that matters most: not fenced).
    #[error("{0}")]
    NotVerified(String),
}

pub type Result<T> = std::result::Result<T, Error>;
