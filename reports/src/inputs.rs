//! One epoch's measured inputs as CSV: what `rewards compute` reads, and the published `inputs`
//! table.
//!
//! The engine is a pure function of the programme, the carried state and these numbers, so
//! anyone holding this file can re-run an epoch without our database. The format:
//!
//! * the header is exactly [`INPUT_COLUMNS`]:
//!   `class,provider,leased_gpu_ms,online_gpu_ms,uptime_num,uptime_den`;
//! * one row per (class, provider) that was measured; a provider absent from a class was not
//!   measured there (no weight, and a contract on it counts as offline all epoch);
//! * `class` is a GPU class the programme defines, `provider` a non-empty address;
//! * the four numbers are non-negative decimal integers without sign, spaces or separators:
//!   GPU-milliseconds, and the uptime as the exact fraction `uptime_num / uptime_den` with
//!   `0 < uptime_den` and `uptime_num ≤ uptime_den` (online and window milliseconds).
//!
//! [`write_inputs`] writes rows in (class, provider) order, so the same inputs always give the
//! same bytes. [`read_inputs`] accepts rows in any order but refuses a (class, provider) pair
//! given twice: which of two rows to believe is not ours to guess.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use domain::ClassName;
use polars::prelude::DataFrame;
use rewards::uptime::Uptime;
use rewards::{EpochInputs, Measurement, Programme};
use settlement::measure::{ClassMeasurement, ProviderMeasurement};
use settlement::EpochMeasurements;
use thiserror::Error;

use crate::table::{Cell, ColumnSpec, Kind, TableBuilder, TableSpec};

/// The columns of an inputs file, in order.
pub const INPUT_COLUMNS: [&str; 6] = [
    "class",
    "provider",
    "leased_gpu_ms",
    "online_gpu_ms",
    "uptime_num",
    "uptime_den",
];

/// The published `inputs` table: [`INPUT_COLUMNS`] with `uptime_ppm` (the uptime in millionths,
/// rounded down) after `online_gpu_ms`, then `reported_gpus` and `leased_peak_gpus` (the online
/// GPUs the provider itself reported for most of the epoch, beside the most it ever had under
/// lease: self-reported capacity next to what the chain backs; 0 on rows without a class), and
/// `registered_ms` (how long in the window the provider was registered on chain) last, plus one row without a class per provider that has leased GPU
/// time matching no class (its `leased_gpu_ms` is that time, its `online_gpu_ms` 0) or no class
/// row at all (so every measured provider's uptime is published). `rewards compute` reads this
/// form too, skipping the rows without a class, and takes a provider whose `registered_ms` is 0
/// as not registered in the epoch. The plain form carries no registrations: every provider in
/// it counts as registered.
pub static INPUTS: TableSpec = TableSpec {
    name: "inputs",
    columns: &[
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::required("provider", Kind::Text),
        ColumnSpec::required("leased_gpu_ms", Kind::Text),
        ColumnSpec::required("online_gpu_ms", Kind::Text),
        ColumnSpec::required("uptime_ppm", Kind::Int),
        ColumnSpec::required("uptime_num", Kind::Int),
        ColumnSpec::required("uptime_den", Kind::Int),
        ColumnSpec::required("reported_gpus", Kind::Int),
        ColumnSpec::required("leased_peak_gpus", Kind::Int),
        ColumnSpec::required("registered_ms", Kind::Int),
    ],
};

/// An epoch's measurements as the [`INPUTS`] table: class rows in (class, provider) order,
/// then the rows without a class in provider order.
pub fn inputs_frame(measurements: &EpochMeasurements) -> DataFrame {
    let mut table = TableBuilder::new(&INPUTS);
    let row = |class: Option<&ClassName>,
               provider: &str,
               gpu: &ClassMeasurement,
               m: &ProviderMeasurement| {
        [
            Cell::opt_text(class.map(ClassName::as_str)),
            Cell::text(provider),
            Cell::digits(gpu.leased_gpu_ms),
            Cell::digits(gpu.online_gpu_ms),
            Cell::Int(Some(i64::from(m.uptime.ppm()))),
            Cell::Int(Some(to_i64(m.uptime.online_ms()))),
            Cell::Int(Some(to_i64(m.uptime.window_ms()))),
            Cell::Int(Some(to_i64(gpu.reported_gpus))),
            Cell::Int(Some(to_i64(gpu.leased_peak_gpus))),
            Cell::Int(Some(to_i64(m.registered_ms))),
        ]
    };
    let mut by_class: BTreeMap<(&ClassName, &str), _> = BTreeMap::new();
    for (provider, measured) in &measurements.providers {
        for (class, gpu) in &measured.classes {
            by_class.insert(
                (class, provider.as_str()),
                row(Some(class), provider, gpu, measured),
            );
        }
    }
    for cells in by_class.into_values() {
        table.push(cells);
    }
    for (provider, measured) in &measurements.providers {
        if measured.unattributed_leased_gpu_ms > 0 || measured.classes.is_empty() {
            let unattributed = ClassMeasurement {
                leased_gpu_ms: measured.unattributed_leased_gpu_ms,
                ..ClassMeasurement::default()
            };
            table.push(row(None, provider, &unattributed, measured));
        }
    }
    table.finish()
}

/// Milliseconds of one epoch fit an `i64` by far (the calendar bounds epochs to years).
fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Why an inputs file could not be read: the file, the line (1-based, the header being line 1)
/// and the field, so the person fixing it can go straight to the cell.
#[derive(Debug, Error)]
#[error("{}{}: {problem}", path.display(), Place(*line, *field))]
pub struct InputsError {
    /// The file.
    pub path: PathBuf,
    /// The line, when the problem is on one.
    pub line: Option<u64>,
    /// The column, when the problem is in one.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub problem: String,
}

/// Formats `:LINE` and ` (field NAME)` when known.
struct Place(Option<u64>, Option<&'static str>);

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.0 {
            write!(f, ":{line}")?;
        }
        if let Some(field) = self.1 {
            write!(f, " (field {field})")?;
        }
        Ok(())
    }
}

/// Reads the inputs file at `path` for `programme` (whose classes are the only ones accepted).
///
/// # Errors
/// When the file cannot be opened or read, or any row breaks the format in the module docs.
pub fn read_inputs(path: &Path, programme: &Programme) -> Result<EpochInputs, InputsError> {
    let file = std::fs::File::open(path).map_err(|e| InputsError {
        path: path.to_path_buf(),
        line: None,
        field: None,
        problem: format!("cannot open: {e}"),
    })?;
    parse_inputs(path, file, |class| programme.class(class).is_some())
}

/// Reads inputs from `reader`, accepting the classes for which `defines` is true; `path` only
/// names the source in errors. Separate from [`read_inputs`] so the format can be checked
/// without a file or a whole programme.
///
/// # Errors
/// As [`read_inputs`].
pub fn parse_inputs(
    path: &Path,
    reader: impl Read,
    defines: impl Fn(&ClassName) -> bool,
) -> Result<EpochInputs, InputsError> {
    let error = |line: Option<u64>, field: Option<&'static str>, problem: String| InputsError {
        path: path.to_path_buf(),
        line,
        field,
        problem,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = csv.records();
    let header = match records.next() {
        None => {
            return Err(error(
                Some(1),
                None,
                format!(
                    "the file is empty; expected the header {}",
                    INPUT_COLUMNS.join(",")
                ),
            ))
        }
        Some(header) => header.map_err(|e| error(Some(1), None, e.to_string()))?,
    };
    let published: Vec<&str> = INPUTS.columns.iter().map(|c| c.name).collect();
    let is_published = header.iter().eq(published.iter().copied());
    if header.iter().ne(INPUT_COLUMNS) && !is_published {
        return Err(error(
            Some(1),
            None,
            format!(
                "the header is {:?}; expected {}",
                header.iter().collect::<Vec<_>>().join(","),
                INPUT_COLUMNS.join(",")
            ),
        ));
    }
    let mut inputs = EpochInputs::default();
    // Where each (class, provider) pair was first given, to name both lines of a duplicate.
    let mut seen: BTreeMap<(ClassName, String), u64> = BTreeMap::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            error(line, None, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(error(
                Some(line),
                None,
                format!(
                    "{} field(s); every row has {} ({})",
                    record.len(),
                    header.len(),
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        // The length was checked just above, so every index is present. In a report's form
        // `uptime_ppm` comes fifth: the columns after it move one place.
        let field = |index: usize| {
            let index = if is_published && index >= 4 {
                index + 1
            } else {
                index
            };
            record.get(index).unwrap_or_default()
        };
        if is_published {
            let registered_ms = record.get(INPUTS.columns.len() - 1).unwrap_or_default();
            let registered_ms = integer(registered_ms)
                .map_err(|problem| error(Some(line), Some("registered_ms"), problem))?;
            if registered_ms == 0 && !field(1).is_empty() {
                inputs.unregistered.insert(field(1).to_owned());
            }
        }
        if is_published && field(0).is_empty() {
            // A provider's leased time outside every class: published for audit, not an input.
            continue;
        }
        let class = ClassName::new(field(0))
            .map_err(|e| error(Some(line), Some("class"), e.to_string()))?;
        if !defines(&class) {
            return Err(error(
                Some(line),
                Some("class"),
                format!("the programme defines no GPU class {:?}", class.as_str()),
            ));
        }
        let provider = field(1);
        if provider.is_empty() {
            return Err(error(Some(line), Some("provider"), "is empty".to_owned()));
        }
        let number = |index: usize| {
            let name = INPUT_COLUMNS[index];
            integer(field(index)).map_err(|problem| error(Some(line), Some(name), problem))
        };
        let leased_gpu_ms = number(2)?;
        let online_gpu_ms = number(3)?;
        let fraction_part = |index: usize| {
            let value = number(index)?;
            u64::try_from(value).map_err(|_| {
                error(
                    Some(line),
                    Some(INPUT_COLUMNS[index]),
                    format!("{value} is more than {}", u64::MAX),
                )
            })
        };
        let (num, den) = (fraction_part(4)?, fraction_part(5)?);
        let uptime = Uptime::new(num, den).map_err(|_| {
            let (field, problem) = if den == 0 {
                (
                    "uptime_den",
                    "is 0; the uptime fraction needs a positive window".to_owned(),
                )
            } else {
                (
                    "uptime_num",
                    format!(
                        "uptime {num}/{den} is above 1 (uptime_num must be at most uptime_den)"
                    ),
                )
            };
            error(Some(line), Some(field), problem)
        })?;
        if let Some(first) = seen.insert((class.clone(), provider.to_owned()), line) {
            return Err(error(
                Some(line),
                Some("provider"),
                format!("{provider} in class {class} is given twice (first on line {first})"),
            ));
        }
        inputs.insert(
            &class,
            provider,
            Measurement {
                online_gpu_ms,
                leased_gpu_ms,
                uptime,
            },
        );
    }
    Ok(inputs)
}

/// A non-negative decimal integer, or why the text is not one.
fn integer(text: &str) -> Result<u128, String> {
    if text.is_empty() {
        return Err("is empty; expected a non-negative integer".to_owned());
    }
    if let Some(digits) = text.strip_prefix('-') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text} is negative"));
        }
    }
    // `u128::from_str` would accept a leading `+`; the format has one spelling per number.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a non-negative decimal integer"));
    }
    text.parse::<u128>()
        .map_err(|_| format!("{text} is more than {}", u128::MAX))
}

/// Writes `inputs` as CSV to `out`: the [`INPUT_COLUMNS`] header, then one row per (class,
/// provider) in that order.
///
/// # Errors
/// When writing to `out` fails.
pub fn write_inputs(out: impl Write, inputs: &EpochInputs) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(INPUT_COLUMNS)?;
    for (class, providers) in &inputs.measurements {
        for (provider, m) in providers {
            csv.write_record([
                class.as_str(),
                provider,
                &m.leased_gpu_ms.to_string(),
                &m.online_gpu_ms.to_string(),
                &m.uptime.online_ms().to_string(),
                &m.uptime.window_ms().to_string(),
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "class,provider,leased_gpu_ms,online_gpu_ms,uptime_num,uptime_den\n";

    fn parse(text: &str) -> Result<EpochInputs, InputsError> {
        parse_inputs(Path::new("in.csv"), text.as_bytes(), |class| {
            ["h100", "a100"].contains(&class.as_str())
        })
    }

    /// The error for `body` under a good header, checked for its line and field.
    fn refused(body: &str, line: u64, field: Option<&str>) -> InputsError {
        let e = parse(&format!("{HEADER}{body}")).expect_err(body);
        assert_eq!(e.line, Some(line), "{e}");
        assert_eq!(e.field, field, "{e}");
        let message = e.to_string();
        assert!(message.starts_with(&format!("in.csv:{line}")), "{message}");
        e
    }

    #[test]
    fn reads_rows_and_writes_them_back_in_order() {
        let text = format!("{HEADER}h100,akash1b,5,6,1,2\na100,akash1a,0,10,3,3\n");
        let inputs = parse(&text).unwrap();
        let h100 = ClassName::new("h100").unwrap();
        let m = inputs.measurement(&h100, "akash1b").unwrap();
        assert_eq!((m.leased_gpu_ms, m.online_gpu_ms), (5, 6));
        assert_eq!(m.uptime, Uptime::new(1, 2).unwrap());
        let mut out = Vec::new();
        write_inputs(&mut out, &inputs).unwrap();
        let written = String::from_utf8(out).unwrap();
        assert_eq!(
            written,
            format!("{HEADER}a100,akash1a,0,10,3,3\nh100,akash1b,5,6,1,2\n")
        );
        assert_eq!(parse(&written).unwrap(), inputs);
    }

    /// The published form says who was registered: a provider with `registered_ms` 0 (on a
    /// class row or a row without a class) is taken as unregistered, so `rewards compute` does
    /// not pay its contracts and grants either; a bad `registered_ms` is named.
    #[test]
    fn the_published_form_carries_who_was_unregistered() {
        let header = "class,provider,leased_gpu_ms,online_gpu_ms,uptime_ppm,uptime_num,uptime_den,\
                      reported_gpus,leased_peak_gpus,registered_ms\n";
        let text = format!(
            "{header}h100,akash1a,0,0,0,0,10,0,0,0\nh100,akash1b,5,6,500000,5,10,2,1,10\n\
             ,akash1c,0,0,0,0,10,0,0,0\n"
        );
        let inputs = parse(&text).unwrap();
        assert_eq!(
            inputs.unregistered,
            ["akash1a", "akash1c"].map(String::from).into()
        );
        assert!(inputs.is_registered("akash1b"));
        let bad = parse(&format!("{header}h100,akash1b,5,6,500000,5,10,2,1,-1\n")).unwrap_err();
        assert_eq!((bad.line, bad.field), (Some(2), Some("registered_ms")));
        // The plain form knows nothing of registrations: nobody is taken as unregistered.
        let plain = parse(&format!("{HEADER}h100,akash1a,0,0,0,10\n")).unwrap();
        assert!(plain.unregistered.is_empty());
    }

    #[test]
    fn a_header_alone_is_no_measurement() {
        assert_eq!(parse(HEADER).unwrap(), EpochInputs::default());
    }

    #[test]
    fn refuses_a_wrong_or_missing_header() {
        let e = parse("class,provider,online_gpu_ms,leased_gpu_ms,uptime_num,uptime_den\n")
            .unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(
            e.to_string()
                .contains("expected class,provider,leased_gpu_ms"),
            "{e}"
        );
        assert_eq!(parse("").unwrap_err().line, Some(1));
    }

    #[test]
    fn refuses_bad_numbers_naming_line_and_field() {
        refused("h100,akash1a,x,1,1,1\n", 2, Some("leased_gpu_ms"));
        refused(
            "h100,akash1a,1,1,1,1\nh100,akash1b,1,-4,1,1\n",
            3,
            Some("online_gpu_ms"),
        );
        let e = refused("h100,akash1a,1,+1,1,1\n", 2, Some("online_gpu_ms"));
        assert!(e.problem.contains("not a non-negative decimal integer"));
        let e = refused("h100,akash1a,-1,1,1,1\n", 2, Some("leased_gpu_ms"));
        assert!(e.problem.contains("negative"));
        refused("h100,akash1a,1,1,,1\n", 2, Some("uptime_num"));
        refused("h100,akash1a,1,1,1, 1\n", 2, Some("uptime_den"));
        refused(
            "h100,akash1a,1,1,1,18446744073709551616\n",
            2,
            Some("uptime_den"),
        );
        refused(
            "h100,akash1a,340282366920938463463374607431768211456,1,1,1\n",
            2,
            Some("leased_gpu_ms"),
        );
    }

    #[test]
    fn refuses_an_uptime_that_is_not_a_fraction() {
        let e = refused("h100,akash1a,1,1,3,2\n", 2, Some("uptime_num"));
        assert!(e.problem.contains("above 1"), "{e}");
        refused("h100,akash1a,1,1,0,0\n", 2, Some("uptime_den"));
    }

    #[test]
    fn refuses_unknown_classes_empty_providers_and_duplicates() {
        let e = refused("h200,akash1a,1,1,1,1\n", 2, Some("class"));
        assert!(e.problem.contains("h200"), "{e}");
        refused(",akash1a,1,1,1,1\n", 2, Some("class"));
        refused("h100,,1,1,1,1\n", 2, Some("provider"));
        let e = refused(
            "h100,akash1a,1,1,1,1\na100,akash1a,1,1,1,1\nh100,akash1a,2,2,1,1\n",
            4,
            Some("provider"),
        );
        assert!(e.problem.contains("first on line 2"), "{e}");
    }

    #[test]
    fn refuses_rows_of_the_wrong_width() {
        let e = refused("h100,akash1a,1,1,1\n", 2, None);
        assert!(e.problem.contains("5 field(s)"), "{e}");
        refused("h100,akash1a,1,1,1,1\nh100,akash1b,1,1,1,1,9\n", 3, None);
    }
}
