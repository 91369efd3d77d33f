//! The state directory: `key`, `policy.toml`, `checkpoints/` (the checkpoint memory: the last
//! checkpoint accepted per log, and the conflicts it refused), `trust-graph/<log>.bin` (the
//! verified trust graph), `receipts/<envelope digest>.json`, `mirror/<log>/`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use quorum_verifier::client::memory::{self, CheckpointMemory, DirStore, log_slug};

use crate::cli::Global;
use crate::error::usage;

/// The largest file the CLI reads as input (policies, bundles, envelopes, keys).
pub const MAX_INPUT_FILE: u64 = 64 << 20;

/// The largest evidence set read by `verify --bundle`.
pub const MAX_EVIDENCE_SET: u64 = 1 << 30;

/// The resolved state directory.
pub struct State {
    /// Its path.
    pub dir: PathBuf,
}

impl State {
    /// `--state-dir`, else `$QUORUM_HOME` (clap reads it), else `~/.quorum`.
    pub fn open(global: &Global) -> anyhow::Result<State> {
        let dir = match &global.state_dir {
            Some(d) => d.clone(),
            None => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(".quorum"),
                None => {
                    return Err(usage(
                        "no state directory: set --state-dir or QUORUM_HOME (HOME is not set)",
                    ));
                }
            },
        };
        Ok(State { dir })
    }

    /// Creates the directory (mode 0700) if needed.
    pub fn ensure(&self) -> anyhow::Result<()> {
        create_private_dir(&self.dir)
    }

    /// The key file path.
    pub fn key_path(&self, global: &Global) -> PathBuf {
        global.key.clone().unwrap_or_else(|| self.dir.join("key"))
    }

    /// The policy file path.
    pub fn policy_path(&self, global: &Global) -> PathBuf {
        global
            .policy
            .clone()
            .unwrap_or_else(|| self.dir.join("policy.toml"))
    }

    /// The checkpoint memory (`checkpoints/`).
    pub fn memory(&self) -> CheckpointMemory<DirStore> {
        CheckpointMemory::new(DirStore::new(&self.dir))
    }

    /// The trust-graph cache of a log.
    pub fn trust_graph_path(&self, origin: &str) -> PathBuf {
        self.dir
            .join("trust-graph")
            .join(format!("{}.bin", log_slug(origin)))
    }

    /// The leaf hashes of entries verified in full before (for every log: what verifying
    /// an entry concludes depends on its bytes alone).
    pub fn verified_entries_path(&self) -> PathBuf {
        self.dir.join("verified-entries.bin")
    }

    /// The mirror directory of a log.
    pub fn mirror_dir(&self, origin: &str) -> PathBuf {
        self.dir.join("mirror").join(log_slug(origin))
    }

    /// Path of a submission receipt.
    pub fn receipt_path(&self, digest_hex: &str) -> PathBuf {
        self.dir.join("receipts").join(format!("{digest_hex}.json"))
    }
}

/// Creates a directory and its parents, the last one owner-only.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    memory::create_private_dir(dir).with_context(|| format!("creating directory {}", dir.display()))
}

/// Writes a file through a temporary file and a rename, so a crash leaves the old or the
/// new content, never a mix.
///
/// A path that already names something other than a regular file or a symbolic link (a
/// device such as `/dev/null` or `/dev/stdout`, a FIFO) is written in place: a rename would
/// replace the device node itself with a regular file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    memory::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads an input file of at most `limit` bytes; errors are usage errors naming the file.
pub fn read_input(path: &Path, what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .map_err(|e| usage(format!("cannot open {what} {}: {e}", path.display())))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))?;
    if buf.len() as u64 > limit {
        return Err(usage(format!(
            "{what} {} is larger than the limit of {limit} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Reads an input file as UTF-8 text.
pub fn read_text(path: &Path, what: &str, limit: u64) -> anyhow::Result<String> {
    let bytes = read_input(path, what, limit)?;
    String::from_utf8(bytes)
        .map_err(|_| usage(format!("{what} {} is not UTF-8 text", path.display())))
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    /// Writing "a file" that is a FIFO (as `/dev/null` or `/dev/stdout` are devices) must
    /// write into it, never rename a regular file over it: an earlier version replaced the
    /// machine's `/dev/null` with a regular file when asked to write there.
    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_not_replaced() -> anyhow::Result<()> {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir()?;
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status()?;
        anyhow::ensure!(status.success(), "mkfifo failed");
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path));
        write_atomic(&fifo, b"through the pipe")?;
        let received = reader
            .join()
            .map_err(|_| anyhow::anyhow!("reader thread panicked"))??;
        assert_eq!(received, b"through the pipe");
        assert!(std::fs::symlink_metadata(&fifo)?.file_type().is_fifo());
        Ok(())
    }

    /// A regular file is still replaced through a temporary file and a rename.
    #[test]
    fn regular_files_are_replaced_whole() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.json");
        std::fs::write(&path, b"old content that is longer")?;
        write_atomic(&path, b"new")?;
        assert_eq!(std::fs::read(&path)?, b"new");
        assert_eq!(
            std::fs::read_dir(dir.path())?.count(),
            1,
            "no temporary file left"
        );
        Ok(())
    }
}
