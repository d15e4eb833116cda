//! The page made from small programme folders written here: the tables and manifests in
//! their published forms, with only the fields the page reads filled in meaningfully.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::allocations::ALLOCATIONS;
use crate::bundle::{epoch_folder, sha256_hex, Manifest, ManifestWindow, FORMAT, MANIFEST_FILE};
use crate::inputs::INPUTS;
use crate::table::{Cell, TableBuilder, TableSpec};

/// An allocations row: pool, provider, reason, amount.
type Line<'a> = (&'a str, Option<&'a str>, &'a str, u128);
/// An inputs row: class, provider, leased GPU-ms, online GPU-ms, uptime ppm.
type Input<'a> = (Option<&'a str>, &'a str, u128, u128, i64);

const ROOT: &str = "d3dc8dcd89a333ad4baeef40b25cf747c20a63ca81a0c7790996878a59175d80";

fn write_table(folder: &Path, spec: &'static TableSpec, table: TableBuilder) {
    let written = crate::table::write(spec, &mut table.finish()).unwrap();
    std::fs::write(folder.join(spec.csv_file()), written.csv).unwrap();
    std::fs::write(folder.join(spec.parquet_file()), written.parquet).unwrap();
}

/// Publishes epoch `epoch` of `programme` into `folder` with the given totals per pool
/// (`closing` and `allocated`), line items and inputs; returns its manifest's bytes.
fn publish(
    folder: &Path,
    programme: &str,
    epoch: u32,
    pools: &[(&str, u128, u128)],
    lines: &[Line],
    inputs: &[Input],
) -> Vec<u8> {
    let dir = epoch_folder(folder, epoch);
    std::fs::create_dir_all(&dir).unwrap();
    let mut allocations = TableBuilder::new(&ALLOCATIONS);
    for (pool, provider, reason, amount) in lines {
        allocations.push([
            Cell::Int(Some(i64::from(epoch))),
            Cell::text(*pool),
            Cell::text("h100"),
            Cell::opt_text(None::<&str>),
            Cell::opt_text(None::<&str>),
            Cell::opt_text(*provider),
            Cell::digits(7),
            Cell::digits(*amount),
            Cell::text("uakt"),
            Cell::text(*reason),
            Cell::opt_text(None::<&str>),
        ]);
    }
    write_table(&dir, &ALLOCATIONS, allocations);
    let mut table = TableBuilder::new(&INPUTS);
    for (class, provider, leased, online, ppm) in inputs {
        table.push([
            Cell::opt_text(*class),
            Cell::text(*provider),
            Cell::digits(*leased),
            Cell::digits(*online),
            Cell::Int(Some(*ppm)),
            Cell::Int(Some(*ppm)),
            Cell::Int(Some(1_000_000)),
            Cell::Int(Some(0)),
            Cell::Int(Some(0)),
            Cell::Int(Some(1_000_000)),
        ]);
    }
    write_table(&dir, &INPUTS, table);
    let totals = pools
        .iter()
        .map(|(pool, closing, allocated)| {
            let columns = [("closing", closing), ("allocated", allocated)]
                .into_iter()
                .map(|(name, amount)| (name.to_owned(), amount.to_string()))
                .collect();
            ((*pool).to_owned(), columns)
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        programme: programme.to_owned(),
        chain_id: "akashnet-2".to_owned(),
        epoch,
        window: ManifestWindow {
            start: "2024-02-15T00:00:00Z".to_owned(),
            end: "2024-02-15T00:10:00Z".to_owned(),
        },
        heights: None,
        tool_version: "0.1.0".to_owned(),
        inputs_hash: "00".repeat(32),
        files: BTreeMap::new(),
        line_items: lines.len(),
        totals,
        merkle_root: ROOT.to_owned(),
        merkle_leaves: 1,
        previous_manifest_sha256: None,
    };
    let bytes = manifest.to_bytes();
    std::fs::write(dir.join(MANIFEST_FILE), &bytes).unwrap();
    bytes
}

const A: &str = "akash1qgpqyqszqgpqyqszqgpqyqszqgpqyqszwv2uls";
const B: &str = "akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg";

/// Two epochs of a programme with a liquidity-mining pool that paid two providers and an R&D
/// pool that paid nobody.
fn two_epochs(folder: &Path) -> Vec<u8> {
    let pools = [("liquidity_mining", 800, 0), ("rnd", 50, 0)];
    publish(folder, "pilot", 0, &pools, &[], &[]);
    let pools = [("liquidity_mining", 600, 200), ("rnd", 50, 0)];
    let lines = [
        ("liquidity_mining", Some(A), "PAID", 150),
        ("liquidity_mining", Some(B), "CAPPED", 50),
        ("liquidity_mining", Some(B), "UPTIME_BELOW_THRESHOLD", 0),
        ("liquidity_mining", None, "NO_ELIGIBLE_WEIGHT", 9),
    ];
    let inputs = [
        (Some("h100"), A, 3_600_000, 7_200_000, 1_000_000),
        (Some("a100"), A, 0, 1_800_000, 1_000_000),
        (Some("h100"), B, 1_800_000, 3_600_000, 450_000),
        (None, "akash1nolease", 0, 0, 50_000),
    ];
    publish(folder, "pilot", 1, &pools, &lines, &inputs)
}

#[test]
fn the_totals_root_and_manifest_hash_are_in_their_cells() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = two_epochs(dir.path());
    let page = render(dir.path()).unwrap();
    for (pool, column, value) in [
        ("liquidity_mining", "closing", "600"),
        ("liquidity_mining", "allocated", "200"),
        ("rnd", "closing", "50"),
        ("rnd", "allocated", "0"),
    ] {
        let cell = format!("data-pool=\"{pool}\" data-column=\"{column}\">{value}</td>");
        assert_eq!(page.matches(&cell).count(), 1, "{cell} in\n{page}");
    }
    assert!(page.contains(&format!("<code id=\"merkle-root\">{ROOT}</code>")));
    let hash = sha256_hex(&manifest);
    assert!(page.contains(&format!("<code id=\"manifest-sha256\">{hash}</code>")));
    assert!(page.contains("<td id=\"epoch\">1</td>"), "the latest epoch");
}

#[test]
fn what_the_page_shows_is_read_from_the_latest_epoch() {
    let dir = tempfile::tempdir().unwrap();
    two_epochs(dir.path());
    let data = data::gather(dir.path()).unwrap();
    let closing: Vec<u128> = data
        .balances
        .iter()
        .map(|e| e.closing["liquidity_mining"])
        .collect();
    assert_eq!(closing, [800, 600]);
    let lm = &data.latest.top_providers["liquidity_mining"];
    // PAID and CAPPED count; the zero and the class-level line do not.
    assert_eq!(lm.shown, [(A.to_owned(), 150), (B.to_owned(), 50)]);
    assert_eq!(lm.of, 2);
    assert_eq!(data.latest.top_providers["rnd"], data::Ranking::default());
    // Three providers, each once: 5 %, 45 % and 100 %.
    let mut buckets = [0; data::UPTIME_BUCKETS];
    buckets[0] = 1;
    buckets[4] = 1;
    buckets[9] = 1;
    assert_eq!(data.latest.uptime_buckets, buckets);
    let classes: Vec<(&str, u128, u128, usize)> = data
        .latest
        .classes
        .iter()
        .map(|c| {
            (
                c.class.as_str(),
                c.leased_gpu_ms,
                c.online_gpu_ms,
                c.providers,
            )
        })
        .collect();
    assert_eq!(
        classes,
        [
            ("a100", 0, 1_800_000, 1),
            ("h100", 5_400_000, 10_800_000, 2)
        ]
    );
    assert_eq!(data.latest.denom.as_deref(), Some("uakt"));
    let page = html::render(&data).unwrap();
    assert!(page.contains("<td class=\"n\">1.500</td><td class=\"n\">3.000</td>"));
    assert!(page.contains(&format!(
        "<td class=\"mono\">{A}</td><td class=\"n\">150</td>"
    )));
}

#[test]
fn names_from_the_data_are_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<script>alert('x')</script>&\"";
    let pools = [(hostile, 10, 10)];
    let lines = [(hostile, Some(hostile), "PAID", 10)];
    let inputs = [(Some(hostile), hostile, 3_600_000, 3_600_000, 900_000)];
    publish(dir.path(), hostile, 0, &pools, &lines, &inputs);
    let page = render(dir.path()).unwrap();
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("alert('x')"), "{page}");
    let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;";
    assert!(page.contains(&format!("<span id=\"programme\">{escaped}</span>")));
    assert!(page.contains(&format!("data-pool=\"{escaped}\"")));
    assert!(page.contains(&format!("<td class=\"mono\">{escaped}</td>")));
    // In the charts too (plotters escapes what it draws).
    assert!(
        page.contains("&lt;script&gt;alert(&apos;x&apos;)"),
        "{page}"
    );
}

#[test]
fn reporting_twice_gives_the_same_bytes_and_leaves_the_page_alone() {
    let dir = tempfile::tempdir().unwrap();
    two_epochs(dir.path());
    let first = write_page(dir.path()).unwrap();
    assert_eq!(first.outcome, Published::Written);
    assert_eq!(first.latest, 1);
    assert_eq!(first.path, dir.path().join(PAGE_FILE));
    let bytes = std::fs::read(&first.path).unwrap();
    let second = write_page(dir.path()).unwrap();
    assert_eq!(second.outcome, Published::Unchanged);
    assert_eq!(std::fs::read(&first.path).unwrap(), bytes);
    // A copy of the folders elsewhere makes the same page: nothing depends on the path.
    let other = tempfile::tempdir().unwrap();
    two_epochs(other.path());
    assert_eq!(render(other.path()).unwrap().as_bytes(), bytes.as_slice());
    // A new epoch changes the page.
    let pools = [("liquidity_mining", 400, 200), ("rnd", 50, 0)];
    publish(dir.path(), "pilot", 2, &pools, &[], &[]);
    let third = write_page(dir.path()).unwrap();
    assert_eq!((third.outcome, third.latest), (Published::Written, 2));
    assert_ne!(std::fs::read(&first.path).unwrap(), bytes);
}

#[test]
fn an_epoch_without_providers_or_allocations_still_makes_a_page() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "pilot", 0, &[("committed", 0, 0)], &[], &[]);
    let page = render(dir.path()).unwrap();
    assert!(page.contains("No provider was allocated anything."));
    assert!(page.contains("No provider was measured."));
    assert!(page.contains("No class was measured."));
    assert!(page.contains("data-pool=\"committed\" data-column=\"closing\">0</td>"));
    // The balance chart is drawn even for one epoch at zero.
    assert_eq!(page.matches("<svg").count(), 1, "{page}");
}

#[test]
fn the_page_stops_at_a_missing_epoch_and_names_the_ones_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    two_epochs(dir.path());
    let pools = [("liquidity_mining", 1, 1)];
    publish(dir.path(), "pilot", 3, &pools, &[], &[]);
    publish(dir.path(), "pilot", 4, &pools, &[], &[]);
    let data = data::gather(dir.path()).unwrap();
    assert_eq!(data.latest.manifest.epoch, 1);
    assert_eq!(data.balances.len(), 2);
    assert_eq!(data.beyond_gap, [3, 4]);
    let page = html::render(&data).unwrap();
    assert!(
        page.contains("Not shown: epoch(s) 3, 4 — epoch 2 is missing"),
        "{page}"
    );

    std::fs::remove_dir_all(epoch_folder(dir.path(), 0)).unwrap();
    let e = render(dir.path()).unwrap_err().to_string();
    assert!(
        e.starts_with(&epoch_folder(dir.path(), 0).display().to_string()),
        "{e}"
    );
}

#[test]
fn a_manifest_amount_that_is_not_a_number_is_named() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "pilot", 0, &[("rnd", 5, 5)], &[], &[]);
    let path = epoch_folder(dir.path(), 0).join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"closing\": \"5\"", "\"closing\": \"-5\""),
    )
    .unwrap();
    let e = render(dir.path()).unwrap_err().to_string();
    assert!(e.contains("column totals.rnd.closing"), "{e}");
    assert!(e.contains("\"-5\""), "{e}");
}
