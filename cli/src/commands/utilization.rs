//! `report utilization (--quarter YYYYQn | --from T --to T) --out DIR`: the quarterly GPU
//! utilization and lease revenue report (`reports::utilization`), written as `utilization` and
//! `revenue` (CSV and Parquet) and `summary.md`, each file atomically. Read-only on the store.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;
use reports::utilization::utilization;
use rewards::calendar::Window;

use super::settle::parse_instant;
use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct UtilizationArgs {
    /// A calendar quarter in UTC, e.g. 2024Q1 (January to March).
    #[arg(long, value_name = "YYYYQn", value_parser = parse_quarter,
          required_unless_present_all = ["from", "to"], conflicts_with_all = ["from", "to"])]
    quarter: Option<(i64, i64)>,

    /// Start of the window (RFC 3339 or a date), inclusive.
    #[arg(long, value_name = "T", value_parser = parse_instant, requires = "to")]
    from: Option<i64>,

    /// End of the window (RFC 3339 or a date), exclusive.
    #[arg(long, value_name = "T", value_parser = parse_instant, requires = "from")]
    to: Option<i64>,

    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// `2024Q1` as `[2024-01-01, 2024-04-01)` in unix milliseconds.
fn parse_quarter(text: &str) -> Result<(i64, i64), String> {
    let bad = || format!("{text:?} is not a quarter like 2024Q1");
    let (year, quarter) = text.split_once(['Q', 'q']).ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let quarter: u32 = quarter.parse().map_err(|_| bad())?;
    if !(1..=4).contains(&quarter) {
        return Err(bad());
    }
    let start_month = 3 * (quarter - 1) + 1;
    let start = NaiveDate::from_ymd_opt(year, start_month, 1).ok_or_else(bad)?;
    let end = if quarter == 4 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, start_month + 3, 1)
    }
    .ok_or_else(bad)?;
    let ms = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
    };
    Ok((ms(start).ok_or_else(bad)?, ms(end).ok_or_else(bad)?))
}

pub fn run(args: UtilizationArgs, context: &Context) -> anyhow::Result<()> {
    let (from, to) = match (args.quarter, args.from, args.to) {
        (Some(window), _, _) => window,
        (None, Some(from), Some(to)) => (from, to),
        _ => return Err(UsageError("give --quarter, or --from and --to".into()).into()),
    };
    let window = Window::new(domain::UnixMs(from), domain::UnixMs(to))
        .map_err(|e| UsageError(format!("not a window: {e}")))?;
    let config = context.config()?;
    let settle = super::settle::settlement_config(&config)?;
    let mut store = context.store()?;
    let report = utilization(
        store.conn(),
        &config.programme,
        settle.max_staleness_ms,
        window,
    )
    .context("cannot compute the utilization report")?;
    report
        .publish(&args.out, &config.name)
        .context("cannot write the utilization report")?;
    println!(
        "utilization [{}, {}): {} row(s), {} revenue row(s) in {}",
        window.start_ms(),
        window.end_ms(),
        report.rows.len(),
        report.revenue.len(),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_quarter;

    fn ms(day: &str) -> i64 {
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn quarters_are_utc_calendar_quarters_ending_where_the_next_begins() {
        assert_eq!(
            parse_quarter("2024Q1"),
            Ok((ms("2024-01-01"), ms("2024-04-01")))
        );
        assert_eq!(
            parse_quarter("2024q2"),
            Ok((ms("2024-04-01"), ms("2024-07-01")))
        );
        assert_eq!(
            parse_quarter("2024Q3"),
            Ok((ms("2024-07-01"), ms("2024-10-01")))
        );
        assert_eq!(
            parse_quarter("2024Q4"),
            Ok((ms("2024-10-01"), ms("2025-01-01")))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_expected_form() {
        for text in [
            "2024Q0", "2024Q5", "2024", "Q1", "2024-Q1", "20x4Q1", "2024Q1 ", "",
        ] {
            let error = parse_quarter(text).unwrap_err();
            assert!(
                error.contains("is not a quarter like 2024Q1"),
                "{text:?}: {error}"
            );
        }
    }
}
