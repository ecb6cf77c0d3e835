//! An error with its causes, on one line: `what failed: why: why that`.
//! The typed errors of this crate never repeat their source in their own
//! message, so each cause appears once.

use std::error::Error;

pub fn with_causes(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
