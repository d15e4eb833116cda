//! `report` and `verify` as the administrator and an auditor run them, on the publication of
//! `support::audit` (the fixture chain `era-a-small`, programme `audit`, whose docs derive
//! every allocation from `truth.json`): publish the bundles, and re-derive them offline. The
//! tamper tests spoil fresh copies of the good publication; `devnet`'s folders serve as
//! "another programme's" epochs.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reports::allocations::ALLOCATIONS;
use reports::bundle::{sha256_hex, Manifest, MANIFEST_FILE};
use reports::inputs::INPUTS;
use reports::material::{LEASES, OBSERVATIONS, REGISTRATIONS};
use reports::page::PAGE_FILE;
use reports::table::TableSpec;
use serde_json::Value;
use support::audit::{
    cli, copy_folder, epoch_folder, files_under, good, publish_fixture, BUDGET, CLASSES, EPOCHS,
    EPOCH_MS, FIXTURE, LAST, OTHER_PROGRAMME, PROGRAMME, START,
};
use support::e2e::{csv_rows, truth};
use support::{binary, run};

// ---------------------------------------------------------------------------------------------
// What the allocations must be, computed from truth.json alone.

/// A liquidity-mining line: (epoch, class, provider or "" for the class-level line) →
/// (reason, weight, amount).
type Lines = BTreeMap<(u32, String, String), (String, u128, u128)>;

fn unix_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp_millis()
}

/// `[start, end)` of epoch `epoch`, in unix milliseconds.
fn window(epoch: u32) -> (i64, i64) {
    let start = unix_ms(START) + i64::from(epoch) * EPOCH_MS;
    (start, start + EPOCH_MS)
}

/// Leased GPU-ms per class and provider over `[start, end)`, from the truth's leases.
fn leased_gpu_ms(
    truth: &Value,
    (start, end): (i64, i64),
) -> BTreeMap<&str, BTreeMap<String, u128>> {
    let mut leased: BTreeMap<&str, BTreeMap<String, u128>> = BTreeMap::new();
    for lease in truth["leases"].as_object().expect("leases").values() {
        let Some(model) = lease["gpu_model"].as_str() else {
            continue;
        };
        let Some((class, _)) = CLASSES.iter().find(|(class, _)| *class == model) else {
            continue;
        };
        let created = unix_ms(lease["created_time"].as_str().expect("created_time"));
        let closed = lease["closed_time"].as_str().map_or(end, unix_ms);
        let overlap = closed.min(end) - created.max(start);
        if overlap <= 0 {
            continue;
        }
        let units = lease["gpu_units"].as_u64().expect("gpu_units");
        let provider = lease["provider"].as_str().expect("provider").to_owned();
        *leased
            .entry(class)
            .or_default()
            .entry(provider)
            .or_default() +=
            u128::from(units) * u128::try_from(overlap).expect("a positive overlap");
    }
    leased
}

/// `total` split in proportion to `weights` (`Σ > 0`) by largest remainder, ties to the
/// smaller key.
fn largest_remainder<K: Ord + Clone>(
    total: u128,
    weights: &BTreeMap<K, u128>,
) -> BTreeMap<K, u128> {
    let sum: u128 = weights.values().sum();
    let mut shares: BTreeMap<K, u128> = weights
        .iter()
        .map(|(key, w)| (key.clone(), total * w / sum))
        .collect();
    let leftover = total - shares.values().sum::<u128>();
    let mut ranking: Vec<(u128, &K)> = weights.iter().map(|(k, w)| (total * w % sum, k)).collect();
    ranking.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    for (_, key) in ranking
        .into_iter()
        .take(usize::try_from(leftover).expect("small"))
    {
        *shares.get_mut(key).expect("a share") += 1;
    }
    shares
}

/// Every liquidity-mining line with a weight or an amount, as the module docs derive them.
fn expected_lines(truth: &Value) -> Lines {
    let n = u128::from(EPOCHS);
    let shares: BTreeMap<&str, u128> = CLASSES.into_iter().collect();
    let mut lines = Lines::new();
    for epoch in 0..EPOCHS {
        let k = u128::from(epoch);
        let emission = BUDGET * (k + 1) / n - BUDGET * k / n;
        let leased = leased_gpu_ms(truth, window(epoch));
        for (class, slice) in largest_remainder(emission, &shares) {
            match leased.get(class) {
                None => {
                    let line = ("NO_ELIGIBLE_WEIGHT".to_owned(), 0, slice);
                    lines.insert((epoch, class.to_owned(), String::new()), line);
                }
                Some(weights) => {
                    for (provider, amount) in largest_remainder(slice, weights) {
                        let line = ("PAID".to_owned(), weights[&provider] * 1000, amount);
                        lines.insert((epoch, class.to_owned(), provider), line);
                    }
                }
            }
        }
    }
    lines
}

/// The published liquidity-mining lines with a weight or an amount, over every epoch.
fn published_lines(programme: &Path) -> Lines {
    let mut lines = Lines::new();
    for epoch in 0..EPOCHS {
        let csv = std::fs::read_to_string(epoch_folder(programme, epoch).join("allocations.csv"))
            .expect("read allocations.csv");
        for row in csv_rows(&csv) {
            let number = |column: &str| -> u128 { row[column].parse().expect("an integer") };
            let (weight, amount) = (number("weight"), number("amount"));
            if row["pool"] != "liquidity_mining" || (weight == 0 && amount == 0) {
                continue;
            }
            assert_eq!(row["epoch"], epoch.to_string());
            let key = (epoch, row["class"].clone(), row["provider"].clone());
            assert!(
                lines
                    .insert(key, (row["reason"].clone(), weight, amount))
                    .is_none(),
                "two lines for one provider and class in epoch {epoch}"
            );
        }
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Spoiling a copy and asking verify about it.

/// A fresh copy of the good publication (both programmes) to tamper with.
struct Spoiled {
    _dir: tempfile::TempDir,
    out: PathBuf,
}

impl Spoiled {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let out = dir.path().join("reports");
        copy_folder(&good().out, &out);
        Spoiled { _dir: dir, out }
    }

    fn programme(&self) -> PathBuf {
        self.out.join(PROGRAMME)
    }

    /// A file of epoch `epoch` of the test programme.
    fn file(&self, epoch: u32, name: &str) -> PathBuf {
        epoch_folder(&self.programme(), epoch).join(name)
    }

    fn read(&self, epoch: u32, name: &str) -> String {
        std::fs::read_to_string(self.file(epoch, name)).expect("read a published file")
    }

    fn write(&self, epoch: u32, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.file(epoch, name), bytes).expect("write a published file");
    }

    /// Replaces the one occurrence of `from` in the file by `to`.
    fn replace(&self, epoch: u32, name: &str, from: &str, to: &str) {
        let text = self.read(epoch, name);
        assert_eq!(text.matches(from).count(), 1, "{from:?} in {name}:\n{text}");
        self.write(epoch, name, text.replacen(from, to, 1));
    }

    /// Applies `change` to the lines of a CSV file (the header is line 0).
    fn edit_lines(&self, epoch: u32, name: &str, change: impl FnOnce(&mut Vec<String>)) {
        let mut lines: Vec<String> = self.read(epoch, name).lines().map(str::to_owned).collect();
        change(&mut lines);
        self.write(epoch, name, lines.join("\n") + "\n");
    }

    fn manifest(&self, epoch: u32) -> Manifest {
        serde_json::from_str(&self.read(epoch, MANIFEST_FILE)).expect("a manifest")
    }

    /// Puts the current hashes of `names` into the epoch's manifest, as a forger would.
    fn rehash(&self, epoch: u32, names: &[&str]) {
        let mut manifest = self.manifest(epoch);
        for name in names {
            let bytes = std::fs::read(self.file(epoch, name)).expect("read a published file");
            manifest
                .files
                .insert((*name).to_owned(), sha256_hex(&bytes));
        }
        self.write(epoch, MANIFEST_FILE, manifest.to_bytes());
    }

    /// Makes the table's Parquet file (and canonical CSV) from its edited CSV, and rehashes
    /// both: the two forms agree again and the manifest vouches for them.
    fn rewrite_both_forms(&self, epoch: u32, spec: &'static TableSpec) {
        let (csv, parquet) = (spec.csv_file(), spec.parquet_file());
        let mut frame = reports::table::read_csv(spec, &self.file(epoch, &csv))
            .expect("the edited CSV is still a valid table");
        let written = reports::table::write(spec, &mut frame).expect("write the table");
        self.write(epoch, &csv, written.csv);
        self.write(epoch, &parquet, written.parquet);
        self.rehash(epoch, &[&csv, &parquet]);
    }

    /// `verify` of the whole programme folder, which must fail; returns the cause it names.
    fn verify_fails(&self) -> String {
        verify_fails(&self.programme())
    }
}

/// `verify FOLDER`, which must exit 1 with one cause; returns that cause.
fn verify_fails(folder: &Path) -> String {
    let (code, stdout, stderr) = run(binary().arg("verify").arg(folder));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, 1, "verify must fail:\n{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: verification failed\n"),
        "{stderr}"
    );
    stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("caused by: "))
        .unwrap_or_else(|| panic!("no cause in {stderr}"))
        .to_owned()
}

/// Asserts that `cause` is about `path` (followed by `:` or by `, row …`).
fn assert_names(cause: &str, path: &Path) {
    let path = path.display().to_string();
    assert!(
        cause.starts_with(&format!("{path}:")) || cause.starts_with(&format!("{path},")),
        "the cause should name {path}: {cause}"
    );
}

/// The position of column `name` of table `spec`.
fn column(spec: &TableSpec, name: &str) -> usize {
    spec.columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("{} has no column {name}", spec.name))
}

/// The index of the first data line of an allocations CSV that pays a provider a positive
/// amount, with its amount.
fn first_paid_line(lines: &[String]) -> (usize, String) {
    lines
        .iter()
        .enumerate()
        .skip(1)
        .find_map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            let amount = fields[column(&ALLOCATIONS, "amount")];
            (fields[column(&ALLOCATIONS, "reason")] == "PAID" && amount != "0")
                .then(|| (i, amount.to_owned()))
        })
        .expect("a PAID line")
}

/// `line` (of a CSV without quoted fields) with its field `column` (from 0) set to `value`.
fn with_field(line: &str, column: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[column] = value;
    fields.join(",")
}

/// `amount` with its last digit changed.
fn other_digit(amount: &str) -> String {
    let (head, last) = amount.split_at(amount.len() - 1);
    let digit: u32 = last.parse().expect("a digit");
    format!("{head}{}", (digit + 1) % 10)
}

/// Changes one positive amount of epoch `epoch`'s allocations.csv by one digit; returns the
/// row (1-based, header not counted) and the amounts before and after.
fn change_an_amount(spoiled: &Spoiled, epoch: u32) -> (usize, String, String) {
    let mut changed = None;
    spoiled.edit_lines(epoch, "allocations.csv", |lines| {
        let (row, amount) = first_paid_line(lines);
        let new = other_digit(&amount);
        lines[row] = with_field(&lines[row], column(&ALLOCATIONS, "amount"), &new);
        changed = Some((row, amount, new));
    });
    changed.expect("an amount was changed")
}

/// Flips one online observation of epoch `epoch` made inside its window to offline (online
/// false, no GPUs).
fn flip_an_observation_offline(spoiled: &Spoiled, epoch: u32) {
    let start = spoiled.manifest(epoch).window.start;
    spoiled.edit_lines(epoch, "observations.csv", |lines| {
        let row = lines
            .iter()
            .position(|line| {
                let fields: Vec<&str> = line.splitn(5, ',').collect();
                fields[2] == start && fields[3] == "true"
            })
            .expect("an online observation at the window's start");
        // prober,provider,time,online,latency_ms,error,gpus,signature,unsigned_import,signed_gpus: the
        // first five and the last three (signed_gpus is empty: nothing was clamped) never hold a
        // comma. The signature is kept, as a forger would.
        let fields: Vec<&str> = lines[row].splitn(7, ',').collect();
        let proof: Vec<&str> = lines[row].rsplitn(4, ',').collect();
        lines[row] = format!(
            "{},{},{},false,{},{},[],{},{},",
            fields[0], fields[1], fields[2], fields[4], fields[5], proof[2], proof[1]
        );
    });
}

// ---------------------------------------------------------------------------------------------
// The good publication.

#[test]
fn the_fixture_reports_verify_and_pay_what_the_truth_implies() {
    let good = good();
    let programme = good.programme();
    // The page beside the epoch folders is no epoch, and verify passes over it.
    assert!(programme.join(PAGE_FILE).is_file());
    let (code, stdout, stderr) = run(binary().arg("verify").arg(&programme));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "verified: programme {PROGRAMME}, {EPOCHS} epoch(s) (0–{LAST}), "
        )),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    for epoch in 0..EPOCHS {
        let (code, stdout, stderr) =
            run(binary().arg("verify").arg(epoch_folder(&programme, epoch)));
        assert_eq!(code, 0, "epoch {epoch}: {stdout}\n{stderr}");
        assert!(
            stdout.starts_with(&format!(
                "verified: programme {PROGRAMME}, 1 epoch(s) ({epoch}–{epoch}), "
            )),
            "{stdout}"
        );
    }

    let expected = expected_lines(&truth(FIXTURE));
    assert_eq!(published_lines(&programme), expected);
    // What the comparison covered: several providers paid, and the empty class returned.
    let paid = expected.values().filter(|(r, _, a)| r == "PAID" && *a > 0);
    assert!(paid.count() >= 2 * EPOCHS as usize, "{expected:?}");
    for epoch in 0..EPOCHS {
        let returned = &expected[&(epoch, "mi300x".to_owned(), String::new())];
        assert_eq!(returned.0, "NO_ELIGIBLE_WEIGHT");
    }

    // The manifests' totals agree with the same computation.
    for epoch in 0..EPOCHS {
        let manifest: Manifest = serde_json::from_slice(
            &std::fs::read(epoch_folder(&programme, epoch).join(MANIFEST_FILE)).unwrap(),
        )
        .unwrap();
        let of_epoch = expected.iter().filter(|((e, _, _), _)| *e == epoch);
        let (mut allocated, mut returned) = (0u128, 0u128);
        for (_, (reason, _, amount)) in of_epoch {
            match reason.as_str() {
                "PAID" => allocated += amount,
                _ => returned += amount,
            }
        }
        let totals = &manifest.totals["liquidity_mining"];
        assert_eq!(totals["allocated"], allocated.to_string(), "epoch {epoch}");
        assert_eq!(totals["returned"], returned.to_string(), "epoch {epoch}");
    }
}

/// `reconcile` on the fixture chain's own programme-wallet payouts, as the binary indexed them:
/// per address, what the audit programme had vested (it vests at once, at each epoch's end),
/// what was sent and how often, and the flags, all worked out here from `truth.json` and the
/// allocations computed above. It exits 1, since the fixture's payouts were not made for this
/// programme.
#[test]
fn reconcile_flags_the_fixtures_payouts_as_the_truth_implies() {
    let good = good();
    let truth = truth(FIXTURE);
    let lines = expected_lines(&truth);
    let block_time = |height: &Value| -> i64 {
        unix_ms(
            truth["block_times"][height.as_u64().unwrap().to_string()]
                .as_str()
                .unwrap(),
        )
    };
    let at = block_time(&truth["last_height"]);
    let vested_at = |provider: &str, t: i64| -> u128 {
        lines
            .iter()
            .filter(|((epoch, _, p), (reason, _, _))| {
                p == provider && reason == "PAID" && window(*epoch).1 <= t
            })
            .map(|(_, (_, _, amount))| amount)
            .sum()
    };
    let earned = |provider: &str| {
        lines.iter().any(|((_, _, p), (reason, _, amount))| {
            p == provider && reason == "PAID" && *amount > 0
        })
    };
    // address → (vested, paid, transfers, status)
    let mut expected: BTreeMap<String, (u128, u128, usize, String)> = BTreeMap::new();
    for ((_, _, provider), (reason, _, amount)) in &lines {
        if reason == "PAID" && *amount > 0 {
            expected.insert(
                provider.clone(),
                (vested_at(provider, at), 0, 0, String::new()),
            );
        }
    }
    let payouts = truth["payouts"].as_array().unwrap();
    for payout in payouts {
        let to = payout["to"].as_str().unwrap();
        let entry =
            expected
                .entry(to.to_owned())
                .or_insert((vested_at(to, at), 0, 0, String::new()));
        entry.1 += payout["amount"].as_str().unwrap().parse::<u128>().unwrap();
        entry.2 += 1;
    }
    for (address, (vested, paid, _, status)) in expected.iter_mut() {
        let mut flags = Vec::new();
        if !earned(address) {
            flags.push("unknown recipient");
        } else {
            if paid > vested {
                flags.push("overpaid");
            }
            if paid < vested {
                flags.push("underpaid");
            }
            let mut sent = 0;
            for payout in payouts.iter().filter(|p| p["to"] == address.as_str()) {
                sent += payout["amount"].as_str().unwrap().parse::<u128>().unwrap();
                if sent > vested_at(address, block_time(&payout["height"])) {
                    flags.push("paid before vesting");
                }
            }
        }
        *status = if flags.is_empty() {
            "ok".into()
        } else {
            flags.join(", ")
        };
    }

    let (code, table, stderr) = run(binary().arg("--config").arg(&good.audit_config).args([
        "--database-url",
        &good.database,
        "reconcile",
    ]));
    assert_eq!(code, 1, "{table}\n{stderr}");
    let found: BTreeMap<String, (u128, u128, usize, String)> = table
        .lines()
        .skip(1)
        .filter(|line| line.starts_with("akash1"))
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let status = cells[4..].join(" ");
            (
                cells[0].to_owned(),
                (
                    cells[1].parse().unwrap(),
                    cells[2].parse().unwrap(),
                    cells[3].parse().unwrap(),
                    status,
                ),
            )
        })
        .collect();
    assert_eq!(found, expected, "{table}");
    // Every payout is named once, by its height, among the findings.
    for payout in payouts {
        let height = format!("height {} ", payout["height"]);
        assert!(table.contains(&height), "{height}: {table}");
    }
    let flagged = expected.values().filter(|(.., s)| s != "ok").count();
    assert!(
        flagged > 0 && expected.len() > payouts.len(),
        "{expected:?}"
    );
}

#[test]
fn reporting_again_says_unchanged_and_changes_no_byte() {
    let good = good();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    copy_folder(&good.out, &out);
    let before = files_under(&out);
    let stdout = cli(
        &good.audit_config,
        &good.database,
        &["report", "--all", "--out", out.to_str().unwrap()],
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), EPOCHS as usize + 1, "{stdout}");
    for (epoch, line) in lines.iter().enumerate().take(EPOCHS as usize) {
        assert!(
            line.starts_with(&format!("epoch {epoch}: unchanged ")),
            "{stdout}"
        );
    }
    let page = out.join(PROGRAMME).join(PAGE_FILE);
    assert_eq!(
        lines[EPOCHS as usize],
        format!("page: unchanged {} (epochs 0–{LAST})", page.display())
    );
    // The page included: the same folders make the same page.
    assert!(before.contains_key(&Path::new(PROGRAMME).join(PAGE_FILE)));
    assert!(files_under(&out) == before, "a second report changed bytes");
}

// ---------------------------------------------------------------------------------------------
// Tampering, caught by the hashes.

#[test]
fn one_digit_of_an_amount_changed_is_named_in_allocations_csv() {
    let spoiled = Spoiled::new();
    change_an_amount(&spoiled, 2);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "allocations.csv"));
    assert!(cause.contains("the manifest says"), "{cause}");
}

#[test]
fn a_deleted_or_swapped_allocation_row_is_named_in_allocations_csv() {
    let deleted = Spoiled::new();
    deleted.edit_lines(1, "allocations.csv", |lines| drop(lines.remove(2)));
    let swapped = Spoiled::new();
    swapped.edit_lines(1, "allocations.csv", |lines| lines.swap(1, 2));
    for spoiled in [deleted, swapped] {
        let cause = spoiled.verify_fails();
        assert_names(&cause, &spoiled.file(1, "allocations.csv"));
        assert!(cause.contains("SHA-256"), "{cause}");
    }
}

#[test]
fn an_edited_programme_toml_is_named() {
    let spoiled = Spoiled::new();
    spoiled.replace(
        1,
        "programme.toml",
        &format!("base_units = \"{BUDGET}\""),
        &format!("base_units = \"{}\"", BUDGET + 1),
    );
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(1, "programme.toml"));
}

#[test]
fn an_observation_flipped_offline_is_named_in_observations_csv() {
    let spoiled = Spoiled::new();
    flip_an_observation_offline(&spoiled, 1);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(1, "observations.csv"));
}

#[test]
fn a_changed_lease_closed_height_is_named_in_leases_csv() {
    let spoiled = Spoiled::new();
    spoiled.edit_lines(2, "leases.csv", |lines| {
        let closed = column(&LEASES, "closed_height");
        let row = (1..lines.len())
            .find(|&i| !lines[i].split(',').nth(closed).unwrap().is_empty())
            .expect("a closed lease");
        let height: u64 = lines[row].split(',').nth(closed).unwrap().parse().unwrap();
        lines[row] = with_field(&lines[row], closed, &(height + 1).to_string());
    });
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "leases.csv"));
}

#[test]
fn a_deleted_registration_is_named_in_registrations_csv() {
    let spoiled = Spoiled::new();
    spoiled.edit_lines(2, "registrations.csv", |lines| {
        assert!(lines.len() > 1, "the fixture's providers are registered");
        drop(lines.remove(1));
    });
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "registrations.csv"));
}

/// Adds one base unit to the liquidity-mining balance in epoch `epoch`'s state.json.
fn change_the_balance(spoiled: &Spoiled, epoch: u32) {
    let state: Value = serde_json::from_str(&spoiled.read(epoch, "state.json")).unwrap();
    let balance = state["pools"]["liquidity_mining"]["balance"]
        .as_u64()
        .expect("a balance");
    spoiled.replace(
        epoch,
        "state.json",
        &format!("\"balance\": {balance},"),
        &format!("\"balance\": {},", balance + 1),
    );
}

#[test]
fn an_edited_state_json_is_named() {
    let spoiled = Spoiled::new();
    change_the_balance(&spoiled, 2);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "state.json"));
}

#[test]
fn another_programmes_epoch_in_place_of_ours_is_named_in_the_manifest() {
    for (epoch, problem) in [
        (1, "previous_manifest_sha256".to_owned()),
        (0, format!("names programme \"{OTHER_PROGRAMME}\"")),
    ] {
        let spoiled = Spoiled::new();
        let ours = epoch_folder(&spoiled.programme(), epoch);
        std::fs::remove_dir_all(&ours).unwrap();
        copy_folder(
            &epoch_folder(&spoiled.out.join(OTHER_PROGRAMME), epoch),
            &ours,
        );
        let cause = spoiled.verify_fails();
        assert_names(&cause, &ours.join(MANIFEST_FILE));
        assert!(cause.contains(&problem), "epoch {epoch}: {cause}");
    }
}

#[test]
fn a_file_the_manifest_does_not_list_is_named() {
    let spoiled = Spoiled::new();
    spoiled.write(
        2,
        "allocations-corrected.csv",
        "what an auditor might read instead\n",
    );
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "allocations-corrected.csv"));
    assert!(cause.contains("is not listed in manifest.json"), "{cause}");
}

#[test]
fn an_edited_previous_manifest_hash_is_named() {
    let spoiled = Spoiled::new();
    let mut manifest = spoiled.manifest(3);
    let previous = manifest.previous_manifest_sha256.clone().expect("a chain");
    let forged = format!("{}{}", &previous[..63], other_digit_hex(&previous[63..]));
    manifest.previous_manifest_sha256 = Some(forged.clone());
    spoiled.write(3, MANIFEST_FILE, manifest.to_bytes());
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(3, MANIFEST_FILE));
    assert!(
        cause.contains(&format!(
            "previous_manifest_sha256 is {forged}, expected {previous}"
        )),
        "{cause}"
    );
}

fn other_digit_hex(digit: &str) -> &'static str {
    if digit == "0" {
        "1"
    } else {
        "0"
    }
}

// ---------------------------------------------------------------------------------------------
// Tampering that rewrites the hashes too: only the re-derivation can catch it.

#[test]
fn a_rehashed_csv_only_edit_is_named_as_a_parquet_csv_disagreement() {
    let spoiled = Spoiled::new();
    let (row, old, new) = change_an_amount(&spoiled, LAST);
    spoiled.rehash(LAST, &["allocations.csv"]);
    let cause = spoiled.verify_fails();
    assert_eq!(
        cause,
        format!(
            "{}, row {row}, column amount: differs from allocations.csv: the CSV has \"{new}\", \
             the Parquet file has \"{old}\"",
            spoiled.file(LAST, "allocations.parquet").display()
        )
    );
}

#[test]
fn a_rehashed_amount_in_both_forms_is_named_with_the_re_derived_value() {
    let spoiled = Spoiled::new();
    let (row, old, new) = change_an_amount(&spoiled, LAST);
    spoiled.rewrite_both_forms(LAST, &ALLOCATIONS);
    let cause = spoiled.verify_fails();
    assert_eq!(
        cause,
        format!(
            "{}, row {row}, column amount: expected \"{old}\", found \"{new}\"",
            spoiled.file(LAST, "allocations.csv").display()
        )
    );
}

#[test]
fn rehashed_swapped_rows_in_both_forms_are_named_by_row() {
    let spoiled = Spoiled::new();
    spoiled.edit_lines(LAST, "allocations.csv", |lines| lines.swap(1, 2));
    spoiled.rewrite_both_forms(LAST, &ALLOCATIONS);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "allocations.csv"));
    assert!(cause.contains(", row 1, column "), "{cause}");
    assert!(cause.contains("expected"), "{cause}");
}

/// The flipped observation is signed: its prober's signature no longer verifies over it.
#[test]
fn a_rehashed_observation_flipped_offline_is_caught_by_its_signature() {
    let spoiled = Spoiled::new();
    flip_an_observation_offline(&spoiled, LAST);
    spoiled.rewrite_both_forms(LAST, &OBSERVATIONS);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "observations.csv"));
    assert!(cause.contains("signature"), "{cause}");
}

/// A forger who also drops the signature makes the row an unsigned observation, which the
/// published inputs then contradict: the re-measured uptime differs.
#[test]
fn a_rehashed_unsigned_flip_is_caught_by_the_re_measured_inputs() {
    let spoiled = Spoiled::new();
    flip_an_observation_offline(&spoiled, LAST);
    spoiled.edit_lines(LAST, "observations.csv", |lines| {
        for line in lines.iter_mut().skip(1) {
            // Signature dropped: the row now reads as recorded by a prober without a key.
            let proof: Vec<&str> = line.rsplitn(4, ',').collect();
            *line = format!("{},,{},", proof[3], proof[1]);
        }
    });
    spoiled.rewrite_both_forms(LAST, &OBSERVATIONS);
    let cause = spoiled.verify_fails();
    let inputs = spoiled.file(LAST, "inputs.csv");
    let manifest = spoiled.file(LAST, MANIFEST_FILE);
    assert!(
        cause.starts_with(&format!("{},", inputs.display()))
            || cause.starts_with(&format!("{}: inputs_hash", manifest.display())),
        "{cause}"
    );
}

/// A forger who removes a provider's registration from both forms and the manifest makes it
/// unregistered for the epoch: it measures to nothing, which the published inputs contradict.
#[test]
fn a_rehashed_deleted_registration_is_caught_by_the_re_measured_inputs() {
    let spoiled = Spoiled::new();
    spoiled.edit_lines(LAST, "registrations.csv", |lines| drop(lines.remove(1)));
    spoiled.rewrite_both_forms(LAST, &REGISTRATIONS);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "inputs.csv"));
}

#[test]
fn a_rehashed_state_json_is_named_with_the_re_derived_line() {
    let spoiled = Spoiled::new();
    change_the_balance(&spoiled, LAST);
    spoiled.rehash(LAST, &["state.json"]);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "state.json"));
    assert!(
        cause.contains("expected \"\\\"balance\\\": 0,\", found \"\\\"balance\\\": 1,\""),
        "{cause}"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: clear errors naming the file, never a panic.

#[test]
fn a_missing_file_is_named() {
    let spoiled = Spoiled::new();
    std::fs::remove_file(spoiled.file(2, "ledger.parquet")).unwrap();
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(2, "ledger.parquet"));
    assert!(cause.contains("cannot read"), "{cause}");
}

/// Epochs are read ahead of the one being settled, but failures are reported in epoch order:
/// with epoch 1's state edited and a later epoch's file missing, epoch 1 is named.
#[test]
fn of_two_damaged_epochs_the_earlier_is_named() {
    let spoiled = Spoiled::new();
    change_the_balance(&spoiled, 1);
    std::fs::remove_file(spoiled.file(2, "ledger.parquet")).unwrap();
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(1, "state.json"));
}

#[test]
fn a_truncated_parquet_file_is_named() {
    let spoiled = Spoiled::new();
    let path = spoiled.file(LAST, "allocations.parquet");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    spoiled.rehash(LAST, &["allocations.parquet"]);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &path);
    assert!(cause.contains("not a readable Parquet file"), "{cause}");
}

#[test]
fn a_corrupted_parquet_file_is_an_error_never_a_panic() {
    // Every single-byte corruption of a published Parquet file, read in-process: some make
    // polars' decoder panic, which the reader must turn into an error.
    let good = good();
    let bytes =
        std::fs::read(epoch_folder(&good.programme(), LAST).join("inputs.parquet")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inputs.parquet");
    let mut decoder_failed = None;
    for position in 0..bytes.len() {
        let mut corrupted = bytes.clone();
        corrupted[position] ^= 0xff;
        std::fs::write(&path, &corrupted).unwrap();
        if let Err(e) = reports::table::read_parquet(&INPUTS, &path) {
            assert_eq!(e.file, path);
            if e.problem.contains("the Parquet decoder failed") {
                decoder_failed.get_or_insert(corrupted);
            }
        }
    }
    // The first corruption that tripped the decoder, through the binary: a clear error and no
    // panic message (verify_fails asserts there is none).
    if let Some(corrupted) = decoder_failed {
        let spoiled = Spoiled::new();
        spoiled.write(LAST, "inputs.parquet", corrupted);
        spoiled.rehash(LAST, &["inputs.parquet"]);
        let cause = spoiled.verify_fails();
        assert_names(&cause, &spoiled.file(LAST, "inputs.parquet"));
        assert!(cause.contains("not a readable Parquet file"), "{cause}");
    }
}

#[test]
fn a_csv_with_a_wrong_header_is_named() {
    let spoiled = Spoiled::new();
    spoiled.edit_lines(LAST, "allocations.csv", |lines| {
        lines[0] = lines[0].replace(",amount,", ",amt,");
    });
    spoiled.rehash(LAST, &["allocations.csv"]);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "allocations.csv"));
    assert!(cause.contains("the header is"), "{cause}");
}

#[test]
fn a_non_integer_amount_or_count_is_named() {
    // An amount is text of digits: the re-derivation names the cell.
    let spoiled = Spoiled::new();
    spoiled.edit_lines(LAST, "allocations.csv", |lines| {
        let (row, _) = first_paid_line(lines);
        lines[row] = with_field(&lines[row], column(&ALLOCATIONS, "amount"), "12.5");
    });
    spoiled.rewrite_both_forms(LAST, &ALLOCATIONS);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "allocations.csv"));
    assert!(cause.contains("column amount: expected"), "{cause}");
    assert!(cause.ends_with("found \"12.5\""), "{cause}");

    // An integer column that holds something else: the CSV reader names the file.
    let spoiled = Spoiled::new();
    spoiled.edit_lines(LAST, "inputs.csv", |lines| {
        lines[1] = with_field(&lines[1], column(&INPUTS, "uptime_num"), "1.5");
    });
    spoiled.rehash(LAST, &["inputs.csv"]);
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(LAST, "inputs.csv"));
}

#[test]
fn a_manifest_that_is_not_json_is_named() {
    let spoiled = Spoiled::new();
    spoiled.write(1, MANIFEST_FILE, "{ this is not JSON");
    let cause = spoiled.verify_fails();
    assert_names(&cause, &spoiled.file(1, MANIFEST_FILE));
    assert!(cause.contains("is not a report manifest"), "{cause}");
}

// ---------------------------------------------------------------------------------------------
// Proofs.

fn proof(epoch_folder: &Path, provider: &str) -> (i32, String, String) {
    run(binary()
        .args(["proof", "--report"])
        .arg(epoch_folder)
        .args(["--provider", provider]))
}

#[test]
fn a_paid_providers_proof_holds_and_proves_its_cumulative_amount() {
    let good = good();
    let last = epoch_folder(&good.programme(), LAST);
    // Each provider's cumulative amount: every payment vests immediately.
    let mut cumulative: BTreeMap<String, u128> = BTreeMap::new();
    for ((_, _, provider), (_, _, amount)) in expected_lines(&truth(FIXTURE)) {
        if !provider.is_empty() {
            *cumulative.entry(provider).or_default() += amount;
        }
    }
    let (provider, amount) = cumulative
        .iter()
        .max_by_key(|(_, amount)| **amount)
        .expect("a paid provider");

    let (code, stdout, stderr) = proof(&last, provider);
    assert_eq!(code, 0, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("a JSON proof");
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(last.join(MANIFEST_FILE)).unwrap()).unwrap();
    assert_eq!(document["root"], manifest.merkle_root.as_str());
    let leaves = document["leaves"].as_array().expect("leaves");
    assert_eq!(leaves.len(), 1, "{stdout}");
    assert_eq!(leaves[0]["provider"], provider.as_str());
    assert_eq!(leaves[0]["pool"], "liquidity_mining");
    assert_eq!(leaves[0]["amount"], amount.to_string());
    assert_eq!(leaves[0]["epoch"], LAST);
    assert_eq!(leaves[0]["programme"], PROGRAMME);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    std::fs::write(&file, &stdout).unwrap();
    let (code, stdout, stderr) = run(binary().args(["verify", "--proof"]).arg(&file));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "proof ok: 1 leaf(s) of {provider} under root {}\n",
            manifest.merkle_root
        )
    );
}

#[test]
fn a_proof_for_nobody_paid_is_empty_and_a_malformed_address_is_a_usage_error() {
    let last = epoch_folder(&good().programme(), LAST);
    let nobody = domain::ProviderAddr::from_account_bytes([7; 20]).to_string();
    let (code, stdout, stderr) = proof(&last, &nobody);
    assert_eq!(code, 0, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("a JSON proof");
    assert_eq!(document["leaves"], Value::Array(Vec::new()), "{stdout}");

    let (code, stdout, stderr) = proof(&last, "akash1notanaddress");
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("--provider akash1notanaddress"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The same bundles from PostgreSQL.

#[test]
fn postgres_publishes_the_same_bytes_as_sqlite() {
    let Some(db) = store::testing::postgres() else {
        return;
    };
    let store::DatabaseUrl::Postgres(url) = db.url() else {
        panic!("a PostgreSQL test database has a postgres:// URL");
    };
    let work = tempfile::tempdir().unwrap();
    let postgres = files_under(&publish_fixture(work.path(), &url));
    let sqlite = files_under(&good().out);
    // Both programmes, every file of every epoch (17 each), and each programme's page.
    assert_eq!(sqlite.len(), 2 * (17 * EPOCHS as usize + 1));
    assert_eq!(
        postgres.keys().collect::<Vec<_>>(),
        sqlite.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &sqlite {
        assert!(
            postgres[name] == *bytes,
            "{} differs between PostgreSQL and SQLite",
            name.display()
        );
    }
}

/// `rewards compute` on a published epoch's `inputs.csv` and the previous epoch's `state.json`
/// prints exactly that epoch's `allocations.csv` and writes exactly its `state.json`: the
/// engine `verify` runs is the one anyone can run by hand.
#[test]
fn rewards_compute_reproduces_every_published_epoch_byte_for_byte() {
    let good = good();
    let programme = good.programme();
    let work = tempfile::tempdir().expect("a temporary folder");
    for epoch in 0..EPOCHS {
        let folder = epoch_folder(&programme, epoch);
        let state_out = work.path().join(format!("state-{epoch}.json"));
        let mut command = binary();
        command
            .arg("--config")
            .arg(&good.audit_config)
            .args(["rewards", "compute", "--epoch", &epoch.to_string()])
            .arg("--inputs")
            .arg(folder.join("inputs.csv"))
            .arg("--state-out")
            .arg(&state_out);
        if let Some(before) = epoch.checked_sub(1) {
            command
                .arg("--state")
                .arg(epoch_folder(&programme, before).join("state.json"));
        }
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "epoch {epoch}: {stderr}");
        let published = std::fs::read_to_string(folder.join("allocations.csv")).unwrap();
        assert_eq!(stdout, published, "epoch {epoch}: allocations");
        assert_eq!(
            std::fs::read(&state_out).unwrap(),
            std::fs::read(folder.join("state.json")).unwrap(),
            "epoch {epoch}: state"
        );
    }
}
