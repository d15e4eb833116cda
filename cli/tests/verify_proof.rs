//! `verify --proof FILE` as a provider would run it on a proof it was sent: built here with
//! `reports::merkle`, checked by the binary, then tampered with.

mod support;

use domain::{BaseUnits, ProviderAddr};
use reports::merkle::{Leaf, MerkleTree};
use rewards::programme::PoolKind;
use serde_json::Value;
use support::{binary, run};

fn leaf(provider: &ProviderAddr, pool: PoolKind, amount: u128) -> Leaf {
    Leaf {
        chain_id: "akashnet-2".into(),
        programme: "gpu-incentives-pilot".into(),
        epoch: 12,
        provider: provider.clone(),
        pool,
        amount: BaseUnits(amount),
    }
}

/// A tree of four leaves over three providers, and the proof of the one with two pools.
fn proof_document() -> (ProviderAddr, String, Value) {
    let alice = ProviderAddr::from_account_bytes([1; 20]);
    let bob = ProviderAddr::from_account_bytes([2; 20]);
    let carol = ProviderAddr::from_account_bytes([3; 20]);
    let tree = MerkleTree::build(vec![
        leaf(&alice, PoolKind::Committed, 1_250_000_000),
        leaf(&alice, PoolKind::LiquidityMining, 987_654_321),
        leaf(&bob, PoolKind::LiquidityMining, 5),
        leaf(&carol, PoolKind::Rnd, u128::MAX),
    ])
    .unwrap();
    let proof = serde_json::to_value(tree.proof(&alice)).unwrap();
    (alice, tree.root_hex(), proof)
}

fn verify(dir: &tempfile::TempDir, name: &str, contents: &str) -> (i32, String, String) {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    run(binary().args(["verify", "--proof"]).arg(&path))
}

#[test]
fn a_sound_proof_is_accepted_and_a_changed_amount_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, root, mut doc) = proof_document();

    let (code, stdout, stderr) = verify(&dir, "proof.json", &doc.to_string());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!("proof ok: 2 leaf(s) of {alice} under root {root}\n")
    );

    // One digit of the second entry's amount changed: 987654321 → 987654322.
    assert_eq!(doc["leaves"][1]["amount"], "987654321");
    doc["leaves"][1]["amount"] = Value::from("987654322");
    let (code, stdout, stderr) = verify(&dir, "tampered.json", &doc.to_string());
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("tampered.json does not hold"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "leaves[1] ({alice} in liquidity_mining, amount 987654322): its fields hash to"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("but the proof states"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A root that is not the tree's: the path no longer leads there.
    let (_, _, mut doc) = proof_document();
    doc["root"] = Value::from("0".repeat(64));
    let (code, _, stderr) = verify(&dir, "rerooted.json", &doc.to_string());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not to the root 0000"), "{stderr}");
}

#[test]
fn unreadable_or_malformed_proof_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(binary()
        .args(["verify", "--proof"])
        .arg(dir.path().join("absent.json")));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("there is no proof file at"), "{stderr}");

    let (_, _, doc) = proof_document();
    let mut wrong_shape = doc.clone();
    wrong_shape["leaves"][0]["amount"] = Value::from(1_250_000_000u64);
    for (name, contents) in [
        ("garbage.json", "this is not JSON".to_string()),
        ("empty.json", String::new()),
        ("array.json", "[1, 2, 3]".to_string()),
        ("number-amount.json", wrong_shape.to_string()),
    ] {
        let (code, stdout, stderr) = verify(&dir, name, &contents);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains(&format!("{name} is not a proof file")),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("caused by"), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn verify_of_a_folder_without_reports_fails_and_of_no_folder_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(binary().arg("verify").arg(dir.path()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("holds no epoch-<K> folder"), "{stderr}");
    let (code, _, stderr) = run(binary().arg("verify").arg(dir.path().join("missing")));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("there is no report folder"), "{stderr}");
}
