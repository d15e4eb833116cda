//! The published tables as polars frames: each table has one definition ([`TableSpec`]: its
//! columns, their types and whether they may be empty), and is written as CSV and as Parquet
//! with the same columns and rows, and read back from both.
//!
//! * **Types.** A column is text, a 64-bit signed integer or a boolean. Amounts and GPU-ms are
//!   *text* of decimal digits: they are `u128` in the engine and would not survive a 64-bit
//!   integer column, nor a reader that turns large integers into floats.
//! * **Empty means null.** An empty CSV field is a null; text cells are never the empty string.
//! * **Reading is strict.** The CSV header must be exactly the table's column names; every cell
//!   must parse as its column's type; a column that may not be empty has no nulls; the Parquet
//!   file has the same schema and the same rows as the CSV. Each failure names the file, and
//!   where it can, the row (1-based, the header not counted) and the column.

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use thiserror::Error;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text (amounts included: decimal digits).
    Text,
    /// A 64-bit signed integer.
    Int,
    /// `true` or `false`.
    Bool,
}

impl Kind {
    fn dtype(self) -> DataType {
        match self {
            Kind::Text => DataType::String,
            Kind::Int => DataType::Int64,
            Kind::Bool => DataType::Boolean,
        }
    }
}

/// One column of a published table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Its header name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether a cell may be empty ("not applicable").
    pub nullable: bool,
}

impl ColumnSpec {
    /// A column that is never empty.
    pub const fn required(name: &'static str, kind: Kind) -> Self {
        ColumnSpec {
            name,
            kind,
            nullable: false,
        }
    }

    /// A column whose cells may be empty.
    pub const fn optional(name: &'static str, kind: Kind) -> Self {
        ColumnSpec {
            name,
            kind,
            nullable: true,
        }
    }
}

/// A published table: its name (the file stem) and its columns in order.
#[derive(Debug)]
pub struct TableSpec {
    /// `allocations`, `inputs`, …: the files are `<name>.csv` and `<name>.parquet`.
    pub name: &'static str,
    /// Its columns, in order.
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// The CSV file's name.
    pub fn csv_file(&self) -> String {
        format!("{}.csv", self.name)
    }

    /// The Parquet file's name.
    pub fn parquet_file(&self) -> String {
        format!("{}.parquet", self.name)
    }

    /// The CSV header line, without its line end.
    pub fn header(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| Field::new(c.name.into(), c.kind.dtype()))
            .collect()
    }
}

/// One cell of a row being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text, or null.
    Text(Option<String>),
    /// An integer, or null.
    Int(Option<i64>),
    /// A boolean, or null.
    Bool(Option<bool>),
}

impl Cell {
    /// A text cell.
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Text(Some(value.into()))
    }

    /// A text cell that may be null.
    pub fn opt_text(value: Option<impl Into<String>>) -> Self {
        Cell::Text(value.map(Into::into))
    }

    /// The decimal text of a number (amounts, GPU-ms).
    pub fn digits(value: impl fmt::Display) -> Self {
        Cell::Text(Some(value.to_string()))
    }
}

/// Why a table could not be written, read or compared.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{}: {problem}", file.display(), Place(*row, column.as_deref()))]
pub struct TableError {
    /// The file.
    pub file: PathBuf,
    /// The row (1-based, the header not counted), when the problem is in one.
    pub row: Option<usize>,
    /// The column, when the problem is in one.
    pub column: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl TableError {
    /// An I/O failure on `file`.
    pub fn io(file: &str, error: std::io::Error) -> Self {
        TableError::file(Path::new(file), format!("cannot write: {error}"))
    }

    /// A problem with `file` as a whole.
    pub fn file(file: &Path, problem: impl ToString) -> Self {
        TableError {
            file: file.to_path_buf(),
            row: None,
            column: None,
            problem: problem.to_string(),
        }
    }
}

/// Formats `, row N` and `, column C` when known.
struct Place<'a>(Option<usize>, Option<&'a str>);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(row) = self.0 {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = self.1 {
            write!(f, ", column {column}")?;
        }
        Ok(())
    }
}

/// A table's rows, collected column by column.
pub struct TableBuilder {
    spec: &'static TableSpec,
    columns: Vec<Values>,
    rows: usize,
}

enum Values {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl TableBuilder {
    /// An empty table of `spec`.
    pub fn new(spec: &'static TableSpec) -> Self {
        let columns = spec
            .columns
            .iter()
            .map(|c| match c.kind {
                Kind::Text => Values::Text(Vec::new()),
                Kind::Int => Values::Int(Vec::new()),
                Kind::Bool => Values::Bool(Vec::new()),
            })
            .collect();
        TableBuilder {
            spec,
            columns,
            rows: 0,
        }
    }

    /// Appends one row, its cells in column order.
    ///
    /// # Panics
    /// When the cells do not match the table's columns in number and kind: the row builders
    /// of this crate are written against the specs next to them, so this is a bug here.
    pub fn push(&mut self, cells: impl IntoIterator<Item = Cell>) {
        let mut count = 0;
        for (values, cell) in self.columns.iter_mut().zip(cells) {
            count += 1;
            match (values, cell) {
                (Values::Text(v), Cell::Text(c)) => v.push(c.filter(|s| !s.is_empty())),
                (Values::Int(v), Cell::Int(c)) => v.push(c),
                (Values::Bool(v), Cell::Bool(c)) => v.push(c),
                (_, cell) => panic!("table {}: cell {cell:?} of the wrong kind", self.spec.name),
            }
        }
        assert_eq!(
            count,
            self.columns.len(),
            "table {}: a row of the wrong length",
            self.spec.name
        );
        self.rows += 1;
    }

    /// The rows as a frame.
    pub fn finish(self) -> DataFrame {
        let columns = self
            .spec
            .columns
            .iter()
            .zip(self.columns)
            .map(|(spec, values)| {
                let name = PlSmallStr::from_static(spec.name);
                match values {
                    Values::Text(v) => Column::new(name, v),
                    Values::Int(v) => Column::new(name, v),
                    Values::Bool(v) => Column::new(name, v),
                }
            })
            .collect();
        // Every column got one value per row, so the heights agree.
        DataFrame::new(self.rows, columns).expect("columns of equal height")
    }
}

/// A table in both published forms.
pub struct Written {
    /// The CSV bytes.
    pub csv: Vec<u8>,
    /// The Parquet bytes.
    pub parquet: Vec<u8>,
}

/// Writes `frame` as CSV (header, `\n` line ends, fields quoted only where needed) and as
/// Parquet (zstd, one file-level schema), both deterministic: the same rows give the same
/// bytes.
pub fn write(spec: &TableSpec, frame: &mut DataFrame) -> Result<Written, TableError> {
    let csv = write_csv(spec, frame)?;
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(frame)
        .map_err(|e| TableError::file(Path::new(&spec.parquet_file()), e))?;
    Ok(Written { csv, parquet })
}

/// The CSV form alone (what `rewards compute` prints).
pub fn write_csv(spec: &TableSpec, frame: &mut DataFrame) -> Result<Vec<u8>, TableError> {
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv)
        .include_header(true)
        .with_line_terminator("\n".into())
        .finish(frame)
        .map_err(|e| TableError::file(Path::new(&spec.csv_file()), e))?;
    Ok(csv)
}

/// A folder's files, each read from disk at most once: `verify` reads a file to check its hash
/// and then decodes the same bytes.
#[derive(Debug)]
pub struct Files {
    folder: PathBuf,
    read: BTreeMap<String, Vec<u8>>,
}

impl Files {
    /// The files of `folder`, none read yet.
    pub fn in_folder(folder: &Path) -> Self {
        Files {
            folder: folder.to_path_buf(),
            read: BTreeMap::new(),
        }
    }

    /// The folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The bytes of file `name`, read now unless they were read before.
    pub fn bytes(&mut self, name: &str) -> Result<&[u8], TableError> {
        let bytes = match self.read.entry(name.to_owned()) {
            std::collections::btree_map::Entry::Occupied(read) => read.into_mut(),
            std::collections::btree_map::Entry::Vacant(unread) => {
                unread.insert(read_bytes(&self.folder.join(name))?)
            }
        };
        Ok(bytes)
    }

    /// Table `spec` from its CSV and Parquet files (see [`read`]).
    pub fn table(&mut self, spec: &TableSpec) -> Result<DataFrame, TableError> {
        let (csv_file, parquet_file) = (spec.csv_file(), spec.parquet_file());
        self.bytes(&csv_file)?;
        self.bytes(&parquet_file)?;
        let (csv_path, parquet_path) =
            (self.folder.join(&csv_file), self.folder.join(&parquet_file));
        let csv_bytes = self
            .read
            .get(&csv_file)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let parquet_bytes = self
            .read
            .get(&parquet_file)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let from_parquet = decode_parquet(spec, &parquet_path, parquet_bytes)?;
        if is_written_csv(spec, &from_parquet, csv_bytes) {
            return Ok(from_parquet);
        }
        let from_csv = parse_csv(spec, &csv_path, csv_bytes)?;
        if let Some(difference) = first_difference(spec, &from_csv, &from_parquet) {
            return Err(TableError {
                file: parquet_path,
                row: difference.row,
                column: difference.column.map(str::to_owned),
                problem: format!(
                    "differs from {}: the CSV has {}, the Parquet file has {}",
                    spec.csv_file(),
                    difference.expected,
                    difference.found
                ),
            });
        }
        Ok(from_csv)
    }
}

/// Reads table `spec` from its CSV and Parquet files in `folder`, checks both (see the module
/// docs) and that they hold the same rows, and returns the rows.
///
/// The Parquet file is decoded first. When the CSV file is byte for byte the CSV this crate
/// writes for those rows ([`write_csv`], compared by [`is_written_csv`] without writing it),
/// the two forms agree and the CSV need not be parsed: that is every untouched report, and it
/// saves parsing the largest file of an epoch. Any other
/// CSV — edited, re-encoded, or written by another tool — is parsed and compared row by row, so
/// a difference is still named by row and column.
pub fn read(spec: &TableSpec, folder: &Path) -> Result<DataFrame, TableError> {
    Files::in_folder(folder).table(spec)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, TableError> {
    std::fs::read(path).map_err(|e| TableError::file(path, format!("cannot read: {e}")))
}

/// Whether `csv` is exactly what [`write_csv`] writes for `frame`, a frame of table `spec`,
/// compared as it is read rather than written out: `verify` asks this of every published
/// table, and the observations' CSV is most of a report's bytes.
///
/// The CSV [`write_csv`] writes (polars' writer, quoting only where necessary) is the header,
/// then one line per row, each line ended by `\n`, cells separated by `,`: a null is empty; an
/// integer is its decimal digits; a boolean is `true` or `false`; a text is itself, except
/// that the empty text is `""`, a text holding `,`, `\n` or `\r` is quoted, and a text holding
/// `"` is quoted with each `"` doubled. A CSV that differs from it in any byte, even one that
/// reads back to the same rows, is not: [`read`] then parses it and compares the rows.
pub fn is_written_csv(spec: &TableSpec, frame: &DataFrame, csv: &[u8]) -> bool {
    let mut rest = csv;
    let header = spec.header();
    if !take(&mut rest, header.as_bytes()) || !take(&mut rest, b"\n") {
        return false;
    }
    let mut columns = Vec::with_capacity(spec.columns.len());
    for column in spec.columns {
        let Ok(values) = frame.column(column.name) else {
            return false;
        };
        let cells = match column.kind {
            Kind::Text => values
                .str()
                .ok()
                .map(|v| CsvCells::Text(Box::new(v.iter()), TextCells::default())),
            Kind::Int => values.i64().ok().map(|v| CsvCells::Int(Box::new(v.iter()))),
            Kind::Bool => values
                .bool()
                .ok()
                .map(|v| CsvCells::Bool(Box::new(v.iter()))),
        };
        let Some(cells) = cells else {
            return false;
        };
        columns.push(cells);
    }
    let mut digits = itoa::Buffer::new();
    for _ in 0..frame.height() {
        for (index, cells) in columns.iter_mut().enumerate() {
            if index > 0 && !take(&mut rest, b",") {
                return false;
            }
            let matched = match cells {
                CsvCells::Text(values, cells) => match values.next() {
                    Some(Some(text)) => cells.take(&mut rest, text),
                    Some(None) => true,
                    None => false,
                },
                CsvCells::Int(values) => match values.next() {
                    Some(Some(value)) => take(&mut rest, digits.format(value).as_bytes()),
                    Some(None) => true,
                    None => false,
                },
                CsvCells::Bool(values) => match values.next() {
                    Some(Some(true)) => take(&mut rest, b"true"),
                    Some(Some(false)) => take(&mut rest, b"false"),
                    Some(None) => true,
                    None => false,
                },
            };
            if !matched {
                return false;
            }
        }
        if !take(&mut rest, b"\n") {
            return false;
        }
    }
    rest.is_empty()
}

/// One column's cells in row order, for [`is_written_csv`].
enum CsvCells<'a> {
    Text(
        Box<dyn Iterator<Item = Option<&'a str>> + 'a>,
        TextCells<'a>,
    ),
    Int(Box<dyn Iterator<Item = Option<i64>> + 'a>),
    Bool(Box<dyn Iterator<Item = Option<bool>> + 'a>),
}

/// Whether `rest` starts with `expected`, which is then taken off it.
fn take(rest: &mut &[u8], expected: &[u8]) -> bool {
    match rest.strip_prefix(expected) {
        Some(after) => {
            *rest = after;
            true
        }
        None => false,
    }
}

/// The CSV cells of a text column's values, as [`is_written_csv`] compares them. A long text
/// is written out once and kept: a column of JSON (`gpus`) repeats a few hundred distinct
/// texts over tens of thousands of rows, each with every `"` doubled, and its cell is then
/// one comparison.
#[derive(Default)]
struct TextCells<'a> {
    written: foldhash::HashMap<&'a str, Vec<u8>>,
    scratch: Vec<u8>,
}

impl<'a> TextCells<'a> {
    /// Texts from this many bytes on are kept written out.
    const KEPT_FROM: usize = 32;
    /// At most this many are kept, so that a column of distinct texts costs one copy of them.
    const KEPT_AT_MOST: usize = 4096;

    /// Whether `rest` starts with the CSV cell of non-null text `text`, which is then taken
    /// off it.
    fn take(&mut self, rest: &mut &[u8], text: &'a str) -> bool {
        if text.len() >= Self::KEPT_FROM {
            let room = self.written.len() < Self::KEPT_AT_MOST;
            match self.written.entry(text) {
                Entry::Occupied(kept) => return take(rest, kept.get()),
                Entry::Vacant(new) if room => {
                    let mut cell = Vec::new();
                    write_cell(text, &mut cell);
                    return take(rest, new.insert(cell));
                }
                Entry::Vacant(_) => {}
            }
        }
        self.scratch.clear();
        write_cell(text, &mut self.scratch);
        take(rest, &self.scratch)
    }
}

/// Appends the CSV cell of non-null text `text` (see [`is_written_csv`]) to `cell`.
fn write_cell(text: &str, cell: &mut Vec<u8>) {
    let text = text.as_bytes();
    if text.is_empty() {
        cell.extend_from_slice(b"\"\"");
        return;
    }
    let quoted = text
        .iter()
        .any(|b| matches!(b, b',' | b'\n' | b'\r' | b'"'));
    if !quoted {
        cell.extend_from_slice(text);
        return;
    }
    cell.push(b'"');
    for (index, stretch) in text.split(|b| *b == b'"').enumerate() {
        if index > 0 {
            cell.extend_from_slice(b"\"\"");
        }
        cell.extend_from_slice(stretch);
    }
    cell.push(b'"');
}

/// Reads and checks the CSV form.
pub fn read_csv(spec: &TableSpec, path: &Path) -> Result<DataFrame, TableError> {
    parse_csv(spec, path, &read_bytes(path)?)
}

/// Checks and parses the CSV form read from `path`.
fn parse_csv(spec: &TableSpec, path: &Path, bytes: &[u8]) -> Result<DataFrame, TableError> {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let header = header.strip_suffix('\r').unwrap_or(&header);
    if header != spec.header() {
        return Err(TableError::file(
            path,
            format!("the header is {header:?}, expected {:?}", spec.header()),
        ));
    }
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(spec.schema())))
        .with_parse_options(CsvParseOptions::default().with_missing_is_null(true))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| TableError::file(path, format!("not a valid {} CSV: {e}", spec.name)))?;
    check_nulls(spec, path, &frame)?;
    Ok(frame)
}

/// Reads and checks the Parquet form.
pub fn read_parquet(spec: &TableSpec, path: &Path) -> Result<DataFrame, TableError> {
    decode_parquet(spec, path, &read_bytes(path)?)
}

/// Checks and decodes the Parquet form read from `path`.
fn decode_parquet(spec: &TableSpec, path: &Path, bytes: &[u8]) -> Result<DataFrame, TableError> {
    // Decoded on this thread (no parallel strategy), so that `without_panicking` sees a panic
    // of the decoder; the tables are small.
    let frame = without_panicking(|| {
        ParquetReader::new(Cursor::new(bytes))
            .read_parallel(ParallelStrategy::None)
            .finish()
    })
    .map_err(|e| TableError::file(path, format!("not a readable Parquet file: {e}")))?;
    let found: Vec<(String, DataType)> = frame
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.dtype().clone()))
        .collect();
    let expected: Vec<(String, DataType)> = spec
        .columns
        .iter()
        .map(|c| (c.name.to_string(), c.kind.dtype()))
        .collect();
    if found != expected {
        return Err(TableError::file(
            path,
            format!("its columns are {found:?}, expected {expected:?}"),
        ));
    }
    check_nulls(spec, path, &frame)?;
    Ok(frame)
}

/// Runs `decode` on untrusted bytes, turning a panic of it into an error.
///
/// polars 0.55 panics on some corrupted Parquet files instead of returning an error (an
/// assertion in its bitmap slicing, a thrift field of the wrong type in the footer). A
/// published file is hostile input, so such a panic must become an error naming the file, and
/// print nothing: the process-wide panic hook is wrapped once so that it stays quiet for panics
/// raised on a thread while it is inside this function, and behaves as before for all others.
fn without_panicking<T>(decode: impl FnOnce() -> PolarsResult<T>) -> Result<T, String> {
    thread_local! {
        static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    DECODING.with(|d| d.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(false));
    match outcome {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no reason given".to_owned());
            Err(format!("the Parquet decoder failed on it ({why})"))
        }
    }
}

fn check_nulls(spec: &TableSpec, path: &Path, frame: &DataFrame) -> Result<(), TableError> {
    for column in spec.columns.iter().filter(|c| !c.nullable) {
        let values = frame
            .column(column.name)
            .map_err(|e| TableError::file(path, e))?;
        if values.null_count() > 0 {
            let nulls = values.is_null();
            let row = nulls
                .iter()
                .position(|null| null == Some(true))
                .map(|i| i + 1);
            return Err(TableError {
                file: path.to_path_buf(),
                row,
                column: Some(column.name.to_owned()),
                problem: "is empty, and this column may not be".into(),
            });
        }
    }
    Ok(())
}

/// Where two frames of one table first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The row (1-based), or `None` when the row counts differ.
    pub row: Option<usize>,
    /// The column, when a cell differs.
    pub column: Option<&'static str>,
    /// The expected value (or row count), as text.
    pub expected: String,
    /// The value found.
    pub found: String,
}

/// The first cell (in row order, then column order) where `found` differs from `expected`, or
/// where the rows run out; `None` when they hold the same rows.
pub fn first_difference(
    spec: &TableSpec,
    expected: &DataFrame,
    found: &DataFrame,
) -> Option<Difference> {
    let rows = expected.height().min(found.height());
    let mut first: Option<(usize, &'static str)> = None;
    for column in spec.columns {
        let (Ok(a), Ok(b)) = (expected.column(column.name), found.column(column.name)) else {
            return Some(Difference {
                row: None,
                column: Some(column.name),
                expected: "the column".into(),
                found: "no such column".into(),
            });
        };
        let (a, b) = (a.slice(0, rows), b.slice(0, rows));
        let Ok(equal) = a
            .as_materialized_series()
            .equal_missing(b.as_materialized_series())
        else {
            continue;
        };
        let row = equal.iter().position(|same| same != Some(true));
        if let Some(row) = row.filter(|row| first.is_none_or(|(r, _)| *row < r)) {
            first = Some((row, column.name));
        }
    }
    if let Some((row, column)) = first {
        let cell = |frame: &DataFrame| {
            frame
                .column(column)
                .and_then(|c| c.get(row).map(|v| cell_text(&v)))
                .unwrap_or_default()
        };
        return Some(Difference {
            row: Some(row + 1),
            column: Some(column),
            expected: cell(expected),
            found: cell(found),
        });
    }
    (expected.height() != found.height()).then(|| Difference {
        row: Some(rows + 1),
        column: None,
        expected: format!("{} row(s)", expected.height()),
        found: format!("{} row(s)", found.height()),
    })
}

/// A cell as a person reads it: its text, or `(empty)`.
fn cell_text(value: &AnyValue) -> String {
    match value {
        AnyValue::Null => "(empty)".into(),
        AnyValue::String(s) => format!("{s:?}"),
        AnyValue::StringOwned(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

/// Typed access to a checked frame's columns, naming the file when a column is missing.
pub struct Columns<'a> {
    frame: &'a DataFrame,
    file: &'a Path,
}

impl<'a> Columns<'a> {
    /// Access to `frame`, read from `file`.
    pub fn new(frame: &'a DataFrame, file: &'a Path) -> Self {
        Columns { frame, file }
    }

    fn column(&self, name: &str) -> Result<&'a Column, TableError> {
        self.frame
            .column(name)
            .map_err(|e| TableError::file(self.file, e))
    }

    /// A text column.
    pub fn text(&self, name: &str) -> Result<&'a StringChunked, TableError> {
        self.column(name)?
            .str()
            .map_err(|e| TableError::file(self.file, e))
    }

    /// An integer column.
    pub fn int(&self, name: &str) -> Result<&'a Int64Chunked, TableError> {
        self.column(name)?
            .i64()
            .map_err(|e| TableError::file(self.file, e))
    }

    /// A boolean column.
    pub fn bool(&self, name: &str) -> Result<&'a BooleanChunked, TableError> {
        self.column(name)?
            .bool()
            .map_err(|e| TableError::file(self.file, e))
    }

    /// A problem with row `row` (0-based) as a whole.
    pub fn row_error(&self, row: usize, problem: impl ToString) -> TableError {
        TableError {
            file: self.file.to_path_buf(),
            row: Some(row + 1),
            column: None,
            problem: problem.to_string(),
        }
    }

    /// A problem in row `row` (0-based) of column `column`.
    pub fn error(&self, row: usize, column: &str, problem: impl ToString) -> TableError {
        TableError {
            file: self.file.to_path_buf(),
            row: Some(row + 1),
            column: Some(column.to_owned()),
            problem: problem.to_string(),
        }
    }
}
