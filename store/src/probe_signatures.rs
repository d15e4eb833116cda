//! Reads and writes for `probe_signatures`: what vouches for each stored observation. A prober
//! with a key signs what it records; an import stores the signature it verified, or, under
//! `--allow-unsigned`, the import that let an unsigned line in, so an unsigned observation is
//! never mistaken for a signed one. An observation without a row was recorded in this database
//! by a prober without a key.
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
    /// Its prober's Ed25519 signature, base64.
    Signed(String),
    /// Stored unsigned by `probe import --allow-unsigned`: the import's id.
    UnsignedImport(String),
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = probe_signatures)]
struct ProofRow {
    prober: String,
    provider: String,
    time_ms: i64,
    signature: Option<String>,
    unsigned_import: Option<String>,
}

/// Stores each `(key, proof)` whose key has none yet; part of the caller's transaction.
pub(crate) fn insert_proofs(
    conn: &mut AnyConnection,
    proofs: &[(&ObservationKey, &Proof)],
) -> Result<(), StoreError> {
    for (key, proof) in proofs {
        let (signature, unsigned_import) = match proof {
            Proof::Signed(signature) => (Some(signature.clone()), None),
            Proof::UnsignedImport(import) => (None, Some(import.clone())),
        };
        let row = ProofRow {
            prober: key.prober.clone(),
            provider: key.provider.clone(),
            time_ms: key.time_ms,
            signature,
            unsigned_import,
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
            let proof = match (row.signature, row.unsigned_import) {
                (Some(signature), None) => Proof::Signed(signature),
                (None, Some(import)) => Proof::UnsignedImport(import),
                _ => {
                    return Err(StoreError::Corrupt {
                        what: format!(
                            "proof of {} / {} at {}",
                            key.prober, key.provider, key.time_ms
                        ),
                        problem: "neither or both of a signature and an unsigned import".into(),
                    })
                }
            };
            Ok((key, proof))
        })
        .collect()
}
