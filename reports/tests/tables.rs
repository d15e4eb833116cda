//! The published tables' two forms: what polars writes as CSV and as Parquet reads back to the
//! same rows, byte for byte the same run after run, and every kind of damaged file is a clear
//! error naming the file (and where it can, the row and the column), never a panic.

use std::path::Path;

use reports::table::{self, Cell, ColumnSpec, Kind, TableBuilder, TableError, TableSpec};

static SAMPLE: TableSpec = TableSpec {
    name: "sample",
    columns: &[
        ColumnSpec::required("name", Kind::Text),
        ColumnSpec::required("amount", Kind::Text),
        ColumnSpec::optional("count", Kind::Int),
        ColumnSpec::required("online", Kind::Bool),
        ColumnSpec::optional("note", Kind::Text),
    ],
};

/// name, amount, count, online, note.
type SampleRow = (
    &'static str,
    &'static str,
    Option<i64>,
    bool,
    Option<&'static str>,
);

/// Rows chosen to stress the CSV form: quotes, commas, line breaks, non-ASCII, an amount far
/// beyond 64 bits, negative and extreme integers, and empty cells.
fn sample() -> polars::prelude::DataFrame {
    let mut table = TableBuilder::new(&SAMPLE);
    let rows: [SampleRow; 5] = [
        ("plain", "0", Some(0), true, None),
        (
            "with, comma",
            "340282366920938463463374607431768211455",
            Some(i64::MAX),
            false,
            Some("a \"quoted\" note"),
        ),
        ("line\nbreak", "12", Some(i64::MIN), true, Some("ünïcødé ✓")),
        (
            "json",
            "7",
            None,
            false,
            Some("[{\"model\":\"a100\",\"allocatable\":8}]"),
        ),
        ("last", "1", Some(-5), true, Some("trailing space ")),
    ];
    for (name, amount, count, online, note) in rows {
        table.push([
            Cell::text(name),
            Cell::text(amount),
            Cell::Int(count),
            Cell::Bool(Some(online)),
            Cell::opt_text(note),
        ]);
    }
    table.finish()
}

fn write_sample(folder: &Path) -> table::Written {
    let mut frame = sample();
    let written = table::write(&SAMPLE, &mut frame).unwrap();
    std::fs::write(folder.join(SAMPLE.csv_file()), &written.csv).unwrap();
    std::fs::write(folder.join(SAMPLE.parquet_file()), &written.parquet).unwrap();
    written
}

fn read_error(folder: &Path) -> TableError {
    table::read(&SAMPLE, folder).expect_err("the damaged table must be refused")
}

#[test]
fn parquet_and_csv_read_back_to_the_rows_written() {
    let dir = tempfile::tempdir().unwrap();
    write_sample(dir.path());
    let expected = sample();
    let from_csv = table::read_csv(&SAMPLE, &dir.path().join("sample.csv")).unwrap();
    let from_parquet = table::read_parquet(&SAMPLE, &dir.path().join("sample.parquet")).unwrap();
    assert!(from_csv.equals_missing(&expected), "{from_csv}\n{expected}");
    assert!(from_parquet.equals_missing(&expected), "{from_parquet}");
    let both = table::read(&SAMPLE, dir.path()).unwrap();
    assert!(both.equals_missing(&expected));
    assert_eq!(table::first_difference(&SAMPLE, &expected, &both), None);
}

#[test]
fn the_same_rows_give_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = write_sample(a.path());
    let second = write_sample(b.path());
    assert_eq!(first.csv, second.csv);
    assert_eq!(first.parquet, second.parquet);
    let csv = String::from_utf8(first.csv).unwrap();
    assert!(
        csv.starts_with("name,amount,count,online,note\nplain,0,0,true,\n"),
        "{csv}"
    );
}

#[test]
fn a_wrong_header_is_named_with_the_expected_one() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let csv = String::from_utf8(written.csv).unwrap();
    let renamed = csv.replacen("amount", "amounts", 1);
    std::fs::write(dir.path().join("sample.csv"), renamed).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.csv"), "{error}");
    assert!(
        error.problem.contains("name,amount,count,online,note"),
        "{error}"
    );
}

#[test]
fn a_non_integer_in_an_integer_column_names_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let csv = String::from_utf8(written.csv).unwrap();
    let broken = csv.replacen("plain,0,0,", "plain,0,zero,", 1);
    std::fs::write(dir.path().join("sample.csv"), broken).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.csv"), "{error}");
    assert!(
        error.to_string().contains("not a valid sample CSV"),
        "{error}"
    );
}

#[test]
fn an_empty_required_cell_is_named_by_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let csv = String::from_utf8(written.csv).unwrap();
    let broken = csv.replacen("last,1,", "last,,", 1);
    std::fs::write(dir.path().join("sample.csv"), broken).unwrap();
    let error = read_error(dir.path());
    assert_eq!(error.row, Some(5), "{error}");
    assert_eq!(error.column.as_deref(), Some("amount"), "{error}");
}

#[test]
fn a_truncated_parquet_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let half = &written.parquet[..written.parquet.len() / 2];
    std::fs::write(dir.path().join("sample.parquet"), half).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.parquet"), "{error}");
    assert!(
        error.problem.contains("not a readable Parquet file"),
        "{error}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_sample(dir.path());
    std::fs::remove_file(dir.path().join("sample.parquet")).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.parquet"), "{error}");
    assert!(error.problem.contains("cannot read"), "{error}");
}

/// A CSV that holds the same rows in another encoding than the one written (a CRLF line end, a
/// quoted field) is not the canonical bytes, so it is parsed and compared row by row: it reads
/// to the same rows, and a change of value in it is still caught.
#[test]
fn a_csv_in_another_encoding_of_the_same_rows_is_parsed_and_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let csv = String::from_utf8(written.csv).unwrap();
    // The header's line end only: one sample cell holds a line break of its own.
    let reencoded = csv
        .replacen('\n', "\r\n", 1)
        .replacen("plain,", "\"plain\",", 1);
    assert_ne!(reencoded, csv);
    std::fs::write(dir.path().join("sample.csv"), &reencoded).unwrap();
    let read = table::read(&SAMPLE, dir.path()).unwrap();
    assert!(read.equals_missing(&sample()), "{read}");
    std::fs::write(
        dir.path().join("sample.csv"),
        reencoded.replacen("json,7,", "json,8,", 1),
    )
    .unwrap();
    assert_eq!(read_error(dir.path()).column.as_deref(), Some("amount"));
}

#[test]
fn csv_and_parquet_that_disagree_name_the_first_differing_cell() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_sample(dir.path());
    let csv = String::from_utf8(written.csv).unwrap();
    let edited = csv.replacen("json,7,", "json,8,", 1);
    std::fs::write(dir.path().join("sample.csv"), edited).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.parquet"), "{error}");
    assert_eq!(error.row, Some(4), "{error}");
    assert_eq!(error.column.as_deref(), Some("amount"), "{error}");
    assert!(
        error.problem.contains("\"8\"") && error.problem.contains("\"7\""),
        "{error}"
    );
}

#[test]
fn a_parquet_file_of_another_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_sample(dir.path());
    let mut other = reports::allocations::allocations_frame(&[], "uakt");
    let written = table::write(&reports::allocations::ALLOCATIONS, &mut other).unwrap();
    std::fs::write(dir.path().join("sample.parquet"), written.parquet).unwrap();
    let error = read_error(dir.path());
    assert!(error.file.ends_with("sample.parquet"), "{error}");
    assert!(error.problem.contains("its columns are"), "{error}");
}

#[test]
fn a_missing_row_is_reported_after_the_last_common_one() {
    let expected = sample();
    let found = expected.slice(0, 4);
    let difference = table::first_difference(&SAMPLE, &expected, &found).unwrap();
    assert_eq!(difference.row, Some(5));
    assert_eq!(difference.column, None);
    assert_eq!(difference.expected, "5 row(s)");
    assert_eq!(difference.found, "4 row(s)");
}

/// A sample row whose texts, short or long, are drawn from the characters CSV quoting cares
/// about.
fn any_row() -> impl proptest::strategy::Strategy<Value = [Cell; 5]> {
    use proptest::prelude::*;
    let text = prop_oneof!["[a\",\r\n ü{}:]{0,8}", "[a\",\r\n ü{}:]{30,50}"];
    (
        text.clone(),
        "[0-9]{1,40}",
        proptest::option::of(any::<i64>()),
        any::<bool>(),
        proptest::option::of(text),
    )
        .prop_map(|(name, amount, count, online, note)| {
            [
                Cell::text(name),
                Cell::text(amount),
                Cell::Int(count),
                Cell::Bool(Some(online)),
                Cell::opt_text(note),
            ]
        })
}

proptest::proptest! {
    /// `verify` accepts a CSV without parsing it only when `is_written_csv` says it is the
    /// bytes `write_csv` writes: it must say so of exactly those bytes, for any rows (quotes,
    /// separators, line breaks, empty and null cells, extreme integers, no rows at all, long
    /// texts met again in later rows, whose cells it keeps), and of no other bytes: not with
    /// one byte changed, dropped or added, nor cut short.
    #[test]
    fn is_written_csv_is_exactly_the_written_bytes(
        rows in proptest::collection::vec(any_row(), 0..6),
        again in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..4),
        at in proptest::prelude::any::<proptest::sample::Index>(),
        byte in proptest::prelude::any::<u8>(),
    ) {
        let mut table = TableBuilder::new(&SAMPLE);
        let repeated: Vec<[Cell; 5]> = match rows.len() {
            0 => Vec::new(),
            n => again.iter().map(|i| rows[i.index(n)].clone()).collect(),
        };
        for row in rows.into_iter().chain(repeated) {
            table.push(row);
        }
        let mut frame = table.finish();
        let csv = table::write_csv(&SAMPLE, &mut frame).unwrap();
        proptest::prop_assert!(table::is_written_csv(&SAMPLE, &frame, &csv));
        let i = at.index(csv.len());
        let mut changed = csv.clone();
        changed[i] = byte;
        let mut dropped = csv.clone();
        dropped.remove(i);
        let mut added = csv.clone();
        added.insert(i, byte);
        for other in [changed, dropped, added, csv[..i].to_vec()] {
            proptest::prop_assert_eq!(
                table::is_written_csv(&SAMPLE, &frame, &other),
                other == csv
            );
        }
    }
}

/// More distinct long texts than `is_written_csv` keeps written out: those it no longer keeps
/// are still compared, so an edit in the last row is found.
#[test]
fn an_edit_after_many_distinct_long_texts_is_found() {
    let mut table = TableBuilder::new(&SAMPLE);
    for i in 0..5_000 {
        table.push([
            Cell::text(format!("[{{\"model\":\"h100\",\"allocatable\":{i}}}]")),
            Cell::text(i.to_string()),
            Cell::Int(Some(i)),
            Cell::Bool(Some(true)),
            Cell::opt_text(None::<String>),
        ]);
    }
    let mut frame = table.finish();
    let csv = table::write_csv(&SAMPLE, &mut frame).unwrap();
    assert!(table::is_written_csv(&SAMPLE, &frame, &csv));
    let text = String::from_utf8(csv).unwrap();
    let edited = text.replacen("allocatable\"\":4999", "allocatable\"\":4998", 1);
    assert_ne!(edited, text);
    assert!(!table::is_written_csv(&SAMPLE, &frame, edited.as_bytes()));
}
