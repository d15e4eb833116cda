//! The demo's closing summary, read back from the store and the published manifest: per pool
//! what was allocated, returned and is left, its top providers, and the Merkle root an auditor
//! checks a payout against.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use rewards::money::Denomination;
use store::settlement::{allocations, pool_ledgers};
use store::Store;

/// How many providers each pool lists.
const TOP: usize = 3;

/// Writes the summary of the `epochs` sealed epochs of `programme` to `out`.
pub(super) fn write_summary(
    out: &mut impl Write,
    store: &mut Store,
    programme: &str,
    epochs: u32,
    denom: &Denomination,
    folder: &Path,
) -> anyhow::Result<()> {
    let mut earned: BTreeMap<String, BTreeMap<String, u128>> = BTreeMap::new();
    let mut pools: BTreeMap<String, (u128, u128, u128)> = BTreeMap::new();
    for epoch in 0..epochs {
        let epoch = i32::try_from(epoch)?;
        for line in allocations(store.conn(), programme, epoch)? {
            if let Some(provider) = line.provider.filter(|_| line.amount.0 > 0) {
                *earned
                    .entry(line.pool)
                    .or_default()
                    .entry(provider)
                    .or_default() += line.amount.0;
            }
        }
        for ledger in pool_ledgers(store.conn(), programme, epoch)? {
            let (allocated, returned, closing) = pools.entry(ledger.pool).or_default();
            *allocated += ledger.allocated.0;
            *returned += ledger.returned.0;
            *closing = ledger.closing.0;
        }
    }
    writeln!(out, "Programme {programme}, {epochs} epochs sealed:")?;
    for (pool, (allocated, returned, closing)) in &pools {
        writeln!(
            out,
            "  {pool}: allocated {}, returned to the community pool {}, left {}",
            denom.human(*allocated),
            denom.human(*returned),
            denom.human(*closing)
        )?;
        let mut ranked: Vec<(&String, &u128)> = earned
            .get(pool)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (place, (provider, amount)) in ranked.iter().take(TOP).enumerate() {
            writeln!(
                out,
                "    {}. {provider}  {}",
                place + 1,
                denom.human(**amount)
            )?;
        }
    }
    let last = epochs.saturating_sub(1);
    let manifest = folder.join(format!("epoch-{last}")).join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", manifest.display()))?;
    writeln!(
        out,
        "Merkle root of the vested amounts after epoch {last}: {}",
        manifest["merkle_root"].as_str().unwrap_or("(none)")
    )?;
    Ok(())
}
