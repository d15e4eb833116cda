//! The programme as published in every epoch's audit bundle (`programme.toml`), and its loader.
//!
//! An auditor's `verify` re-loads this file to recompute every reward, so it must hold everything
//! that determines the numbers and nothing operational or secret. It is the configuration's own
//! text, edited with `toml_edit` so the programme keeps the layout and comments its authors gave
//! it:
//! * `[database]`, `[metrics]` and `[payouts]` are dropped (database URLs carry passwords, listen
//!   addresses say where the operator's machines are, and how payouts are sent changes no
//!   reward);
//! * `[chain]` keeps only `chain_id` (RPC URLs carry API keys; heights and tuning change no
//!   reward);
//! * `[prober]` keeps only `max_staleness`, written with the value in effect even when the file
//!   left it to the default, so a later release's default cannot change a verification, and the
//!   `[[prober.vantage]]` entries, so an auditor can check which vantage point signed what (the
//!   key file, a secret, is dropped);
//! * a `[prices]` CSV file is replaced by the points it held, so the bundle is self-contained;
//! * the programme sections are kept verbatim.
//!
//! `[chain]` and `[prober]` are rewritten first in the file and without comments, and the comments
//! between an operational section and the next section are dropped as well: TOML gives a comment
//! at the end of a section to the header that follows, so there is no telling a note about the
//! next section from a commented-out `url = "postgres://…"` of the one before.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use rewards::money::PricePoint;
use rewards::programme::Programme;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::error::ConfigError;
use crate::load::{
    chain_id, checked_programme, deserialize, positive, syntax_error, vantages, Found,
};
use crate::locate::{KeyPath, LineLocator};
use crate::raw::RawPublished;
use crate::{Config, Vantage};

/// The sections that configure the machinery rather than the programme.
const OPERATIONAL_SECTIONS: [&str; 8] = [
    "chain", "database", "prober", "metrics", "payouts", "serve", "settle", "reports",
];
/// The bundle's name for the file, used to name it in a refusal to publish.
const PUBLISHED_FILE: &str = "programme.toml";

/// What a published programme file determines: everything an auditor needs to recompute the
/// rewards of its epochs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedProgramme {
    /// The programme's name, its key in the store and in reports.
    pub name: String,
    /// The chain the programme pays on, which says whose records a verification must use.
    pub chain_id: String,
    /// How long an observation stands before a provider's state becomes unknown; it decides
    /// uptime, and so who is paid.
    pub max_staleness: Duration,
    /// The programme: epochs, pools, contracts, grants, vesting and prices.
    pub programme: Programme,
    /// The vantage points and their public keys: whose signatures the observations carry.
    pub vantages: Vec<Vantage>,
}

/// The text of the published `programme.toml` of `config` (see the module docs for what is kept).
///
/// The same configuration always gives the same bytes. The text is loaded back before it is
/// returned, and refused unless it reproduces the programme, name, chain id and staleness limit of
/// `config`: a bundle that cannot be verified is never written.
pub fn published_programme(config: &Config) -> Result<String, ConfigError> {
    let mut document: DocumentMut = config.text.parse().map_err(|e: toml_edit::TomlError| {
        syntax_error(
            &config.source,
            &LineLocator::new(&config.text),
            e.span(),
            e.message(),
        )
    })?;
    drop_comments_after_operational_sections(&mut document);
    let root = document.as_table_mut();
    for section in OPERATIONAL_SECTIONS {
        root.remove(section);
    }
    // At the root's position, after the root's own keys and before every other header.
    let first = root.position().unwrap_or(0);
    root.insert(
        "chain",
        section(first, "chain_id", config.chain.chain_id.as_str()),
    );
    let max_staleness = humantime::format_duration(config.prober.max_staleness).to_string();
    let mut prober = section(first, "max_staleness", max_staleness);
    if let Some(table) = prober.as_table_mut() {
        if !config.prober.vantages.is_empty() {
            let mut entries = ArrayOfTables::new();
            for vantage in &config.prober.vantages {
                let mut entry = Table::new();
                entry.set_position(first);
                entry.insert("id", toml_edit::value(vantage.id.as_str()));
                entry.insert("public_key", toml_edit::value(vantage.public_key.as_str()));
                entries.push(entry);
            }
            table.insert("vantage", Item::ArrayOfTables(entries));
        }
    }
    root.insert("prober", prober);
    let points = config
        .programme
        .prices
        .as_ref()
        .map_or(&[][..], |table| &table.points);
    inline_price_csv(root, points);
    let text = document.to_string();
    check_reproduces(config, &text)?;
    Ok(text)
}

/// Loads a published programme file with the same validation, and the same programme builder, as
/// [`parse`](crate::parse); `path` names it in errors.
///
/// Nothing outside `text` plays a part: no environment variable, and no file (a published file
/// cannot name a price CSV), so every auditor loads the same programme from the same bytes.
pub fn parse_published(path: &Path, text: &str) -> Result<PublishedProgramme, ConfigError> {
    let locator = LineLocator::new(text);
    let raw: RawPublished = deserialize(path, text, &locator)?;
    let mut found = Found::default();
    let chain_id = chain_id(&raw.chain.chain_id, &mut found);
    let max_staleness = positive(
        &mut found,
        KeyPath::root().key("prober").key("max_staleness"),
        raw.prober.max_staleness.0,
    );
    // Never read: the only relative reference a configuration can hold is a price CSV.
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let programme = checked_programme(&raw.programme_parts(), base_dir, &mut found);
    let vantages = vantages(
        &raw.prober.vantage,
        &KeyPath::root().key("prober"),
        &mut found,
    );
    found.into_result(path, &locator)?;
    Ok(PublishedProgramme {
        name: raw.program.name,
        chain_id,
        max_staleness,
        programme,
        vantages,
    })
}

/// A `[header]` table at `position` holding one key, written without decoration.
fn section(position: isize, key: &str, value: impl Into<Value>) -> Item {
    let mut table = Table::new();
    table.set_position(position);
    table.insert(key, toml_edit::value(value));
    Item::Table(table)
}

/// Clears the comments written after an operational section: the prefix of the header that
/// follows it, or the end of the file when it is last.
fn drop_comments_after_operational_sections(document: &mut DocumentMut) {
    let root = document.as_table_mut();
    // Sections in file order, each marked operational or not: the root's own keys (when it has
    // any, at the root's position, first), then every header by its position.
    let mut sections: Vec<(isize, bool)> = Vec::new();
    if let Some((path, _)) = root.get_values().last() {
        let operational = path.first().is_some_and(|key| is_operational(key.get()));
        sections.push((root.position().unwrap_or(0), operational));
    }
    for_each_header(root, None, &mut |section, table| {
        if let Some(position) = table.position() {
            sections.push((position, is_operational(section)));
        }
    });
    sections.sort_by_key(|&(position, _)| position);
    let after_operational: BTreeSet<isize> = sections
        .windows(2)
        .filter(|pair| pair[0].1)
        .map(|pair| pair[1].0)
        .collect();
    for_each_header(root, None, &mut |_, table| {
        if table
            .position()
            .is_some_and(|p| after_operational.contains(&p))
        {
            table.decor_mut().set_prefix("\n");
        }
    });
    if sections.last().is_some_and(|&(_, operational)| operational) {
        document.set_trailing("");
    }
}

fn is_operational(section: &str) -> bool {
    OPERATIONAL_SECTIONS.contains(&section)
}

/// Calls `visit` with every table written under its own `[header]` or `[[header]]` inside
/// `table`, and the name of the top-level section it belongs to.
fn for_each_header(
    table: &mut Table,
    section: Option<&str>,
    visit: &mut dyn FnMut(&str, &mut Table),
) {
    for (key, item) in table.iter_mut() {
        let section = section.unwrap_or(key.get()).to_string();
        match item {
            Item::Table(child) => {
                if !child.is_implicit() && !child.is_dotted() {
                    visit(&section, child);
                }
                for_each_header(child, Some(&section), visit);
            }
            Item::ArrayOfTables(children) => {
                for child in children.iter_mut() {
                    visit(&section, child);
                    for_each_header(child, Some(&section), visit);
                }
            }
            Item::Value(_) | Item::None => {}
        }
    }
}

/// Replaces `prices.csv`, when there is one, by `points` holding what was read from it.
///
/// Instants are written in `UnixMs`'s canonical text and prices as exact decimal strings, so they
/// load back to the same points.
fn inline_price_csv(root: &mut Table, points: &[PricePoint]) {
    let Some(prices) = root.get_mut("prices") else {
        return;
    };
    // An inline `prices = { … }` stays on one line.
    let one_per_line = prices.is_table();
    let Some(prices) = prices.as_table_like_mut() else {
        return;
    };
    if prices.remove("csv").is_none() {
        return;
    }
    let mut array: Array = points
        .iter()
        .map(|point| {
            let mut entry = InlineTable::new();
            entry.insert("from", point.from_ms.to_string().into());
            entry.insert("usd", point.usd_per_token.to_string().into());
            Value::InlineTable(entry)
        })
        .collect();
    if one_per_line && !array.is_empty() {
        for entry in array.iter_mut() {
            entry.decor_mut().set_prefix("\n  ");
        }
        array.set_trailing_comma(true);
        array.set_trailing("\n");
    }
    prices.insert("points", Item::Value(Value::Array(array)));
}

/// Refuses `text` unless it loads back to what `config` holds.
fn check_reproduces(config: &Config, text: &str) -> Result<(), ConfigError> {
    let refusal = |why: String| ConfigError::Unpublishable {
        path: config.source.clone(),
        why,
    };
    let published = parse_published(Path::new(PUBLISHED_FILE), text)
        .map_err(|e| refusal(format!("it does not load back: {e}")))?;
    let differences = [
        ("name", published.name == config.name),
        ("chain id", published.chain_id == config.chain.chain_id),
        (
            "max_staleness",
            published.max_staleness == config.prober.max_staleness,
        ),
        ("programme", published.programme == config.programme),
        (
            "vantage points",
            published.vantages == config.prober.vantages,
        ),
    ];
    match differences.iter().find(|(_, same)| !same) {
        Some((what, _)) => Err(refusal(format!(
            "its {what} differs from the configuration's; was the configuration changed after it \
             was loaded?"
        ))),
        None => Ok(()),
    }
}
