//! `report.html` as a person opens it: the page `report --all` writes for the shared audit
//! publication (`support::audit`), opened in headless Chromium from the file, with nothing but
//! the file. The screenshot must show something (many colours, a chart's bars), and the DOM
//! Chromium built must carry every total of the latest `manifest.json` in its cell, the
//! Merkle root and the manifest's SHA-256.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it). Without it the browser checks are
//! skipped with a message, except under `CI=true`, where a skip would hide exactly what they
//! exist for: there the test fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reports::bundle::{sha256_hex, Manifest, MANIFEST_FILE};
use reports::page::PAGE_FILE;
use support::audit::{cli, copy_folder, epoch_folder, good, LAST, PROGRAMME};
use support::{binary, run, run_within, tool_on_path};

/// The longest a browser run may take before the test fails.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);

/// The latest epoch's manifest and its bytes' SHA-256.
fn latest_manifest(programme: &Path) -> (Manifest, String) {
    let bytes = std::fs::read(epoch_folder(programme, LAST).join(MANIFEST_FILE))
        .expect("read the latest manifest");
    let manifest = serde_json::from_slice(&bytes).expect("a manifest");
    (manifest, sha256_hex(&bytes))
}

/// `chromium` from `PATH` (see [`tool_on_path`]).
fn chromium() -> Option<PathBuf> {
    tool_on_path("chromium", "chromium", "the browser checks of report.html")
}

/// Headless Chromium on `page` with `args`, its profile in `profile`, killed (and the test
/// failed) after [`BROWSER_LIMIT`]; returns its standard output. Every request that would leave
/// the machine goes to a closed local port: the page must not need one.
fn browse(chromium: &Path, profile: &Path, page: &Path, args: &[&str]) -> String {
    let output = run_within(
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--proxy-server=127.0.0.1:9",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(format!("file://{}", page.display())),
        BROWSER_LIMIT,
    );
    assert!(
        output.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 from chromium")
}

/// The screenshot's pixels as RGB triples.
fn pixels(png_file: &Path) -> Vec<[u8; 3]> {
    let file = std::io::BufReader::new(std::fs::File::open(png_file).expect("open the PNG"));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a PNG of sane size")];
    let frame = reader.next_frame(&mut buffer).expect("decode the PNG");
    let channels = frame.color_type.samples();
    assert!(channels >= 3, "a colour screenshot: {:?}", frame.color_type);
    buffer[..frame.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}

#[test]
fn the_page_opens_in_a_browser_showing_charts_and_the_manifests_totals() {
    let good = good();
    let programme = good.programme();
    let page_path = programme.join(PAGE_FILE);
    let page = std::fs::read_to_string(&page_path).expect("report --all writes report.html");
    let (manifest, manifest_sha256) = latest_manifest(&programme);

    // Self-contained: no script, nothing loaded from anywhere. The one URL is the SVG
    // namespace, which names the vocabulary and is never fetched.
    for reference in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<iframe",
    ] {
        assert!(!page.contains(reference), "report.html holds {reference:?}");
    }
    let without_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_namespace.contains("http://") && !without_namespace.contains("https://"),
        "report.html refers to a URL other than the SVG namespace"
    );

    let Some(chromium) = chromium() else { return };
    let work = tempfile::tempdir().expect("a temporary folder");
    let screenshot = work.path().join("page.png");
    browse(
        &chromium,
        &work.path().join("profile"),
        &page_path,
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    let pixels = pixels(&screenshot);
    assert_eq!(pixels.len(), 1280 * 2400, "the screenshot is the window");
    let mut counts = std::collections::BTreeMap::<[u8; 3], usize>::new();
    for pixel in &pixels {
        *counts.entry(*pixel).or_default() += 1;
    }
    let background = counts.values().max().copied().unwrap_or_default();
    let drawn = pixels.len() - background;
    assert!(
        drawn * 5 >= pixels.len(),
        "only {drawn} of {} pixels differ from the background: a blank page?",
        pixels.len()
    );
    assert!(
        counts.len() > 50,
        "{} distinct colours: no text or charts rendered?",
        counts.len()
    );
    // The first series colour fills the balance line's dots and the top providers' bars.
    let series = counts.get(&[0x1f, 0x77, 0xb4]).copied().unwrap_or_default();
    assert!(series > 2_000, "{series} pixels of the first chart colour");

    let dom = browse(
        &chromium,
        &work.path().join("profile"),
        &page_path,
        &["--dump-dom"],
    );
    assert!(!manifest.totals.is_empty());
    for (pool, columns) in &manifest.totals {
        for (column, value) in columns {
            let cell = format!("data-pool=\"{pool}\" data-column=\"{column}\">{value}</td>");
            assert!(dom.contains(&cell), "the DOM lacks {cell}");
        }
    }
    let root = format!("id=\"merkle-root\">{}</code>", manifest.merkle_root);
    assert!(dom.contains(&root), "the DOM lacks {root}");
    let hash = format!("id=\"manifest-sha256\">{manifest_sha256}</code>");
    assert!(dom.contains(&hash), "the DOM lacks {hash}");
    assert!(dom.contains(&format!("<span id=\"programme\">{PROGRAMME}</span>")));
    // Balances, the liquidity-mining ranking, uptime and GPU-hours.
    assert_eq!(dom.matches("<svg").count(), 4, "four charts");
}

/// The page is a function of the published folders: removed, it comes back byte for byte from
/// `report --epoch K` (with the store) and from `report page` (with the folders alone).
#[test]
fn the_page_is_made_again_identically_from_the_folders() {
    let good = good();
    let published = std::fs::read(good.programme().join(PAGE_FILE)).expect("report.html");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("reports");
    copy_folder(&good.out, &out);
    let page = out.join(PROGRAMME).join(PAGE_FILE);

    std::fs::remove_file(&page).expect("remove the page");
    let stdout = cli(
        &good.audit_config,
        &good.database,
        &[
            "report",
            "--epoch",
            &LAST.to_string(),
            "--out",
            out.to_str().expect("a UTF-8 path"),
        ],
    );
    let last_line = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last_line,
        format!("page: written {} (epochs 0–{LAST})", page.display())
    );
    assert!(std::fs::read(&page).expect("the page again") == published);

    std::fs::remove_file(&page).expect("remove the page");
    let (code, stdout, stderr) = run(binary().args(["report", "page"]).arg(out.join(PROGRAMME)));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.starts_with("page: written "), "{stdout}");
    assert!(std::fs::read(&page).expect("the page again") == published);
    let (code, stdout, _) = run(binary().args(["report", "page"]).arg(out.join(PROGRAMME)));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("page: unchanged "), "{stdout}");

    let (code, _, stderr) = run(binary()
        .args(["report", "page"])
        .arg(dir.path().join("nowhere")));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no programme folder"), "{stderr}");
}
