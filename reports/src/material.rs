//! What an epoch was measured from, as published tables: the provider `registrations` and the
//! `leases` overlapping its window (the latter in the columns of `export leases`) and the probe
//! `observations` that could stand inside it
//! (every vantage point, in the fields of the observation exchange format). `verify` reads them
//! back into the store's row types and measures the epoch again with the same function the
//! settlement used ([`settlement::measure_material`]).

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

use domain::{ClassName, LeaseId, UnixMs};
use polars::prelude::DataFrame;
use rewards::programme::GpuClass;
use rewards::uptime::Observation;
use settlement::observations::class_counts;
use store::chain::{LeaseRow, RegistrationRow};
use store::probe_signatures::Proof;
use store::probes::{ObservationKey, ObservationRecord};
use uptime_prober::jsonl::{
    check_prober, check_provider, published_gpus, GpuLine, LineFields, ObservationLine,
};
use uptime_prober::signing::Vantages;

use crate::table::{Cell, ColumnSpec, Columns, Files, Kind, TableBuilder, TableError, TableSpec};

/// The `registrations` table: one row per span in which an address was a registered provider,
/// meeting the window. Empty creation cells mean registered before the indexed history; empty
/// deletion cells, still registered. Times are the block header's RFC 3339 text.
pub static REGISTRATIONS: TableSpec = TableSpec {
    name: "registrations",
    columns: &[
        ColumnSpec::required("owner", Kind::Text),
        ColumnSpec::optional("created_height", Kind::Int),
        ColumnSpec::optional("created_time", Kind::Text),
        ColumnSpec::optional("deleted_height", Kind::Int),
        ColumnSpec::optional("deleted_time", Kind::Text),
    ],
};

/// The `leases` table: the columns of `export leases`, in its order. Times are the block
/// header's RFC 3339 text, as the chain wrote it.
pub static LEASES: TableSpec = TableSpec {
    name: "leases",
    columns: &[
        ColumnSpec::required("owner", Kind::Text),
        ColumnSpec::required("dseq", Kind::Int),
        ColumnSpec::required("gseq", Kind::Int),
        ColumnSpec::required("oseq", Kind::Int),
        ColumnSpec::required("bseq", Kind::Int),
        ColumnSpec::required("provider", Kind::Text),
        ColumnSpec::optional("gpu_units", Kind::Int),
        ColumnSpec::optional("gpu_model", Kind::Text),
        ColumnSpec::optional("gpu_ram", Kind::Text),
        ColumnSpec::required("price_denom", Kind::Text),
        ColumnSpec::required("price_amount", Kind::Text),
        ColumnSpec::required("created_height", Kind::Int),
        ColumnSpec::required("created_time", Kind::Text),
        ColumnSpec::optional("closed_height", Kind::Int),
        ColumnSpec::optional("closed_time", Kind::Text),
        ColumnSpec::optional("close_cause", Kind::Text),
        ColumnSpec::optional("close_reason", Kind::Text),
    ],
};

/// The `observations` table: one row per observation, in the exchange format's fields; `gpus`
/// is the JSON array of that format (`[]` for none), with the counts that were measured.
/// `signature` is its prober's signature (`uptime_prober::signing`), checked by `verify` against
/// the programme's vantage points; `unsigned_import` is true for an unsigned observation that
/// `probe import --allow-unsigned` took in (both empty: recorded unsigned by a prober without a
/// key; the import's own id stays in the store, so the same store publishes the same bytes
/// whichever import ran). `signed_gpus`, only when it differs from `gpus`, is the array its
/// prober signed, which the importing database clamped to `gpus`. Rows are ordered by time, prober and provider, as
/// `probe export` writes them.
pub static OBSERVATIONS: TableSpec = TableSpec {
    name: "observations",
    columns: &[
        ColumnSpec::required("prober", Kind::Text),
        ColumnSpec::required("provider", Kind::Text),
        ColumnSpec::required("time", Kind::Text),
        ColumnSpec::required("online", Kind::Bool),
        ColumnSpec::optional("latency_ms", Kind::Int),
        ColumnSpec::optional("error", Kind::Text),
        ColumnSpec::required("gpus", Kind::Text),
        ColumnSpec::optional("signature", Kind::Text),
        ColumnSpec::optional("unsigned_import", Kind::Bool),
        ColumnSpec::optional("signed_gpus", Kind::Text),
    ],
};

/// `registrations` as the [`REGISTRATIONS`] table, ordered by owner and creation (a span from
/// before the indexed history first), which is each owner's order of lives.
pub fn registrations_frame(registrations: &[RegistrationRow]) -> DataFrame {
    let mut sorted: Vec<&RegistrationRow> = registrations.iter().collect();
    sorted.sort_by(|a, b| (&a.owner, a.created_time_ms).cmp(&(&b.owner, b.created_time_ms)));
    let mut table = TableBuilder::new(&REGISTRATIONS);
    for row in sorted {
        table.push([
            Cell::text(&row.owner),
            Cell::Int(row.created_height),
            Cell::opt_text(row.created_time.as_deref()),
            Cell::Int(row.deleted_height),
            Cell::opt_text(row.deleted_time.as_deref()),
        ]);
    }
    table.finish()
}

/// `leases` as the [`LEASES`] table, ordered by lease id (owner, dseq, gseq, oseq, provider,
/// bseq) here rather than by the database, whose text collation may differ between backends.
pub fn leases_frame(leases: &[LeaseRow]) -> DataFrame {
    let mut sorted: Vec<&LeaseRow> = leases.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut table = TableBuilder::new(&LEASES);
    for row in sorted {
        let id = &row.id;
        table.push([
            Cell::text(&id.owner),
            Cell::Int(Some(id.dseq)),
            Cell::Int(Some(i64::from(id.gseq))),
            Cell::Int(Some(i64::from(id.oseq))),
            Cell::Int(Some(i64::from(id.bseq))),
            Cell::text(&id.provider),
            Cell::Int(row.gpu_units),
            Cell::opt_text(row.gpu_model.as_deref()),
            Cell::opt_text(row.gpu_ram.as_deref()),
            Cell::text(&row.price_denom),
            Cell::text(row.price_amount.as_str()),
            Cell::Int(Some(row.created_height)),
            Cell::text(&row.created_time),
            Cell::Int(row.closed_height),
            Cell::opt_text(row.closed_time.as_deref()),
            Cell::opt_text(row.close_cause.as_deref()),
            Cell::opt_text(row.close_reason.as_deref()),
        ]);
    }
    table.finish()
}

/// `observations` as the [`OBSERVATIONS`] table, ordered by time, prober and provider, each
/// with its proof from `proofs`.
pub fn observations_frame(
    observations: &[ObservationRecord],
    proofs: &BTreeMap<ObservationKey, Proof>,
) -> DataFrame {
    let mut sorted: Vec<&ObservationRecord> = observations.iter().collect();
    sorted.sort_by(|a, b| {
        (a.key.time_ms, &a.key.prober, &a.key.provider).cmp(&(
            b.key.time_ms,
            &b.key.prober,
            &b.key.provider,
        ))
    });
    let mut table = TableBuilder::new(&OBSERVATIONS);
    for record in sorted {
        let line = ObservationLine::from_record(record);
        // A vector of plain structs always encodes.
        let encode = |gpus: &[GpuLine]| serde_json::to_string(gpus).unwrap_or_else(|_| "[]".into());
        let gpus = encode(&line.gpus);
        let proof = proofs.get(&record.key);
        // Only an import can have clamped what its prober signed.
        let signed_gpus = match proof {
            Some(p @ Proof::SignedImport { .. }) => {
                let signed = ObservationLine::as_signed(record, p).gpus;
                (signed != line.gpus).then(|| encode(&signed))
            }
            _ => None,
        };
        table.push([
            Cell::text(line.prober),
            Cell::text(line.provider),
            Cell::text(line.time),
            Cell::Bool(Some(line.online)),
            Cell::Int(line.latency_ms.and_then(|l| i64::try_from(l).ok())),
            Cell::opt_text(line.error),
            Cell::text(gpus),
            Cell::opt_text(proof.and_then(Proof::signature)),
            Cell::Bool(matches!(proof, Some(Proof::UnsignedImport(_))).then_some(true)),
            Cell::opt_text(signed_gpus.as_deref()),
        ]);
    }
    table.finish()
}

/// An epoch's material as `verify` reads it back from a report: the registrations and leases
/// as the store's rows, the observations in the rewards engine's form
/// ([`settlement::measure_observed`] measures them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedMaterial {
    /// The `registrations` table's rows.
    pub registrations: Vec<RegistrationRow>,
    /// The `leases` table's rows.
    pub leases: Vec<LeaseRow>,
    /// The `observations` table's rows, their GPUs counted per class.
    pub observations: Vec<Observation>,
}

/// Reads an epoch's [`PublishedMaterial`] from the `registrations`, `leases` and
/// `observations` tables of `files` (each checked in both forms, see [`crate::table::read`]),
/// counting the observations' GPUs per class of `classes`; every signed observation's
/// signature must be its prober's among `vantages`.
pub fn read_material(
    files: &mut Files,
    vantages: &Vantages,
    classes: &[GpuClass],
) -> Result<PublishedMaterial, TableError> {
    Ok(PublishedMaterial {
        registrations: read_registrations(files)?,
        leases: read_leases(files)?,
        observations: read_observations(files, vantages, classes)?,
    })
}

fn read_registrations(files: &mut Files) -> Result<Vec<RegistrationRow>, TableError> {
    let frame = files.table(&REGISTRATIONS)?;
    let file = files.folder().join(REGISTRATIONS.csv_file());
    let columns = Columns::new(&frame, &file);
    let (owner, created_time, deleted_time) = (
        columns.text("owner")?,
        columns.text("created_time")?,
        columns.text("deleted_time")?,
    );
    let (created_height, deleted_height) = (
        columns.int("created_height")?,
        columns.int("deleted_height")?,
    );
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let time = |name: &str, text: Option<&str>| {
            text.map(|text| {
                UnixMs::from_chain_time(text)
                    .map(|t| t.0)
                    .map_err(|e| columns.error(i, name, e))
            })
            .transpose()
        };
        let (created, deleted) = (created_time.get(i), deleted_time.get(i));
        rows.push(RegistrationRow {
            owner: owner.get(i).unwrap_or_default().to_owned(),
            created_height: created_height.get(i),
            created_time: created.map(str::to_owned),
            created_time_ms: time("created_time", created)?,
            deleted_height: deleted_height.get(i),
            deleted_time: deleted.map(str::to_owned),
            deleted_time_ms: time("deleted_time", deleted)?,
        });
    }
    Ok(rows)
}

fn read_leases(files: &mut Files) -> Result<Vec<LeaseRow>, TableError> {
    let frame = files.table(&LEASES)?;
    let file = files.folder().join(LEASES.csv_file());
    let columns = Columns::new(&frame, &file);
    let text = |name| columns.text(name);
    let int = |name| columns.int(name);
    let (owner, provider, model, ram, denom, price, created_time, closed_time, cause, reason) = (
        text("owner")?,
        text("provider")?,
        text("gpu_model")?,
        text("gpu_ram")?,
        text("price_denom")?,
        text("price_amount")?,
        text("created_time")?,
        text("closed_time")?,
        text("close_cause")?,
        text("close_reason")?,
    );
    let (dseq, gseq, oseq, bseq, units, created_height, closed_height) = (
        int("dseq")?,
        int("gseq")?,
        int("oseq")?,
        int("bseq")?,
        int("gpu_units")?,
        int("created_height")?,
        int("closed_height")?,
    );
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let small = |values: &polars::prelude::Int64Chunked, name: &str| {
            let value = values.get(i).unwrap_or_default();
            i32::try_from(value)
                .map_err(|_| columns.error(i, name, format!("{value} is too large")))
        };
        let time = |name: &str, text: &str| {
            UnixMs::from_chain_time(text)
                .map(|t| t.0)
                .map_err(|e| columns.error(i, name, e))
        };
        let created = created_time.get(i).unwrap_or_default();
        let closed = closed_time.get(i);
        rows.push(LeaseRow {
            id: LeaseId {
                owner: owner.get(i).unwrap_or_default().to_owned(),
                dseq: dseq.get(i).unwrap_or_default(),
                gseq: small(gseq, "gseq")?,
                oseq: small(oseq, "oseq")?,
                provider: provider.get(i).unwrap_or_default().to_owned(),
                bseq: small(bseq, "bseq")?,
            },
            gpu_units: units.get(i),
            gpu_model: model.get(i).map(str::to_owned),
            gpu_ram: ram.get(i).map(str::to_owned),
            price_denom: denom.get(i).unwrap_or_default().to_owned(),
            price_amount: price
                .get(i)
                .unwrap_or_default()
                .parse()
                .map_err(|e| columns.error(i, "price_amount", e))?,
            created_height: created_height.get(i).unwrap_or_default(),
            created_time: created.to_owned(),
            created_time_ms: time("created_time", created)?,
            closed_height: closed_height.get(i),
            closed_time: closed.map(str::to_owned),
            closed_time_ms: closed.map(|t| time("closed_time", t)).transpose()?,
            close_cause: cause.get(i).map(str::to_owned),
            close_reason: reason.get(i).map(str::to_owned),
            via_authz: 0,
        });
    }
    Ok(rows)
}

/// One distinct `gpus` text of the observations table, parsed once: its nodes as published,
/// and their stored rows and class counts, or what is wrong with a node.
struct Inventory {
    nodes: Vec<GpuLine>,
    counted: Result<Arc<BTreeMap<ClassName, u64>>, String>,
}

impl Inventory {
    fn parse(text: &str, classes: &[GpuClass]) -> Result<Self, String> {
        let nodes: Vec<GpuLine> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of GPU nodes: {e}"))?;
        let counted =
            published_gpus(nodes.clone()).map(|gpus| Arc::new(class_counts(&gpus, classes)));
        Ok(Inventory { nodes, counted })
    }
}

/// The observations, each row checked as a published row is ([`LineFields::check`], and
/// [`published_gpus`] for its nodes), and counted per class as [`settlement::observations::rewards_observations`] counts a stored
/// one. Most rows repeat an inventory seen before, so each distinct `gpus` text is parsed,
/// checked and counted once, and a row becomes its [`Observation`] without a stored record in
/// between. A signature that is not its prober's over the row is an error naming the row.
fn read_observations(
    files: &mut Files,
    vantages: &Vantages,
    classes: &[GpuClass],
) -> Result<Vec<Observation>, TableError> {
    let frame = files.table(&OBSERVATIONS)?;
    let file = files.folder().join(OBSERVATIONS.csv_file());
    let columns = Columns::new(&frame, &file);
    let (prober, provider, time, error, gpus) = (
        columns.text("prober")?,
        columns.text("provider")?,
        columns.text("time")?,
        columns.text("error")?,
        columns.text("gpus")?,
    );
    let (signature, signed_gpus) = (columns.text("signature")?, columns.text("signed_gpus")?);
    let unsigned_import = columns.bool("unsigned_import")?;
    let online = columns.bool("online")?;
    let latency = columns.int("latency_ms")?;
    let mut inventories: Repeats<Arc<Inventory>> = Repeats::default();
    // Each prober's and provider's text is checked once and shared by all its rows.
    let mut probers: Repeats<Arc<str>> = Repeats::default();
    let mut providers: Repeats<Arc<str>> = Repeats::default();

    let mut observations = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let gpus_text = gpus.get(i).unwrap_or_default();
        let inventory = inventories.get_or_try(gpus_text, |text| {
            Inventory::parse(text, classes)
                .map(Arc::new)
                .map_err(|e| columns.error(i, "gpus", e))
        })?;
        let latency_ms = latency
            .get(i)
            .map(|l| u64::try_from(l).map_err(|_| columns.error(i, "latency_ms", "is negative")))
            .transpose()?;
        let fields = LineFields {
            prober: prober.get(i).unwrap_or_default(),
            provider: provider.get(i).unwrap_or_default(),
            time: time.get(i).unwrap_or_default(),
            online: online.get(i).unwrap_or_default(),
            latency_ms,
            error: error.get(i),
            nodes: inventory.nodes.len(),
        };
        let proof = RowProof {
            signature: signature.get(i),
            signed_gpus: signed_gpus.get(i),
            unsigned_import: unsigned_import.get(i).is_some(),
        };
        proof.check(&columns, i, vantages, &fields, &inventory)?;
        // The checks of `LineFields::check`, in its order, each distinct id checked once.
        let row_error = |problem: String| columns.row_error(i, problem);
        let prober_name = probers.get_or_try(fields.prober, |id| {
            check_prober(id).map(|()| Arc::from(id)).map_err(row_error)
        })?;
        let provider_name = providers.get_or_try(fields.provider, |id| {
            check_provider(id)
                .map(|()| Arc::from(id))
                .map_err(row_error)
        })?;
        let time_ms = fields.check_beside_ids().map_err(row_error)?;
        // A published observation was sanitised when it was stored: its counts are taken
        // exactly, and one that would need a clamp was edited since.
        let counts = inventory
            .counted
            .as_ref()
            .map_err(|problem| columns.row_error(i, problem))?;
        observations.push(Observation {
            prober: prober_name,
            provider: provider_name,
            time_ms,
            online: fields.online,
            gpus: fields.online.then(|| counts.clone()),
        });
    }
    Ok(observations)
}

/// One value per distinct text of a column, made (and checked) once and shared by every row
/// with that text. The row before is compared first: the table is in time order, so one
/// prober's name runs down the rows of each of its rounds.
struct Repeats<'a, V> {
    known: foldhash::HashMap<&'a str, V>,
    last: Option<(&'a str, V)>,
}

impl<V> Default for Repeats<'_, V> {
    fn default() -> Self {
        Repeats {
            known: foldhash::HashMap::default(),
            last: None,
        }
    }
}

impl<'a, V: Clone> Repeats<'a, V> {
    /// The value of `text`, made by `make` the first time it is met.
    fn get_or_try<E>(
        &mut self,
        text: &'a str,
        make: impl FnOnce(&'a str) -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some((last, value)) = &self.last {
            if *last == text {
                return Ok(value.clone());
            }
        }
        let value = match self.known.entry(text) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(new) => new.insert(make(text)?).clone(),
        };
        self.last = Some((text, value.clone()));
        Ok(value)
    }
}

/// What vouches for one row of the observations table, as published.
struct RowProof<'a> {
    signature: Option<&'a str>,
    signed_gpus: Option<&'a str>,
    unsigned_import: bool,
}

impl RowProof<'_> {
    /// Row `i`'s signature, when it has one, must be its prober's over the row as signed (its
    /// `signed_gpus` when an import clamped them, which `gpus` must be a clamp of); an unsigned
    /// row has no signed counts.
    fn check(
        &self,
        columns: &Columns<'_>,
        i: usize,
        vantages: &Vantages,
        fields: &LineFields<'_>,
        inventory: &Inventory,
    ) -> Result<(), TableError> {
        let signed = self
            .signed_gpus
            .map(|text| {
                serde_json::from_str::<Vec<GpuLine>>(text).map_err(|e| {
                    columns.error(
                        i,
                        "signed_gpus",
                        format!("not a JSON array of GPU nodes: {e}"),
                    )
                })
            })
            .transpose()?;
        let Some(signature) = self.signature else {
            return match signed {
                Some(_) => Err(columns.error(
                    i,
                    "signed_gpus",
                    "an unsigned observation has no signed counts",
                )),
                None => Ok(()),
            };
        };
        let gpus = match signed {
            Some(signed) if !clamped_from(&inventory.nodes, &signed) => {
                return Err(columns.error(
                    i,
                    "signed_gpus",
                    "gpus is not signed_gpus with counts clamped down",
                ));
            }
            Some(signed) => signed,
            None => inventory.nodes.clone(),
        };
        let as_signed = ObservationLine {
            prober: fields.prober.to_owned(),
            provider: fields.provider.to_owned(),
            time: fields.time.to_owned(),
            online: fields.online,
            latency_ms: fields.latency_ms,
            error: fields.error.map(str::to_owned),
            gpus,
            signature: Some(signature.to_owned()),
        };
        vantages
            .check(&as_signed, Some(signature))
            .map_err(|problem| columns.error(i, "signature", problem))?;
        if self.unsigned_import {
            return Err(columns.row_error(i, "a signed observation is no unsigned import"));
        }
        Ok(())
    }
}

/// Whether `gpus` is `signed` with some counts lowered, as an importing database's clamp leaves
/// it: the same nodes, models, memory and interfaces, no count above the signed one.
fn clamped_from(gpus: &[GpuLine], signed: &[GpuLine]) -> bool {
    gpus.len() == signed.len()
        && gpus.iter().zip(signed).all(|(g, s)| {
            (&g.model, &g.ram, &g.interface) == (&s.model, &s.ram, &s.interface)
                && g.allocatable <= s.allocatable
                && g.allocated <= s.allocated
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;
    use std::path::Path;
    use store::probes::{GpuRecord, ObservationKey};
    use uptime_prober::signing::ProberKey;

    /// An observation an import took in signed with 8 GPUs and clamped to 4, as its store holds
    /// it: measured with 4, the raw 8 kept.
    fn clamped() -> ObservationRecord {
        ObservationRecord {
            key: ObservationKey {
                prober: "eu-1".into(),
                provider: "akash1provider".into(),
                time_ms: 1_707_955_200_000,
            },
            time: UnixMs(1_707_955_200_000).to_string(),
            online: true,
            latency_ms: Some(40),
            error_kind: None,
            error: None,
            version: None,
            cert_sha256: None,
            status_api: None,
            gpus: vec![GpuRecord {
                node: "gpus[0000]".into(),
                vendor: None,
                model: Some("h100".into()),
                ram: Some("80Gi".into()),
                interface: None,
                allocatable: 4,
                allocated: 1,
                raw_allocatable: "8".into(),
                raw_allocated: "1".into(),
                clamps: Some("allocatable:above_max".into()),
                flags: None,
            }],
        }
    }

    fn h100() -> Vec<GpuClass> {
        vec![GpuClass {
            name: ClassName::new("h100").unwrap(),
            gpu_model: domain::GpuModel::normalise("h100").unwrap(),
            gpu_ram: None,
        }]
    }

    fn publish(folder: &Path, record: &ObservationRecord, proof: Proof) {
        let proofs = BTreeMap::from([(record.key.clone(), proof)]);
        let written = table::write(
            &OBSERVATIONS,
            &mut observations_frame(std::slice::from_ref(record), &proofs),
        )
        .unwrap();
        std::fs::write(folder.join(OBSERVATIONS.csv_file()), written.csv).unwrap();
        std::fs::write(folder.join(OBSERVATIONS.parquet_file()), written.parquet).unwrap();
    }

    /// Each distinct id is checked once and its text shared by its rows; an id that fails its
    /// check is named with the first row that has it, the rows before it read.
    #[test]
    fn ids_are_checked_once_each_and_a_bad_one_is_named_with_its_row() {
        let at = |hours: i64, provider: &str| {
            let mut record = clamped();
            record.key.provider = provider.into();
            record.key.time_ms += hours * 3_600_000;
            record.time = UnixMs(record.key.time_ms).to_string();
            record.gpus[0].raw_allocatable = "4".into();
            record.gpus[0].clamps = None;
            record
        };
        let records = [
            at(0, "akash1provider"),
            at(1, "akash1other"),
            at(2, "akash1provider"),
        ];
        let vantages = Vantages::new(std::iter::empty::<(&str, &str)>()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let publish_all = |records: &[ObservationRecord]| {
            let written = table::write(
                &OBSERVATIONS,
                &mut observations_frame(records, &BTreeMap::new()),
            )
            .unwrap();
            std::fs::write(dir.path().join(OBSERVATIONS.csv_file()), written.csv).unwrap();
            std::fs::write(
                dir.path().join(OBSERVATIONS.parquet_file()),
                written.parquet,
            )
            .unwrap();
        };
        publish_all(&records);
        let read = read_observations(&mut Files::in_folder(dir.path()), &vantages, &h100());
        let read = read.unwrap();
        assert_eq!(read.len(), 3);
        assert!(Arc::ptr_eq(&read[0].provider, &read[2].provider));
        assert!(Arc::ptr_eq(&read[0].prober, &read[1].prober));
        assert_eq!(&*read[1].provider, "akash1other");

        let mut bad = records.to_vec();
        bad.push(at(3, "akash1 spaced"));
        bad.push(at(4, "akash1 spaced"));
        publish_all(&bad);
        let e =
            read_observations(&mut Files::in_folder(dir.path()), &vantages, &h100()).unwrap_err();
        assert_eq!(e.row, Some(4), "{e}");
        assert!(e.problem.contains("provider must be"), "{e}");
    }

    /// A clamped import publishes the counts it measured and, beside them, the counts its prober
    /// signed: the signature verifies over those, and a row whose measured counts are not a clamp
    /// of the signed ones, or whose signature is another key's, is named.
    #[test]
    fn a_clamped_signed_import_verifies_over_the_counts_its_prober_signed() {
        let key = ProberKey::generate().unwrap();
        let vantages = Vantages::new([("eu-1", key.public_key().as_str())]).unwrap();
        let record = clamped();
        let unsigned = Proof::UnsignedImport("import-1".into());
        let signed_line = ObservationLine::as_signed(&record, &unsigned);
        assert_eq!(
            signed_line.gpus[0].allocatable, 4,
            "an unsigned line is as measured"
        );
        let signed_import = |signature: String| Proof::SignedImport {
            signature,
            import_id: "import-1".into(),
        };
        let mut as_sent = ObservationLine::from_record(&record);
        as_sent.gpus[0].allocatable = 8;
        let dir = tempfile::tempdir().unwrap();
        publish(
            dir.path(),
            &record,
            signed_import(key.sign(&as_sent).unwrap()),
        );
        let csv = std::fs::read_to_string(dir.path().join("observations.csv")).unwrap();
        assert!(csv.contains(r#""allocatable"":8"#), "{csv}");
        let observations =
            read_observations(&mut Files::in_folder(dir.path()), &vantages, &h100()).unwrap();
        assert_eq!(
            observations[0].gpus,
            Some(Arc::new(BTreeMap::from([(
                ClassName::new("h100").unwrap(),
                4
            )]))),
            "measured with the clamped count"
        );

        // Another key's signature over the same counts.
        let other = ProberKey::generate().unwrap();
        publish(
            dir.path(),
            &record,
            signed_import(other.sign(&as_sent).unwrap()),
        );
        let e =
            read_observations(&mut Files::in_folder(dir.path()), &vantages, &h100()).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("signature"), "{e}");

        // Measured counts above the signed ones are no clamp.
        let mut inflated = record.clone();
        inflated.gpus[0].raw_allocatable = "2".into();
        let mut sent = ObservationLine::from_record(&inflated);
        sent.gpus[0].allocatable = 2;
        publish(
            dir.path(),
            &inflated,
            signed_import(key.sign(&sent).unwrap()),
        );
        let e =
            read_observations(&mut Files::in_folder(dir.path()), &vantages, &h100()).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("signed_gpus"), "{e}");
    }
}
