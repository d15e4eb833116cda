//! Reads and writes for `probe_signatures`: what vouches for each stored observation. A prober
//! with a key signs what it records; an import stores the signature it verified with its own
//! id, or, under `--allow-unsigned`, only its id, so an unsigned observation is never mistaken
//! for a signed one. An observation without a row was recorded in this database by a prober
//! without a key.
//!
//! The signature of an imported line covers the counts its prober sent; when this database had
//! to clamp them, the GPU rows keep those as their raw values, so the signed line can always be
//! rebuilt (`uptime_prober::jsonl::ObservationLine::as_signed`).
//!
//! Rows are written in the same transaction as their observations
//! ([`crate::probes::insert_proven_observations`]); a row already stored for an observation is
//! kept (the first proof of an observation is the one that let it in).

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::probes::ObservationKey;
use crate::schema::probe_signatures;
use crate::{AnyConnection, StoreError};

/// What vouches for one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Recorded here, signed by its prober: the Ed25519 signature, base64, over the observation
    /// as stored.
    Signed(String),
    /// Taken in by an import that verified its signature: the signature, over the counts as its
    /// prober sent them (the raw values of its GPU rows), and the import's id.
    SignedImport {
        /// The signature, base64.
        signature: String,
        /// The import that took it in.
        import_id: String,
    },
    /// Taken in unsigned by `probe import --allow-unsigned`: the import's id.
    UnsignedImport(String),
}

impl Proof {
    /// The signature, when there is one.
    pub fn signature(&self) -> Option<&str> {
        match self {
            Proof::Signed(signature) | Proof::SignedImport { signature, .. } => Some(signature),
            Proof::UnsignedImport(_) => None,
        }
    }

    /// The import that took the observation in, when it was imported.
    pub fn import_id(&self) -> Option<&str> {
        match self {
            Proof::SignedImport { import_id, .. } | Proof::UnsignedImport(import_id) => {
                Some(import_id)
            }
            Proof::Signed(_) => None,
        }
    }

    /// The proof a signature and an import id make; `None` when neither is given.
    pub fn from_parts(signature: Option<String>, import_id: Option<String>) -> Option<Proof> {
        match (signature, import_id) {
            (Some(signature), None) => Some(Proof::Signed(signature)),
            (Some(signature), Some(import_id)) => Some(Proof::SignedImport {
                signature,
                import_id,
            }),
            (None, Some(import_id)) => Some(Proof::UnsignedImport(import_id)),
            (None, None) => None,
        }
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = probe_signatures)]
struct ProofRow {
    prober: String,
    provider: String,
    time_ms: i64,
    signature: Option<String>,
    import_id: Option<String>,
}

/// Stores each `(key, proof)` whose key has none yet; part of the caller's transaction.
pub(crate) fn insert_proofs(
    conn: &mut AnyConnection,
    proofs: &[(&ObservationKey, &Proof)],
) -> Result<(), StoreError> {
    for (key, proof) in proofs {
        let row = ProofRow {
            prober: key.prober.clone(),
            provider: key.provider.clone(),
            time_ms: key.time_ms,
            signature: proof.signature().map(str::to_owned),
            import_id: proof.import_id().map(str::to_owned),
        };
        // One statement a row: diesel has no multi-row `ON CONFLICT DO NOTHING` for SQLite.
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(probe_signatures::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// The proofs of the observations with `from_ms ≤ time ≤ to_ms`, by key.
pub fn proofs_between(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> Result<BTreeMap<ObservationKey, Proof>, StoreError> {
    let rows: Vec<ProofRow> = probe_signatures::table
        .filter(probe_signatures::time_ms.between(from_ms, to_ms))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let key = ObservationKey {
                prober: row.prober,
                provider: row.provider,
                time_ms: row.time_ms,
            };
            let proof = Proof::from_parts(row.signature, row.import_id).ok_or_else(|| {
                StoreError::Corrupt {
                    what: format!(
                        "proof of {} / {} at {}",
                        key.prober, key.provider, key.time_ms
                    ),
                    problem: "neither a signature nor an import".into(),
                }
            })?;
            Ok((key, proof))
        })
        .collect()
}
