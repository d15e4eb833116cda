//! The Merkle tree of cumulative vested amounts: one root per epoch that commits to what every
//! provider has vested in every pool, and a proof per provider that anyone can check offline.
//!
//! An epoch's audit bundle publishes the root; a provider (or anyone) holding a [`Proof`] can
//! show that its amounts are the ones the root commits to without trusting the operator or
//! downloading the whole bundle. The construction is written down here exactly, so that it can
//! be re-implemented in any language and a root recomputed without this code.
//!
//! # Specification (version 1)
//!
//! **Leaves.** One leaf per (provider, pool) whose amount is not zero, where the amount is the
//! provider's *cumulative* vested amount in that pool, in base units, at the end of the epoch.
//! Pools are named `committed`, `liquidity_mining` and `rnd`. A provider with nothing vested in a
//! pool has no leaf for it; no two leaves share a provider and a pool; every leaf of one tree has
//! the same chain id, programme and epoch.
//!
//! **Field encoding.** `enc(x)` is the UTF-8 text of `x` preceded by its length in bytes as a
//! 4-byte big-endian unsigned integer. Numbers (the epoch, the amount) are written as decimal
//! text without leading zeros (`0` itself never occurs as an amount).
//!
//! **Leaf hash.**
//! `leaf = SHA-256("akash-incentives/leaf/v1" ‖ enc(chain_id) ‖ enc(programme) ‖ enc(epoch) ‖
//! enc(provider) ‖ enc(pool) ‖ enc(amount))`; the tag is raw ASCII bytes, not length-prefixed.
//!
//! **Tree.** The leaf hashes are sorted by their bytes (ascending, unsigned) and form the first
//! level. Each next level pairs the nodes of the one below from the start:
//! `node = SHA-256("akash-incentives/node/v1" ‖ left ‖ right)` over the raw 32-byte hashes. When a
//! level has an odd number of nodes its last node is carried up to the next level unchanged
//! (never paired with itself). The root is the single node of the last level, so one leaf's root
//! is that leaf's hash; the root of no leaves is `SHA-256("akash-incentives/empty/v1")`.
//!
//! **Root text.** 64 lower-case hexadecimal digits, no `0x`.
//!
//! **Proof JSON.**
//! `{"root": hex, "leaves": [{"chain_id", "programme", "epoch", "provider", "pool", "amount",
//! "hash", "path": [{"side": "left"|"right", "hash": hex}]}]}`: one entry per pool in which the
//! provider has a leaf (an empty list when it has none). `epoch` is a JSON number; `amount` is a
//! JSON string of decimal digits, because amounts can exceed 2^64 and many JSON readers lose such
//! integers. The path runs from the leaf up to the root; `side` says where the sibling goes:
//! `left` means `node = H(tag ‖ sibling ‖ current)`, `right` means `node = H(tag ‖ current ‖
//! sibling)`. A level at which the current node was carried up contributes no element.
//!
//! # Checking a proof
//!
//! For each entry: recompute the leaf hash from its fields and compare it with `hash`; then
//! fold the path over it and compare the result with `root`. [`Proof::verify`] does exactly
//! that and names the first entry that fails.
//!
//! The module is pure: it hashes and arranges values, and leaves reading and writing files to
//! its callers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use domain::{BaseUnits, ProviderAddr};
use rewards::programme::PoolKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// Prefix of every leaf hash's input, so a leaf can never be read as an inner node.
pub const LEAF_TAG: &[u8] = b"akash-incentives/leaf/v1";
/// Prefix of every inner node's input.
pub const NODE_TAG: &[u8] = b"akash-incentives/node/v1";
/// The whole input of the empty tree's root, so "no leaves" has a root distinct from any tree's.
pub const EMPTY_TAG: &[u8] = b"akash-incentives/empty/v1";

/// The name a pool has in the tree: its configuration and report name (`committed`,
/// `liquidity_mining`, `rnd`). Spelled out here because it is part of the hashed format: a rename
/// elsewhere must not silently change every root.
pub fn pool_name(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Committed => "committed",
        PoolKind::LiquidityMining => "liquidity_mining",
        PoolKind::Rnd => "rnd",
    }
}

/// A SHA-256 hash in the tree (a leaf, an inner node or the root).
///
/// Its text, and its JSON form, is 64 lower-case hexadecimal digits; anything else (upper case,
/// a `0x` prefix, another length) is refused when read, so one hash has exactly one spelling.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeHash(pub [u8; 32]);

impl NodeHash {
    /// The raw 32 bytes, as they enter the parent node's hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The root of the tree of no leaves: `SHA-256("akash-incentives/empty/v1")`.
    pub fn empty_root() -> Self {
        Self(Sha256::digest(EMPTY_TAG).into())
    }

    /// The parent of `left` and `right`: `SHA-256(NODE_TAG ‖ left ‖ right)`.
    pub fn parent(left: &NodeHash, right: &NodeHash) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(NODE_TAG);
        hasher.update(left.0);
        hasher.update(right.0);
        Self(hasher.finalize().into())
    }
}

impl fmt::Display for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeHash({self})")
    }
}

/// Why a text is not a hash of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not a hash: expected 64 lower-case hexadecimal digits without 0x")]
pub struct HashParseError {
    text: String,
}

impl FromStr for NodeHash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || HashParseError {
            text: text.chars().take(80).collect(),
        };
        let canonical = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !canonical {
            return Err(refuse());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| refuse())?;
        Ok(Self(bytes))
    }
}

impl Serialize for NodeHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NodeHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One provider's cumulative vested amount in one pool at the end of one epoch: what a leaf of
/// the tree commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The chain the programme pays on (`akashnet-2`), so a root cannot be replayed on another.
    pub chain_id: String,
    /// The programme's name, so two programmes on one chain never share a root.
    pub programme: String,
    /// The epoch at whose end the amount is taken.
    pub epoch: u32,
    /// The provider.
    pub provider: ProviderAddr,
    /// The pool the amount vested from.
    pub pool: PoolKind,
    /// Cumulative vested amount in base units (never zero in a tree).
    pub amount: BaseUnits,
}

impl Leaf {
    /// The leaf's hash: `SHA-256(LEAF_TAG ‖ enc(chain_id) ‖ enc(programme) ‖ enc(epoch) ‖
    /// enc(provider) ‖ enc(pool) ‖ enc(amount))`, with `enc` as the module describes.
    pub fn hash(&self) -> NodeHash {
        let mut hasher = Sha256::new();
        hasher.update(LEAF_TAG);
        for field in [
            self.chain_id.as_str(),
            self.programme.as_str(),
            &self.epoch.to_string(),
            self.provider.as_str(),
            pool_name(self.pool),
            &self.amount.to_string(),
        ] {
            // A field of 4 GiB cannot reach here: it would not fit a proof file or a config.
            let length = u32::try_from(field.len()).expect("a leaf field is shorter than 4 GiB");
            hasher.update(length.to_be_bytes());
            hasher.update(field.as_bytes());
        }
        NodeHash(hasher.finalize().into())
    }

    fn context(&self) -> (&str, &str, u32) {
        (&self.chain_id, &self.programme, self.epoch)
    }

    fn context_text(&self) -> String {
        format!(
            "chain {:?}, programme {:?}, epoch {}",
            self.chain_id, self.programme, self.epoch
        )
    }
}

/// Cumulative vested amounts keyed by (provider, pool): what the tree's leaves commit to.
pub type CumulativeVested = BTreeMap<(ProviderAddr, PoolKind), BaseUnits>;

/// The leaves of one epoch from cumulative vested amounts keyed by (provider, pool): one leaf per
/// non-zero amount, zero amounts left out (the specification has no leaf for nothing vested).
pub fn leaves_from_vested(
    chain_id: &str,
    programme: &str,
    epoch: u32,
    vested: &CumulativeVested,
) -> Vec<Leaf> {
    vested
        .iter()
        .filter(|(_, amount)| **amount != BaseUnits::ZERO)
        .map(|((provider, pool), amount)| Leaf {
            chain_id: chain_id.to_string(),
            programme: programme.to_string(),
            epoch,
            provider: provider.clone(),
            pool: *pool,
            amount: *amount,
        })
        .collect()
}

/// Why a set of leaves cannot make a tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MerkleError {
    /// A zero amount: the specification has no leaf for nothing vested, so a zero would give a
    /// root nobody re-implementing it could reproduce.
    #[error(
        "{provider} has a zero amount in {}: the tree holds only non-zero amounts",
        pool_name(*pool)
    )]
    ZeroAmount {
        /// The provider.
        provider: ProviderAddr,
        /// The pool.
        pool: PoolKind,
    },
    /// Two leaves for one provider and pool: which amount the root commits to would be unclear.
    #[error(
        "{provider} has two leaves in {}: the tree holds one amount per provider and pool",
        pool_name(*pool)
    )]
    Duplicate {
        /// The provider.
        provider: ProviderAddr,
        /// The pool.
        pool: PoolKind,
    },
    /// Leaves of different epochs, programmes or chains: one root describes one epoch.
    #[error(
        "the leaf of {provider} in {} is for {found}, but the first leaf is for {expected}: \
         one tree describes one epoch",
        pool_name(*pool)
    )]
    MixedContext {
        /// The provider of the leaf that differs.
        provider: ProviderAddr,
        /// Its pool.
        pool: PoolKind,
        /// The first leaf's chain, programme and epoch, as text.
        expected: String,
        /// The differing leaf's chain, programme and epoch, as text.
        found: String,
    },
}

/// One epoch's tree: its leaves in hash order and every level above them, kept so proofs are
/// read off rather than recomputed.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// Leaves sorted by hash, with their hashes (`levels[0]` in the same order).
    leaves: Vec<Leaf>,
    /// `levels[0]` are the sorted leaf hashes, the last level is the root (absent when empty).
    levels: Vec<Vec<NodeHash>>,
}

impl MerkleTree {
    /// Builds the tree of `leaves` (in any order) as the module specifies.
    ///
    /// # Errors
    /// A zero amount, two leaves with the same provider and pool, or leaves of different chain
    /// ids, programmes or epochs ([`MerkleError`]); the first one met is reported.
    pub fn build(leaves: Vec<Leaf>) -> Result<Self, MerkleError> {
        let mut seen = BTreeSet::new();
        for leaf in &leaves {
            if leaf.amount == BaseUnits::ZERO {
                return Err(MerkleError::ZeroAmount {
                    provider: leaf.provider.clone(),
                    pool: leaf.pool,
                });
            }
            if !seen.insert((&leaf.provider, leaf.pool)) {
                return Err(MerkleError::Duplicate {
                    provider: leaf.provider.clone(),
                    pool: leaf.pool,
                });
            }
            let first = &leaves[0];
            if leaf.context() != first.context() {
                return Err(MerkleError::MixedContext {
                    provider: leaf.provider.clone(),
                    pool: leaf.pool,
                    expected: first.context_text(),
                    found: leaf.context_text(),
                });
            }
        }
        let mut hashed: Vec<(NodeHash, Leaf)> = leaves.into_iter().map(|l| (l.hash(), l)).collect();
        hashed.sort_by_key(|(hash, _)| *hash);
        let (first_level, leaves): (Vec<NodeHash>, Vec<Leaf>) = hashed.into_iter().unzip();
        let mut levels = vec![first_level];
        while let Some(below) = levels.last().filter(|level| level.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => NodeHash::parent(left, right),
                    [carried] => *carried,
                    _ => unreachable!("chunks(2) yields one or two nodes"),
                })
                .collect();
            levels.push(above);
        }
        Ok(Self { leaves, levels })
    }

    /// The root: the last level's node, or [`NodeHash::empty_root`] without leaves.
    pub fn root(&self) -> NodeHash {
        self.levels
            .last()
            .and_then(|level| level.first())
            .copied()
            .unwrap_or_else(NodeHash::empty_root)
    }

    /// The root as published: 64 lower-case hexadecimal digits.
    pub fn root_hex(&self) -> String {
        self.root().to_string()
    }

    /// How many leaves the tree has.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether the tree has no leaves (its root is then [`NodeHash::empty_root`]).
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The leaves in the tree's order (by hash).
    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// The proof of every leaf of `provider`, in pool order (`committed`, `liquidity_mining`,
    /// `rnd`); an empty list of leaves when the provider has none.
    pub fn proof(&self, provider: &ProviderAddr) -> Proof {
        let mut leaves: Vec<LeafProof> = self
            .leaves
            .iter()
            .enumerate()
            .filter(|(_, leaf)| &leaf.provider == provider)
            .map(|(index, leaf)| LeafProof::new(leaf, self.levels[0][index], self.path(index)))
            .collect();
        leaves.sort_by_key(|leaf| leaf.pool);
        Proof {
            root: self.root(),
            leaves,
        }
    }

    /// The siblings from leaf `index` up to the root.
    fn path(&self, mut index: usize) -> Vec<PathStep> {
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = if index % 2 == 1 {
                Some((Side::Left, level[index - 1]))
            } else {
                level.get(index + 1).map(|hash| (Side::Right, *hash))
            };
            if let Some((side, hash)) = sibling {
                path.push(PathStep { side, hash });
            }
            index /= 2;
        }
        path
    }
}

/// Where a sibling goes when hashing up one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The sibling is the left input: `node = H(tag ‖ sibling ‖ current)`.
    Left,
    /// The sibling is the right input: `node = H(tag ‖ current ‖ sibling)`.
    Right,
}

/// One level of a proof's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathStep {
    /// Which side the sibling is on.
    pub side: Side,
    /// The sibling's hash.
    pub hash: NodeHash,
}

impl PathStep {
    /// The node one level up from `current`.
    pub fn apply(&self, current: &NodeHash) -> NodeHash {
        match self.side {
            Side::Left => NodeHash::parent(&self.hash, current),
            Side::Right => NodeHash::parent(current, &self.hash),
        }
    }
}

/// One leaf of a [`Proof`]: the leaf's fields, its hash as the tree holds it, and its path.
///
/// The fields are repeated rather than only hashed so a reader sees what is being proven and the
/// hash can be recomputed from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafProof {
    /// As [`Leaf::chain_id`].
    pub chain_id: String,
    /// As [`Leaf::programme`].
    pub programme: String,
    /// As [`Leaf::epoch`].
    pub epoch: u32,
    /// As [`Leaf::provider`]; a text that is not an `akash1…` address is refused when read.
    pub provider: ProviderAddr,
    /// As [`Leaf::pool`].
    pub pool: PoolKind,
    /// As [`Leaf::amount`]; in JSON a string of decimal digits without leading zeros.
    #[serde(with = "amount_text")]
    pub amount: BaseUnits,
    /// The leaf hash the tree holds.
    pub hash: NodeHash,
    /// Siblings from the leaf up to the root.
    pub path: Vec<PathStep>,
}

impl LeafProof {
    fn new(leaf: &Leaf, hash: NodeHash, path: Vec<PathStep>) -> Self {
        Self {
            chain_id: leaf.chain_id.clone(),
            programme: leaf.programme.clone(),
            epoch: leaf.epoch,
            provider: leaf.provider.clone(),
            pool: leaf.pool,
            amount: leaf.amount,
            hash,
            path,
        }
    }

    /// The leaf this entry claims.
    pub fn leaf(&self) -> Leaf {
        Leaf {
            chain_id: self.chain_id.clone(),
            programme: self.programme.clone(),
            epoch: self.epoch,
            provider: self.provider.clone(),
            pool: self.pool,
            amount: self.amount,
        }
    }

    /// The node the path leads to from the stated hash.
    pub fn walk(&self) -> NodeHash {
        self.path
            .iter()
            .fold(self.hash, |current, step| step.apply(&current))
    }
}

/// A provider's leaves of one epoch's tree with what is needed to check them against the root:
/// the file a provider or an auditor checks with `akash-incentives verify --proof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// The tree's root, as published.
    pub root: NodeHash,
    /// One entry per pool in which the provider has a leaf.
    pub leaves: Vec<LeafProof>,
}

/// Why a proof does not hold. Each names the entry (`leaves[i]`, counted from 0) that fails.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The entry's fields do not hash to its stated hash: a field (often the amount) was changed.
    #[error(
        "leaves[{index}] ({provider} in {}, amount {amount}): its fields hash to {computed}, \
         but the proof states {stated}",
        pool_name(*pool)
    )]
    LeafHash {
        /// Position in the proof's `leaves`.
        index: usize,
        /// The entry's provider.
        provider: ProviderAddr,
        /// The entry's pool.
        pool: PoolKind,
        /// The entry's amount.
        amount: BaseUnits,
        /// The hash the proof states.
        stated: NodeHash,
        /// The hash of the entry's fields.
        computed: NodeHash,
    },
    /// The entry's path does not lead to the root: a sibling, a side or the root was changed.
    #[error(
        "leaves[{index}] ({provider} in {}, amount {amount}): its path leads to {computed}, \
         not to the root {root}",
        pool_name(*pool)
    )]
    Root {
        /// Position in the proof's `leaves`.
        index: usize,
        /// The entry's provider.
        provider: ProviderAddr,
        /// The entry's pool.
        pool: PoolKind,
        /// The entry's amount.
        amount: BaseUnits,
        /// Where the path leads.
        computed: NodeHash,
        /// The proof's root.
        root: NodeHash,
    },
    /// An entry of another provider: a proof speaks for one provider.
    #[error("leaves[{index}] is of {found}, but leaves[0] is of {expected}: a proof covers one provider")]
    MixedProviders {
        /// Position in the proof's `leaves`.
        index: usize,
        /// The first entry's provider.
        expected: ProviderAddr,
        /// This entry's provider.
        found: ProviderAddr,
    },
    /// A pool twice: the tree holds one leaf per provider and pool.
    #[error("leaves[{index}] repeats the pool {} of {provider}", pool_name(*pool))]
    DuplicatePool {
        /// Position in the proof's `leaves`.
        index: usize,
        /// The provider.
        provider: ProviderAddr,
        /// The repeated pool.
        pool: PoolKind,
    },
    /// A zero amount: the tree has no such leaves.
    #[error("leaves[{index}] ({provider} in {}) has a zero amount, which no tree holds", pool_name(*pool))]
    ZeroAmount {
        /// Position in the proof's `leaves`.
        index: usize,
        /// The provider.
        provider: ProviderAddr,
        /// The pool.
        pool: PoolKind,
    },
}

impl Proof {
    /// The provider the proof speaks for, or `None` when it has no leaves.
    pub fn provider(&self) -> Option<&ProviderAddr> {
        self.leaves.first().map(|leaf| &leaf.provider)
    }

    /// Checks every entry in order: that it is of the first entry's provider, in a pool not seen
    /// before, with a non-zero amount; that its fields hash to its stated hash; and that its
    /// path leads from that hash to the root. A proof with no leaves holds (and proves nothing).
    ///
    /// # Errors
    /// The first entry that fails, and how ([`ProofError`]).
    pub fn verify(&self) -> Result<(), ProofError> {
        let mut pools = BTreeSet::new();
        for (index, entry) in self.leaves.iter().enumerate() {
            let first = &self.leaves[0].provider;
            if &entry.provider != first {
                return Err(ProofError::MixedProviders {
                    index,
                    expected: first.clone(),
                    found: entry.provider.clone(),
                });
            }
            if !pools.insert(entry.pool) {
                return Err(ProofError::DuplicatePool {
                    index,
                    provider: entry.provider.clone(),
                    pool: entry.pool,
                });
            }
            if entry.amount == BaseUnits::ZERO {
                return Err(ProofError::ZeroAmount {
                    index,
                    provider: entry.provider.clone(),
                    pool: entry.pool,
                });
            }
            let computed = entry.leaf().hash();
            if computed != entry.hash {
                return Err(ProofError::LeafHash {
                    index,
                    provider: entry.provider.clone(),
                    pool: entry.pool,
                    amount: entry.amount,
                    stated: entry.hash,
                    computed,
                });
            }
            let reached = entry.walk();
            if reached != self.root {
                return Err(ProofError::Root {
                    index,
                    provider: entry.provider.clone(),
                    pool: entry.pool,
                    amount: entry.amount,
                    computed: reached,
                    root: self.root,
                });
            }
        }
        Ok(())
    }
}

/// The JSON form of an amount in a proof: a string of decimal digits with no sign, no spaces,
/// no grouping and no leading zeros, because it is exactly the text that was hashed.
mod amount_text {
    use domain::BaseUnits;
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(amount: &BaseUnits, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(amount)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BaseUnits, D::Error> {
        let text = String::deserialize(deserializer)?;
        let amount: BaseUnits = text.parse().map_err(de::Error::custom)?;
        if amount.to_string() != text {
            return Err(de::Error::custom(format!(
                "{text:?} has leading zeros; amounts are written without them"
            )));
        }
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_are_the_configuration_names() {
        for pool in [
            PoolKind::Committed,
            PoolKind::LiquidityMining,
            PoolKind::Rnd,
        ] {
            assert_eq!(
                serde_json::to_string(&pool).unwrap(),
                format!("\"{}\"", pool_name(pool))
            );
        }
    }

    #[test]
    fn hashes_have_one_spelling() {
        let root = NodeHash::empty_root();
        assert_eq!(root.to_string().parse::<NodeHash>().unwrap(), root);
        for bad in [
            root.to_string().to_uppercase(),
            format!("0x{root}"),
            root.to_string()[..62].to_string(),
            format!("{root}00"),
            "g".repeat(64),
        ] {
            assert!(bad.parse::<NodeHash>().is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_in_proofs_are_canonical_digit_strings() {
        #[derive(Deserialize)]
        struct A {
            #[serde(with = "amount_text")]
            #[allow(dead_code)]
            a: BaseUnits,
        }
        assert!(
            serde_json::from_str::<A>(r#"{"a":"340282366920938463463374607431768211455"}"#).is_ok()
        );
        for bad in [
            r#"{"a":"007"}"#,
            r#"{"a":7}"#,
            r#"{"a":"1_000"}"#,
            r#"{"a":" 7"}"#,
            r#"{"a":"-1"}"#,
        ] {
            assert!(serde_json::from_str::<A>(bad).is_err(), "{bad}");
        }
    }
}
