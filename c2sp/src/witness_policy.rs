//! C2SP transparency-log trust policies (<https://c2sp.org/tlog-policy>): which logs are
//! trusted, which witnesses, and the quorum of witness cosignatures a checkpoint needs.
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```
//!
//! Items are separated by spaces and tabs; blank lines and `#` comment lines are ignored.
//! Groups and the quorum may only name witnesses and groups defined on earlier lines, each
//! member at most once, with `1 <= k <= n`; exactly one `quorum` line is required. Every
//! error names the 1-based line it was found on.
//!
//! Quorum restrictions and extensions (see `spec/notes-checkpoints-witnessing.md`):
//! * The file must be UTF-8 (the spec allows opaque high-bit octets; names are still compared
//!   byte for byte, without normalization).
//! * Sigsum's dialect is accepted: a key written as 64 hex digits is a raw Ed25519 key. For
//!   a `log` line it becomes the type-0x01 vkey named by the Sigsum origin
//!   `sigsum.org/v1/tree/<hex SHA-256(key)>`; for a `witness` line it becomes the type-0x04
//!   cosigner key named by the witness name.
//! * Witness vkeys of type 0x04, or 0x01 (key ID recomputed with 0x04), are verified;
//!   ML-DSA-44 (0x06) and 0xff witness keys are accepted but can never be counted, since this
//!   implementation cannot verify them. Log vkeys of type 0x01 and 0x04 are verified; other
//!   assigned types are accepted but cannot sign for a log here.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::{self, CosignatureError, CosignatureVerifier, VerifiedCosignature};
use crate::note::{
    self, KeyError, Note, NoteError, NoteSignature, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519,
    SIG_TYPE_MLDSA44, SIG_TYPE_UNASSIGNED, VerifierKey, Verifiers, VerifyingKey,
};

/// Largest policy file accepted, in bytes.
pub const MAX_POLICY_SIZE: usize = 1 << 20;
/// Most `log` lines accepted.
pub const MAX_LOGS: usize = 1024;
/// Most `witness` lines accepted.
pub const MAX_WITNESSES: usize = 1024;
/// Most `group` lines accepted.
pub const MAX_GROUPS: usize = 1024;

/// Prefix of Sigsum log origins; the hex SHA-256 of the log's Ed25519 key follows.
pub const SIGSUM_ORIGIN_PREFIX: &str = "sigsum.org/v1/tree/";

/// A policy parse error, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {kind}")]
pub struct PolicyError {
    /// 1-based line number (0 for whole-file errors such as size or a missing quorum).
    pub line: usize,
    /// What is wrong.
    pub kind: PolicyErrorKind,
}

/// What is wrong in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyErrorKind {
    /// The file exceeds [`MAX_POLICY_SIZE`].
    #[error("policy is larger than {0} bytes")]
    TooLarge(usize),
    /// A control character other than tab and newline.
    #[error("forbidden byte {0:#04x}")]
    ForbiddenByte(u8),
    /// The line is not UTF-8.
    #[error("line is not valid UTF-8")]
    NotUtf8,
    /// The line starts with an unknown keyword.
    #[error("unknown keyword {0:?} (expected log, witness, group or quorum)")]
    UnknownKeyword(String),
    /// Wrong number of items for the keyword.
    #[error("expected {0}")]
    Arity(&'static str),
    /// A key could not be parsed.
    #[error("bad key: {0}")]
    Key(KeyError),
    /// A key of a type that cannot serve this role.
    #[error("a {role} key cannot have signature type {key_type:#04x}")]
    KeyType {
        /// `log` or `witness`.
        role: &'static str,
        /// The type byte.
        key_type: u8,
    },
    /// Two logs wrap the same public key.
    #[error("duplicate log key (same public key as line {0})")]
    DuplicateLog(usize),
    /// Two witnesses wrap the same public key.
    #[error("duplicate witness key (same public key as line {0})")]
    DuplicateWitness(usize),
    /// A witness or group name is defined twice.
    #[error("name {name:?} already defined on line {first}")]
    DuplicateName {
        /// The name.
        name: String,
        /// Line of the first definition.
        first: usize,
    },
    /// `none` cannot be defined or used as a group member.
    #[error("the name `none` is reserved")]
    ReservedName,
    /// A name used before (or without) being defined.
    #[error("name {0:?} is not defined on a preceding line")]
    Undefined(String),
    /// The same member is listed twice in a group.
    #[error("member {0:?} listed twice")]
    DuplicateMember(String),
    /// The threshold is not `all`, `any` or a decimal number.
    #[error("threshold {0:?} is not all, any or a decimal number")]
    BadThreshold(String),
    /// The threshold is outside `1..=n`.
    #[error("threshold {k} is outside 1..={n}")]
    ThresholdRange {
        /// The threshold.
        k: u64,
        /// Number of members.
        n: usize,
    },
    /// A second quorum line.
    #[error("second quorum line (first on line {0})")]
    SecondQuorum(usize),
    /// No quorum line.
    #[error("policy has no quorum line")]
    MissingQuorum,
    /// Too many logs, witnesses or groups.
    #[error("more than {max} {what}")]
    TooMany {
        /// What.
        what: &'static str,
        /// The limit.
        max: usize,
    },
}

/// A log the policy trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's verifier key; its name is the log's origin.
    pub key: VerifierKey,
    /// Optional URL.
    pub url: Option<String>,
    /// Line it was defined on.
    pub line: usize,
}

/// A witness the policy knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The policy-local name.
    pub name: String,
    /// The witness's verifier key.
    pub key: VerifierKey,
    /// Optional URL.
    pub url: Option<String>,
    /// Line it was defined on.
    pub line: usize,
    /// Cosignature verifier, if the key type is supported.
    verifier: Option<CosignatureVerifier>,
}

impl PolicyWitness {
    /// The cosignature verifier, or `None` if this key type cannot be verified here.
    pub fn verifier(&self) -> Option<&CosignatureVerifier> {
        self.verifier.as_ref()
    }
}

/// A k-of-n group of witnesses and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGroup {
    /// The policy-local name.
    pub name: String,
    /// Members that must witness (k).
    pub threshold: usize,
    /// Member names (witnesses or earlier groups).
    pub members: Vec<String>,
    /// Line it was defined on.
    pub line: usize,
}

/// The quorum rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumRule {
    /// `quorum none`: no cosignature required.
    None,
    /// A witness or group that must witness the checkpoint.
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Witness(usize),
    Group(usize),
}

/// A parsed, validated trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<PolicyGroup>,
    /// Resolved members of each group.
    group_nodes: Vec<Vec<Node>>,
    quorum: QuorumRule,
    quorum_node: Option<Node>,
}

/// Why a checkpoint does not satisfy a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyCheckError {
    /// The note or checkpoint text is malformed, or a log signature failed.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// No policy log has a key named after this origin that can verify signatures.
    #[error("no trusted log with a usable key for origin {0:?}")]
    UnknownLog(String),
    /// No trusted log signature verified.
    #[error("checkpoint for {0:?} carries no valid signature from a trusted log key")]
    NotSignedByLog(String),
    /// A cosignature from a known witness failed.
    #[error("{0}")]
    Cosignature(#[from] CosignatureError),
    /// The verified cosignatures do not meet the quorum.
    #[error("witness quorum not satisfied (cosigned by: {cosigned:?})")]
    QuorumNotSatisfied {
        /// Policy names of the witnesses whose cosignatures verified.
        cosigned: Vec<String>,
    },
}

/// A checkpoint that satisfies a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVerifiedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The parsed note with every signature.
    pub note: Note,
    /// The trusted log key whose signature verified.
    pub log_key: VerifierKey,
    /// The log's verified signature.
    pub log_signature: NoteSignature,
    /// Verified cosignatures from policy witnesses, with each witness's policy name.
    pub cosignatures: Vec<(String, VerifiedCosignature)>,
}

fn err(line: usize, kind: PolicyErrorKind) -> PolicyError {
    PolicyError { line, kind }
}

/// The Sigsum origin of a log with this Ed25519 key: `sigsum.org/v1/tree/<hex SHA-256(key)>`.
pub fn sigsum_origin(key: &[u8; 32]) -> String {
    format!("{SIGSUM_ORIGIN_PREFIX}{}", hex::encode(Sha256::digest(key)))
}

/// The type-0x01 vkey of a Sigsum log with this Ed25519 key, named by its Sigsum origin.
pub fn sigsum_log_vkey(key: &[u8; 32]) -> Result<VerifierKey, KeyError> {
    let vk = VerifyingKey::from_bytes(key).map_err(|_| KeyError::InvalidPublicKey)?;
    VerifierKey::parse(&note::format_ed25519_vkey(
        &sigsum_origin(key),
        SIG_TYPE_ED25519,
        &vk,
    ))
}

fn parse_hex_key(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

fn parse_key(
    token: &str,
    sigsum_name: Option<&str>,
    line: usize,
) -> Result<VerifierKey, PolicyError> {
    let key_err = |e| err(line, PolicyErrorKind::Key(e));
    match parse_hex_key(token) {
        Some(raw) => match sigsum_name {
            None => sigsum_log_vkey(&raw).map_err(key_err),
            Some(name) => {
                let vk = VerifyingKey::from_bytes(&raw)
                    .map_err(|_| key_err(KeyError::InvalidPublicKey))?;
                VerifierKey::parse(&note::format_ed25519_vkey(
                    name,
                    SIG_TYPE_COSIGNATURE_V1,
                    &vk,
                ))
                .map_err(key_err)
            }
        },
        None => VerifierKey::parse(token).map_err(key_err),
    }
}

fn parse_threshold(s: &str, n: usize, line: usize) -> Result<usize, PolicyError> {
    let k = match s {
        "all" => return Ok(n),
        "any" => return Ok(1),
        _ => crate::checkpoint::parse_decimal_u64(s)
            .ok_or_else(|| err(line, PolicyErrorKind::BadThreshold(s.to_string())))?,
    };
    if k == 0 || k > n as u64 {
        return Err(err(line, PolicyErrorKind::ThresholdRange { k, n }));
    }
    Ok(k as usize)
}

impl WitnessPolicy {
    /// Parses and validates a policy file.
    pub fn parse(bytes: &[u8]) -> Result<WitnessPolicy, PolicyError> {
        if bytes.len() > MAX_POLICY_SIZE {
            return Err(err(0, PolicyErrorKind::TooLarge(MAX_POLICY_SIZE)));
        }
        let mut p = WitnessPolicy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            group_nodes: Vec::new(),
            quorum: QuorumRule::None,
            quorum_node: None,
        };
        let mut names: HashMap<String, (Node, usize)> = HashMap::new();
        let mut quorum_line = None;
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            if let Some(&b) = raw.iter().find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(err(line, PolicyErrorKind::ForbiddenByte(b)));
            }
            let text = std::str::from_utf8(raw).map_err(|_| err(line, PolicyErrorKind::NotUtf8))?;
            let items: Vec<&str> = text.split([' ', '\t']).filter(|s| !s.is_empty()).collect();
            let Some((&keyword, args)) = items.split_first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match keyword {
                "log" => {
                    let (key, url) = match args {
                        [k] => (*k, None),
                        [k, u] => (*k, Some(u.to_string())),
                        _ => return Err(err(line, PolicyErrorKind::Arity("log <vkey> [<url>]"))),
                    };
                    if p.logs.len() >= MAX_LOGS {
                        return Err(err(
                            line,
                            PolicyErrorKind::TooMany {
                                what: "logs",
                                max: MAX_LOGS,
                            },
                        ));
                    }
                    let key = parse_key(key, None, line)?;
                    if let Some(prev) = p.logs.iter().find(|l| l.key.public_key == key.public_key) {
                        return Err(err(line, PolicyErrorKind::DuplicateLog(prev.line)));
                    }
                    p.logs.push(PolicyLog { key, url, line });
                }
                "witness" => {
                    let (name, key, url) = match args {
                        [n, k] => (*n, *k, None),
                        [n, k, u] => (*n, *k, Some(u.to_string())),
                        _ => {
                            return Err(err(
                                line,
                                PolicyErrorKind::Arity("witness <name> <vkey> [<url>]"),
                            ));
                        }
                    };
                    if p.witnesses.len() >= MAX_WITNESSES {
                        return Err(err(
                            line,
                            PolicyErrorKind::TooMany {
                                what: "witnesses",
                                max: MAX_WITNESSES,
                            },
                        ));
                    }
                    define(&names, name, line)?;
                    let key = parse_key(key, Some(name), line)?;
                    let verifier = match key.key_type {
                        SIG_TYPE_ED25519 | SIG_TYPE_COSIGNATURE_V1 => Some(
                            CosignatureVerifier::from_key(&key)
                                .map_err(|e| err(line, PolicyErrorKind::Key(e)))?,
                        ),
                        SIG_TYPE_MLDSA44 | SIG_TYPE_UNASSIGNED => None,
                        other => {
                            return Err(err(
                                line,
                                PolicyErrorKind::KeyType {
                                    role: "witness",
                                    key_type: other,
                                },
                            ));
                        }
                    };
                    if let Some(prev) = p
                        .witnesses
                        .iter()
                        .find(|w| w.key.public_key == key.public_key)
                    {
                        return Err(err(line, PolicyErrorKind::DuplicateWitness(prev.line)));
                    }
                    names.insert(name.to_string(), (Node::Witness(p.witnesses.len()), line));
                    p.witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        key,
                        url,
                        line,
                        verifier,
                    });
                }
                "group" => {
                    let [name, threshold, members @ ..] = args else {
                        return Err(err(
                            line,
                            PolicyErrorKind::Arity("group <name> all|any|<k> <member>..."),
                        ));
                    };
                    if members.is_empty() {
                        return Err(err(
                            line,
                            PolicyErrorKind::Arity("group <name> all|any|<k> <member>..."),
                        ));
                    }
                    if p.groups.len() >= MAX_GROUPS {
                        return Err(err(
                            line,
                            PolicyErrorKind::TooMany {
                                what: "groups",
                                max: MAX_GROUPS,
                            },
                        ));
                    }
                    define(&names, name, line)?;
                    let threshold = parse_threshold(threshold, members.len(), line)?;
                    let mut nodes = Vec::with_capacity(members.len());
                    for (j, m) in members.iter().enumerate() {
                        if *m == "none" {
                            return Err(err(line, PolicyErrorKind::ReservedName));
                        }
                        if members[..j].contains(m) {
                            return Err(err(line, PolicyErrorKind::DuplicateMember(m.to_string())));
                        }
                        let (node, _) = names
                            .get(*m)
                            .ok_or_else(|| err(line, PolicyErrorKind::Undefined(m.to_string())))?;
                        nodes.push(*node);
                    }
                    names.insert(name.to_string(), (Node::Group(p.groups.len()), line));
                    p.groups.push(PolicyGroup {
                        name: name.to_string(),
                        threshold,
                        members: members.iter().map(|m| m.to_string()).collect(),
                        line,
                    });
                    p.group_nodes.push(nodes);
                }
                "quorum" => {
                    let [name] = args else {
                        return Err(err(line, PolicyErrorKind::Arity("quorum <name>")));
                    };
                    if let Some(first) = quorum_line {
                        return Err(err(line, PolicyErrorKind::SecondQuorum(first)));
                    }
                    quorum_line = Some(line);
                    if *name == "none" {
                        p.quorum = QuorumRule::None;
                    } else {
                        let (node, _) = names.get(*name).ok_or_else(|| {
                            err(line, PolicyErrorKind::Undefined(name.to_string()))
                        })?;
                        p.quorum = QuorumRule::Name(name.to_string());
                        p.quorum_node = Some(*node);
                    }
                }
                other => {
                    return Err(err(
                        line,
                        PolicyErrorKind::UnknownKeyword(other.to_string()),
                    ));
                }
            }
        }
        if quorum_line.is_none() {
            return Err(err(0, PolicyErrorKind::MissingQuorum));
        }
        Ok(p)
    }

    /// The trusted logs.
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The known witnesses.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// The groups, in definition order.
    pub fn groups(&self) -> &[PolicyGroup] {
        &self.groups
    }

    /// The quorum rule.
    pub fn quorum(&self) -> &QuorumRule {
        &self.quorum
    }

    /// Note verifiers for the trusted logs whose key name equals `origin` (the spec requires
    /// a log's key name to be its origin) and whose key type can be verified here.
    pub fn log_verifiers(&self, origin: &str) -> Verifiers {
        let mut v = Verifiers::new();
        for log in self.logs.iter().filter(|l| l.key.name == origin) {
            if let Ok(verifier) = log.key.verifier() {
                v.add(verifier);
            }
        }
        v
    }

    /// Cosignature verifiers for every witness whose key type is supported.
    pub fn cosignature_verifiers(&self) -> Vec<CosignatureVerifier> {
        self.witnesses
            .iter()
            .filter_map(|w| w.verifier.clone())
            .collect()
    }

    /// Reports whether the quorum is met when exactly the witnesses with these policy names
    /// have witnessed the checkpoint. Unknown names are ignored.
    pub fn is_satisfied_by_names<S: AsRef<str>>(&self, witnessed: &[S]) -> bool {
        let w: Vec<bool> = self
            .witnesses
            .iter()
            .map(|x| witnessed.iter().any(|n| n.as_ref() == x.name))
            .collect();
        self.evaluate_flags(&w)
    }

    /// Reports whether verified cosignatures meet the quorum. Each cosignature counts for the
    /// witness whose cosignature key has its name and key ID.
    pub fn is_satisfied(&self, cosignatures: &[VerifiedCosignature]) -> bool {
        let w: Vec<bool> = self
            .witnesses
            .iter()
            .map(|x| match &x.verifier {
                Some(v) => cosignatures.iter().any(|c| {
                    c.name == note::NoteVerifier::name(v)
                        && c.key_id == note::NoteVerifier::key_id(v)
                }),
                None => false,
            })
            .collect();
        self.evaluate_flags(&w)
    }

    fn evaluate_flags(&self, witnesses: &[bool]) -> bool {
        // Groups only reference earlier names, so one pass in definition order suffices.
        let mut groups: Vec<bool> = Vec::with_capacity(self.groups.len());
        for (g, nodes) in self.groups.iter().zip(&self.group_nodes) {
            let met = nodes
                .iter()
                .filter(|n| match n {
                    Node::Witness(i) => witnesses.get(*i).copied().unwrap_or(false),
                    Node::Group(i) => groups.get(*i).copied().unwrap_or(false),
                })
                .count();
            groups.push(met >= g.threshold);
        }
        match self.quorum_node {
            None => true,
            Some(Node::Witness(i)) => witnesses.get(i).copied().unwrap_or(false),
            Some(Node::Group(i)) => groups.get(i).copied().unwrap_or(false),
        }
    }

    /// Verifies a signed checkpoint against the policy: a trusted log named after the origin
    /// signed it, every cosignature from a known witness verifies, and the quorum is met.
    pub fn verify_checkpoint(
        &self,
        note_bytes: &[u8],
    ) -> Result<PolicyVerifiedCheckpoint, PolicyCheckError> {
        let note = Note::parse(note_bytes).map_err(CheckpointError::from)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        let logs: Vec<&PolicyLog> = self
            .logs
            .iter()
            .filter(|l| l.key.name == checkpoint.origin)
            .collect();
        let mut log_match: Option<(VerifierKey, NoteSignature)> = None;
        let mut usable = false;
        for log in logs {
            let Ok(v) = log.key.verifier() else { continue };
            usable = true;
            for sig in note
                .signatures
                .iter()
                .filter(|s| s.name == v.name() && s.key_id == v.key_id())
            {
                if !v.verify(note.text.as_bytes(), &sig.signature) {
                    return Err(CheckpointError::Note(NoteError::InvalidSignature {
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                    })
                    .into());
                }
                log_match.get_or_insert_with(|| (log.key.clone(), sig.clone()));
            }
        }
        if !usable {
            return Err(PolicyCheckError::UnknownLog(checkpoint.origin));
        }
        let Some((log_key, log_signature)) = log_match else {
            return Err(PolicyCheckError::NotSignedByLog(checkpoint.origin));
        };
        let verified = cosignature::verify_cosignatures(&note, &self.cosignature_verifiers())?;
        let cosignatures: Vec<(String, VerifiedCosignature)> = verified
            .into_iter()
            .filter_map(|c| {
                self.witnesses
                    .iter()
                    .find(|w| {
                        w.verifier.as_ref().is_some_and(|v| {
                            note::NoteVerifier::name(v) == c.name
                                && note::NoteVerifier::key_id(v) == c.key_id
                        })
                    })
                    .map(|w| (w.name.clone(), c))
            })
            .collect();
        let names: Vec<String> = cosignatures.iter().map(|(n, _)| n.clone()).collect();
        if !self.is_satisfied_by_names(&names) {
            return Err(PolicyCheckError::QuorumNotSatisfied { cosigned: names });
        }
        Ok(PolicyVerifiedCheckpoint {
            checkpoint,
            note,
            log_key,
            log_signature,
            cosignatures,
        })
    }
}

fn define(
    names: &HashMap<String, (Node, usize)>,
    name: &str,
    line: usize,
) -> Result<(), PolicyError> {
    if name == "none" {
        return Err(err(line, PolicyErrorKind::ReservedName));
    }
    if let Some((_, first)) = names.get(name) {
        return Err(err(
            line,
            PolicyErrorKind::DuplicateName {
                name: name.to_string(),
                first: *first,
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::CosignatureSigner;
    use crate::note::Ed25519Signer;

    struct Fixture {
        log: Ed25519Signer,
        witnesses: Vec<CosignatureSigner>,
        policy: String,
    }

    fn fixture() -> Fixture {
        let log = Ed25519Signer::from_seed("example.com/log", &[1; 32]).expect("k");
        let witnesses: Vec<CosignatureSigner> = (0..6u8)
            .map(|i| CosignatureSigner::from_seed(&format!("w{i}.example"), &[10 + i; 32]))
            .collect::<Result<_, _>>()
            .expect("k");
        let mut policy = format!("log {}\n\n", log.vkey());
        for (i, w) in witnesses.iter().enumerate() {
            let n = if i < 3 {
                format!("X{}", i + 1)
            } else {
                format!("Y{}", i - 2)
            };
            policy.push_str(&format!(
                "witness {n}\t{} https://w{i}.example/\n",
                w.vkey()
            ));
        }
        policy.push_str(
            "group X-witnesses 2 X1 X2 X3\n  # comment\ngroup Y-witnesses any Y1 Y2 Y3\n\
             group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
        );
        Fixture {
            log,
            witnesses,
            policy,
        }
    }

    #[test]
    fn example_semantics() {
        let f = fixture();
        let p = WitnessPolicy::parse(f.policy.as_bytes()).expect("parse");
        assert_eq!(p.logs().len(), 1);
        assert_eq!(p.witnesses().len(), 6);
        assert_eq!(p.groups()[2].threshold, 2);
        assert!(!p.is_satisfied_by_names(&["X1", "X2"]));
        assert!(!p.is_satisfied_by_names(&["X1", "Y1", "Y2"]));
        assert!(p.is_satisfied_by_names(&["X1", "X3", "Y3"]));
        assert!(p.is_satisfied_by_names(&["X1", "X2", "X3", "Y1", "Y2", "Y3"]));

        let cp = "example.com/log\n5\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n";
        let signed = note::sign(cp, &[&f.log]).expect("sign");
        let at = |idx: &[usize]| {
            let signers: Vec<_> = idx.iter().map(|&i| f.witnesses[i].at(1000)).collect();
            let refs: Vec<&dyn note::NoteSigner> =
                signers.iter().map(|s| s as &dyn note::NoteSigner).collect();
            note::add_signatures(&signed, &refs).expect("cosign")
        };
        assert!(matches!(
            p.verify_checkpoint(&at(&[0, 3])),
            Err(PolicyCheckError::QuorumNotSatisfied { .. })
        ));
        let ok = p.verify_checkpoint(&at(&[0, 2, 4])).expect("quorum");
        assert_eq!(ok.cosignatures.len(), 3);
        assert_eq!(ok.checkpoint.size, 5);
        // Wrong origin: unknown log.
        let other = note::sign(
            "example.com/other\n5\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n",
            &[&f.log],
        )
        .expect("sign");
        assert!(matches!(
            p.verify_checkpoint(&other),
            Err(PolicyCheckError::UnknownLog(_))
        ));
        // Quorum none.
        let none = WitnessPolicy::parse(format!("log {}\nquorum none\n", f.log.vkey()).as_bytes())
            .expect("none");
        assert!(none.verify_checkpoint(&signed).is_ok());
        assert_eq!(none.log_verifiers("example.com/log").len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let f = fixture();
        let w0 = f.witnesses[0].vkey();
        let w1 = f.witnesses[1].vkey();
        let cases: Vec<(String, usize)> = vec![
            (String::new(), 0),
            ("# only a comment\n".into(), 0),
            (format!("witness a {w0}\nquorum b\n"), 2),
            (format!("witness a {w0}\nquorum a\nquorum a\n"), 3),
            (format!("witness a {w0}\nwitness a {w1}\nquorum a\n"), 2),
            (format!("witness a {w0}\nwitness b {w0}\nquorum a\n"), 2),
            (format!("witness none {w0}\nquorum none\n"), 1),
            (format!("witness a {w0}\ngroup g 2 a\nquorum g\n"), 2),
            (format!("witness a {w0}\ngroup g 0 a\nquorum g\n"), 2),
            (format!("witness a {w0}\ngroup g 01 a\nquorum g\n"), 2),
            (format!("witness a {w0}\ngroup g all a a\nquorum g\n"), 2),
            (format!("witness a {w0}\ngroup g all\nquorum g\n"), 2),
            (format!("witness a {w0}\ngroup g all a none\nquorum g\n"), 2),
            (
                format!("witness a {w0}\ngroup g any b\nwitness b {w1}\nquorum g\n"),
                2,
            ),
            (format!("witness a {w0}\r\nquorum a\n"), 1),
            (format!("witness a {w0}\nfoo bar\nquorum a\n"), 2),
            ("witness a\nquorum a\n".into(), 1),
            (format!("witness a {w0} url extra\nquorum a\n"), 1),
            ("log not-a-key\nquorum none\n".into(), 1),
            (
                format!("log {}\nlog {}\nquorum none\n", f.log.vkey(), f.log.vkey()),
                2,
            ),
            ("quorum\n".into(), 1),
            ("# x\n\u{0}quorum none\n".into(), 2),
            (
                format!("witness a {w0}\ngroup g 99999999999999999999999 a\nquorum g\n"),
                2,
            ),
        ];
        for (text, line) in cases {
            let e = WitnessPolicy::parse(text.as_bytes()).expect_err(&text);
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
        assert_eq!(
            WitnessPolicy::parse(b"quorum none\n\xff\n")
                .expect_err("utf8")
                .kind,
            PolicyErrorKind::NotUtf8
        );
    }

    #[test]
    fn sigsum_dialect() {
        let log = Ed25519Signer::from_seed("x", &[0x42; 32]).expect("k");
        let log_key = log.verifier().public_key().to_bytes();
        let w = CosignatureSigner::from_seed("w.example", &[3; 32]).expect("k");
        let text = format!(
            "log {} https://log.example\nwitness w.example {}\nquorum w.example\n",
            hex::encode(log_key),
            hex::encode(w.verifier().public_key().to_bytes())
        );
        let p = WitnessPolicy::parse(text.as_bytes()).expect("parse");
        assert_eq!(p.logs()[0].key.name, sigsum_origin(&log_key));
        assert_eq!(p.logs()[0].url.as_deref(), Some("https://log.example"));
        assert_eq!(p.witnesses()[0].key.to_string(), w.vkey());
    }
}
