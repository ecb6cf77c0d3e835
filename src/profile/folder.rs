//! A folder of profiles: `build FOLDER/` builds every `*.toml` in it, one
//! two-node cluster each (how clusterkick grows past two nodes: more
//! clusters, not bigger ones).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("reading the folder {0}")]
    Read(PathBuf, #[source] std::io::Error),
    #[error("the folder {0} holds no profile (*.toml); name profiles, or a folder of them")]
    Empty(PathBuf),
}

/// The profiles `args` name: a folder stands for the `*.toml` files in it
/// (not in its subfolders), in name order; anything else is kept as it is
/// (loading refuses what is not a profile, a folder named `*.toml` too:
/// that name says a profile was meant).
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>, ExpandError> {
    let mut out = Vec::new();
    for a in args {
        let named_as_profile = a.extension().is_some_and(|e| e == "toml");
        if named_as_profile || !std::fs::metadata(a).is_ok_and(|m| m.is_dir()) {
            out.push(a.clone());
            continue;
        }
        let mut found = profiles_in(a)?;
        if found.is_empty() {
            return Err(ExpandError::Empty(a.clone()));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn profiles_in(dir: &Path) -> Result<Vec<PathBuf>, ExpandError> {
    let read = |e| ExpandError::Read(dir.to_path_buf(), e);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_file = entry.file_type().map_err(read)?.is_file();
        if is_file && name.ends_with(".toml") && !name.starts_with('.') {
            found.push(entry.path());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_stands_for_its_profiles_in_name_order() {
        let d = tempfile::tempdir().unwrap();
        for f in ["b.toml", "a.toml", ".hidden.toml", "notes.txt"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        std::fs::create_dir(d.path().join("sub.toml")).unwrap();
        let one = PathBuf::from("x.toml");
        let got = expand(&[d.path().to_path_buf(), one.clone()]).unwrap();
        assert_eq!(
            got,
            vec![d.path().join("a.toml"), d.path().join("b.toml"), one]
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            expand(&[empty.path().to_path_buf()]),
            Err(ExpandError::Empty(_))
        ));
    }
}
