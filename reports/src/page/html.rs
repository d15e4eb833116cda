//! The page itself: one HTML document with its CSS in a `<style>` element and its charts as
//! inline SVG, so it opens from a file with nothing else (no script, no font, no link out).
//!
//! Every string that comes from the published files — programme, chain id, pool, class and
//! provider names, the window — goes through [`escape`]; numbers are printed exactly as the
//! files hold them. Cells tests and scripts look for carry stable hooks: the totals are
//! `<td data-pool="P" data-column="C">`, the root and the hash have the ids `merkle-root` and
//! `manifest-sha256`.

use std::fmt::Write as _;

use crate::books::LEDGER;
use crate::fixed::gpu_hours;

use super::charts;
use super::data::{PageData, TOP_PROVIDERS, UPTIME_BUCKETS};
use super::PageError;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe as element
/// content and inside a double- or single-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "\
body{margin:0;background:#f4f5f7;color:#222;font:15px/1.45 sans-serif}\
main{max-width:1160px;margin:0 auto;padding:24px 20px 40px}\
h1{font-size:26px;margin:0 0 4px}\
h2{font-size:20px;margin:0 0 12px}\
h3{font-size:16px;margin:18px 0 8px}\
section{background:#fff;border:1px solid #dde;border-radius:6px;padding:16px 20px;margin:18px 0}\
p{margin:6px 0}\
.note{color:#555}\
table{border-collapse:collapse;margin:8px 0}\
th,td{border-bottom:1px solid #e3e3e8;padding:4px 10px;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
code,.mono{font-family:monospace;font-size:13px;overflow-wrap:anywhere}\
.scroll{overflow-x:auto}\
svg{display:block;max-width:100%;height:auto}";

/// The page's HTML for `data`.
pub fn render(data: &PageData) -> Result<String, PageError> {
    let latest = &data.latest;
    let manifest = &latest.manifest;
    let pools: Vec<String> = manifest.totals.keys().cloned().collect();
    let first = data.balances.first().map_or(0, |e| e.epoch);
    let denom = latest.denom.as_deref().map(escape);
    let unit = match &denom {
        Some(denom) => format!("base units of {denom}"),
        None => "base units".to_owned(),
    };
    let mut page = String::new();
    let programme = escape(&data.programme);
    // Writing into a String never fails.
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{programme}: incentive programme report, epochs {first}–{epoch}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>Programme <span id=\"programme\">{programme}</span></h1>\n\
         <p class=\"note\">Epochs {first}–{epoch} as published beside this page. The page is \
         made from those folders alone and is not part of them: each <code>epoch-&lt;K&gt;/\
         manifest.json</code> vouches for its epoch's files, and <code>verify</code> re-derives \
         them.</p>\n",
        epoch = manifest.epoch,
    );
    if !data.beyond_gap.is_empty() {
        let later: Vec<String> = data.beyond_gap.iter().map(u32::to_string).collect();
        let _ = writeln!(
            page,
            "<p class=\"note\" id=\"gap\">Not shown: epoch(s) {} — epoch {} is missing, and \
             an epoch is shown only when every epoch before it is published.</p>",
            later.join(", "),
            manifest.epoch + 1,
        );
    }
    facts(&mut page, data);
    totals(&mut page, data, &unit);
    let _ = write!(
        page,
        "<section>\n<h2>Pool balances</h2>\n<p class=\"note\">Each pool's closing balance at \
         the end of every epoch ({unit}).</p>\n{}</section>\n",
        charts::balances(&pools, &data.balances)?
    );
    top_providers(&mut page, data, &unit)?;
    uptime(&mut page, data)?;
    classes(&mut page, data)?;
    let _ = write!(
        page,
        "<p class=\"note\">Made by <code>akash-incentives report</code> \
         {version}; <code>akash-incentives report page DIR/{programme}</code> makes it again \
         from the published folders, byte for byte.</p>\n</main>\n</body>\n</html>\n",
        version = escape(&manifest.tool_version),
    );
    Ok(page)
}

/// What the latest epoch is and what vouches for it.
fn facts(page: &mut String, data: &PageData) {
    let manifest = &data.latest.manifest;
    let rows = [
        ("programme", escape(&data.programme), ""),
        ("chain id", escape(&data.chain_id), "chain-id"),
        ("latest epoch", manifest.epoch.to_string(), "epoch"),
        (
            "window",
            format!(
                "<span class=\"mono\">{}</span> to <span class=\"mono\">{}</span> \
                 (end excluded)",
                escape(&manifest.window.start),
                escape(&manifest.window.end)
            ),
            "window",
        ),
        ("line items", manifest.line_items.to_string(), "line-items"),
        (
            "Merkle root",
            format!(
                "<code id=\"merkle-root\">{}</code> ({} leaves)",
                escape(&manifest.merkle_root),
                manifest.merkle_leaves
            ),
            "",
        ),
        (
            "SHA-256 of manifest.json",
            format!(
                "<code id=\"manifest-sha256\">{}</code>",
                escape(&data.latest.manifest_sha256)
            ),
            "",
        ),
    ];
    let _ = write!(
        page,
        "<section>\n<h2>Epoch {}</h2>\n<table>\n",
        manifest.epoch
    );
    for (name, value, id) in rows {
        let id = if id.is_empty() {
            String::new()
        } else {
            format!(" id=\"{id}\"")
        };
        let _ = writeln!(page, "<tr><th>{name}</th><td{id}>{value}</td></tr>");
    }
    page.push_str("</table>\n");
}

/// The manifest's totals, pool by column, in the ledger's column order; closes the section
/// [`facts`] opened.
fn totals(page: &mut String, data: &PageData, unit: &str) {
    let manifest = &data.latest.manifest;
    let mut columns: Vec<&str> = LEDGER
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|name| manifest.totals.values().any(|t| t.contains_key(*name)))
        .collect();
    // A column this version's ledger does not know is still shown, after the known ones.
    for extra in manifest.totals.values().flat_map(|t| t.keys()) {
        if !columns.contains(&extra.as_str()) {
            columns.push(extra);
        }
    }
    let _ = write!(
        page,
        "<h3>Totals ({unit})</h3>\n<div class=\"scroll\">\n<table id=\"totals\">\n\
         <tr><th>pool</th>"
    );
    for column in &columns {
        let _ = write!(page, "<th class=\"n\">{}</th>", escape(column));
    }
    page.push_str("</tr>\n");
    for (pool, values) in &manifest.totals {
        let pool = escape(pool);
        let _ = write!(page, "<tr><th>{pool}</th>");
        for column in &columns {
            let value = values.get(*column).map(|v| escape(v)).unwrap_or_default();
            let _ = write!(
                page,
                "<td class=\"n\" data-pool=\"{pool}\" data-column=\"{}\">{value}</td>",
                escape(column)
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n</div>\n</section>\n");
}

fn top_providers(page: &mut String, data: &PageData, unit: &str) -> Result<(), PageError> {
    let latest = &data.latest;
    let _ = write!(
        page,
        "<section>\n<h2>Top providers, epoch {}</h2>\n<p class=\"note\">Per pool, the {} \
         providers allocated the most ({unit}; <code>PAID</code> and <code>CAPPED</code> lines \
         of <code>allocations</code>).</p>\n",
        latest.manifest.epoch, TOP_PROVIDERS
    );
    for (index, (pool, ranking)) in latest.top_providers.iter().enumerate() {
        let _ = writeln!(page, "<h3>{}</h3>", escape(pool));
        if ranking.shown.is_empty() {
            page.push_str("<p class=\"note\">No provider was allocated anything.</p>\n");
            continue;
        }
        let _ = write!(
            page,
            "<p class=\"note\">{} of {} provider(s).</p>\n{}",
            ranking.shown.len(),
            ranking.of,
            charts::top_providers(index, ranking)?
        );
        page.push_str("<table>\n<tr><th class=\"n\">#</th><th>provider</th><th class=\"n\">allocated</th></tr>\n");
        for (rank, (provider, amount)) in ranking.shown.iter().enumerate() {
            let _ = writeln!(
                page,
                "<tr><td class=\"n\">{}</td><td class=\"mono\">{}</td><td class=\"n\">{amount}</td></tr>",
                rank + 1,
                escape(provider)
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</section>\n");
    Ok(())
}

fn uptime(page: &mut String, data: &PageData) -> Result<(), PageError> {
    let buckets = &data.latest.uptime_buckets;
    let measured: usize = buckets.iter().sum();
    let _ = write!(
        page,
        "<section>\n<h2>Uptime, epoch {}</h2>\n<p class=\"note\">{measured} measured \
         provider(s) by uptime over the epoch's window (<code>uptime_ppm</code> of \
         <code>inputs</code>), in tenths; 100 % counts in the last.</p>\n",
        data.latest.manifest.epoch
    );
    if measured == 0 {
        page.push_str("<p class=\"note\">No provider was measured.</p>\n</section>\n");
        return Ok(());
    }
    page.push_str(&charts::uptime(buckets)?);
    page.push_str("<table>\n<tr><th>uptime</th>");
    for i in 0..UPTIME_BUCKETS {
        let _ = write!(page, "<th class=\"n\">{}–{} %</th>", i * 10, i * 10 + 10);
    }
    page.push_str("</tr>\n<tr><th>providers</th>");
    for count in buckets {
        let _ = write!(page, "<td class=\"n\">{count}</td>");
    }
    page.push_str("</tr>\n</table>\n</section>\n");
    Ok(())
}

fn classes(page: &mut String, data: &PageData) -> Result<(), PageError> {
    let classes = &data.latest.classes;
    let _ = write!(
        page,
        "<section>\n<h2>GPU-hours by class, epoch {}</h2>\n<p class=\"note\">GPU time leased \
         and online per class, over the providers measured in it (<code>inputs</code>).</p>\n",
        data.latest.manifest.epoch
    );
    if classes.is_empty() {
        page.push_str("<p class=\"note\">No class was measured.</p>\n</section>\n");
        return Ok(());
    }
    page.push_str(&charts::gpu_hours(classes)?);
    page.push_str(
        "<table>\n<tr><th>class</th><th class=\"n\">providers</th>\
         <th class=\"n\">leased GPU-hours</th><th class=\"n\">online GPU-hours</th></tr>\n",
    );
    for class in classes {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&class.class),
            class.providers,
            gpu_hours(class.leased_gpu_ms),
            gpu_hours(class.online_gpu_ms)
        );
    }
    page.push_str("</table>\n</section>\n");
    Ok(())
}
