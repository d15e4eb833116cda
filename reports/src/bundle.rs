//! An epoch's audit bundle: the folder `<programme>/epoch-<K>/` that `report` publishes and
//! `verify` re-derives.
//!
//! | file | what |
//! |---|---|
//! | `allocations.{csv,parquet}` | every line item ([`crate::allocations::ALLOCATIONS`]) |
//! | `inputs.{csv,parquet}` | the measured inputs ([`crate::inputs::INPUTS`]) |
//! | `registrations.{csv,parquet}` | when each provider was registered, as far as it meets the window ([`crate::material::REGISTRATIONS`]) |
//! | `leases.{csv,parquet}` | the leases overlapping the window ([`crate::material::LEASES`]) |
//! | `observations.{csv,parquet}` | the observations that could stand in it ([`crate::material::OBSERVATIONS`]) |
//! | `ledger.{csv,parquet}` | the pool ledgers ([`crate::books::LEDGER`]) |
//! | `vesting.{csv,parquet}` | vesting entries created and clawed back ([`crate::books::VESTING`]) |
//! | `state.json` | the engine's state after the epoch: pools, contracts, the open vesting entries and the closed ones' vested totals |
//! | `programme.toml` | the programme as loaded (`settings::published_programme`) |
//! | `manifest.json` | [`Manifest`]: what the epoch is, the SHA-256 of every file above, the totals, the Merkle root, and the SHA-256 of the previous epoch's manifest |
//!
//! Every byte is a function of the store and the configuration: no wall-clock time, no host
//! name, rows in a fixed order. The same store gives the same bundle on SQLite and PostgreSQL,
//! run after run, so a bundle can be re-made and compared, and each manifest's hash chains the
//! epochs: changing any published byte of an epoch changes every later manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use domain::{BaseUnits, ProviderAddr, UnixMs};
use polars::prelude::DataFrame;
use rewards::calendar::Window;
use rewards::ledger::PoolLedger;
use rewards::programme::PoolKind;
use rewards::{EpochSettlement, ProgrammeState};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::allocations::{allocations_frame, ALLOCATIONS};
use crate::books::{ledger_frame, vesting_frame, LEDGER, VESTING};
use crate::inputs::{inputs_frame, INPUTS};
use crate::material::{
    leases_frame, observations_frame, registrations_frame, LEASES, OBSERVATIONS, REGISTRATIONS,
};
use crate::merkle::{leaves_from_vested, pool_name, CumulativeVested, MerkleError, MerkleTree};
use crate::table::{self, TableError, TableSpec};
use settlement::sealed::SealedRecord;
use settlement::EpochMeasurements;

/// The `format` of every manifest this version writes.
pub const FORMAT: &str = "akash-incentives/report/v3";
/// The engine state's file.
pub const STATE_FILE: &str = "state.json";
/// The programme's file.
pub const PROGRAMME_FILE: &str = "programme.toml";
/// The manifest's file.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Every published table, in manifest order.
pub fn tables() -> [&'static TableSpec; 7] {
    [
        &ALLOCATIONS,
        &INPUTS,
        &REGISTRATIONS,
        &LEASES,
        &OBSERVATIONS,
        &LEDGER,
        &VESTING,
    ]
}

/// The folder of epoch `epoch` inside a programme's folder.
pub fn epoch_folder(programme_folder: &Path, epoch: u32) -> PathBuf {
    programme_folder.join(format!("epoch-{epoch}"))
}

/// An epoch's window in the manifest, as canonical RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestWindow {
    /// The first instant of the epoch.
    pub start: String,
    /// The first instant after it.
    pub end: String,
}

impl From<Window> for ManifestWindow {
    fn from(window: Window) -> Self {
        ManifestWindow {
            start: window.start_ms().to_string(),
            end: window.end_ms().to_string(),
        }
    }
}

/// The indexed block heights whose block time lies in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeightRange {
    /// The lowest.
    pub first: u64,
    /// The highest.
    pub last: u64,
}

/// `manifest.json`: what the epoch is and what its files are. Amounts are JSON strings of
/// decimal digits (they can exceed what JSON readers hold exactly); hashes are lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The programme's name.
    pub programme: String,
    /// The chain it pays on.
    pub chain_id: String,
    /// The epoch index.
    pub epoch: u32,
    /// The epoch's window.
    pub window: ManifestWindow,
    /// The block heights covering the window, when any block was indexed in it.
    pub heights: Option<HeightRange>,
    /// The version of akash-incentives that wrote the bundle.
    pub tool_version: String,
    /// SHA-256 of the canonical JSON of the measurements the epoch was sealed with.
    pub inputs_hash: String,
    /// SHA-256 of every other file of the folder, by file name.
    pub files: BTreeMap<String, String>,
    /// How many line items `allocations` holds.
    pub line_items: usize,
    /// Per pool, the ledger's columns.
    pub totals: BTreeMap<String, BTreeMap<String, String>>,
    /// The Merkle root of cumulative vested amounts (see [`crate::merkle`]).
    pub merkle_root: String,
    /// How many leaves the tree has.
    pub merkle_leaves: usize,
    /// SHA-256 of the previous epoch's `manifest.json`; `null` for epoch 0.
    pub previous_manifest_sha256: Option<String>,
}

impl Manifest {
    /// The manifest's bytes: pretty JSON in field order, maps sorted, a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings, numbers and maps of strings always encode.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Reads `folder`'s `manifest.json`: its bytes (what the next epoch's manifest and the page
/// hash) and its content, refused unless it is a manifest of this [`FORMAT`].
pub fn read_manifest(folder: &Path) -> Result<(Vec<u8>, Manifest), TableError> {
    let path = folder.join(MANIFEST_FILE);
    let bytes =
        std::fs::read(&path).map_err(|e| TableError::file(&path, format!("cannot read: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| TableError::file(&path, format!("is not a report manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(TableError::file(
            &path,
            format!("format {:?}, expected {FORMAT:?}", manifest.format),
        ));
    }
    Ok((bytes, manifest))
}

/// The `K` of every `epoch-<K>` folder in the programme folder `folder`, sorted. Anything else
/// there (the page `report.html`, a `.epoch-<K>.partial` staging folder) is no epoch.
pub fn published_epochs(folder: &Path) -> Result<Vec<u32>, TableError> {
    let unreadable = |e: std::io::Error| TableError::file(folder, format!("cannot read: {e}"));
    let mut epochs = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(unreadable)? {
        let name = entry.map_err(unreadable)?.file_name();
        let name = name.to_string_lossy();
        if let Some(k) = name.strip_prefix("epoch-").and_then(|k| k.parse().ok()) {
            epochs.push(k);
        }
    }
    epochs.sort_unstable();
    Ok(epochs)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why a bundle could not be made or published.
#[derive(Debug, Error)]
pub enum BundleError {
    /// A table could not be encoded.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The Merkle tree could not be built.
    #[error("cannot build the Merkle tree")]
    Merkle(#[from] MerkleError),
    /// A vested amount's provider is not an account address.
    #[error("provider {provider:?} is not an account address: {problem}")]
    Provider {
        /// The provider.
        provider: String,
        /// Why.
        problem: String,
    },
    /// A cumulative amount does not fit 128 bits (a corrupted state).
    #[error("the cumulative vested amount of {provider} overflows")]
    Overflow {
        /// The provider.
        provider: String,
    },
    /// The folder could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The epoch is already published with other content.
    #[error(
        "{} already holds a different report of this epoch (manifest {found}, now {made}); a \
         published epoch is never rewritten: move it away to publish again",
        folder.display()
    )]
    Differs {
        /// The folder.
        folder: PathBuf,
        /// Hash of the manifest on disk.
        found: String,
        /// Hash of the manifest made now.
        made: String,
    },
}

impl BundleError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        BundleError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Each provider's cumulative vested amount per pool at `at`, the end of the epoch `state`
/// follows: its closed entries' vested total plus what each open entry had vested by then (a
/// clawback takes only unvested amounts, so this never falls).
pub fn cumulative_vested(
    state: &ProgrammeState,
    at: UnixMs,
) -> Result<CumulativeVested, BundleError> {
    // Summed under the stored address first, so each distinct provider's address is checked
    // once rather than once per entry (a provider may hold many open entries).
    let mut by_text: BTreeMap<(&str, PoolKind), BaseUnits> = BTreeMap::new();
    for (provider, pools) in &state.vested_closed {
        for (pool, amount) in pools {
            if *amount != BaseUnits::ZERO {
                by_text.insert((provider.as_str(), *pool), *amount);
            }
        }
    }
    for entry in &state.vesting {
        let amount = entry.vested_at(at);
        if amount == BaseUnits::ZERO {
            continue;
        }
        let total = by_text
            .entry((entry.provider.as_str(), entry.pool))
            .or_insert(BaseUnits::ZERO);
        *total = total
            .checked_add(amount)
            .ok_or_else(|| BundleError::Overflow {
                provider: entry.provider.clone(),
            })?;
    }
    let mut vested = CumulativeVested::new();
    for ((provider, pool), amount) in by_text {
        let overflow = || BundleError::Overflow {
            provider: provider.to_owned(),
        };
        let address = ProviderAddr::parse(provider).map_err(|e| BundleError::Provider {
            provider: provider.to_owned(),
            problem: e.to_string(),
        })?;
        // Two spellings of one address (bech32 may be upper case) are one leaf.
        let total = vested.entry((address, pool)).or_insert(BaseUnits::ZERO);
        *total = total.checked_add(amount).ok_or_else(overflow)?;
    }
    Ok(vested)
}

/// The Merkle tree of the epoch: the cumulative vested amounts at the end of `window`.
pub fn merkle_tree(
    chain_id: &str,
    programme: &str,
    epoch: u32,
    window: Window,
    state: &ProgrammeState,
) -> Result<MerkleTree, BundleError> {
    let vested = cumulative_vested(state, window.end_ms())?;
    merkle_tree_of(chain_id, programme, epoch, &vested)
}

/// The Merkle tree of epoch `epoch` over cumulative vested amounts already summed
/// ([`cumulative_vested`]), for a caller that needs the amounts themselves too.
pub fn merkle_tree_of(
    chain_id: &str,
    programme: &str,
    epoch: u32,
    vested: &CumulativeVested,
) -> Result<MerkleTree, BundleError> {
    Ok(MerkleTree::build(leaves_from_vested(
        chain_id, programme, epoch, vested,
    ))?)
}

/// The engine's state as `state.json` holds it: pretty JSON with a final newline.
pub fn state_bytes(state: &ProgrammeState) -> Vec<u8> {
    // The state is plain data: maps keyed by names, integers and strings.
    let mut bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Per pool, the ledger's columns as the manifest's totals.
pub fn totals(ledgers: &[PoolLedger]) -> BTreeMap<String, BTreeMap<String, String>> {
    ledgers
        .iter()
        .map(|l| {
            let columns = [
                ("opening", l.opening),
                ("funded", l.funded),
                ("emitted", l.emitted),
                ("allocated", l.allocated),
                ("forfeited", l.forfeited),
                ("clawed_back", l.clawed_back),
                ("returned", l.returned),
                ("carried", l.carried),
                ("shortfall", l.shortfall),
                ("closing", l.closing),
            ];
            let columns = columns
                .into_iter()
                .map(|(name, amount)| (name.to_owned(), amount.to_string()))
                .collect();
            (pool_name(l.pool).to_owned(), columns)
        })
        .collect()
}

/// The frames of the tables computed from measurements and a settlement (not the material,
/// `leases` and `observations`, which is input rather than result), in the order `verify`
/// compares them: the inputs first, since every other difference would follow from theirs.
pub fn result_frames(
    measurements: &EpochMeasurements,
    settlement: &EpochSettlement,
    denom: &str,
) -> [(&'static TableSpec, DataFrame); 4] {
    [
        (&INPUTS, inputs_frame(measurements)),
        (
            &ALLOCATIONS,
            allocations_frame(&settlement.line_items, denom),
        ),
        (&LEDGER, ledger_frame(&settlement.ledgers)),
        (&VESTING, vesting_frame(settlement)),
    ]
}

/// What the caller knows about the epoch beyond the sealed record.
pub struct EpochContext<'a> {
    /// The programme's name.
    pub programme: &'a str,
    /// The chain id.
    pub chain_id: &'a str,
    /// The payout denom.
    pub denom: &'a str,
    /// The published `programme.toml`.
    pub programme_toml: &'a str,
    /// The previous epoch's `manifest.json` bytes (`None` for epoch 0).
    pub previous_manifest: Option<&'a [u8]>,
}

/// Every file of the epoch's folder, by name, manifest included.
pub fn epoch_files(
    context: &EpochContext,
    record: &SealedRecord,
) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut files = BTreeMap::new();
    let results = result_frames(
        &record.measured.measurements,
        &record.settlement,
        context.denom,
    );
    let material = [
        (
            &REGISTRATIONS,
            registrations_frame(&record.material.registrations),
        ),
        (&LEASES, leases_frame(&record.material.leases)),
        (
            &OBSERVATIONS,
            observations_frame(&record.material.observations, &record.material.proofs),
        ),
    ];
    for (spec, mut frame) in results.into_iter().chain(material) {
        let written = table::write(spec, &mut frame)?;
        files.insert(spec.csv_file(), written.csv);
        files.insert(spec.parquet_file(), written.parquet);
    }
    files.insert(STATE_FILE.to_owned(), state_bytes(&record.state));
    files.insert(
        PROGRAMME_FILE.to_owned(),
        context.programme_toml.as_bytes().to_vec(),
    );
    let tree = merkle_tree(
        context.chain_id,
        context.programme,
        record.epoch,
        record.window,
        &record.state,
    )?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        programme: context.programme.to_owned(),
        chain_id: context.chain_id.to_owned(),
        epoch: record.epoch,
        window: record.window.into(),
        heights: record.heights.map(|(first, last)| HeightRange {
            first: first.get(),
            last: last.get(),
        }),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs_hash: record.measured.inputs_hash.clone(),
        files: files
            .iter()
            .map(|(name, bytes)| (name.clone(), sha256_hex(bytes)))
            .collect(),
        line_items: record.settlement.line_items.len(),
        totals: totals(&record.settlement.ledgers),
        merkle_root: tree.root_hex(),
        merkle_leaves: tree.len(),
        previous_manifest_sha256: context.previous_manifest.map(sha256_hex),
    };
    files.insert(MANIFEST_FILE.to_owned(), manifest.to_bytes());
    Ok(files)
}

/// What [`publish`] did with a folder (and [`crate::page::write_page`] with the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The folder was written.
    Written,
    /// The folder already held exactly these files.
    Unchanged,
}

/// Publishes `files` as `folder` atomically: they are written and synced into a hidden sibling
/// folder, which is then renamed to `folder`, so a reader (or a crash) sees either no folder or
/// the whole one. An existing folder with the same manifest is left as it is; one with another
/// manifest is refused ([`BundleError::Differs`]).
pub fn publish(folder: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<Published, BundleError> {
    let made = files
        .get(MANIFEST_FILE)
        .map(|m| sha256_hex(m))
        .unwrap_or_default();
    match std::fs::read(folder.join(MANIFEST_FILE)) {
        Ok(existing) => {
            let found = sha256_hex(&existing);
            return if found == made {
                Ok(Published::Unchanged)
            } else {
                Err(BundleError::Differs {
                    folder: folder.to_path_buf(),
                    found,
                    made,
                })
            };
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(BundleError::io(&folder.join(MANIFEST_FILE), e)),
    }
    let parent = folder.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| BundleError::io(parent, e))?;
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.partial"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| BundleError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| BundleError::io(&staging, e))?;
    for (file, bytes) in files {
        let path = staging.join(file);
        write_synced(&path, bytes).map_err(|e| BundleError::io(&path, e))?;
    }
    sync_folder(&staging).map_err(|e| BundleError::io(&staging, e))?;
    if folder.exists() {
        // A folder without a manifest is the remains of something else: never merged into.
        return Err(BundleError::io(
            folder,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists without a manifest.json; remove it to publish here",
            ),
        ));
    }
    std::fs::rename(&staging, folder).map_err(|e| BundleError::io(folder, e))?;
    sync_folder(parent).map_err(|e| BundleError::io(parent, e))?;
    Ok(Published::Written)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_folder(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}
