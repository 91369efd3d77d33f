//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Quorum: publish signed statements about packages, and verify package versions against
/// your own trust policy from evidence a transparency log proves.
#[derive(Debug, Parser)]
#[command(
    name = "quorum",
    version,
    about = "quorum: publish signed statements about packages to a Quorum log, and decide whether to install package versions from evidence the log proves",
    long_about = None,
    after_help = crate::error::EXIT_CODES_HELP
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// State directory: key, last-seen checkpoints, receipts, mirrors.
    #[arg(long, global = true, env = "QUORUM_HOME")]
    pub state_dir: Option<PathBuf>,
    /// Trust policy file (TOML). Default: policy.toml in the state directory.
    #[arg(long, global = true)]
    pub policy: Option<PathBuf>,
    /// Log base URL, overriding the policy's `[log] url`.
    #[arg(long, global = true)]
    pub log: Option<String>,
    /// Private key file. Default: `key` in the state directory.
    #[arg(long, global = true)]
    pub key: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds before a request to the log is given up (the command then exits 69).
    #[arg(
        long,
        global = true,
        env = "QUORUM_TIMEOUT",
        default_value_t = 60,
        value_name = "SECONDS"
    )]
    pub timeout: u64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a signing key (file mode 0600) and print its public key.
    Keygen(KeygenArgs),
    /// Write a commented starter policy: the log, its witnesses, your key as the trust root,
    /// and a strict fallback (packages no rule matches are insufficient-evidence).
    Init(InitArgs),
    /// Publish an audit of a package version.
    Attest(AttestArgs),
    /// Publish that you run (or, with --reject, refuse) package versions.
    Adopt(AdoptArgs),
    /// Publish how much you trust another key.
    Trust(TrustArgs),
    /// Publish an OpenVEX advisory: a package is malicious or vulnerable.
    Advise(AdviseArgs),
    /// Withdraw one of your own statements by its envelope digest.
    Revoke(RevokeArgs),
    /// Publish that a package's owners or publishers changed.
    OwnershipChange(OwnershipChangeArgs),
    /// Submit an envelope written earlier with --out.
    Submit(SubmitArgs),
    /// Decide whether package versions may be installed.
    Verify(VerifyArgs),
    /// Show every statement counted for a version, with its signer's weight, and every
    /// rejected one with its reason.
    Explain(ExplainArgs),
    /// Save the evidence for packages to a file, for offline `verify --bundle`.
    Fetch(FetchArgs),
    /// Download and verify the whole log through its tiles (resumable).
    Mirror(MirrorArgs),
    /// Work with submission receipts (kept in the state directory's `receipts/`).
    Receipt(ReceiptArgs),
    /// Show the checkpoint this client accepted from the policy's log, and the conflicting
    /// checkpoints it refused (evidence to hand to witnesses and monitors).
    Checkpoint(CheckpointArgs),
    /// Import public trust data (cargo-vet audit sets, RustSec and OSV advisories) as
    /// statements signed by your key, append-only; or check the log against the source.
    Import(ImportArgs),
}

/// `quorum checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: CheckpointCommand,
}

/// `quorum checkpoint` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Print the signed checkpoint this client last accepted from the log.
    Show,
    /// Print every refused checkpoint (rollback or fork) with the stored one it conflicts
    /// with, both as the signed notes the log served.
    Conflicts,
}

/// `quorum import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What is imported.
    #[command(subcommand)]
    pub source: ImportSource,
}

/// The sources `quorum import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A cargo-vet `audits.toml`, or an `imports.lock` (the audits a project imported).
    CargoVet {
        /// The file.
        file: PathBuf,
        /// Source, revision, check.
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// A RustSec advisory database checkout (its `crates/` and `rust/` folders).
    Rustsec {
        /// The database's folder.
        dir: PathBuf,
        /// Source, revision, check.
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// An OSV record or a folder of them (JSON or YAML), e.g. PyPA's `vulns/`.
    Osv {
        /// The file or folder.
        path: PathBuf,
        /// Source, revision, check.
        #[command(flatten)]
        opts: ImportOpts,
    },
}

/// Options of every `quorum import`.
#[derive(Debug, Args)]
pub struct ImportOpts {
    /// The public URL the data comes from (the file, or the repository of a folder); every
    /// statement names it, with the revision, so anyone can fetch and re-derive it.
    #[arg(long, value_name = "URL")]
    pub source: String,
    /// The source's revision (a commit hash) the files were taken at.
    #[arg(long, value_name = "COMMIT")]
    pub revision: String,
    /// Log nothing: compare what the log holds under the importer's key with the source and
    /// report every missing, extra or differing statement (exit 1 if there is any).
    #[arg(long)]
    pub check: bool,
    /// With --check: the importer key to check (default: your own).
    #[arg(long, value_name = "KEY", requires = "check")]
    pub importer: Option<String>,
    /// Where the statements go (--out writes every derived statement, signed, one JSON
    /// line each, without reading the log).
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum receipt`.
#[derive(Debug, Args)]
pub struct ReceiptArgs {
    /// What to do with a receipt.
    #[command(subcommand)]
    pub command: ReceiptCommand,
}

/// `quorum receipt` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Re-verify a saved receipt offline: the logged entry carries the envelope, and the
    /// tlog-proof includes it under a checkpoint signed by the policy's log key and
    /// cosigned by its witness quorum.
    Verify {
        /// The receipt file (`receipts/<envelope digest>.json` in the state directory).
        file: PathBuf,
    },
}

/// `quorum keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key name used in the signed-note key strings.
    #[arg(long, default_value = "quorum")]
    pub name: String,
    /// Overwrite an existing key file.
    #[arg(long)]
    pub force: bool,
}

/// `quorum init`. The log's URL is the global `--log`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The log's origin line (e.g. `quorum.example/log`); a placeholder if not given.
    #[arg(long)]
    pub origin: Option<String>,
    /// The log's signed-note verifier key; a placeholder if not given.
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,
    /// A witness's cosignature verifier key (`name+id+base64`); repeat for each witness.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// How many of the witnesses must cosign (default: all of them).
    #[arg(long)]
    pub quorum: Option<usize>,
    /// Overwrite an existing policy file.
    #[arg(long)]
    pub force: bool,
    /// Start from a project's cargo-vet `supply-chain/` folder: create importer keys, trust
    /// them in the policy, import the project's `audits.toml` and `imports.lock` into the
    /// log, and report what `verify --lockfile` now allows (exemptions listed as such).
    #[arg(long, value_name = "DIR", requires_all = ["cargo_vet_source", "revision"])]
    pub from_cargo_vet: Option<PathBuf>,
    /// With --from-cargo-vet: the public URL of that folder (its files are named under it
    /// in every imported statement).
    #[arg(long, value_name = "URL", requires = "from_cargo_vet")]
    pub cargo_vet_source: Option<String>,
    /// With --from-cargo-vet: the commit the folder was taken at.
    #[arg(long, value_name = "COMMIT", requires = "from_cargo_vet")]
    pub revision: Option<String>,
    /// With --from-cargo-vet: the project's lockfile (default: `Cargo.lock` beside the
    /// folder, else inside it).
    #[arg(long, value_name = "FILE", requires = "from_cargo_vet")]
    pub lockfile: Option<PathBuf>,
    /// With --from-cargo-vet: the project's name, used for its importer keys' aliases
    /// (`<name>` for its audits, `<name>-imports` for its imports).
    #[arg(long, default_value = "project", requires = "from_cargo_vet")]
    pub project: String,
}

/// Where a signed statement goes.
#[derive(Debug, Args)]
pub struct PublishOpts {
    /// Write the signed envelope (DSSE JSON) to this file instead of submitting it
    /// (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sign and print the envelope, but do not submit it.
    #[arg(long)]
    pub dry_run: bool,
}

/// The artifact digest of a package version.
#[derive(Debug, Args)]
pub struct DigestOpts {
    /// Digest of the artifact as the registry serves it: 64 hex digits (SHA-256),
    /// `sha256:`, `sha384:` or `sha512:` and hex, or an SRI string such as npm's
    /// `sha512-<base64>`. SHA-1 is refused.
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
    /// Compute the digest from this artifact file (.crate, tarball, wheel…).
    #[arg(long, value_name = "FILE", conflicts_with = "digest")]
    pub artifact: Option<PathBuf>,
}

/// Audit verdicts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VerdictArg {
    /// The version meets the criteria.
    Pass,
    /// It does not: a veto for those who trust you.
    Fail,
}

/// `quorum attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The package version, e.g. pkg:cargo/serde@1.0.210.
    pub purl: String,
    /// The artifact digest.
    #[command(flatten)]
    pub digest: DigestOpts,
    /// The verdict.
    #[arg(long, value_enum)]
    pub verdict: VerdictArg,
    /// Criteria the audit covers, comma-separated (e.g. safe-to-deploy,safe-to-run).
    #[arg(long, value_delimiter = ',', required = true)]
    pub criteria: Vec<String>,
    /// Capabilities the version uses, comma-separated (build-script, crypto, environment,
    /// filesystem, native-code, network, proc-macro, process, unsafe-code), or `none`.
    #[arg(long, value_delimiter = ',')]
    pub capabilities: Option<Vec<String>>,
    /// Free-text notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum adopt`.
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The package version, e.g. pkg:cargo/serde@1.0.210 (or use --lockfile).
    #[arg(required_unless_present = "lockfile", conflicts_with = "lockfile")]
    pub purl: Option<String>,
    /// The artifact digest (with a purl).
    #[command(flatten)]
    pub digest: DigestOpts,
    /// Record every registry version this lockfile pins (Cargo.lock, package-lock.json,
    /// pnpm-lock.yaml, yarn.lock, poetry.lock, uv.lock, requirements.txt; told by content)
    /// with the digest it pins (SHA-256, SHA-384 or SHA-512). Git, path and URL
    /// dependencies, and versions pinned by SHA-1 or Yarn Berry's cache checksum only, are
    /// listed and skipped.
    #[arg(long, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,
    /// Record that you refuse the versions rather than run them.
    #[arg(long)]
    pub reject: bool,
    /// Free-text comment.
    #[arg(long)]
    pub comment: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// Trust levels.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// Withdraw earlier trust.
    None,
    /// Some trust.
    Low,
    /// More trust.
    Medium,
    /// Full trust.
    High,
}

/// `quorum trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The key: 64 hex digits, ed25519:<hex>, or a signed-note verifier key.
    #[arg(id = "trusted_key", value_name = "KEY")]
    pub key: String,
    /// How much you trust it.
    #[arg(long, value_enum, required_unless_present = "distrust")]
    pub level: Option<LevelArg>,
    /// Distrust the key: cut the edges through it for everyone who trusts you.
    #[arg(long, conflicts_with = "level")]
    pub distrust: bool,
    /// Limit the statement to one package (a purl without version).
    #[arg(long)]
    pub scope: Option<String>,
    /// Free-text comment.
    #[arg(long)]
    pub comment: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum advise`.
#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// The package, e.g. pkg:npm/left-pad (a version here is added to --affected).
    pub purl: String,
    /// The vulnerability ID, e.g. RUSTSEC-2025-0002 or MAL-2025-1234.
    pub vulnerability: String,
    /// The package is malicious (needs a MAL- ID or --alias MAL-…).
    #[arg(long)]
    pub malicious: bool,
    /// Other IDs of the vulnerability, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub alias: Vec<String>,
    /// Affected versions, comma-separated; none means every version not fixed.
    #[arg(long, value_delimiter = ',')]
    pub affected: Vec<String>,
    /// Versions that fix it, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub fixed: Vec<String>,
    /// What users should do (default: upgrade to the fixed version, or remove the package).
    #[arg(long)]
    pub action: Option<String>,
    /// Author of the advisory (default: your key).
    #[arg(long)]
    pub author: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The envelope digest (64 hex digits) of your statement to withdraw.
    pub digest: String,
    /// Why.
    #[arg(long)]
    pub reason: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum ownership-change`.
#[derive(Debug, Args)]
pub struct OwnershipChangeArgs {
    /// The package, e.g. pkg:npm/left-pad, or the first version under the new owners with
    /// its artifact's --digest or --artifact, e.g. pkg:npm/left-pad@1.4.0: that version and
    /// every later one in the ecosystem's version order are then covered.
    pub purl: String,
    /// The digest of the first version's artifact (with a versioned purl).
    #[command(flatten)]
    pub digest: DigestOpts,
    /// A previous owner: NAME, NAME=KEY or =KEY (repeatable; none if unknown).
    #[arg(long)]
    pub previous: Vec<String>,
    /// A new owner: NAME, NAME=KEY or =KEY (repeatable, at least one).
    #[arg(long = "new", required = true)]
    pub new_owners: Vec<String>,
    /// Free-text comment.
    #[arg(long)]
    pub comment: Option<String>,
    /// Where the statement goes.
    #[command(flatten)]
    pub publish: PublishOpts,
}

/// `quorum submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A DSSE envelope JSON file written by `--out`.
    pub envelope: PathBuf,
}

/// Where evidence comes from.
#[derive(Debug, Default, Args)]
pub struct SourceOpts {
    /// Decide offline from saved evidence (`quorum fetch --out`).
    #[arg(long, value_name = "FILE", conflicts_with = "mirror")]
    pub bundle: Option<PathBuf>,
    /// Decide from the local mirror (`quorum mirror`): completeness `complete`.
    #[arg(long)]
    pub mirror: bool,
    /// With --mirror: verify the signature of every loaded entry again, not only at sync.
    #[arg(long, requires = "mirror")]
    pub recheck_signatures: bool,
}

/// `quorum verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The package version, e.g. pkg:cargo/serde@1.0.210 (or use --lockfile).
    #[arg(required_unless_present = "lockfile", conflicts_with = "lockfile")]
    pub purl: Option<String>,
    /// Verify every version this lockfile pins, each bound to the artifact it pins (its
    /// checksum or integrity hash); git, URL and patched entries are not registry artifacts
    /// (insufficient-evidence), path entries (the project's own code) are listed, not decided.
    #[arg(long, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,
    /// Show only the decisions that are not `allow` (the summary still counts every one).
    #[arg(long)]
    pub only_failing: bool,
    /// Where evidence comes from.
    #[command(flatten)]
    pub source: SourceOpts,
}

/// `quorum explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The package version, e.g. pkg:cargo/serde@1.0.210.
    pub purl: String,
    /// Where evidence comes from.
    #[command(flatten)]
    pub source: SourceOpts,
}

/// `quorum fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The packages, e.g. pkg:cargo/serde (a version is ignored: the evidence covers them
    /// all), with the whole trust graph.
    #[arg(required = true)]
    pub purls: Vec<String>,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `quorum mirror`.
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}
