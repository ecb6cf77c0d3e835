//! A clone of the project alone must pass its own tests: nothing the code,
//! the tests, the scripts or CI run may reach outside the repository for
//! files (the workplace's `shared` folder beside it in particular).

use std::path::Path;

fn scan(dir: &Path, needle: &str, hits: &mut Vec<String>) {
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.expect("walk");
        if !e.file_type().is_file() {
            continue;
        }
        // Goldens are generated output, not something that runs.
        if e.path().components().any(|c| c.as_os_str() == "golden") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if line.contains(needle) {
                hits.push(format!("{}:{}: {line}", e.path().display(), i + 1));
            }
        }
    }
}

#[test]
fn nothing_reads_outside_the_repository() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Spelled in two parts so that this file does not match itself.
    let needle = format!("../{}", "shared");
    let mut hits = Vec::new();
    for d in ["src", "tests", "scripts", ".ci", "benches", "build.rs"] {
        let p = repo.join(d);
        assert!(p.exists(), "{} is missing", p.display());
        scan(&p, &needle, &mut hits);
    }
    assert!(
        hits.is_empty(),
        "reads outside the repository:\n{}",
        hits.join("\n")
    );
}
