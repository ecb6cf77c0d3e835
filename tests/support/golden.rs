//! The one golden-file rule: `UPDATE_GOLDEN=1` rewrites a golden file with
//! what the code produced; anything else (unset, `0`, ...) compares, and a
//! difference fails with the first differing line. Review the rewrite with
//! `git diff tests/golden`.

use super::repo;

/// Compares `actual` with tests/golden/<rel>, or rewrites it when
/// `UPDATE_GOLDEN=1`.
pub fn golden(rel: &str, actual: &[u8]) {
    let path = repo().join("tests/golden").join(rel);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {} ({e}); run with UPDATE_GOLDEN=1 and review the diff",
            path.display()
        )
    });
    if expected != actual {
        let exp = String::from_utf8_lossy(&expected);
        let act = String::from_utf8_lossy(actual);
        let line = exp
            .lines()
            .zip(act.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || exp.lines().count().min(act.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{} differs from the golden file at line {line}:\n  golden: {:?}\n  actual: {:?}\nIf the change is intended: rerun with UPDATE_GOLDEN=1, then review `git diff tests/golden`.",
            path.display(),
            exp.lines().nth(line - 1).unwrap_or(""),
            act.lines().nth(line - 1).unwrap_or("")
        );
    }
}
