//! The page's charts, drawn with plotters' SVG backend into strings that the page inlines.
//!
//! plotters is built without its font features: text is emitted as SVG `<text>` in the
//! generic `sans-serif` family, which the browser renders with its own fonts, and plotters
//! lays labels out with a rough width estimate. So no font file is read here or shipped in the
//! page. plotters escapes the text it writes, so names from the data can be passed as they are.
//!
//! Amounts become `f64` only here, and only to place pixels; every exact number is in the
//! page's tables. The output depends on nothing but the data: the same data, the same bytes.

use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::RangedCoordi32;
use plotters::prelude::*;

use super::data::{ClassHours, EpochBalances, Ranking, UPTIME_BUCKETS};
use super::PageError;

/// Every chart's width in pixels (the page's content column).
const WIDTH: u32 = 1120;
/// One colour per series, in order; chosen to stay apart for common colour blindness.
const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// The colour of series `index`.
pub fn colour(index: usize) -> RGBColor {
    COLOURS[index % COLOURS.len()]
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws into an SVG of `size` with a white background and returns its text.
fn svg(
    chart: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult,
) -> Result<String, PageError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|e| PageError::Chart {
                chart,
                problem: e.to_string(),
            })?;
    }
    Ok(out)
}

/// A value axis from 0 to a little above `max` (at least 1, so an all-zero chart still has
/// an axis).
fn value_range(max: f64) -> std::ops::Range<f64> {
    0.0..(max * 1.08).max(1.0)
}

/// The width of one category's slot on a category axis, in axis units (integers, so that the
/// axis formats its labels through the formatter given; a bar takes [`BAR_SPAN`] of it).
const SLOT: i32 = 120;
/// The part of a slot the bars of one category take, centred.
const BAR_SPAN: i32 = 84;

/// A category axis: `n` slots, labelled at their centres.
fn category_range(n: usize) -> WithKeyPoints<RangedCoordi32> {
    let n = i32::try_from(n).unwrap_or(i32::MAX / SLOT);
    (0..SLOT * n.max(1)).with_key_points((0..n).map(|i| i * SLOT + SLOT / 2).collect())
}

/// The first axis unit of slot `index`.
fn slot_start(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(0) * SLOT
}

/// The slot a category axis label at `centre` names.
fn slot(centre: i32) -> usize {
    usize::try_from(centre / SLOT).unwrap_or(0)
}

/// A number for an axis: at most three significant digits and a k/M/G/T suffix.
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    let (scale, suffix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(scale, _)| magnitude >= *scale)
        .unwrap_or((1.0, ""));
    let scaled = value / scale;
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{scaled:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{suffix}")
}

/// `text` shortened to at most `max` characters, keeping both ends (addresses differ at both).
pub fn shorten(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 5 {
        return text.to_owned();
    }
    let tail = (max - 1) / 3;
    let head = max - 1 - tail;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

/// The legend of the series drawn with a label, in the chart's top right corner.
fn legend<'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, SVGBackend<'a>, CT>) -> DrawResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14).into_font().color(&INK))
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .draw()
}

/// Each pool's closing balance per epoch, a line per pool (in the order given).
pub fn balances(pools: &[String], epochs: &[EpochBalances]) -> Result<String, PageError> {
    let last = epochs.last().map_or(0, |e| i64::from(e.epoch));
    let max = epochs
        .iter()
        .flat_map(|e| e.closing.values())
        .copied()
        .max()
        .unwrap_or(0);
    svg("pool balances", (WIDTH, 380), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(-1i64..last + 1, value_range(max as f64))?;
        let epoch_label = |e: &i64| {
            if (0..=last).contains(e) {
                e.to_string()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(usize::try_from(last + 3).unwrap_or(3).min(13))
            .x_label_formatter(&epoch_label)
            .y_label_formatter(&|v| compact(*v))
            .x_desc("epoch")
            .y_desc("closing balance (base units)")
            .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .draw()?;
        for (index, pool) in pools.iter().enumerate() {
            let colour = colour(index);
            let points: Vec<(i64, f64)> = epochs
                .iter()
                .filter_map(|e| {
                    let closing = e.closing.get(pool)?;
                    Some((i64::from(e.epoch), *closing as f64))
                })
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(pool.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|point| Circle::new(point, 3, colour.filled())),
            )?;
        }
        legend(&mut chart)
    })
}

/// One pool's ranking as horizontal bars, the largest on top.
pub fn top_providers(pool_index: usize, ranking: &Ranking) -> Result<String, PageError> {
    let n = ranking.shown.len();
    let height = 90 + 34 * n.max(1) as u32;
    let max = ranking.shown.first().map_or(0, |(_, amount)| *amount);
    let colour = colour(pool_index);
    svg("top providers", (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(230)
            .build_cartesian_2d(value_range(max as f64), category_range(n))?;
        // Slot 0 is at the bottom: the largest amount goes into the top slot.
        let label = |centre: &i32| {
            n.checked_sub(1 + slot(*centre))
                .and_then(|rank| ranking.shown.get(rank))
                .map(|(provider, _)| shorten(provider, 26))
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_label_formatter(&label)
            .x_label_formatter(&|v| compact(*v))
            .x_desc("allocated (base units)")
            .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .draw()?;
        chart.draw_series(ranking.shown.iter().enumerate().map(|(rank, (_, amount))| {
            let bottom = slot_start(n - 1 - rank) + (SLOT - BAR_SPAN) / 2;
            Rectangle::new(
                [(0.0, bottom), (*amount as f64, bottom + BAR_SPAN)],
                colour.filled(),
            )
        }))?;
        Ok(())
    })
}

/// How many providers fall into each tenth of uptime.
pub fn uptime(buckets: &[usize; UPTIME_BUCKETS]) -> Result<String, PageError> {
    let labels: Vec<String> = (0..UPTIME_BUCKETS)
        .map(|i| format!("{}–{}%", i * 10, i * 10 + 10))
        .collect();
    let values: Vec<Vec<f64>> = buckets.iter().map(|count| vec![*count as f64]).collect();
    // At most one label per whole count, so that no tick falls between two counts.
    let most = buckets.iter().copied().max().unwrap_or(0);
    let axis = ValueAxis {
        desc: "providers",
        labels: (most + 1).min(11),
        format: &|v| format!("{v:.0}"),
    };
    vertical_bars(
        "uptime distribution",
        &labels,
        &["providers"],
        &values,
        &axis,
    )
}

/// Leased and online GPU-hours per class, side by side.
pub fn gpu_hours(classes: &[ClassHours]) -> Result<String, PageError> {
    let hours = |ms: u128| ms as f64 / crate::fixed::MS_PER_HOUR as f64;
    let labels: Vec<String> = classes.iter().map(|c| shorten(&c.class, 18)).collect();
    let values: Vec<Vec<f64>> = classes
        .iter()
        .map(|c| vec![hours(c.leased_gpu_ms), hours(c.online_gpu_ms)])
        .collect();
    let axis = ValueAxis {
        desc: "GPU-hours",
        labels: 10,
        format: &|v| compact(*v),
    };
    vertical_bars(
        "GPU-hours by class",
        &labels,
        &["leased", "online"],
        &values,
        &axis,
    )
}

/// The value axis of a bar chart.
struct ValueAxis<'a> {
    /// What it measures.
    desc: &'a str,
    /// At most how many labels it has.
    labels: usize,
    /// A value as its label.
    format: &'a dyn Fn(&f64) -> String,
}

/// Bars standing on a category axis: `values[category][series]`, the series of one category
/// side by side, with a legend when there is more than one series.
fn vertical_bars(
    chart_name: &'static str,
    categories: &[String],
    series: &[&str],
    values: &[Vec<f64>],
    axis: &ValueAxis,
) -> Result<String, PageError> {
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let n = categories.len();
    svg(chart_name, (WIDTH, 360), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(category_range(n), value_range(max))?;
        let label = |centre: &i32| categories.get(slot(*centre)).cloned().unwrap_or_default();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_label_formatter(&label)
            .y_labels(axis.labels)
            .y_label_formatter(axis.format)
            .y_desc(axis.desc)
            .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .draw()?;
        let width = BAR_SPAN / i32::try_from(series.len().max(1)).unwrap_or(1);
        for (s, name) in series.iter().enumerate() {
            let colour = colour(s);
            let bars = values.iter().enumerate().filter_map(|(c, row)| {
                let value = *row.get(s)?;
                let left = slot_start(c) + (SLOT - BAR_SPAN) / 2 + width * i32::try_from(s).ok()?;
                Some(Rectangle::new(
                    [(left, 0.0), (left + width, value)],
                    colour.filled(),
                ))
            });
            let drawn = chart.draw_series(bars)?;
            if series.len() > 1 {
                drawn.label(*name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour.filled())
                });
            }
        }
        if series.len() > 1 {
            legend(&mut chart)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers_keep_three_significant_digits() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(7.5), "7.5");
        assert_eq!(compact(1_000.0), "1k");
        assert_eq!(compact(200_000_001.0), "200M");
        assert_eq!(compact(1_234_567_890.0), "1.23G");
        assert_eq!(compact(45_600_000_000_000.0), "45.6T");
    }

    #[test]
    fn shortening_keeps_both_ends_and_never_splits_a_character() {
        let address = "akash1qgpqyqszqgpqyqszqgpqyqszqgpqyqszwv2uls";
        let short = shorten(address, 26);
        assert_eq!(short, "akash1qgpqyqszqgp…szwv2uls");
        assert_eq!(short.chars().count(), 26);
        assert_eq!(shorten("h100", 26), "h100");
        let wide = "ééééééééééééééééééééééééééééééé";
        assert_eq!(shorten(wide, 10).chars().count(), 10);
    }

    #[test]
    fn an_empty_chart_is_still_an_svg_with_axes() {
        let empty = gpu_hours(&[]).unwrap();
        assert!(empty.starts_with("<svg"), "{empty}");
        assert!(empty.contains("<text"), "axis labels are SVG text: {empty}");
        let nobody = top_providers(0, &Ranking::default()).unwrap();
        assert!(nobody.starts_with("<svg"), "{nobody}");
    }
}
