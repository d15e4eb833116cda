//! Signed observations: which vantage point said what, provably.
//!
//! Uptime decides who is paid, and observations travel between databases (`probe export` and
//! `probe import`) and into published reports. Without a proof of origin anyone who can get a
//! line into an import can make a provider look online. So every prober holds an Ed25519 key
//! (`probe keygen`), the programme names each vantage point with its public key
//! (`[[prober.vantage]]`), and each observation carries its prober's signature over
//! [`signed_bytes`]: an import or an auditor checks it against the named key, and an edit of
//! any signed field after signing shows.
//!
//! **What is signed** is what decides a measurement, in the exchange format's terms: the prober
//! id, the provider, the time in unix milliseconds, online or not, the error kind (not its
//! message), and per node with GPUs its model, memory, interface and sanitised counts. Latency,
//! the error message and what stays local (node names, raw values, version) are not: they explain
//! a number but do not change it. The bytes are the compact JSON array
//! `["akash-incentives/observation/v1", prober, provider, time_ms, online, error_kind,
//! [[model, ram, interface, allocatable, allocated], …]]`, so they have one spelling.
//!
//! **Keys** are text: a public key is `ed25519:<base64 of 32 bytes>`, a key file holds one line
//! `ed25519-secret:<base64 of the 32-byte seed>`. Signatures are the base64 of 64 bytes.
//! Verification follows ZIP 215 (`ed25519-consensus`), so every verifier agrees on every
//! signature.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use domain::UnixMs;
use ed25519_consensus::{Signature, SigningKey, VerificationKey};
use thiserror::Error;

use crate::jsonl::{split_error_kind, ObservationLine};

/// How a public key's text starts.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";
/// How a key file's line starts.
const SECRET_PREFIX: &str = "ed25519-secret:";
/// The first element of every signed array: a signature over anything else never verifies here.
const DOMAIN: &str = "akash-incentives/observation/v1";

/// Why a key could not be made, read or used.
#[derive(Debug, Error)]
pub enum SigningError {
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The key file or a public key is not in the documented form.
    #[error("{what}: {problem}")]
    Malformed {
        /// Which key.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// The operating system gave no randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    Randomness(String),
    /// The observation cannot be encoded (its time is not RFC 3339).
    #[error("cannot sign the observation: {0}")]
    Unsignable(String),
}

/// A prober's private key.
pub struct ProberKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ProberKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProberKey")
            .field("public_key", &self.public_key())
            .finish()
    }
}

impl ProberKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, SigningError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| SigningError::Randomness(e.to_string()))?;
        Ok(ProberKey {
            signing: SigningKey::from(seed),
        })
    }

    /// Writes a new key to `path`, which must not exist yet (a key is never overwritten), readable
    /// by its owner only.
    pub fn write_new(path: &Path) -> Result<Self, SigningError> {
        let key = ProberKey::generate()?;
        let io = |source| SigningError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        let line = format!(
            "{SECRET_PREFIX}{}\n",
            STANDARD.encode(key.signing.as_bytes())
        );
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(key)
    }

    /// Reads the key file at `path` (see the module docs).
    pub fn read(path: &Path) -> Result<Self, SigningError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            let hint = if source.kind() == std::io::ErrorKind::NotFound {
                " (make it with `akash-incentives probe keygen --out FILE`)"
            } else {
                ""
            };
            SigningError::Io {
                path: format!("prober key file {}{hint}", path.display()),
                source,
            }
        })?;
        let malformed = |problem: &str| SigningError::Malformed {
            what: path.display().to_string(),
            problem: problem.to_owned(),
        };
        let encoded = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            malformed("not a key file: expected one line ed25519-secret:<base64>")
        })?;
        let seed: [u8; 32] = decode_exactly(encoded)
            .ok_or_else(|| malformed("the secret is not the base64 of 32 bytes"))?;
        Ok(ProberKey {
            signing: SigningKey::from(seed),
        })
    }

    /// The public key, as the configuration names it: `ed25519:<base64>`.
    pub fn public_key(&self) -> String {
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.signing.verification_key().to_bytes())
        )
    }

    /// The signature of `line` ([`signed_bytes`]), base64.
    pub fn sign(&self, line: &ObservationLine) -> Result<String, SigningError> {
        let bytes = signed_bytes(line).map_err(SigningError::Unsignable)?;
        Ok(STANDARD.encode(self.signing.sign(&bytes).to_bytes()))
    }
}

/// Why a line's signature does not vouch for it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureProblem {
    /// The line's prober is not a vantage point of the programme.
    #[error("prober {0:?} is not a vantage point of this programme")]
    UnknownProber(String),
    /// The line carries no signature.
    #[error("the observation is not signed")]
    Missing,
    /// The signature is malformed, or not its prober's over this content.
    #[error("the signature does not verify: {0}")]
    Bad(String),
}

/// The programme's vantage points: prober id → public key.
#[derive(Debug, Clone, Default)]
pub struct Vantages {
    keys: BTreeMap<String, VerificationKey>,
}

impl Vantages {
    /// The vantage points named by `(id, public key text)` pairs.
    pub fn new<'a>(
        named: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SigningError> {
        let mut keys = BTreeMap::new();
        for (id, text) in named {
            keys.insert(id.to_owned(), parse_public_key(text, id)?);
        }
        Ok(Vantages { keys })
    }

    /// Checks that `signature` is `line`'s prober's signature over it.
    pub fn check(
        &self,
        line: &ObservationLine,
        signature: Option<&str>,
    ) -> Result<(), SignatureProblem> {
        let key = self
            .keys
            .get(&line.prober)
            .ok_or_else(|| SignatureProblem::UnknownProber(line.prober.clone()))?;
        let signature = signature.ok_or(SignatureProblem::Missing)?;
        let bytes: [u8; 64] = decode_exactly(signature)
            .ok_or_else(|| SignatureProblem::Bad("not the base64 of 64 bytes".into()))?;
        let message = signed_bytes(line).map_err(SignatureProblem::Bad)?;
        key.verify(&Signature::from(bytes), &message).map_err(|_| {
            SignatureProblem::Bad(format!(
                "not {}'s signature over this observation",
                line.prober
            ))
        })
    }
}

/// `ed25519:<base64>` as a verification key; `id` names it in errors.
fn parse_public_key(text: &str, id: &str) -> Result<VerificationKey, SigningError> {
    let malformed = |problem: &str| SigningError::Malformed {
        what: format!("public key of vantage point {id:?}"),
        problem: problem.to_owned(),
    };
    let encoded = text
        .strip_prefix(PUBLIC_KEY_PREFIX)
        .ok_or_else(|| malformed("expected ed25519:<base64>"))?;
    let bytes: [u8; 32] =
        decode_exactly(encoded).ok_or_else(|| malformed("not the base64 of 32 bytes"))?;
    VerificationKey::try_from(bytes).map_err(|_| malformed("not a valid Ed25519 public key"))
}

/// The `N` bytes `text` is the base64 of; `None` when it is not base64 or of another length.
fn decode_exactly<const N: usize>(text: &str) -> Option<[u8; N]> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
}

/// The bytes signed for `line` (see the module docs), or why its time cannot be read.
pub fn signed_bytes(line: &ObservationLine) -> Result<Vec<u8>, String> {
    let time_ms = UnixMs::parse_rfc3339(&line.time)
        .map_err(|e| e.to_string())?
        .as_millis();
    let error_kind = line.error.as_deref().and_then(split_error_kind);
    let gpus: Vec<_> = line
        .gpus
        .iter()
        .map(|g| (&g.model, &g.ram, &g.interface, g.allocatable, g.allocated))
        .collect();
    let signed = (
        DOMAIN,
        &line.prober,
        &line.provider,
        time_ms,
        line.online,
        error_kind,
        gpus,
    );
    serde_json::to_vec(&signed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonl::GpuLine;

    fn line() -> ObservationLine {
        ObservationLine {
            prober: "eu-1".into(),
            provider: "akash1provider".into(),
            time: "2024-02-15T00:15:00Z".into(),
            online: true,
            latency_ms: Some(120),
            error: None,
            gpus: vec![GpuLine {
                model: Some("a100".into()),
                ram: Some("80Gi".into()),
                interface: Some("sxm".into()),
                allocatable: 8,
                allocated: 3,
            }],
            signature: None,
        }
    }

    #[test]
    fn a_signature_verifies_until_a_signed_field_changes() {
        let key = ProberKey::generate().unwrap();
        let vantages = Vantages::new([("eu-1", key.public_key().as_str())]).unwrap();
        let signature = key.sign(&line()).unwrap();
        assert_eq!(vantages.check(&line(), Some(&signature)), Ok(()));
        // The same instant spelled otherwise, and unsigned fields, do not matter.
        let mut same = line();
        same.time = "2024-02-15T00:15:00.000Z".into();
        same.latency_ms = Some(999);
        assert_eq!(vantages.check(&same, Some(&signature)), Ok(()));
        let edits: [fn(&mut ObservationLine); 5] = [
            |l| l.online = false,
            |l| l.provider = "akash1other".into(),
            |l| l.time = "2024-02-15T00:15:01Z".into(),
            |l| l.gpus[0].allocatable = 9,
            |l| l.gpus[0].model = Some("h100".into()),
        ];
        for edit in edits {
            let mut edited = line();
            edit(&mut edited);
            assert!(matches!(
                vantages.check(&edited, Some(&signature)),
                Err(SignatureProblem::Bad(_))
            ));
        }
        assert_eq!(
            vantages.check(&line(), None),
            Err(SignatureProblem::Missing)
        );
        let mut stranger = line();
        stranger.prober = "us-9".into();
        assert_eq!(
            vantages.check(&stranger, Some(&signature)),
            Err(SignatureProblem::UnknownProber("us-9".into()))
        );
        // Another key's signature, and garbage, are bad signatures.
        let forged = ProberKey::generate().unwrap().sign(&line()).unwrap();
        assert!(matches!(
            vantages.check(&line(), Some(&forged)),
            Err(SignatureProblem::Bad(_))
        ));
        assert!(matches!(
            vantages.check(&line(), Some("AAAA")),
            Err(SignatureProblem::Bad(_))
        ));
    }

    #[test]
    fn a_key_file_round_trips_is_never_overwritten_and_bad_keys_are_named() {
        let dir = std::env::temp_dir().join(format!("prober-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("eu-1.key");
        let _ = std::fs::remove_file(&path);
        let written = ProberKey::write_new(&path).unwrap();
        assert_eq!(
            ProberKey::read(&path).unwrap().public_key(),
            written.public_key()
        );
        assert!(
            ProberKey::write_new(&path).is_err(),
            "an existing key was overwritten"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key file is readable by others");
        }
        std::fs::write(&path, "ed25519-secret:short\n").unwrap();
        assert!(matches!(
            ProberKey::read(&path),
            Err(SigningError::Malformed { .. })
        ));
        for bad in ["ed25519:AAAA", "rsa:AAAA", "ed25519:!!!"] {
            assert!(Vantages::new([("eu-1", bad)]).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
