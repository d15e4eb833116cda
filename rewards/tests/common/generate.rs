//! Deterministic random programmes and inputs, for the conservation property and the benchmark.
//!
//! A small linear congruential generator keeps this free of extra dependencies and makes every
//! programme reproducible from its seed.

use domain::{BaseUnits, ClassName, GpuModel, UnixMs};
use rewards::calendar::EpochCalendar;
use rewards::committed::max_total;
use rewards::money::{Denomination, Money};
use rewards::programme::{
    ClassShare, CommittedContract, CommittedPool, GpuClass, Grant, LiquidityMiningPool,
    ProRataRules, Programme, RndPool, Undistributed, NEXT_GENERATION_MODELS,
};
use rewards::settle::{EpochInputs, Measurement};
use rewards::uptime::Uptime;
use rewards::vesting::Vesting;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Knuth's MMIX LCG; the high bits are used.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 16
    }

    /// Uniform in `0..n` (`n > 0`; modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// How big a programme to generate.
#[derive(Clone, Copy)]
pub struct Shape {
    pub epochs: u32,
    pub epoch_length_ms: u64,
    pub providers: usize,
    pub total_gpus: u64,
    pub contracts: usize,
    pub grants: usize,
    /// Whether the R&D pool has a pro-rata part besides its grants.
    pub rnd_pro_rata: bool,
    /// How often (per mille of provider-epochs) a provider is not registered in an epoch. Drawn
    /// from a stream of its own, so 0 gives exactly the programmes generated before.
    pub unregistered_per_mille: u64,
}

const START: i64 = 1_709_251_200_000;
/// Liquidity-mining classes, then next-generation classes for the R&D pool.
const LM_CLASSES: [&str; 3] = ["a100", "h100", "rtx4090"];
const RND_CLASSES: [&str; 2] = ["h200", "mi300x"];

struct Provider {
    address: String,
    class: &'static str,
    gpus: u64,
}

fn thousandths(rng: &mut Lcg, max: u64) -> Decimal {
    Decimal::new(rng.below(max + 1) as i64, 3)
}

fn schedules(rng: &mut Lcg, epoch_length_ms: u64) -> BTreeMap<String, Vesting> {
    let l = epoch_length_ms;
    BTreeMap::from([
        ("immediate".to_string(), Vesting::Immediate),
        (
            "delayed".to_string(),
            Vesting::Delayed {
                after_ms: l * rng.below(20),
            },
        ),
        (
            "linear".to_string(),
            Vesting::Linear {
                cliff_ms: l * rng.below(5),
                duration_ms: l * (5 + rng.below(60)) + rng.below(l),
            },
        ),
        (
            "quarterly".to_string(),
            Vesting::Periodic {
                period_ms: l * (1 + rng.below(30)),
                count: 1 + rng.below(6) as u32,
            },
        ),
    ])
}

fn pick_schedule(rng: &mut Lcg) -> String {
    ["immediate", "delayed", "linear", "quarterly"][rng.below(4) as usize].to_string()
}

fn pro_rata_rules(rng: &mut Lcg, classes: &[&str]) -> ProRataRules {
    // Shares in thousandths that sum to exactly 1.
    let mut left = 1000i64;
    let mut shares = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        let share = if i + 1 == classes.len() {
            left
        } else {
            1 + rng.below((left - (classes.len() - i - 1) as i64) as u64) as i64
        };
        left -= share;
        shares.push(ClassShare {
            class: ClassName::new(*class).unwrap(),
            share: Decimal::new(share, 3),
        });
    }
    ProRataRules {
        classes: shares,
        alpha: thousandths(rng, 3000),
        beta: thousandths(rng, 3000),
        min_uptime: thousandths(rng, 1000),
        max_share_per_provider: rng
            .chance(400)
            .then(|| Decimal::new(1 + rng.below(1000) as i64, 3)),
        undistributed: if rng.chance(500) {
            Undistributed::Carry
        } else {
            Undistributed::Return
        },
        vesting: pick_schedule(rng),
    }
}

/// A valid programme of the given shape and one `EpochInputs` per epoch.
pub fn generate(shape: Shape, seed: u64) -> (Programme, Vec<EpochInputs>) {
    let mut rng = Lcg::new(seed);
    let l = shape.epoch_length_ms;
    let all_classes: Vec<&'static str> = LM_CLASSES.iter().chain(&RND_CLASSES).copied().collect();
    let per_provider = (shape.total_gpus / shape.providers.max(1) as u64).max(1);
    let providers: Vec<Provider> = (0..shape.providers)
        .map(|i| Provider {
            address: format!("akash1{:038x}", (i as u64).wrapping_mul(0x9E37_79B9) ^ seed),
            class: all_classes[rng.below(all_classes.len() as u64) as usize],
            gpus: 1 + rng.below(2 * per_provider),
        })
        .collect();
    let mut programme = Programme {
        calendar: EpochCalendar {
            start_ms: UnixMs(START),
            epoch_length_ms: l,
            epochs: shape.epochs,
        },
        denom: Denomination {
            name: "uakt".into(),
            base_units_per_token: 1_000_000,
        },
        prices: None,
        gpu_classes: all_classes
            .iter()
            .map(|c| GpuClass {
                name: ClassName::new(*c).unwrap(),
                gpu_model: GpuModel::normalise(c).unwrap(),
                gpu_ram: None,
            })
            .collect(),
        vesting: schedules(&mut rng, l),
        liquidity_mining: Some(LiquidityMiningPool {
            budget: Money::BaseUnits(BaseUnits(u128::from(rng.next()) % 1_000_000_000_000_000)),
            rules: pro_rata_rules(&mut rng, &LM_CLASSES),
        }),
        committed: None,
        rnd: None,
    };
    let span = u64::from(shape.epochs) * l;
    let contracts: Vec<CommittedContract> = (0..shape.contracts)
        .filter_map(|i| {
            let p = providers.get(rng.below(providers.len() as u64) as usize)?;
            Some(CommittedContract {
                id: format!("contract-{i:03}"),
                provider: p.address.clone(),
                class: ClassName::new(p.class).unwrap(),
                gpus: 1 + rng.below(p.gpus),
                rate: Money::BaseUnits(BaseUnits(1 + u128::from(rng.below(5_000_000)))),
                start_ms: UnixMs(START + rng.below(span / 2 + 1) as i64),
                term_ms: 1 + rng.below(2 * span),
                sla_uptime: thousandths(&mut rng, 1000),
                vesting: pick_schedule(&mut rng),
                max_consecutive_breaches: rng.below(4) as u32,
            })
        })
        .collect();
    let max: u128 = contracts
        .iter()
        .map(|c| max_total(&programme, c).unwrap_or(BaseUnits(0)).0)
        .sum();
    programme.committed = Some(CommittedPool {
        budget: Money::BaseUnits(BaseUnits(max + u128::from(rng.below(1_000_000_000)))),
        verify_capacity: rng.chance(500),
        contracts,
    });
    let grants: Vec<Grant> = (0..shape.grants)
        .map(|i| Grant {
            id: format!("grant-{i}"),
            provider: providers
                .get(rng.below(providers.len() as u64) as usize)
                .map_or_else(|| "akash1lab".to_string(), |p| p.address.clone()),
            amount: Money::BaseUnits(BaseUnits(u128::from(rng.below(1_000_000_000)))),
            epoch: rng.below(u64::from(shape.epochs)) as u32,
            vesting: pick_schedule(&mut rng),
        })
        .collect();
    let granted: u128 = grants
        .iter()
        .map(|g| match g.amount {
            Money::BaseUnits(a) => a.0,
            Money::Usd(_) => 0,
        })
        .sum();
    programme.rnd = Some(RndPool {
        budget: Money::BaseUnits(BaseUnits(
            granted + u128::from(rng.next()) % 1_000_000_000_000,
        )),
        eligible_models: NEXT_GENERATION_MODELS
            .iter()
            .map(|m| m.to_string())
            .collect(),
        pro_rata: shape
            .rnd_pro_rata
            .then(|| pro_rata_rules(&mut rng, &RND_CLASSES)),
        grants,
    });
    let mut registry = Lcg::new(seed ^ 0x005e_ed0f_4e61_7374);
    let inputs = (0..shape.epochs)
        .map(|_| {
            let mut inputs = EpochInputs::default();
            for p in &providers {
                if registry.chance(shape.unregistered_per_mille) {
                    // Measured nothing, as an unregistered provider's measurement always is.
                    inputs.unregistered.insert(p.address.clone());
                    continue;
                }
                if rng.chance(30) {
                    continue; // not measured this epoch
                }
                let up_ms = if rng.chance(800) {
                    l - rng.below(l / 50 + 1)
                } else {
                    rng.below(l + 1)
                };
                let online = u128::from(p.gpus) * u128::from(up_ms);
                let leased = online * u128::from(rng.below(101)) / 100;
                let m = Measurement {
                    online_gpu_ms: online,
                    leased_gpu_ms: leased,
                    uptime: Uptime::new(up_ms, l).expect("up_ms ≤ l"),
                };
                inputs.insert(&ClassName::new(p.class).unwrap(), &p.address, m);
            }
            inputs
        })
        .collect();
    (programme, inputs)
}
