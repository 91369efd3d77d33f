//! Key files: a signed-note signer key string (`PRIVATE+KEY+name+keyid+base64`) in a file
//! only its owner can read.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use quorum_c2sp::note::Ed25519Signer;
use serde_json::json;

use crate::cli::{Global, KeygenArgs};
use crate::error::usage;
use crate::state::{State, create_private_dir, read_text};

/// `quorum keygen`: writes a fresh key (mode 0600, never overwriting without `--force`) and
/// prints its public parts.
pub fn keygen(global: &Global, args: &KeygenArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let path = state.key_path(global);
    if path.exists() && !args.force {
        return Err(usage(format!(
            "{} already exists; pass --force to replace it (the old key is lost) or --key to write elsewhere",
            path.display()
        )));
    }
    let signer = create_key(&path, &args.name)?;
    let public = signer.signing_key().verifying_key();
    let hex_key = hex::encode(public.as_bytes());
    if global.json {
        let out = json!({
            "key_file": path.display().to_string(),
            "public_key": hex_key,
            "subject": format!("ed25519:{hex_key}"),
            "verifier_key": signer.vkey(),
        });
        println!("{out}");
    } else {
        println!("key file:      {}", path.display());
        println!("public key:    {hex_key}");
        println!("verifier key:  {}", signer.vkey());
    }
    Ok(0)
}

/// Generates a key named `name` and writes it to `path` (mode 0600, its folder created
/// private), replacing what is there: callers check first.
pub fn create_key(path: &Path, name: &str) -> anyhow::Result<Ed25519Signer> {
    let signer = Ed25519Signer::generate(name)
        .map_err(|e| usage(format!("cannot create a key named {name:?}: {e}")))?;
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        create_private_dir(parent)?;
    }
    write_private(path, format!("{}\n", signer.skey()).as_bytes())?;
    Ok(signer)
}

/// Writes a secret file: created with mode 0600 before any byte is written.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(f);
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Loads the signing key, refusing files that others can read.
pub fn load_signer(global: &Global) -> anyhow::Result<Ed25519Signer> {
    let state = State::open(global)?;
    let path = state.key_path(global);
    if !path.exists() {
        return Err(usage(format!(
            "no key at {}; create one with `quorum keygen` or pass --key <file>",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(usage(format!(
                "key file {} is accessible by other users (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = read_text(&path, "key file", 4096)?;
    // The error never echoes the file's content: it is a secret.
    Ed25519Signer::from_skey(text.trim()).map_err(|e| {
        usage(format!(
            "{} is not a Quorum key file ({e}); create one with `quorum keygen`",
            path.display()
        ))
    })
}
