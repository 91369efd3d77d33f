//! The witness's TOML configuration file. Command-line flags override it.
//!
//! ```toml
//! listen = "127.0.0.1:7380"
//! data_dir = "/var/lib/quorum-witness"
//! # database_url = "postgres://user@host/db"   # default: SQLite in data_dir
//! key_file = "/etc/quorum-witness/witness.key"
//!
//! [limits]
//! max_body_bytes = 65536
//! request_timeout_secs = 10
//! requests_per_minute_per_log = 600
//! burst_per_log = 60
//!
//! [[log]]
//! origin = "go.sum database tree"
//! keys = ["sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"]
//!
//! [[log]]                              # pull mode: the witness fetches this log itself
//! origin = "example.com/log"
//! keys = ["example.com/log+12345678+AQ..."]
//! url = "https://example.com/log/"
//! poll_interval_secs = 60
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its position.
        message: String,
    },
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:7380`.
    pub listen: Option<String>,
    /// Directory for the SQLite database (and nothing else).
    pub data_dir: Option<PathBuf>,
    /// `sqlite:<path>` or `postgres://...`; overrides `data_dir` for the database.
    pub database_url: Option<String>,
    /// The witness's signer key file (written by `quorum-witness keygen`).
    pub key_file: Option<PathBuf>,
    /// Request limits.
    #[serde(default)]
    pub limits: Limits,
    /// Logs to witness. They are added to the database at start; never removed.
    #[serde(default, rename = "log")]
    pub logs: Vec<LogConfig>,
}

/// Limits on requests.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for one request, in seconds.
    pub request_timeout_secs: u64,
    /// Sustained add-checkpoint budget per log (0 = unlimited).
    pub requests_per_minute_per_log: u32,
    /// Requests a log may make at once above the sustained rate.
    pub burst_per_log: u32,
    /// Most requests handled at the same time.
    pub max_concurrent_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 10,
            requests_per_minute_per_log: 600,
            burst_per_log: 60,
            max_concurrent_requests: 512,
        }
    }
}

/// One witnessed log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// The checkpoint origin line.
    pub origin: String,
    /// Signed-note verifier keys of the log.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Base URL of the log's tlog-tiles API; set it to have the witness pull the log.
    pub url: Option<String>,
    /// Seconds between polls in pull mode.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
}

fn default_poll() -> u64 {
    60
}

impl Config {
    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_example() {
        let c = Config::parse(
            r#"
listen = "127.0.0.1:1"
[limits]
max_body_bytes = 100
[[log]]
origin = "a"
keys = ["k"]
[[log]]
origin = "b"
url = "http://x/"
poll_interval_secs = 5
"#,
        )
        .unwrap();
        assert_eq!(c.listen.as_deref(), Some("127.0.0.1:1"));
        assert_eq!(c.limits.max_body_bytes, 100);
        assert_eq!(c.limits.request_timeout_secs, 10);
        assert_eq!(c.logs.len(), 2);
        assert_eq!(c.logs[0].poll_interval_secs, 60);
        assert_eq!(c.logs[1].url.as_deref(), Some("http://x/"));
    }

    #[test]
    fn rejects_unknown_fields() {
        assert!(Config::parse("lisen = \"x\"").is_err());
    }
}
