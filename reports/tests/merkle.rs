//! The Merkle tree of vested amounts against its specification.
//!
//! `spec` below is a second implementation written from the README's "Merkle tree of vested
//! amounts" text alone, with plain strings, byte buffers and `serde_json::Value`, and none of
//! `reports::merkle`'s code: the property test holds the two to the same roots, the pinned
//! vectors hold both to fixed bytes, and the proof checks read the JSON as an auditor would.

use std::collections::BTreeMap;

use domain::{BaseUnits, ProviderAddr};
use proptest::prelude::*;
use reports::merkle::{
    leaves_from_vested, Leaf, MerkleError, MerkleTree, NodeHash, Proof, ProofError, Side,
};
use rewards::programme::PoolKind;
use serde_json::Value;

/// The specification, implemented again from its text.
mod spec {
    use serde_json::Value;
    use sha2::{Digest, Sha256};

    pub type Hash = [u8; 32];

    /// One leaf's fields as text and numbers, the way another language would hold them.
    #[derive(Debug, Clone)]
    pub struct Fields {
        pub chain_id: String,
        pub programme: String,
        pub epoch: u32,
        pub provider: String,
        pub pool: String,
        pub amount: u128,
    }

    fn length_prefixed(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    pub fn leaf_hash(f: &Fields) -> Hash {
        let mut input = b"akash-incentives/leaf/v1".to_vec();
        length_prefixed(&mut input, &f.chain_id);
        length_prefixed(&mut input, &f.programme);
        length_prefixed(&mut input, &format!("{}", f.epoch));
        length_prefixed(&mut input, &f.provider);
        length_prefixed(&mut input, &f.pool);
        length_prefixed(&mut input, &format!("{}", f.amount));
        Sha256::digest(&input).into()
    }

    pub fn node(left: &Hash, right: &Hash) -> Hash {
        let mut input = b"akash-incentives/node/v1".to_vec();
        input.extend_from_slice(left);
        input.extend_from_slice(right);
        Sha256::digest(&input).into()
    }

    pub fn root(fields: &[Fields]) -> Hash {
        let mut level: Vec<Hash> = fields.iter().map(leaf_hash).collect();
        if level.is_empty() {
            return Sha256::digest(b"akash-incentives/empty/v1").into();
        }
        level.sort();
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut i = 0;
            while i + 1 < level.len() {
                next.push(node(&level[i], &level[i + 1]));
                i += 2;
            }
            if i < level.len() {
                next.push(level[i]);
            }
            level = next;
        }
        level[0]
    }

    fn hash_of(value: &Value) -> Result<Hash, String> {
        let text = value.as_str().ok_or("a hash is not a string")?;
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("{text} is not 64 lower-case hex digits"));
        }
        let bytes = hex::decode(text).map_err(|e| e.to_string())?;
        Ok(bytes.try_into().expect("32 bytes"))
    }

    /// Checks a proof document: every leaf's fields hash to its `hash`, and its path leads to
    /// `root`. Returns the number of leaves checked.
    pub fn check_proof(doc: &Value) -> Result<usize, String> {
        let root = hash_of(&doc["root"])?;
        let leaves = doc["leaves"].as_array().ok_or("no leaves list")?;
        for (i, leaf) in leaves.iter().enumerate() {
            let text = |key: &str| {
                leaf[key]
                    .as_str()
                    .map(str::to_string)
                    .ok_or(key.to_string())
            };
            let fields = Fields {
                chain_id: text("chain_id")?,
                programme: text("programme")?,
                epoch: leaf["epoch"].as_u64().ok_or("epoch")? as u32,
                provider: text("provider")?,
                pool: text("pool")?,
                amount: text("amount")?.parse().map_err(|_| "amount")?,
            };
            let mut current = leaf_hash(&fields);
            if current != hash_of(&leaf["hash"])? {
                return Err(format!("leaf {i}: the fields do not hash to `hash`"));
            }
            for step in leaf["path"].as_array().ok_or("no path")? {
                let sibling = hash_of(&step["hash"])?;
                current = match step["side"].as_str() {
                    Some("left") => node(&sibling, &current),
                    Some("right") => node(&current, &sibling),
                    other => return Err(format!("leaf {i}: side {other:?}")),
                };
            }
            if current != root {
                return Err(format!("leaf {i}: the path does not lead to the root"));
            }
        }
        Ok(leaves.len())
    }
}

const POOLS: [PoolKind; 3] = [
    PoolKind::Committed,
    PoolKind::LiquidityMining,
    PoolKind::Rnd,
];
const CHAIN: &str = "akashnet-2";
const PROGRAMME: &str = "gpu-incentives-pilot";
/// A real mainnet address (the domain crate's test address).
const ALICE: &str = "akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg";
/// `ProviderAddr::from_account_bytes([2; 20])`, spelled out so other implementations can use it.
const BOB: &str = "akash1qgpqyqszqgpqyqszqgpqyqszqgpqyqszwv2uls";

fn addr(text: &str) -> ProviderAddr {
    ProviderAddr::parse(text).unwrap()
}

fn leaf(provider: &str, pool: PoolKind, amount: u128) -> Leaf {
    Leaf {
        chain_id: CHAIN.into(),
        programme: PROGRAMME.into(),
        epoch: 7,
        provider: addr(provider),
        pool,
        amount: BaseUnits(amount),
    }
}

fn fields(leaf: &Leaf) -> spec::Fields {
    spec::Fields {
        chain_id: leaf.chain_id.clone(),
        programme: leaf.programme.clone(),
        epoch: leaf.epoch,
        provider: leaf.provider.to_string(),
        pool: serde_json::to_value(leaf.pool)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string(),
        amount: leaf.amount.get(),
    }
}

fn spec_root_hex(leaves: &[Leaf]) -> String {
    hex::encode(spec::root(&leaves.iter().map(fields).collect::<Vec<_>>()))
}

fn three_leaves() -> Vec<Leaf> {
    vec![
        leaf(ALICE, PoolKind::Committed, 1_500_000),
        leaf(BOB, PoolKind::LiquidityMining, u128::MAX),
        leaf(ALICE, PoolKind::Rnd, 42),
    ]
}

/// Five leaves over three providers: levels of 5, 3, 2 and 1 nodes, so carries happen twice.
fn five_leaves() -> Vec<Leaf> {
    let carol = ProviderAddr::from_account_bytes([3; 20]).to_string();
    let mut leaves = three_leaves();
    leaves.push(leaf(
        BOB,
        PoolKind::Committed,
        10_000_000_000_000_000_000_000,
    ));
    leaves.push(leaf(&carol, PoolKind::Rnd, 1));
    leaves
}

fn json(proof: &Proof) -> Value {
    serde_json::to_value(proof).unwrap()
}

fn from_json(doc: Value) -> Proof {
    serde_json::from_value(doc).unwrap()
}

#[test]
fn the_pinned_addresses_are_what_they_claim() {
    assert_eq!(ProviderAddr::from_account_bytes([2; 20]).as_str(), BOB);
}

#[test]
fn pinned_vectors() {
    const EMPTY: &str = "dad9595af875b0eb44c02fbef82b1191567823f3a02652ee04e59d4c252ebe2e";
    const ONE_LEAF: &str = "d3dc8dcd89a333ad4baeef40b25cf747c20a63ca81a0c7790996878a59175d80";
    const THREE_LEAVES: &str = "181463eb3b742d25f97ca4a3c0db61c2acbd851926df5b6d3d092c27b39d87ce";

    let empty = MerkleTree::build(vec![]).unwrap();
    assert_eq!(spec_root_hex(&[]), EMPTY);
    assert_eq!(empty.root_hex(), EMPTY);
    assert_eq!(empty.len(), 0);

    let one = vec![leaf(ALICE, PoolKind::Committed, 1_500_000)];
    assert_eq!(spec_root_hex(&one), ONE_LEAF);
    let tree = MerkleTree::build(one.clone()).unwrap();
    assert_eq!(tree.root_hex(), ONE_LEAF);
    assert_eq!(
        one[0].hash().to_string(),
        ONE_LEAF,
        "one leaf's root is its hash"
    );
    assert!(tree.proof(&addr(ALICE)).leaves[0].path.is_empty());

    let three = three_leaves();
    let leaf_hashes: Vec<String> = three.iter().map(|l| l.hash().to_string()).collect();
    assert_eq!(
        leaf_hashes,
        [
            ONE_LEAF,
            "a6de55a95b8b95241eef91a6b7204aaa86ebe7a6cf24c08a10641843e7aa9b93",
            "51b2e3a805d18b73a0c2b2b0fb6346430b8018aedd78a01b9f80fa0c13a73321",
        ]
    );
    assert_eq!(spec_root_hex(&three), THREE_LEAVES);
    let tree = MerkleTree::build(three.clone()).unwrap();
    assert_eq!(tree.root_hex(), THREE_LEAVES);
    assert_eq!(tree.len(), 3);
    // The odd third leaf is carried, never paired with itself: its proof is the one pair above.
    let mut sorted: Vec<spec::Hash> = three.iter().map(|l| spec::leaf_hash(&fields(l))).collect();
    sorted.sort();
    let carried = three
        .iter()
        .find(|l| l.hash().0 == sorted[2])
        .expect("a third leaf");
    let proof = tree.proof(&carried.provider);
    let entry = proof
        .leaves
        .iter()
        .find(|e| e.pool == carried.pool)
        .unwrap();
    assert_eq!(entry.path.len(), 1);
    assert_eq!(entry.path[0].side, Side::Left);
    assert_eq!(entry.path[0].hash.0, spec::node(&sorted[0], &sorted[1]));
}

#[test]
fn a_proof_names_every_pool_of_its_provider_and_nothing_else() {
    let tree = MerkleTree::build(five_leaves()).unwrap();
    let alice = tree.proof(&addr(ALICE));
    let pools: Vec<PoolKind> = alice.leaves.iter().map(|l| l.pool).collect();
    assert_eq!(pools, [PoolKind::Committed, PoolKind::Rnd]);
    let stranger = ProviderAddr::from_account_bytes([9; 20]);
    let none = tree.proof(&stranger);
    assert!(none.leaves.is_empty());
    assert_eq!(none.root, tree.root());
    assert_eq!(none.verify(), Ok(()));

    // The JSON shape: epoch a number, amount a string (beyond 2^64 here), sides as words.
    let doc = json(&tree.proof(&addr(BOB)));
    assert_eq!(doc["root"], Value::String(tree.root_hex()));
    let first = &doc["leaves"][0];
    assert_eq!(first["epoch"], Value::from(7));
    assert_eq!(first["pool"], "committed");
    assert_eq!(first["amount"], "10000000000000000000000");
    assert_eq!(doc["leaves"][1]["amount"], u128::MAX.to_string());
    let side = &first["path"][0]["side"];
    assert!(side == "left" || side == "right", "{side}");
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "chain_id",
        "programme",
        "epoch",
        "provider",
        "pool",
        "amount",
        "hash",
        "path",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

#[test]
fn every_proof_verifies_here_and_under_the_second_implementation() {
    let leaves = five_leaves();
    let tree = MerkleTree::build(leaves.clone()).unwrap();
    for leaf in &leaves {
        let proof = tree.proof(&leaf.provider);
        assert_eq!(proof.verify(), Ok(()), "{}", leaf.provider);
        let text = serde_json::to_string(&proof).unwrap();
        let again: Proof = serde_json::from_str(&text).unwrap();
        assert_eq!(again, proof);
        let count = spec::check_proof(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(count, proof.leaves.len());
    }
}

/// Alice's proof in the five-leaf tree, whose second entry (rnd) has a path of at least one step.
fn alice_proof() -> (MerkleTree, Value) {
    let tree = MerkleTree::build(five_leaves()).unwrap();
    let doc = json(&tree.proof(&addr(ALICE)));
    assert_eq!(doc["leaves"].as_array().unwrap().len(), 2);
    assert!(!doc["leaves"][1]["path"].as_array().unwrap().is_empty());
    (tree, doc)
}

#[test]
fn a_changed_amount_digit_breaks_the_leaf_hash() {
    let (_, mut doc) = alice_proof();
    let amount = doc["leaves"][1]["amount"].as_str().unwrap().to_string();
    assert_eq!(amount, "42");
    doc["leaves"][1]["amount"] = Value::from("43");
    let error = from_json(doc.clone()).verify().unwrap_err();
    assert!(
        matches!(&error, ProofError::LeafHash { index: 1, pool: PoolKind::Rnd, amount, .. } if amount.get() == 43),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.starts_with("leaves[1] ("), "{message}");
    assert!(
        message.contains(ALICE) && message.contains("rnd") && message.contains("43"),
        "{message}"
    );
    assert!(spec::check_proof(&doc).is_err());
}

#[test]
fn a_flipped_side_a_swapped_sibling_or_another_root_breaks_the_path() {
    let (tree, doc) = alice_proof();

    let mut flipped = doc.clone();
    let side = &mut flipped["leaves"][1]["path"][0]["side"];
    *side = Value::from(if side == "left" { "right" } else { "left" });
    let error = from_json(flipped.clone()).verify().unwrap_err();
    assert!(
        matches!(error, ProofError::Root { index: 1, .. }),
        "{error:?}"
    );
    assert!(spec::check_proof(&flipped).is_err());

    // The sibling replaced by another leaf of the tree (neither the true sibling nor itself).
    let mut swapped = doc.clone();
    let sibling = doc["leaves"][1]["path"][0]["hash"].as_str().unwrap();
    let own = doc["leaves"][1]["hash"].as_str().unwrap();
    let other = tree
        .leaves()
        .iter()
        .map(Leaf::hash)
        .find(|h| h.to_string() != sibling && h.to_string() != own)
        .unwrap();
    swapped["leaves"][1]["path"][0]["hash"] = Value::from(other.to_string());
    let error = from_json(swapped).verify().unwrap_err();
    assert!(
        matches!(error, ProofError::Root { index: 1, .. }),
        "{error:?}"
    );

    let mut rerooted = doc.clone();
    rerooted["root"] = Value::from(NodeHash::empty_root().to_string());
    let error = from_json(rerooted).verify().unwrap_err();
    assert!(
        matches!(error, ProofError::Root { index: 0, root, .. } if root == NodeHash::empty_root()),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("not to the root"), "{message}");
    assert!(
        message.contains(&NodeHash::empty_root().to_string()),
        "{message}"
    );
}

#[test]
fn proofs_that_mix_or_repeat_entries_are_refused() {
    let tree = MerkleTree::build(five_leaves()).unwrap();
    let alice = tree.proof(&addr(ALICE));
    let bob = tree.proof(&addr(BOB));

    let mut mixed = alice.clone();
    mixed.leaves.push(bob.leaves[0].clone());
    assert!(matches!(
        mixed.verify(),
        Err(ProofError::MixedProviders { index: 2, .. })
    ));

    let mut repeated = alice.clone();
    repeated.leaves.push(alice.leaves[0].clone());
    assert!(matches!(
        repeated.verify(),
        Err(ProofError::DuplicatePool {
            index: 2,
            pool: PoolKind::Committed,
            ..
        })
    ));
}

#[test]
fn malformed_proof_documents_do_not_deserialise() {
    let (_, doc) = alice_proof();
    let mut bad_documents = Vec::new();
    for (pointer, value) in [
        ("/root", Value::from("ABC")),
        ("/leaves/0/amount", Value::from(42)),
        ("/leaves/0/amount", Value::from("042")),
        ("/leaves/0/amount", Value::from("4.2")),
        ("/leaves/0/epoch", Value::from("7")),
        ("/leaves/0/pool", Value::from("bonus")),
        ("/leaves/0/provider", Value::from("akash1nope")),
        ("/leaves/1/path/0/side", Value::from("up")),
        (
            "/leaves/1/path/0/hash",
            Value::from(format!("0x{}", "0".repeat(64))),
        ),
    ] {
        let mut broken = doc.clone();
        *broken.pointer_mut(pointer).unwrap() = value;
        bad_documents.push((pointer, broken));
    }
    let mut unknown = doc.clone();
    unknown["leaves"][0]["bonus"] = Value::from(1);
    bad_documents.push(("unknown field", unknown));
    for (what, broken) in bad_documents {
        assert!(serde_json::from_value::<Proof>(broken).is_err(), "{what}");
    }
}

#[test]
fn zero_amounts_duplicates_and_mixed_epochs_are_refused() {
    let mut zero = three_leaves();
    zero.push(leaf(BOB, PoolKind::Rnd, 0));
    let error = MerkleTree::build(zero).unwrap_err();
    assert_eq!(
        error,
        MerkleError::ZeroAmount {
            provider: addr(BOB),
            pool: PoolKind::Rnd
        }
    );
    assert!(error.to_string().contains("zero amount in rnd"), "{error}");

    let mut duplicate = three_leaves();
    duplicate.push(leaf(ALICE, PoolKind::Committed, 7));
    let error = MerkleTree::build(duplicate).unwrap_err();
    assert_eq!(
        error,
        MerkleError::Duplicate {
            provider: addr(ALICE),
            pool: PoolKind::Committed
        }
    );
    assert!(error.to_string().contains(ALICE), "{error}");

    let mut mixed = three_leaves();
    mixed[2].epoch = 8;
    let error = MerkleTree::build(mixed).unwrap_err();
    assert!(
        matches!(
            &error,
            MerkleError::MixedContext {
                pool: PoolKind::Rnd,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("epoch 8") && message.contains("epoch 7"),
        "{message}"
    );
}

#[test]
fn leaves_come_from_the_vested_map_without_its_zeros() {
    let mut vested = BTreeMap::new();
    vested.insert((addr(ALICE), PoolKind::Committed), BaseUnits(1_500_000));
    vested.insert((addr(ALICE), PoolKind::LiquidityMining), BaseUnits::ZERO);
    vested.insert((addr(BOB), PoolKind::LiquidityMining), BaseUnits(u128::MAX));
    vested.insert((addr(ALICE), PoolKind::Rnd), BaseUnits(42));
    let leaves = leaves_from_vested(CHAIN, PROGRAMME, 7, &vested);
    assert_eq!(leaves.len(), 3);
    let tree = MerkleTree::build(leaves).unwrap();
    assert_eq!(
        tree.root(),
        MerkleTree::build(three_leaves()).unwrap().root()
    );
}

fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![1..=u128::MAX, 1u128..1_000, Just(u128::MAX), Just(1u128)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn both_implementations_agree_on_every_root(
        chain_id in "[ -~]{0,16}",
        programme in "[ -~]{0,24}",
        epoch in any::<u32>(),
        providers in prop::collection::vec(any::<[u8; 20]>(), 1..10),
        amounts in prop::collection::btree_map((0usize..10, 0usize..3), amount(), 0..50),
    ) {
        let mut vested = BTreeMap::new();
        for ((who, pool), amount) in amounts {
            let provider = ProviderAddr::from_account_bytes(providers[who % providers.len()]);
            vested.insert((provider, POOLS[pool]), BaseUnits(amount));
        }
        let leaves = leaves_from_vested(&chain_id, &programme, epoch, &vested);
        prop_assert_eq!(leaves.len(), vested.len());
        let tree = MerkleTree::build(leaves.clone()).unwrap();
        prop_assert_eq!(tree.len(), leaves.len());
        prop_assert_eq!(tree.root_hex(), spec_root_hex(&leaves));
        // Order of the input does not matter.
        let mut reversed = leaves.clone();
        reversed.reverse();
        prop_assert_eq!(MerkleTree::build(reversed).unwrap().root(), tree.root());
        for provider in &providers {
            let proof = tree.proof(&ProviderAddr::from_account_bytes(*provider));
            prop_assert_eq!(proof.verify(), Ok(()));
            prop_assert_eq!(spec::check_proof(&json(&proof)), Ok(proof.leaves.len()));
        }
    }
}
