//! Importers: public trust data turned into Quorum statements that an importer key signs.
//!
//! * [`cargo_vet`]: cargo-vet audit sets (`audits.toml`, and the audits an `imports.lock`
//!   recorded) into `cargo-vet/v1` statements, one per entry: full audits, deltas,
//!   violations, wildcard audits, trusted entries, custom criteria (and an `imports.lock`'s
//!   publisher records);
//! * [`rustsec`]: the RustSec advisory database (TOML front matter in Markdown) into
//!   `advisory/v1` statements, with RustSec's version requirements turned into OSV `SEMVER`
//!   ranges;
//! * [`osv`]: OSV records (JSON or YAML, as the PyPA, RustSec and GitHub databases publish
//!   them) into `advisory/v1` statements.
//!
//! Every statement carries its [`Provenance`]: the source URL, the revision, the SHA-256 of
//! the file and the entry's position, so anyone can re-derive it from the public file. An
//! entry that cannot be restated faithfully is [`Skipped`] with its file, position and
//! reason; it never aborts the rest of the import.
//!
//! [`reconcile`] compares what an import derives with what the log already holds under the
//! importer's key: a re-import submits only new entries and revokes the ones that vanished
//! upstream (naming the revision), and `--check` reports every difference.
//!
//! Built with the `import` feature (the `quorum` CLI enables it; the servers do not).

pub mod cargo_vet;
pub mod osv;
pub mod reconcile;
pub mod rustsec;

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use crate::model::predicates::{Predicate, Provenance};
use crate::model::statement::{Statement, sha256_hex};

/// The largest file an importer reads (an `audits.toml`, an `imports.lock`, one advisory).
/// Google's `audits.toml`, the largest real one, is 0.7 MB.
pub const MAX_SOURCE_FILE: u64 = 32 << 20;
/// The largest single advisory file (a RustSec Markdown file, an OSV record).
pub const MAX_ADVISORY_FILE: u64 = 1 << 20;
/// The most files read from one advisory folder (PyPA has about 2,700, RustSec 1,200).
pub const MAX_FOLDER_FILES: usize = 200_000;
/// The deepest folder nesting followed.
pub const MAX_FOLDER_DEPTH: usize = 8;

/// The largest imported statement: its base64 payload and the envelope around it (one
/// signature) must stay within the 64 KiB envelope limit (`statements.md` §1).
pub const MAX_IMPORTED_STATEMENT: usize = 47 * 1024;

/// Errors that stop an import as a whole (a single bad entry is [`Skipped`] instead).
#[derive(Debug, Error)]
pub enum ImportError {
    /// A file or folder could not be read.
    #[error("{path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file is larger than the limit.
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The path.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The file as a whole is not what the importer reads (not TOML, not UTF-8, …).
    #[error("{path}: {reason}")]
    Format {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A folder holds more files than [`MAX_FOLDER_FILES`].
    #[error("{path} holds more than {limit} files")]
    TooManyFiles {
        /// The folder.
        path: String,
        /// The limit.
        limit: usize,
    },
}

/// Who imports what: the source URL, its revision, and the tool's name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The source URL (of the file, or of the repository for a folder of advisories).
    pub source: String,
    /// The revision the files were taken from.
    pub revision: String,
    /// The importing tool and its version, e.g. `quorum 0.1.0`.
    pub tool: String,
}

impl Origin {
    /// The provenance of an entry read from a file with digest `file_sha256` at `position`.
    pub fn provenance(&self, file_sha256: &str, position: &str) -> Provenance {
        Provenance {
            source: self.source.clone(),
            revision: self.revision.clone(),
            file_sha256: Some(file_sha256.to_owned()),
            position: Some(position.to_owned()),
            tool: self.tool.clone(),
        }
    }
}

/// One file read from a source: its path relative to the source (with `/`) and its bytes.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path inside the source, `/`-separated (the file name for a single file).
    pub path: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl SourceFile {
    /// SHA-256 of the content, lowercase hex.
    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }

    /// The content as UTF-8.
    pub fn text(&self) -> Result<&str, ImportError> {
        std::str::from_utf8(&self.bytes).map_err(|e| ImportError::Format {
            path: self.path.clone(),
            reason: format!("not UTF-8: {e}"),
        })
    }
}

/// Reads one file of at most `limit` bytes; `name` is the path recorded in provenance.
pub fn read_file(path: &Path, name: &str, limit: u64) -> Result<SourceFile, ImportError> {
    use std::io::Read as _;
    let io = |e: std::io::Error| ImportError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ImportError::TooLarge {
            path: path.display().to_string(),
            limit,
        });
    }
    Ok(SourceFile {
        path: name.to_owned(),
        bytes,
    })
}

/// Every regular file under `root` whose name ends with one of `extensions`, in path order
/// (so an import is deterministic), each at most [`MAX_ADVISORY_FILE`] bytes. Symbolic links
/// are not followed. A file that is too large is returned as an error in its slot so that
/// the caller reports it and goes on.
pub fn read_tree(
    root: &Path,
    extensions: &[&str],
) -> Result<Vec<Result<SourceFile, ImportError>>, ImportError> {
    let mut paths = Vec::new();
    collect(root, root, extensions, 0, &mut paths)?;
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|(name, path)| read_file(&path, &name, MAX_ADVISORY_FILE))
        .collect())
}

fn collect(
    root: &Path,
    dir: &Path,
    extensions: &[&str],
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    if depth > MAX_FOLDER_DEPTH {
        return Err(ImportError::Format {
            path: dir.display().to_string(),
            reason: format!("nested deeper than {MAX_FOLDER_DEPTH} folders"),
        });
    }
    for item in std::fs::read_dir(dir).map_err(io)? {
        let item = item.map_err(io)?;
        let kind = item.file_type().map_err(io)?;
        let path = item.path();
        if kind.is_dir() {
            collect(root, &path, extensions, depth + 1, out)?;
        } else if kind.is_file() {
            let name = path.strip_prefix(root).unwrap_or(&path);
            let name: Vec<String> = name
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let name = name.join("/");
            if extensions.iter().any(|e| name.ends_with(e)) {
                if out.len() >= MAX_FOLDER_FILES {
                    return Err(ImportError::TooManyFiles {
                        path: root.display().to_string(),
                        limit: MAX_FOLDER_FILES,
                    });
                }
                out.push((name, path));
            }
        }
    }
    Ok(())
}

/// One statement derived from one upstream entry.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The entry's identity, stable across revisions (not its position): see
    /// [`reconcile::identity`].
    pub identity: String,
    /// What kind of entry it is (`audit`, `delta`, …, or the advisory kind), for reports.
    pub kind: String,
    /// Where it is: file path and position.
    pub position: String,
    /// The statement, with its provenance.
    pub statement: Statement,
}

/// An upstream entry left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// The position inside it (a TOML path, a line), or empty for the whole file.
    pub position: String,
    /// Why it was left out.
    pub reason: String,
}

/// An upstream entry that withdraws an earlier one (a withdrawn advisory): statements of the
/// same identity are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The withdrawn entry's identity.
    pub identity: String,
    /// Its file.
    pub file: String,
    /// SHA-256 of that file.
    pub file_sha256: String,
    /// When it was withdrawn, as the source says.
    pub date: String,
}

/// What an importer derived from a source.
#[derive(Debug, Clone, Default)]
pub struct Derivation {
    /// One statement per entry, in source order.
    pub entries: Vec<Derived>,
    /// Entries left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Withdrawn entries.
    pub withdrawn: Vec<Withdrawn>,
    /// SHA-256 of the source file (single-file sources), for revocations' provenance.
    pub file_sha256: Option<String>,
}

impl Derivation {
    /// Entries per kind, sorted by kind.
    pub fn counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for e in &self.entries {
            *out.entry(e.kind.clone()).or_insert(0) += 1;
        }
        out
    }

    fn skip(&mut self, file: &str, position: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            file: file.to_owned(),
            position: position.to_owned(),
            reason: reason.into(),
        });
    }

    /// Adds a statement after checking it exactly as the log will; a statement the log
    /// would refuse is skipped with the validator's reason.
    fn push(&mut self, file: &str, position: &str, kind: &str, statement: Statement) {
        let validated = match crate::model::predicates::validate_statement(&statement) {
            Ok(v) => v,
            Err(e) => return self.skip(file, position, format!("not a valid statement: {e}")),
        };
        let size = statement.to_json().len();
        if size > MAX_IMPORTED_STATEMENT {
            return self.skip(
                file,
                position,
                format!(
                    "the statement would be {size} bytes, more than the {MAX_IMPORTED_STATEMENT} that fit in a 64 KiB envelope"
                ),
            );
        }
        let Some(identity) = reconcile::identity(&validated) else {
            return self.skip(file, position, "not an imported statement");
        };
        self.entries.push(Derived {
            identity,
            kind: kind.to_owned(),
            position: format!("{file}: {position}"),
            statement,
        });
    }
}

/// A purl naming a package (and a version) of an ecosystem, written by the purl library in
/// the spec's canonical form and accepted by the verifier's own parser.
pub fn package_purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
) -> Result<String, String> {
    let bad = |e: &dyn std::fmt::Display| format!("cannot name `{name}` as a {ty} purl: {e}");
    let mut purl =
        packageurl::PackageUrl::new(ty.to_owned(), name.to_owned()).map_err(|e| bad(&e))?;
    if let Some(ns) = namespace {
        purl.with_namespace(ns.to_owned()).map_err(|e| bad(&e))?;
    }
    if let Some(v) = version {
        purl.with_version(v.to_owned()).map_err(|e| bad(&e))?;
    }
    let text = purl.to_string();
    crate::model::statement::parse_purl(&text).map_err(|e| bad(&e))?;
    Ok(text)
}

/// The statement's content without its provenance: what must be equal for two statements
/// to say the same thing about the same entry (subjects and predicate, canonical JSON).
pub fn content_of(statement: &Statement) -> String {
    let mut predicate = statement.predicate.clone();
    if let Value::Object(map) = &mut predicate {
        map.remove("provenance");
    }
    let stripped = Statement::new(
        statement.subject.clone(),
        &statement.predicate_type,
        predicate,
    );
    String::from_utf8_lossy(&stripped.to_json()).into_owned()
}

/// The provenance of an imported statement, if it is one.
pub fn provenance_of(predicate: &Predicate) -> Option<&Provenance> {
    match predicate {
        Predicate::CargoVet(p) => Some(&p.provenance),
        Predicate::AdvisoryRecord(p) => Some(&p.provenance),
        _ => None,
    }
}
