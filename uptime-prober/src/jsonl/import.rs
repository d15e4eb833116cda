//! `probe import`: reading observation lines into the store, keeping every line. A line is
//! stored, or recorded in `probe_rejections` with its line number, a [`RejectReason`] code, the
//! detail and its raw text, so nothing an import reads is lost without a trace.
//!
//! - **Idempotent** on (prober, provider, time): a line whose key is already stored with the
//!   same content counts as identical; with other content it is rejected as
//!   [`RejectReason::Conflicting`] and the stored observation is kept.
//! - **Registered providers only:** a line about an address that has never been a provider on
//!   the indexed chain is rejected as [`RejectReason::UnknownProvider`]; no prober could have
//!   probed it.
//! - **Named, signed probers only:** a line must carry the signature of a vantage point the
//!   programme names (`[[prober.vantage]]`, see [`crate::signing`]): from any other prober it is
//!   [`RejectReason::UnknownProber`], with a missing, malformed or non-matching signature
//!   [`RejectReason::BadSignature`]. With [`ImportOptions::allow_unsigned`] a line without a
//!   signature is stored, and the import's id is stored with it as what let it in.
//! - **Counts are clamped, never refused** (see the parent module), so a vote survives a
//!   stricter `max_gpus_per_node` on the importing side.
//! - **Hostile input** (huge numbers, negative counts, bad times, enormous lines, control
//!   characters) is a rejection, never a panic or an abort.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use store::probe_rejections::{insert_probe_rejections, ProbeRejectionRow};
use store::probe_signatures::Proof;
use store::probes::{self, InsertOutcome, ObservationRecord};
use store::Store;

use super::{record_from_line, Counts, ObservationLine, TransferError, MAX_LINE_BYTES};
use crate::signing::{SignatureProblem, Vantages};

/// Rejections kept in the report for display (every one is stored; the count goes on).
const MAX_REJECTIONS_KEPT: usize = 10_000;
/// Longest rejection detail kept.
const MAX_DETAIL_CHARS: usize = 300;
/// Observations, and separately rejections, written per transaction.
const IMPORT_BATCH: usize = 1_000;

/// Why a line was not stored. The code is stable: it is stored, listed and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// Longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// Not UTF-8 text.
    NotUtf8,
    /// Not an observation in the exchange format (not JSON, a field missing or unknown).
    Malformed,
    /// A field's value is out of bounds or contradicts another.
    Invalid,
    /// About an address that has never been a registered provider on the indexed chain.
    UnknownProvider,
    /// From a prober that is not a vantage point of the programme.
    UnknownProber,
    /// Unsigned (without `--allow-unsigned`), or its signature is malformed or not its
    /// prober's over its content.
    BadSignature,
    /// Its (prober, provider, time) is stored with other content; the stored one was kept.
    Conflicting,
}

impl RejectReason {
    /// The code stored in `probe_rejections.reason` and printed.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::NotUtf8 => "not_utf8",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::UnknownProvider => "unknown_provider",
            Self::UnknownProber => "unknown_prober",
            Self::BadSignature => "bad_signature",
            Self::Conflicting => "conflicting",
        }
    }
}

/// A line that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line number.
    pub line: usize,
    /// Why, as a code.
    pub reason: RejectReason,
    /// What exactly was wrong.
    pub detail: String,
}

/// What one import is, for its records: its id, where it read from, and when; and whose word it
/// takes.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The importing side's largest GPU count per node (counts above it are clamped).
    pub max_gpus_per_node: u32,
    /// Unique per import; its rejections are stored under it.
    pub import_id: String,
    /// The input's path as given, or `-` for standard input.
    pub source: String,
    /// When the import ran, unix milliseconds (stored with each rejection).
    pub recorded_at_ms: i64,
    /// The vantage points whose signed lines are taken.
    pub vantages: Vantages,
    /// Store lines without a signature too, recording this import as what let them in.
    pub allow_unsigned: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: usize,
    /// Observations newly stored.
    pub inserted: usize,
    /// Lines whose observation was already stored, unchanged.
    pub identical: usize,
    /// Every rejected line, by reason (each is stored in `probe_rejections`).
    pub rejected: BTreeMap<RejectReason, usize>,
    /// The first 10,000 rejections, for display.
    pub rejections: Vec<Rejection>,
}

impl ImportReport {
    /// How many lines were rejected, for any reason.
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }
}

/// Reads one line as an observation the way an import does (counts clamped to
/// `max_gpus_per_node`), or says why it is not one.
pub fn parse_line(
    text: &str,
    max_gpus_per_node: u32,
) -> Result<ObservationRecord, (RejectReason, String)> {
    parse_observation(text, max_gpus_per_node).map(|(record, _)| record)
}

/// [`parse_line`], also returning the line as read (for its signature).
fn parse_observation(
    text: &str,
    max_gpus_per_node: u32,
) -> Result<(ObservationRecord, ObservationLine), (RejectReason, String)> {
    let line: ObservationLine = serde_json::from_str(text)
        .map_err(|e| (RejectReason::Malformed, format!("not an observation: {e}")))?;
    let record = record_from_line(line.clone(), Counts::Clamp { max_gpus_per_node })
        .map_err(|detail| (RejectReason::Invalid, detail))?;
    Ok((record, line))
}

/// Imports JSON Lines from `input` (see the module docs). Fails only when the input cannot be
/// read or the store fails; every line read before that is stored or recorded.
pub fn import(
    store: &mut Store,
    input: impl BufRead,
    options: &ImportOptions,
) -> Result<ImportReport, TransferError> {
    let registered = store::chain::ever_registered_providers(store.conn())?;
    let mut import = Import {
        options,
        registered,
        report: ImportReport::default(),
        observations: Vec::new(),
        proofs: Vec::new(),
        observed_lines: Vec::new(),
        rejections: Vec::new(),
    };
    let mut reader = BoundedLines::new(input, MAX_LINE_BYTES);
    let mut number = 0;
    while let Some(line) = reader.next_line()? {
        number += 1;
        match line {
            RawLine::TooLong(bytes) => import.reject(
                number,
                RejectReason::TooLong,
                format!("line is {bytes} bytes or more, above the {MAX_LINE_BYTES}-byte limit"),
                String::new(),
            ),
            RawLine::Text(bytes) => match String::from_utf8(bytes) {
                Err(e) => {
                    let detail = format!("line is not UTF-8: {}", e.utf8_error());
                    let raw = printable(&String::from_utf8_lossy(e.as_bytes()));
                    import.reject(number, RejectReason::NotUtf8, detail, raw);
                }
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => import.read(number, text),
            },
        }
        import.report.lines += 1;
        import.flush(store, IMPORT_BATCH)?;
    }
    import.flush(store, 1)?;
    // Conflicts are found when their batch is written, after later lines were read.
    import.report.rejections.sort_by_key(|r| r.line);
    Ok(import.report)
}

/// One import under way: what it has read and not yet written.
struct Import<'o> {
    options: &'o ImportOptions,
    registered: BTreeSet<String>,
    report: ImportReport,
    /// Parsed lines waiting to be stored, beside each what vouches for it, and its line number
    /// and raw text (for a conflict found when it is written).
    observations: Vec<ObservationRecord>,
    proofs: Vec<Option<Proof>>,
    observed_lines: Vec<(usize, String)>,
    rejections: Vec<ProbeRejectionRow>,
}

impl Import<'_> {
    fn read(&mut self, number: usize, text: String) {
        match parse_observation(&text, self.options.max_gpus_per_node) {
            Ok((record, _)) if !self.registered.contains(&record.key.provider) => {
                let detail = format!(
                    "{} has never been a registered provider on the indexed chain",
                    record.key.provider
                );
                self.reject(
                    number,
                    RejectReason::UnknownProvider,
                    detail,
                    printable(&text),
                );
            }
            Ok((record, line)) => match self.proof(&line) {
                Ok(proof) => {
                    self.observations.push(record);
                    self.proofs.push(Some(proof));
                    self.observed_lines.push((number, text));
                }
                Err((reason, detail)) => self.reject(number, reason, detail, printable(&text)),
            },
            Err((reason, detail)) => self.reject(number, reason, detail, printable(&text)),
        }
    }

    /// What vouches for `line`, or why nothing does.
    fn proof(&self, line: &ObservationLine) -> Result<Proof, (RejectReason, String)> {
        let options = self.options;
        if line.signature.is_none() && options.allow_unsigned {
            return Ok(Proof::UnsignedImport(options.import_id.clone()));
        }
        match options.vantages.check(line, line.signature.as_deref()) {
            Ok(()) => Ok(Proof::SignedImport {
                signature: line.signature.clone().unwrap_or_default(),
                import_id: options.import_id.clone(),
            }),
            Err(problem @ SignatureProblem::UnknownProber(_)) => {
                Err((RejectReason::UnknownProber, problem.to_string()))
            }
            Err(SignatureProblem::Missing) => Err((
                RejectReason::BadSignature,
                "the observation is not signed (import with --allow-unsigned to take it)".into(),
            )),
            Err(problem @ SignatureProblem::Bad(_)) => {
                Err((RejectReason::BadSignature, problem.to_string()))
            }
        }
    }

    fn reject(&mut self, line: usize, reason: RejectReason, detail: String, raw: String) {
        // Parser messages can quote the line; keep the detail short whatever it held.
        let detail = crate::text::clean(&detail, MAX_DETAIL_CHARS);
        *self.report.rejected.entry(reason).or_insert(0) += 1;
        if self.report.rejections.len() < MAX_REJECTIONS_KEPT {
            self.report.rejections.push(Rejection {
                line,
                reason,
                detail: detail.clone(),
            });
        }
        self.rejections.push(ProbeRejectionRow {
            import_id: self.options.import_id.clone(),
            line: i64::try_from(line).unwrap_or(i64::MAX),
            source: self.options.source.clone(),
            reason: reason.code().to_owned(),
            detail,
            raw,
            recorded_at_ms: self.options.recorded_at_ms,
        });
    }

    /// Writes what is waiting once `at_least` observations or rejections are.
    fn flush(&mut self, store: &mut Store, at_least: usize) -> Result<(), TransferError> {
        if self.observations.len() >= at_least {
            let summary =
                probes::insert_proven_observations(store, &self.observations, &self.proofs)?;
            self.proofs.clear();
            let records = std::mem::take(&mut self.observations);
            let lines = std::mem::take(&mut self.observed_lines);
            for ((record, (line, text)), outcome) in records.iter().zip(lines).zip(summary.outcomes)
            {
                match outcome {
                    InsertOutcome::Inserted => self.report.inserted += 1,
                    InsertOutcome::Identical => self.report.identical += 1,
                    InsertOutcome::Conflicting => {
                        let key = &record.key;
                        let detail = format!(
                            "{} / {} at {} is already stored with other content; the stored one \
                             is kept",
                            key.prober,
                            key.provider,
                            domain::UnixMs(key.time_ms)
                        );
                        self.reject(line, RejectReason::Conflicting, detail, printable(&text));
                    }
                }
            }
        }
        if self.rejections.len() >= at_least {
            insert_probe_rejections(store, &std::mem::take(&mut self.rejections))?;
        }
        Ok(())
    }
}

/// `text` as a database can hold it: NUL, which PostgreSQL text refuses, becomes U+FFFD.
fn printable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// A line as read: its bytes (without the line break), or only its length when too long.
enum RawLine {
    Text(Vec<u8>),
    TooLong(usize),
}

/// Splits input into lines without ever holding more than `max` bytes of one line.
struct BoundedLines<R> {
    input: R,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    fn new(input: R, max: usize) -> Self {
        Self { input, max }
    }

    fn next_line(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut line = Vec::new();
        let mut length = 0usize;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (piece, found_end) = match chunk.iter().position(|b| *b == b'\n') {
                Some(end) => (&chunk[..end], true),
                None => (chunk, false),
            };
            length = length.saturating_add(piece.len());
            if length <= self.max {
                line.extend_from_slice(piece);
            } else {
                line = Vec::new();
            }
            let consumed = piece.len() + usize::from(found_end);
            self.input.consume(consumed);
            if found_end {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if length > self.max {
            return Ok(Some(RawLine::TooLong(length)));
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(RawLine::Text(line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines_split_and_refuse_oversized_lines() {
        let input = format!("a\r\n{}\nb\n\nlast", "x".repeat(50));
        let mut lines =
            BoundedLines::new(std::io::BufReader::with_capacity(7, input.as_bytes()), 10);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            seen.push(match line {
                RawLine::Text(t) => String::from_utf8(t).unwrap(),
                RawLine::TooLong(n) => format!("<{n}>"),
            });
        }
        assert_eq!(seen, ["a", "<50>", "b", "", "last"]);
    }

    #[test]
    fn every_reason_has_its_own_code() {
        let all = [
            RejectReason::TooLong,
            RejectReason::NotUtf8,
            RejectReason::Malformed,
            RejectReason::Invalid,
            RejectReason::UnknownProvider,
            RejectReason::Conflicting,
        ];
        let codes: BTreeSet<&str> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(RejectReason::UnknownProvider.code(), "unknown_provider");
    }
}
