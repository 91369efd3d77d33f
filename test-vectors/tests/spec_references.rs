//! The spec names the test that checks each guarantee (`spec/threat-model.md`'s last column,
//! and the same form elsewhere in `spec/`). A name that no longer exists — a test renamed or
//! moved in a restructuring — silently turns a checked guarantee into a wish. This test reads
//! every `path/to/file.rs::test_name` reference in `spec/*.md` (and the `::other_name` spans
//! that follow it on the same line) and fails on any file or function that is not there.

use std::fs;
use std::path::{Path, PathBuf};

/// The directories a reference may start with: the workspace's crates.
const CRATE_DIRS: &[&str] = &[
    "c2sp/",
    "verifier/",
    "cli/",
    "log-server/",
    "witness/",
    "test-vectors/",
    "bench/",
    "fuzz/",
    "proto/",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The spans between backticks on one line.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// Every `.rs` file that may hold a test named in `file`: the file itself and, for a module
/// with a directory (`x.rs` beside `x/`, or `x/mod.rs`), the files under that directory.
fn candidate_sources(root: &Path, file: &str) -> Vec<PathBuf> {
    let path = root.join(file);
    let mut out = vec![path.clone()];
    let module_dir = if path.file_name().is_some_and(|n| n == "mod.rs") {
        path.parent().map(Path::to_path_buf)
    } else {
        Some(path.with_extension(""))
    };
    if let Some(dir) = module_dir
        && dir.is_dir()
    {
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    out.push(p);
                }
            }
        }
    }
    out
}

fn defines(sources: &[PathBuf], name: &str) -> bool {
    let fn_decl = format!("fn {name}(");
    let generic_decl = format!("fn {name}<");
    let mod_decl = format!("mod {name}");
    sources.iter().any(|p| {
        fs::read_to_string(p).is_ok_and(|text| {
            text.contains(&fn_decl) || text.contains(&generic_decl) || text.contains(&mod_decl)
        })
    })
}

#[test]
fn every_test_the_spec_names_exists() {
    let root = repo_root();
    let spec_dir = root.join("spec");
    let mut problems = Vec::new();
    let mut checked = 0usize;
    let mut docs: Vec<PathBuf> = fs::read_dir(&spec_dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", spec_dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    for doc in &docs {
        let text = fs::read_to_string(doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        for (number, line) in text.lines().enumerate() {
            let mut current_file: Option<&str> = None;
            for span in code_spans(line) {
                let (file, name) = match span.split_once("::") {
                    Some(("", name)) => match current_file {
                        Some(file) => (file, Some(name)),
                        None => continue,
                    },
                    Some((file, name)) if file.ends_with(".rs") => (file, Some(name)),
                    None if span.ends_with(".rs") => (span, None),
                    _ => continue,
                };
                if !CRATE_DIRS.iter().any(|d| file.starts_with(d)) {
                    continue;
                }
                let place = format!("{}:{}", doc.display(), number + 1);
                // `dir/{a,b}.rs` names several files at once: each must exist.
                if let Some((prefix, rest)) = file.split_once('{')
                    && let Some((alternatives, suffix)) = rest.split_once('}')
                {
                    for alternative in alternatives.split(',') {
                        let one = format!("{prefix}{alternative}{suffix}");
                        if !root.join(&one).is_file() {
                            problems.push(format!("{place}: no file {one}"));
                        }
                    }
                    continue;
                }
                current_file = Some(file);
                if !root.join(file).is_file() {
                    problems.push(format!("{place}: no file {file}"));
                    continue;
                }
                // `file.rs::module::test` names the test by its path; its last part is the fn.
                let Some(name) = name.and_then(|n| n.rsplit("::").next()) else {
                    continue;
                };
                let name = name.trim_end_matches("()");
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                checked += 1;
                if !defines(&candidate_sources(&root, file), name) {
                    problems.push(format!("{place}: {file} defines no `{name}`"));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} references found: did the spec's form of naming tests change?"
    );
    assert!(
        problems.is_empty(),
        "the spec names tests that do not exist:\n{}",
        problems.join("\n")
    );
}
