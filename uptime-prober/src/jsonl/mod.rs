//! Moving observations between probers and auditors as JSON Lines, one observation per line:
//!
//! ```json
//! {"prober":"eu-1","provider":"akash1...","time":"2024-02-15T00:15:00Z","online":true,"latency_ms":120,"error":null,"gpus":[{"model":"a100","ram":"80Gi","interface":"sxm","allocatable":8,"allocated":3}]}
//! ```
//!
//! **Nodes and the `gpus` array.** Each element of `gpus` is one node with GPUs, in node-name
//! order, carrying the node's GPU class and its *sanitised* counts (for a signed line taken in
//! by an import, the counts its prober sanitised and signed, before this database's clamp; see
//! [`ObservationLine::as_signed`]). Node names, vendor, raw
//! values, clamp codes, flags, version and certificate fingerprint stay local: they explain a
//! number but do not change it. On import, element `i` becomes node `gpus[000i]` (zero-padded,
//! so the order survives), with its counts as raw values. A `null` model is a node whose class
//! could not be determined; it stays classless after import. So export → import → export gives
//! the same lines, and the uptime and online GPU counts computed from them are unchanged.
//!
//! **Errors.** `error` is `"<kind>: <message>"` (kind as stored, e.g. `timeout`); on import a
//! known kind prefix is split off again, anything else is kept as the message.
//!
//! **Counts.** A count above the importing side's `max_gpus_per_node`, or an allocated count
//! above allocatable, is clamped exactly as the live prober clamps what a provider reports
//! ([`crate::sanitise::clamp_counts`]): the raw value and the clamp codes are kept, and the line
//! still counts as a vote. Only a published report's rows ([`LineFields::check`] and
//! [`published_gpus`]), which were sanitised before they were written, must need no clamp.
//!
//! **Import** ([`import`]) is idempotent, and keeps every line: each is stored, or recorded as
//! rejected with its line number, reason code and raw text.

use std::io::Write;

use serde::{Deserialize, Serialize};
use store::probe_signatures::{proofs_between, Proof};
use store::probes::{self, GpuRecord, ObservationKey, ObservationRecord};
use store::Store;

use crate::error::ErrorKind;
use crate::sanitise::{clamp_counts, stored_codes};
use domain::UnixMs;

mod import;

pub use import::{import, parse_line, ImportOptions, ImportReport, RejectReason, Rejection};

/// Longest line read; longer lines are rejected without being held in memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Observations read per query during an export.
const EXPORT_PAGE: usize = 1_000;
/// Largest latency accepted, in milliseconds (a day).
const MAX_LATENCY_MS: u64 = 86_400_000;
/// Longest error message accepted.
const MAX_ERROR_CHARS: usize = 4096;
/// Longest prober or provider id accepted.
const MAX_ID_CHARS: usize = 128;

/// One observation in the exchange format, field for field: a line of the JSON Lines files,
/// and a row of a published report's `observations` table (whose `gpus` column is the JSON of
/// [`ObservationLine::gpus`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationLine {
    /// The prober's id.
    pub prober: String,
    /// The provider's address.
    pub provider: String,
    /// When the probe started, RFC 3339 UTC.
    pub time: String,
    /// Whether the provider answered.
    pub online: bool,
    /// How long the probe took, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Why it failed: `"<kind>: <message>"`.
    pub error: Option<String>,
    /// One element per node with GPUs, in node order.
    pub gpus: Vec<GpuLine>,
    /// Its prober's Ed25519 signature over [`crate::signing::signed_bytes`], base64; absent on
    /// an unsigned observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// One node's GPUs in the exchange format: its class and sanitised counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuLine {
    /// GPU model, `null` when the node's class could not be determined.
    pub model: Option<String>,
    /// GPU memory (`80Gi`).
    pub ram: Option<String>,
    /// GPU interface (`sxm`).
    pub interface: Option<String>,
    /// Sanitised allocatable count.
    pub allocatable: u64,
    /// Sanitised allocated count.
    pub allocated: u64,
}

/// Why an export or import stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Reading the input or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A stored observation cannot be expressed in the format (should not happen).
    #[error("cannot encode a stored observation: {0}")]
    Encode(#[from] serde_json::Error),
}

/// How a line's GPU counts are taken when it becomes a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// Clamped to `max_gpus_per_node` and allocated to allocatable, as the live prober clamps,
    /// with the raw values and clamp codes kept: how an import takes them.
    Clamp {
        /// The importing side's largest GPU count per node.
        max_gpus_per_node: u32,
    },
    /// Taken as they are; allocated above allocatable is refused. A published report's rows
    /// were sanitised before they were written, so one that needs a clamp was edited.
    Exact,
}

/// Writes every observation with `from_ms ≤ time < to_ms` to `out`, ordered by time, prober
/// and provider, each with its prober's signature when it has one; returns how many lines were
/// written.
pub fn export(
    store: &mut Store,
    from_ms: i64,
    to_ms: i64,
    out: &mut impl Write,
) -> Result<usize, TransferError> {
    let mut written = 0;
    let mut after: Option<ObservationKey> = None;
    loop {
        let page =
            probes::load_observations(store.conn(), from_ms, to_ms, after.as_ref(), EXPORT_PAGE)?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        after = Some(last.key.clone());
        let proofs = proofs_between(store.conn(), first.key.time_ms, last.key.time_ms)?;
        for record in &page {
            let line = match proofs.get(&record.key) {
                Some(proof) => ObservationLine::as_signed(record, proof),
                None => ObservationLine::from_record(record),
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}

impl ObservationLine {
    /// A stored observation in the exchange format (node names and the fields that explain
    /// a number without changing it stay behind; see the module docs).
    pub fn from_record(record: &ObservationRecord) -> Self {
        ObservationLine {
            prober: record.key.prober.clone(),
            provider: record.key.provider.clone(),
            time: UnixMs(record.key.time_ms).to_string(),
            online: record.online,
            latency_ms: record.latency_ms.and_then(|l| u64::try_from(l).ok()),
            error: match (&record.error_kind, &record.error) {
                (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
                (Some(kind), None) => Some(kind.clone()),
                (None, message) => message.clone(),
            },
            gpus: record
                .gpus
                .iter()
                .map(|g| GpuLine {
                    model: g.model.clone(),
                    ram: g.ram.clone(),
                    interface: g.interface.clone(),
                    allocatable: u64::try_from(g.allocatable).unwrap_or(0),
                    allocated: u64::try_from(g.allocated).unwrap_or(0),
                })
                .collect(),
            signature: None,
        }
    }

    /// The line `proof`'s signature covers, carrying it: the observation as stored, except that
    /// an imported one's counts are those its prober sent and signed, which its GPU rows keep as
    /// their raw values when this database clamped them. What an export writes, so the next
    /// database verifies the same signature and clamps by its own limit.
    pub fn as_signed(record: &ObservationRecord, proof: &Proof) -> Self {
        let mut line = Self::from_record(record);
        if let Proof::SignedImport { .. } = proof {
            for (gpu, stored) in line.gpus.iter_mut().zip(&record.gpus) {
                let raw = (
                    stored.raw_allocatable.parse::<u64>(),
                    stored.raw_allocated.parse::<u64>(),
                );
                if let (Ok(allocatable), Ok(allocated)) = raw {
                    gpu.allocatable = allocatable;
                    gpu.allocated = allocated;
                }
            }
        }
        line.signature = proof.signature().map(str::to_owned);
        line
    }
}

/// A line's fields apart from its GPU nodes' contents, borrowed: what is checked of every line
/// or published row, so that a reader of many rows (`verify`) checks each without building its
/// record, and checks each distinct `gpus` array once ([`published_gpus`]).
#[derive(Debug, Clone, Copy)]
pub struct LineFields<'a> {
    /// [`ObservationLine::prober`].
    pub prober: &'a str,
    /// [`ObservationLine::provider`].
    pub provider: &'a str,
    /// [`ObservationLine::time`].
    pub time: &'a str,
    /// [`ObservationLine::online`].
    pub online: bool,
    /// [`ObservationLine::latency_ms`].
    pub latency_ms: Option<u64>,
    /// [`ObservationLine::error`].
    pub error: Option<&'a str>,
    /// How many elements [`ObservationLine::gpus`] has.
    pub nodes: usize,
}

impl<'a> LineFields<'a> {
    /// The fields of `line`.
    pub fn of(line: &'a ObservationLine) -> Self {
        LineFields {
            prober: &line.prober,
            provider: &line.provider,
            time: &line.time,
            online: line.online,
            latency_ms: line.latency_ms,
            error: line.error.as_deref(),
            nodes: line.gpus.len(),
        }
    }

    /// The observation's time, or what is wrong with the fields: ids, time, latency, and
    /// whether the error and the node count fit the online flag.
    pub fn check(&self) -> Result<UnixMs, String> {
        check_prober(self.prober)?;
        check_provider(self.provider)?;
        self.check_beside_ids()
    }

    /// [`LineFields::check`] without its first checks, the ids': for a reader of many rows,
    /// which checks each distinct prober and provider once ([`check_prober`],
    /// [`check_provider`]) before this.
    pub fn check_beside_ids(&self) -> Result<UnixMs, String> {
        let time = UnixMs::parse_rfc3339(self.time).map_err(|e| e.to_string())?;
        if let Some(latency) = self.latency_ms.filter(|l| *l > MAX_LATENCY_MS) {
            return Err(format!("latency_ms {latency} is above a day"));
        }
        if self.online && self.error.is_some() {
            return Err("an online observation cannot carry an error".into());
        }
        if !self.online && self.nodes > 0 {
            return Err("an offline observation cannot list GPUs".into());
        }
        if self.nodes > crate::MAX_NODES {
            return Err(format!(
                "{} GPU entries, above the {} accepted",
                self.nodes,
                crate::MAX_NODES
            ));
        }
        if let Some(text) = self.error {
            if text.chars().count() > MAX_ERROR_CHARS || text.chars().any(char::is_control) {
                return Err(format!(
                    "error is longer than {MAX_ERROR_CHARS} characters or holds control characters"
                ));
            }
        }
        Ok(time)
    }
}

/// The stored GPU rows a published report's `gpus` array states, its counts taken exactly
/// ([`Counts::Exact`]), or what is wrong with a node: the GPU half of
/// reading a published row, whose other fields [`LineFields::check`] checks.
pub fn published_gpus(gpus: Vec<GpuLine>) -> Result<Vec<GpuRecord>, String> {
    gpus_from_lines(gpus, Counts::Exact)
}

fn gpus_from_lines(gpus: Vec<GpuLine>, counts: Counts) -> Result<Vec<GpuRecord>, String> {
    gpus.into_iter()
        .enumerate()
        .map(|(i, gpu)| gpu_from_line(i, gpu, counts))
        .collect()
}

/// The record a line states, its counts taken as `counts` says, or what is wrong with it.
fn record_from_line(line: ObservationLine, counts: Counts) -> Result<ObservationRecord, String> {
    let time_ms = LineFields::of(&line).check()?.as_millis();
    let (error_kind, error) = line.error.map_or((None, None), split_error);
    let gpus = gpus_from_lines(line.gpus, counts)?;
    Ok(ObservationRecord {
        key: ObservationKey {
            prober: line.prober,
            provider: line.provider,
            time_ms,
        },
        time: UnixMs(time_ms).to_string(),
        online: line.online,
        latency_ms: line.latency_ms.and_then(|l| i64::try_from(l).ok()),
        error_kind,
        error,
        version: None,
        cert_sha256: None,
        status_api: None,
        gpus,
    })
}

/// What is wrong with a prober id, if anything: 1 to 128 characters, none a space or a control
/// character.
pub fn check_prober(id: &str) -> Result<(), String> {
    check_id("prober", id)
}

/// What is wrong with a provider address as an observation names it, if anything: the rule of
/// [`check_prober`]. Whether the address is a provider on chain is for the reader to decide.
pub fn check_provider(id: &str) -> Result<(), String> {
    check_id("provider", id)
}

fn check_id(field: &str, value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.chars().count() <= MAX_ID_CHARS
        && !value.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field} must be 1 to {MAX_ID_CHARS} characters without spaces or control characters"
        ))
    }
}

/// The error kind an error text `"<kind>: <message>"` (or a bare `"<kind>"`) names, when the
/// kind is one the prober records.
pub(crate) fn split_error_kind(text: &str) -> Option<&str> {
    match text.split_once(": ") {
        Some((kind, _)) if ErrorKind::from_code(kind).is_some() => Some(kind),
        _ => ErrorKind::from_code(text).is_some().then_some(text),
    }
}

fn split_error(text: String) -> (Option<String>, Option<String>) {
    match split_error_kind(&text).map(str::len) {
        Some(kind) if kind == text.len() => (Some(text), None),
        Some(kind) => {
            let message = text.get(kind + 2..).unwrap_or_default().to_owned();
            (text.get(..kind).map(str::to_owned), Some(message))
        }
        None => (None, Some(text)),
    }
}

fn gpu_from_line(index: usize, gpu: GpuLine, counts: Counts) -> Result<GpuRecord, String> {
    let at = |what: String| format!("gpus[{index}]: {what}");
    for (field, value, max) in [
        ("model", &gpu.model, 64),
        ("ram", &gpu.ram, 32),
        ("interface", &gpu.interface, 32),
    ] {
        if let Some(value) = value {
            let ok = !value.is_empty()
                && value.chars().count() <= max
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
            if !ok {
                return Err(at(format!(
                    "{field} {value:?} is not 1 to {max} letters, digits or -_.+"
                )));
            }
        }
    }
    let (allocatable, allocated, clamps) = match counts {
        Counts::Clamp { max_gpus_per_node } => {
            let (allocatable, allocated, clamps) =
                clamp_counts(gpu.allocatable, gpu.allocated, max_gpus_per_node);
            let codes = stored_codes(clamps.iter().map(ToString::to_string));
            (u64::from(allocatable), u64::from(allocated), codes)
        }
        Counts::Exact if gpu.allocated > gpu.allocatable => {
            return Err(at(format!(
                "allocated {} is above allocatable {}",
                gpu.allocated, gpu.allocatable
            )));
        }
        Counts::Exact => (gpu.allocatable, gpu.allocated, None),
    };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(GpuRecord {
        node: format!("gpus[{index:04}]"),
        vendor: None,
        model: gpu.model,
        ram: gpu.ram,
        interface: gpu.interface,
        allocatable: count(allocatable),
        allocated: count(allocated),
        raw_allocatable: gpu.allocatable.to_string(),
        raw_allocated: gpu.allocated.to_string(),
        clamps,
        flags: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"prober":"eu-1","provider":"akash1xyz","time":"2024-02-15T00:15:00Z","online":true,"latency_ms":120,"error":null,"gpus":[{"model":"a100","ram":"80Gi","interface":"sxm","allocatable":8,"allocated":3}]}"#;

    #[test]
    fn the_documented_example_parses_and_prints_back_identically() {
        let record = parse_line(GOOD, 16).unwrap();
        assert_eq!(record.key.time_ms, 1_707_956_100_000);
        assert_eq!(record.gpus[0].node, "gpus[0000]");
        assert_eq!(
            serde_json::to_string(&ObservationLine::from_record(&record)).unwrap(),
            GOOD
        );
    }

    #[test]
    fn error_kinds_survive_the_text_form() {
        let line = r#"{"prober":"p","provider":"a","time":"2024-02-15T00:15:00.5Z","online":false,"latency_ms":10000,"error":"timeout: version: no TLS handshake within 10s","gpus":[]}"#;
        let record = parse_line(line, 16).unwrap();
        assert_eq!(record.error_kind.as_deref(), Some("timeout"));
        assert_eq!(
            record.error.as_deref(),
            Some("version: no TLS handshake within 10s")
        );
        let back = serde_json::to_string(&ObservationLine::from_record(&record)).unwrap();
        assert_eq!(back, line.replace(".5Z", ".500Z"));
        let free = parse_line(&line.replace("timeout: ", "provider said: "), 16).unwrap();
        assert_eq!(free.error_kind, None);
    }

    #[test]
    fn hostile_lines_are_rejected_with_reasons() {
        let cases = [
            (GOOD.replace("\"allocatable\":8", "\"allocatable\":18446744073709551616"), "not an observation"),
            (GOOD.replace("\"allocatable\":8", "\"allocatable\":-1"), "not an observation"),
            (GOOD.replace("\"allocatable\":8", "\"allocatable\":8.5"), "not an observation"),
            (GOOD.replace("2024-02-15T00:15:00Z", "2024-02-15 00:15"), "not an RFC 3339 time"),
            (GOOD.replace("2024-02-15T00:15:00Z", "1970-01-01T00:00:00Z"), "outside the years"),
            (GOOD.replace("\"latency_ms\":120", "\"latency_ms\":99999999999"), "above a day"),
            (GOOD.replace("\"error\":null", "\"error\":\"x\""), "online observation cannot carry"),
            (GOOD.replace("\"online\":true", "\"online\":false"), "offline observation cannot list"),
            (GOOD.replace("\"prober\":\"eu-1\"", "\"prober\":\"\""), "prober must be"),
            (GOOD.replace("akash1xyz", "akash1\\u0000"), "provider must be"),
            (GOOD.replace("\"a100\"", "\"a100; drop\""), "model"),
            (GOOD.replace("}]}", "}],\"extra\":1}"), "unknown field"),
            (GOOD.replace(",\"gpus\":[{\"model\":\"a100\",\"ram\":\"80Gi\",\"interface\":\"sxm\",\"allocatable\":8,\"allocated\":3}]", ""), "missing field `gpus`"),
            ("[".repeat(10_000), "not an observation"),
            ("null".into(), "not an observation"),
        ];
        for (line, expected) in cases {
            let (reason, err) = parse_line(&line, 16).unwrap_err();
            assert!(err.contains(expected), "{line:.80}: {err}");
            let malformed =
                expected.starts_with("not an observation") || expected.contains("field");
            let expected_reason = if malformed {
                RejectReason::Malformed
            } else {
                RejectReason::Invalid
            };
            assert_eq!(reason, expected_reason, "{line:.80}");
        }
    }

    /// Counts beyond the importing side's limits are clamped as the live prober clamps them,
    /// with the raw values and the clamp codes kept: the vote is never lost.
    #[test]
    fn counts_beyond_the_limits_are_clamped_with_their_raw_values() {
        let above_max = GOOD.replace("\"allocatable\":8", "\"allocatable\":17");
        let gpu = &parse_line(&above_max, 16).unwrap().gpus[0];
        assert_eq!((gpu.allocatable, gpu.allocated), (16, 3));
        assert_eq!(
            (gpu.raw_allocatable.as_str(), gpu.raw_allocated.as_str()),
            ("17", "3")
        );
        assert_eq!(
            gpu.clamps.as_deref(),
            Some("allocatable:above_max_per_node")
        );

        let both = GOOD
            .replace("\"allocatable\":8", "\"allocatable\":40")
            .replace("\"allocated\":3", "\"allocated\":30");
        let gpu = &parse_line(&both, 4).unwrap().gpus[0];
        assert_eq!((gpu.allocatable, gpu.allocated), (4, 4));
        assert_eq!(
            gpu.clamps.as_deref(),
            Some("allocatable:above_max_per_node,allocated:above_allocatable")
        );

        // A published report's row was sanitised when written: one needing a clamp is refused.
        let over = GOOD.replace("\"allocated\":3", "\"allocated\":9");
        let line: ObservationLine = serde_json::from_str(&over).unwrap();
        assert!(published_gpus(line.gpus)
            .unwrap_err()
            .contains("above allocatable"));
        let clean: ObservationLine = serde_json::from_str(GOOD).unwrap();
        assert!(LineFields::of(&clean).check().is_ok());
        assert_eq!(published_gpus(clean.gpus).unwrap()[0].clamps, None);
    }

    proptest::proptest! {
        /// Arbitrary text, and the example line with any one byte replaced, never panic.
        #[test]
        fn any_line_is_an_observation_or_a_reason(text in "\\PC{0,200}", at in 0usize..GOOD.len(), byte in proptest::num::u8::ANY) {
            let _ = parse_line(&text, 16);
            let mut bytes = GOOD.as_bytes().to_vec();
            bytes[at] = byte;
            if let Ok(mutated) = std::str::from_utf8(&bytes) {
                if let Ok(record) = parse_line(mutated, 16) {
                    proptest::prop_assert!(record.gpus.iter().all(|g| g.allocated <= g.allocatable && g.allocatable <= 16));
                }
            }
        }
    }
}
