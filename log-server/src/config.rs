//! Server configuration: a TOML file, with command-line flags overriding its values.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// Errors reading the configuration.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The TOML error.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// One witness the log asks for cosignatures.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The witness's base URL; the log POSTs to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature verifier key (`name+hex8+base64(0x04 || key)`).
    pub vkey: String,
}

/// Token-bucket rate limits for submissions, counted in envelopes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Envelopes per second accepted from all clients together (0: unlimited).
    pub global_per_sec: f64,
    /// Burst size of the global bucket.
    pub global_burst: f64,
    /// Envelopes per second accepted per signer key (0: unlimited).
    pub per_key_per_sec: f64,
    /// Burst size of each per-key bucket.
    pub per_key_burst: f64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            global_per_sec: 100_000.0,
            global_burst: 200_000.0,
            per_key_per_sec: 50_000.0,
            per_key_burst: 100_000.0,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory holding the SQLite database (`quorum.db`) when no `database_url`.
    pub data_dir: PathBuf,
    /// Database URL (`postgres://...` or `sqlite://...`); overrides `data_dir`.
    pub database_url: Option<String>,
    /// The log's private key file (signed-note signer key, mode 0600).
    pub key_file: PathBuf,
    /// How often to sign a checkpoint when the tree grew, in milliseconds.
    pub checkpoint_interval_ms: u64,
    /// Most entries sequenced in one transaction.
    pub max_batch: usize,
    /// Submissions waiting for the sequencer before new ones get 503.
    pub queue_capacity: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most envelopes in one batch submission.
    pub max_batch_envelopes: usize,
    /// Longest a `?wait=` request waits, in milliseconds.
    pub max_wait_ms: u64,
    /// Submission rate limits.
    pub rate_limit: RateLimitConfig,
    /// Witnesses asked to cosign each checkpoint.
    pub witnesses: Vec<WitnessConfig>,
    /// Cosignatures a checkpoint needs before `/checkpoint` serves it.
    pub required_cosignatures: usize,
    /// Timeout of one witness request, in milliseconds.
    pub witness_timeout_ms: u64,
    /// While the tree does not grow (no new checkpoint), how often each witness is asked to
    /// cosign the current checkpoint again, so that an idle log keeps serving fresh
    /// cosignatures and never looks frozen; in milliseconds, 0 to never ask.
    pub witness_refresh_interval_ms: u64,
    /// Memory for cached full tiles and entry bundles, in bytes (0: no cache).
    pub tile_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("quorum-data"),
            database_url: None,
            key_file: PathBuf::from("log.key"),
            checkpoint_interval_ms: 1000,
            max_batch: 4096,
            queue_capacity: 100_000,
            max_body_bytes: 16 << 20,
            max_batch_envelopes: 1000,
            max_wait_ms: 30_000,
            rate_limit: RateLimitConfig::default(),
            witnesses: Vec::new(),
            required_cosignatures: 0,
            witness_timeout_ms: 5000,
            witness_refresh_interval_ms: 60_000,
            tile_cache_bytes: 64 << 20,
        }
    }
}

/// The largest config file read, in bytes.
pub const MAX_CONFIG_SIZE: u64 = 1 << 20;

impl Config {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read_err = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        if meta.len() > MAX_CONFIG_SIZE {
            return Err(ConfigError::Invalid(format!(
                "{} is larger than {MAX_CONFIG_SIZE} bytes",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Config::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            source: Box::new(e),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.checkpoint_interval_ms == 0 || self.checkpoint_interval_ms > 3_600_000 {
            return bad("checkpoint_interval_ms must be 1..=3600000");
        }
        if self.max_batch == 0 || self.max_batch > 100_000 {
            return bad("max_batch must be 1..=100000");
        }
        if self.queue_capacity == 0 {
            return bad("queue_capacity must be positive");
        }
        if self.max_body_bytes < 1024 || self.max_body_bytes > 1 << 30 {
            return bad("max_body_bytes must be 1024..=1GiB");
        }
        if self.max_batch_envelopes == 0 || self.max_batch_envelopes > 100_000 {
            return bad("max_batch_envelopes must be 1..=100000");
        }
        if self.required_cosignatures > self.witnesses.len() {
            return bad("required_cosignatures exceeds the number of witnesses");
        }
        if self.witness_timeout_ms == 0 {
            return bad("witness_timeout_ms must be positive");
        }
        // Cosignature timestamps count seconds: refreshing more often gains nothing.
        if self.witness_refresh_interval_ms != 0
            && !(1000..=86_400_000).contains(&self.witness_refresh_interval_ms)
        {
            return bad("witness_refresh_interval_ms must be 0 (never) or 1000..=86400000");
        }
        // Cosignatures are stored and counted per witness name (the vkey's name part), so two
        // witnesses with one name would overwrite each other's cosignatures and sizes.
        let mut names = std::collections::BTreeSet::new();
        for w in &self.witnesses {
            let name = w.vkey.split('+').next().unwrap_or_default();
            if !names.insert(name) {
                return Err(ConfigError::Invalid(format!(
                    "two witnesses are named {name:?}; each witness needs its own name"
                )));
            }
        }
        if self.tile_cache_bytes as u64 > 1 << 40 {
            return bad("tile_cache_bytes must be at most 1 TiB");
        }
        let r = &self.rate_limit;
        if [
            r.global_per_sec,
            r.global_burst,
            r.per_key_per_sec,
            r.per_key_burst,
        ]
        .iter()
        .any(|v| !v.is_finite() || *v < 0.0)
        {
            return bad("rate limits must be finite and non-negative");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_example() {
        let cfg = Config::parse(
            r#"
listen = "0.0.0.0:9000"
data_dir = "/var/lib/quorum"
key_file = "/etc/quorum/log.key"
checkpoint_interval_ms = 500
required_cosignatures = 1
tile_cache_bytes = 1048576
[rate_limit]
per_key_per_sec = 10.0
[[witnesses]]
url = "http://w.example"
vkey = "w.example+01234567+AAAA"
"#,
        );
        let Ok(cfg) = cfg else { panic!("{cfg:?}") };
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.witnesses.len(), 1);
        assert_eq!(cfg.rate_limit.per_key_per_sec, 10.0);
        assert_eq!(cfg.rate_limit.global_per_sec, 100_000.0);
        assert_eq!(cfg.tile_cache_bytes, 1 << 20);
        assert_eq!(Config::default().tile_cache_bytes, 64 << 20);
    }

    #[test]
    fn rejects_bad() {
        assert!(Config::parse("nonsense = 1").is_err());
        assert!(Config::parse("required_cosignatures = 1").is_err());
        assert!(Config::parse("checkpoint_interval_ms = 0").is_err());
        assert!(Config::parse("witness_refresh_interval_ms = 999").is_err());
        assert!(Config::parse("witness_refresh_interval_ms = 0").is_ok());
        assert_eq!(Config::default().witness_refresh_interval_ms, 60_000);
        let two = |second: &str| {
            Config::parse(&format!(
                "[[witnesses]]\nurl = \"http://a\"\nvkey = \"w.example+01234567+AAAA\"\n\
                 [[witnesses]]\nurl = \"http://b\"\nvkey = \"{second}\"\n"
            ))
        };
        let Err(ConfigError::Invalid(why)) = two("w.example+89abcdef+BBBB") else {
            panic!("two witnesses with one name must be refused");
        };
        assert!(why.contains("w.example"), "{why}");
        assert!(two("other.example+89abcdef+BBBB").is_ok());
    }
}
