//! The pacemaker platforms' own tables, as written: `[corosync]` and
//! `[pacemaker]` (each platform adds one of its own: `[el9]`, `[debian]`).

use crate::check::S;
use serde::Deserialize;

/// `[corosync]`: the cluster's messaging layer.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorosync {
    /// The networks corosync's knet links run on, by key; one is supported
    /// (dlm). Default: `["back_channel"]`.
    #[serde(default)]
    pub links: Option<S<Vec<S<String>>>>,
    /// totem's token timeout, in milliseconds.
    #[serde(default)]
    pub token: Option<S<i64>>,
}

/// `[pacemaker]`: how long pacemaker and the first-boot helper wait.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPacemaker {
    /// Seconds for start, stop, promote, demote and notify (op_defaults).
    #[serde(default)]
    pub op_timeout: Option<S<i64>>,
    /// Seconds for a monitor.
    #[serde(default)]
    pub monitor_timeout: Option<S<i64>>,
    /// Seconds a fence may take (stonith-timeout; DRBD's fence-peer handler
    /// waits as long).
    #[serde(default)]
    pub stonith_timeout: Option<S<i64>>,
    /// Seconds the first-boot helper waits for pacemaker to promote DRBD
    /// and start every resource on both nodes.
    #[serde(default)]
    pub start_timeout: Option<S<i64>>,
}
