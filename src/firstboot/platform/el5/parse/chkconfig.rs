//! `chkconfig --list NAME`.
//!
//! Samples in the tests are verbatim from real transcripts
//! (`shared/reference/el5-tool-outputs.md`). No regex: plain string handling,
//! tolerant of the variants seen in them.

/// `chkconfig --list NAME`: the on/off state of runlevels 0-6.
pub fn parse_chkconfig_list(text: &str) -> Option<(String, [bool; 7])> {
    let line = text.lines().find(|l| l.contains("0:"))?;
    let mut toks = line.split_whitespace();
    let name = toks.next()?.to_string();
    let mut levels = [false; 7];
    let mut seen = 0;
    for tok in toks {
        let (lvl, v) = tok.split_once(':')?;
        let lvl: usize = lvl.parse().ok()?;
        *levels.get_mut(lvl)? = v == "on";
        seen += 1;
    }
    (seen == 7).then_some((name, levels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chkconfig_list_line() {
        let (name, lv) =
            parse_chkconfig_list("xend           \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n")
                .unwrap();
        assert_eq!(name, "xend");
        assert_eq!(lv, [false, false, true, true, true, true, false]);
        assert!(parse_chkconfig_list("service x does not support chkconfig\n").is_none());
    }
}
