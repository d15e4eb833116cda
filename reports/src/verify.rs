//! `verify`: re-derive published epochs from their files alone, with no database and no
//! network, and name the first thing that differs.
//!
//! For each epoch, in order:
//!
//! 1. **Hashes.** `manifest.json` is read; every file it lists must hash to its entry, and the
//!    folder's files must be exactly those listed. Its `previous_manifest_sha256` must be the
//!    hash of the previous epoch's `manifest.json` (`null` for epoch 0), so the manifests form a
//!    chain back to epoch 0. The manifest must name the programme of the folder and its epoch.
//! 2. **Programme.** `programme.toml` is loaded with the configuration loader's own validation;
//!    its name, chain id and calendar must agree with the manifest.
//! 3. **Inputs.** Leased GPU time is measured again from `leases`, uptime and online GPU time
//!    from `observations`, each only while the provider was registered (`registrations`), with
//!    the same function settlement used; the result must equal `inputs` and hash to the
//!    manifest's `inputs_hash`. Every signed observation's signature must be its prober's, a
//!    vantage point that `programme.toml` names with its public key.
//! 4. **Results.** The rewards engine settles the epoch again from those inputs, the programme
//!    and the previous epoch's `state.json`; `allocations`, `ledger`, `vesting`, `state.json`
//!    and the manifest's totals must equal what it produced.
//! 5. **Merkle root.** The cumulative vested amounts are recomputed; their root and leaf count
//!    must be the manifest's, and no leaf may be below the previous epoch's.
//!
//! Every table is read in both forms, which must agree ([`crate::table::read`]). Any failure is
//! a [`TableError`] naming the file, and where it can the row, the column, and the expected and
//! found values.

use std::collections::BTreeSet;
use std::path::Path;

use rewards::calendar::Window;
use rewards::{Engine, ProgrammeState};
use settings::{parse_published, PublishedProgramme};
use settlement::MeasuredEpoch;

use crate::bundle::{
    cumulative_vested, epoch_folder, merkle_tree, merkle_tree_of, published_epochs, read_manifest,
    result_frames, sha256_hex, state_bytes, tables, totals, Manifest, ManifestWindow,
    MANIFEST_FILE, PROGRAMME_FILE, STATE_FILE,
};
use crate::material::read_material;
use crate::merkle::CumulativeVested;
use crate::table::{first_difference, Files, TableError};
use uptime_prober::signing::Vantages;

/// What a successful verification checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The programme.
    pub programme: String,
    /// The epochs checked, in order.
    pub epochs: Vec<u32>,
    /// Line items re-derived, over all of them.
    pub line_items: usize,
    /// The last epoch's Merkle root.
    pub root: String,
}

/// A published epoch folder that passed the hash checks, with what the next epoch needs.
struct Checked {
    manifest_bytes: Vec<u8>,
    state: ProgrammeState,
    /// Each provider's cumulative vested amount per pool at the epoch's end: no leaf of the
    /// next epoch may be below it.
    vested: CumulativeVested,
    chain_id: String,
}

fn problem(file: &Path, text: impl ToString) -> TableError {
    TableError {
        file: file.to_path_buf(),
        row: None,
        column: None,
        problem: text.to_string(),
    }
}

/// Verifies every epoch of the programme folder `folder` (`DIR/<programme>`), from epoch 0.
pub fn verify_programme(folder: &Path) -> Result<Verdict, TableError> {
    verify_programme_showing(folder, |_, _| {})
}

/// [`verify_programme`], telling `progress` after each epoch how many are verified of how
/// many: what a progress bar shows.
pub fn verify_programme_showing(
    folder: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<Verdict, TableError> {
    let epochs = published_epochs(folder)?;
    if epochs.is_empty() {
        return Err(problem(folder, "holds no epoch-<K> folder"));
    }
    for (expected, &found) in epochs.iter().enumerate() {
        if usize::try_from(found).ok() != Some(expected) {
            return Err(problem(
                &epoch_folder(folder, u32::try_from(expected).unwrap_or(u32::MAX)),
                "is missing: the epochs of a programme are verified from epoch 0 without gaps",
            ));
        }
    }
    let programme = folder_name(folder);
    let mut previous: Option<Checked> = None;
    let mut line_items = 0;
    let mut root = String::new();
    // Epochs are read, hashed and measured on worker threads, ahead of the thread that settles
    // them in order: only settling needs the previous epoch. Worker `w` of `n` prepares epochs
    // `w, w + n, …` and its channel holds one prepared epoch, so memory stays at about `2n + 1`
    // epochs; when settling stops at a failure the receivers are dropped, and each worker stops
    // at its next send. Failures are still reported in epoch order: the settling thread takes
    // the epochs one by one from the worker that owns each.
    let workers = preparing_workers();
    std::thread::scope(|scope| {
        let (epochs, programme) = (&epochs, &programme);
        let mut prepared = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (ready, receiver) = std::sync::mpsc::sync_channel(1);
            prepared.push(receiver);
            scope.spawn(move || {
                for &epoch in epochs.iter().skip(worker).step_by(workers) {
                    let next = prepare(folder, programme, epoch);
                    let failed = next.is_err();
                    if ready.send(next).is_err() || failed {
                        break;
                    }
                }
            });
        }
        for (index, &epoch) in epochs.iter().enumerate() {
            let next = prepared[index % workers]
                .recv()
                .map_err(|_| problem(&epoch_folder(folder, epoch), "was not read"))??;
            let (checked, manifest) = finish(next, programme, epoch, previous.as_ref())?;
            line_items += manifest.line_items;
            root = manifest.merkle_root;
            previous = Some(checked);
            progress(index + 1, epochs.len());
        }
        Ok::<(), TableError>(())
    })?;
    Ok(Verdict {
        programme,
        epochs,
        line_items,
        root,
    })
}

/// Verifies one epoch folder (`DIR/<programme>/epoch-<K>`) from the previous epoch's folder
/// beside it, whose files are checked against its manifest (the chain vouches for it) but
/// not re-derived.
pub fn verify_one(folder: &Path) -> Result<Verdict, TableError> {
    let name = folder_name(folder);
    let epoch: u32 = name
        .strip_prefix("epoch-")
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| problem(folder, "is not an epoch-<K> folder"))?;
    let programme_folder = folder.parent().unwrap_or(Path::new("."));
    let programme = folder_name(programme_folder);
    let previous = match epoch.checked_sub(1) {
        None => None,
        Some(before) => Some(trusted_previous(programme_folder, &programme, before)?),
    };
    let (_, manifest) = verify_epoch_after(programme_folder, &programme, epoch, previous.as_ref())?;
    Ok(Verdict {
        programme,
        epochs: vec![epoch],
        line_items: manifest.line_items,
        root: manifest.merkle_root,
    })
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The previous epoch of a single-epoch verification: its manifest and the files the next
/// epoch needs, checked against the manifest's hashes.
fn trusted_previous(
    programme_folder: &Path,
    programme: &str,
    epoch: u32,
) -> Result<Checked, TableError> {
    let folder = epoch_folder(programme_folder, epoch);
    let (manifest_bytes, manifest) = read_manifest(&folder)?;
    let mut files = check_hashes(&folder, &manifest)?;
    let loaded = load_programme(&mut files, &manifest, programme, epoch)?;
    let state = read_state(&mut files)?;
    let window = loaded
        .programme
        .calendar
        .window(epoch)
        .map_err(|e| problem(&folder.join(PROGRAMME_FILE), e))?;
    let vested = cumulative_vested(&state, window.end_ms())
        .map_err(|e| problem(&folder.join(STATE_FILE), e))?;
    Ok(Checked {
        manifest_bytes,
        state,
        vested,
        chain_id: manifest.chain_id,
    })
}

/// Every file the manifest lists hashes to its entry, and the folder holds no other file;
/// returns the files as read, for decoding without reading them again.
fn check_hashes(folder: &Path, manifest: &Manifest) -> Result<Files, TableError> {
    let expected: BTreeSet<String> = tables()
        .iter()
        .flat_map(|t| [t.csv_file(), t.parquet_file()])
        .chain([STATE_FILE.to_owned(), PROGRAMME_FILE.to_owned()])
        .collect();
    let listed: BTreeSet<String> = manifest.files.keys().cloned().collect();
    if let Some(missing) = expected.difference(&listed).next() {
        return Err(problem(
            &folder.join(MANIFEST_FILE),
            format!("does not list {missing}"),
        ));
    }
    if let Some(extra) = listed.difference(&expected).next() {
        return Err(problem(
            &folder.join(MANIFEST_FILE),
            format!("lists {extra}, which is not part of a report"),
        ));
    }
    let mut present = BTreeSet::new();
    for entry in
        std::fs::read_dir(folder).map_err(|e| problem(folder, format!("cannot read: {e}")))?
    {
        let entry = entry.map_err(|e| problem(folder, format!("cannot read: {e}")))?;
        present.insert(entry.file_name().to_string_lossy().into_owned());
    }
    if let Some(unlisted) = present
        .iter()
        .find(|name| *name != MANIFEST_FILE && !listed.contains(*name))
    {
        return Err(problem(
            &folder.join(unlisted),
            "is not listed in manifest.json, and a report folder holds only the files its \
             manifest lists",
        ));
    }
    let mut files = Files::in_folder(folder);
    for (file, hash) in &manifest.files {
        let found = sha256_hex(files.bytes(file)?);
        if &found != hash {
            return Err(problem(
                &folder.join(file),
                format!("its SHA-256 is {found}, the manifest says {hash}"),
            ));
        }
    }
    Ok(files)
}

fn load_programme(
    files: &mut Files,
    manifest: &Manifest,
    programme: &str,
    epoch: u32,
) -> Result<PublishedProgramme, TableError> {
    let manifest_path = files.folder().join(MANIFEST_FILE);
    if manifest.programme != programme {
        return Err(problem(
            &manifest_path,
            format!(
                "names programme {:?}, but the folder is {programme:?}",
                manifest.programme
            ),
        ));
    }
    if manifest.epoch != epoch {
        return Err(problem(
            &manifest_path,
            format!(
                "names epoch {}, but the folder is epoch-{epoch}",
                manifest.epoch
            ),
        ));
    }
    let path = files.folder().join(PROGRAMME_FILE);
    let text = std::str::from_utf8(files.bytes(PROGRAMME_FILE)?)
        .map_err(|e| problem(&path, format!("is not UTF-8 text: {e}")))?;
    let loaded = parse_published(&path, text).map_err(|e| problem(&path, e))?;
    if loaded.name != manifest.programme || loaded.chain_id != manifest.chain_id {
        return Err(problem(
            &path,
            format!(
                "defines programme {:?} on chain {:?}; the manifest says {:?} on {:?}",
                loaded.name, loaded.chain_id, manifest.programme, manifest.chain_id
            ),
        ));
    }
    Ok(loaded)
}

fn read_state(files: &mut Files) -> Result<ProgrammeState, TableError> {
    let path = files.folder().join(STATE_FILE);
    serde_json::from_slice(files.bytes(STATE_FILE)?)
        .map_err(|e| problem(&path, format!("is not an engine state: {e}")))
}

/// An epoch folder read and measured as far as it can be without the previous epoch: what
/// [`verify_programme`] prepares for epoch `K + 1` while it settles epoch `K`.
struct Prepared {
    files: Files,
    manifest_bytes: Vec<u8>,
    manifest: Manifest,
    /// The programme, window and measurement, or the first of their checks that failed: it is
    /// reported only after the checks against the previous epoch, which come first.
    measured: Result<Independent, TableError>,
}

/// What an epoch's own files give: its programme, window and re-measured inputs.
struct Independent {
    loaded: PublishedProgramme,
    window: Window,
    measured: MeasuredEpoch,
}

/// How many threads prepare epochs for [`verify_programme`]: one per core the machine offers,
/// at least one and at most four (beyond that, memory grows faster than the gain).
fn preparing_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// Steps 1–3 of the module docs for one epoch folder, except what needs the previous epoch.
fn prepare(programme_folder: &Path, programme: &str, epoch: u32) -> Result<Prepared, TableError> {
    let folder = epoch_folder(programme_folder, epoch);
    let (manifest_bytes, manifest) = read_manifest(&folder)?;
    let mut files = check_hashes(&folder, &manifest)?;
    let measured = measure_folder(&mut files, &manifest, programme, epoch);
    Ok(Prepared {
        files,
        manifest_bytes,
        manifest,
        measured,
    })
}

fn measure_folder(
    files: &mut Files,
    manifest: &Manifest,
    programme: &str,
    epoch: u32,
) -> Result<Independent, TableError> {
    let folder = files.folder().to_path_buf();
    let manifest_path = folder.join(MANIFEST_FILE);
    let loaded = load_programme(files, manifest, programme, epoch)?;
    let programme_path = folder.join(PROGRAMME_FILE);
    let window = loaded
        .programme
        .calendar
        .window(epoch)
        .map_err(|e| problem(&programme_path, e))?;
    if manifest.window != ManifestWindow::from(window) {
        return Err(problem(
            &manifest_path,
            format!(
                "window {} – {}, but programme.toml puts epoch {epoch} at {} – {}",
                manifest.window.start,
                manifest.window.end,
                window.start_ms(),
                window.end_ms()
            ),
        ));
    }
    let staleness = u64::try_from(loaded.max_staleness.as_millis()).unwrap_or(u64::MAX);
    let named = loaded.vantages.iter();
    let vantages = Vantages::new(named.map(|v| (v.id.as_str(), v.public_key.as_str())))
        .map_err(|e| problem(&programme_path, e))?;
    let material = read_material(files, &vantages, &loaded.programme.gpu_classes)?;
    let measured = settlement::measure_observed(
        &loaded.programme,
        epoch,
        staleness,
        &material.registrations,
        &material.leases,
        &material.observations,
    )
    .map_err(|e| problem(&folder.join("observations.csv"), e))?;
    Ok(Independent {
        loaded,
        window,
        measured,
    })
}

/// Verifies epoch `epoch` given the checked previous epoch (`None` for epoch 0).
fn verify_epoch_after(
    programme_folder: &Path,
    programme: &str,
    epoch: u32,
    previous: Option<&Checked>,
) -> Result<(Checked, Manifest), TableError> {
    let prepared = prepare(programme_folder, programme, epoch)?;
    finish(prepared, programme, epoch, previous)
}

/// The rest of the module docs' steps for a prepared epoch, from the previous epoch's state.
fn finish(
    prepared: Prepared,
    programme: &str,
    epoch: u32,
    previous: Option<&Checked>,
) -> Result<(Checked, Manifest), TableError> {
    let Prepared {
        mut files,
        manifest_bytes,
        manifest,
        measured,
    } = prepared;
    let folder = files.folder().to_path_buf();
    let manifest_path = folder.join(MANIFEST_FILE);
    let expected_previous = previous.map(|p| sha256_hex(&p.manifest_bytes));
    if manifest.previous_manifest_sha256 != expected_previous {
        return Err(problem(
            &manifest_path,
            format!(
                "previous_manifest_sha256 is {}, expected {}",
                text_or_null(manifest.previous_manifest_sha256.as_deref()),
                text_or_null(expected_previous.as_deref())
            ),
        ));
    }
    if let Some(previous) = previous.filter(|p| p.chain_id != manifest.chain_id) {
        return Err(problem(
            &manifest_path,
            format!(
                "chain {:?}, but the previous epoch's is {:?}",
                manifest.chain_id, previous.chain_id
            ),
        ));
    }
    let Independent {
        loaded,
        window,
        measured,
    } = measured?;
    let programme_path = folder.join(PROGRAMME_FILE);
    let mut state = previous.map(|p| p.state.clone()).unwrap_or_default();
    let engine = Engine::new(&loaded.programme).map_err(|problems| {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        problem(&programme_path, problems.join("; "))
    })?;
    let settlement = engine
        .settle_epoch(&mut state, &measured.inputs)
        .map_err(|e| {
            problem(
                &folder.join("inputs.csv"),
                format!("cannot be settled: {e}"),
            )
        })?;
    for (spec, expected) in result_frames(
        &measured.measurements,
        &settlement,
        &loaded.programme.denom.name,
    ) {
        let found = files.table(spec)?;
        if let Some(d) = first_difference(spec, &expected, &found) {
            return Err(TableError {
                file: folder.join(spec.csv_file()),
                row: d.row,
                column: d.column.map(str::to_owned),
                problem: format!("expected {}, found {}", d.expected, d.found),
            });
        }
    }
    if measured.inputs_hash != manifest.inputs_hash {
        return Err(problem(
            &manifest_path,
            format!(
                "inputs_hash is {}, the published material measures to {}",
                manifest.inputs_hash, measured.inputs_hash
            ),
        ));
    }
    check_state(&mut files, &state)?;
    let expected_totals = totals(&settlement.ledgers);
    if manifest.totals != expected_totals || manifest.line_items != settlement.line_items.len() {
        return Err(problem(
            &manifest_path,
            format!(
                "totals or line_items differ from the re-derived ledger ({} line items, totals \
                 {})",
                settlement.line_items.len(),
                serde_json::to_string(&expected_totals).unwrap_or_default()
            ),
        ));
    }
    let state_path = folder.join(STATE_FILE);
    let vested = cumulative_vested(&state, window.end_ms()).map_err(|e| problem(&state_path, e))?;
    let tree = merkle_tree_of(&manifest.chain_id, programme, epoch, &vested)
        .map_err(|e| problem(&state_path, e))?;
    if tree.root_hex() != manifest.merkle_root || tree.len() != manifest.merkle_leaves {
        return Err(problem(
            &manifest_path,
            format!(
                "merkle_root {} over {} leaves, re-derived {} over {}",
                manifest.merkle_root,
                manifest.merkle_leaves,
                tree.root_hex(),
                tree.len()
            ),
        ));
    }
    if let Some(previous) = previous {
        check_no_leaf_decreased(&state_path, &previous.vested, &vested)?;
    }
    Ok((
        Checked {
            manifest_bytes,
            state,
            vested,
            chain_id: manifest.chain_id.clone(),
        },
        manifest,
    ))
}

fn text_or_null(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_owned(), str::to_owned)
}

/// `state.json` must be exactly the re-derived state's text; the first differing line is named.
fn check_state(files: &mut Files, state: &ProgrammeState) -> Result<(), TableError> {
    let path = files.folder().join(STATE_FILE);
    let found = files.bytes(STATE_FILE)?;
    let expected = state_bytes(state);
    if found == expected {
        return Ok(());
    }
    let found = String::from_utf8_lossy(found).into_owned();
    let expected = String::from_utf8_lossy(&expected).into_owned();
    let (line, want, got) = expected
        .lines()
        .map(Some)
        .chain(std::iter::repeat(None))
        .zip(found.lines().map(Some).chain(std::iter::repeat(None)))
        .take_while(|(a, b)| a.is_some() || b.is_some())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a.unwrap_or("(end)"), b.unwrap_or("(end)")))
        .unwrap_or((0, "", ""));
    Err(TableError {
        file: path,
        row: Some(line),
        column: None,
        problem: format!(
            "differs from the re-derived state: expected {:?}, found {:?}",
            want.trim(),
            got.trim()
        ),
    })
}

fn check_no_leaf_decreased(
    path: &Path,
    before: &CumulativeVested,
    now: &CumulativeVested,
) -> Result<(), TableError> {
    for ((provider, pool), amount) in before {
        let current = now
            .get(&(provider.clone(), *pool))
            .copied()
            .unwrap_or_default();
        if current < *amount {
            return Err(problem(
                path,
                format!(
                    "{provider}'s cumulative vested amount in {} fell from {amount} to {current}",
                    crate::merkle::pool_name(*pool)
                ),
            ));
        }
    }
    Ok(())
}

/// A provider's Merkle proof from a published epoch folder: the folder's files are checked
/// against its manifest, the tree is rebuilt from its `state.json`, and its root must be the
/// manifest's before any proof is given.
pub fn proof(
    folder: &Path,
    provider: &domain::ProviderAddr,
) -> Result<crate::merkle::Proof, TableError> {
    let name = folder_name(folder);
    let epoch: u32 = name
        .strip_prefix("epoch-")
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| problem(folder, "is not an epoch-<K> folder"))?;
    let programme = folder_name(folder.parent().unwrap_or(Path::new(".")));
    let (_, manifest) = read_manifest(folder)?;
    let mut files = check_hashes(folder, &manifest)?;
    let loaded = load_programme(&mut files, &manifest, &programme, epoch)?;
    let window = loaded
        .programme
        .calendar
        .window(epoch)
        .map_err(|e| problem(&folder.join(PROGRAMME_FILE), e))?;
    let state = read_state(&mut files)?;
    let tree = merkle_tree(&manifest.chain_id, &programme, epoch, window, &state)
        .map_err(|e| problem(&folder.join(STATE_FILE), e))?;
    if tree.root_hex() != manifest.merkle_root {
        return Err(problem(
            &folder.join(MANIFEST_FILE),
            format!(
                "merkle_root is {}, but state.json gives {}",
                manifest.merkle_root,
                tree.root_hex()
            ),
        ));
    }
    Ok(tree.proof(provider))
}
