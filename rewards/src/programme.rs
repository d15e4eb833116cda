//! The programme definition: plain data the configuration loader builds, plus its validation.
//!
//! This module parses nothing. The loader (crate `settings`) reads TOML and CSV, converts
//! durations such as `"1d"` and RFC 3339 times to integer milliseconds, and fills these structs.
//! [`Programme::validate`] then checks everything the engine relies on and returns **all**
//! problems at once, each with a [`ProgrammeError::path`] in the configuration's own terms so
//! the loader can point at the offending line.
//!
//! # Paths used in errors
//!
//! | path | field |
//! |---|---|
//! | `program.start`, `program.epoch_length`, `program.epochs` | [`EpochCalendar`] |
//! | `denom` | [`Denomination`] |
//! | `prices`, `prices[i]` | [`PriceTable`] and its points |
//! | `classes[i]` | [`Programme::gpu_classes`] |
//! | `vesting.<name>` | [`Programme::vesting`] |
//! | `pools.liquidity_mining.<field>` | [`LiquidityMiningPool`] and its [`ProRataRules`] |
//! | `pools.liquidity_mining.classes[i]` | a [`ClassShare`] |
//! | `pools.committed.<field>`, `pools.committed.contracts[i]` | [`CommittedPool`], [`CommittedContract`] |
//! | `pools.rnd.<field>`, `pools.rnd.classes[i]`, `pools.rnd.grants[i]` | [`RndPool`] (its pro-rata rules are inline) |
//!
//! A field of a list element is appended with a dot: `pools.committed.contracts[2].rate`.

use crate::calendar::{add_ms, CalendarError, DurationMs, EpochCalendar};
use crate::committed::max_total;
use crate::money::{usd_to_base_units, Denomination, Money, MoneyError, PriceTable, PriceUse};
use crate::vesting::{Vesting, VestingProblem};
use domain::{BaseUnits, ClassName, GpuModel, UnixMs};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// GPU models launched in 2024 or later, the default `eligible_models` of the R&D pool.
pub const NEXT_GENERATION_MODELS: &[&str] = &[
    "h200",
    "b100",
    "b200",
    "gb200",
    "l40s",
    "mi300x",
    "mi325x",
    "mi350x",
    "rtx5090",
    "rtx-pro-6000",
];

/// Most epochs a programme may have. Validation walks a contract's epochs to compute its exact
/// maximum total, so the count is bounded (100,000 ten-minute epochs is almost two years).
pub const MAX_EPOCHS: u32 = 100_000;

/// Largest `α` or `β`, in thousandths (10⁶ as a decimal). With this bound a pool's total weight
/// `W = Σ (α·online_gpu_ms + β·leased_gpu_ms)` fits in a `u128` for any class with fewer than
/// 1.7·10²⁹ GPU-milliseconds per epoch (two billion GPUs for a century), so the
/// apportionment's `W` never overflows on real data; hostile measurements are still caught at
/// run time as an error.
pub const MAX_COEFFICIENT_THOUSANDTHS: u128 = 1_000_000_000;

/// The three pools of the programme; also the order in which they are settled and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Per-GPU pay for committed capacity under an uptime SLA.
    Committed,
    /// Fixed emission per epoch, pro rata within homogeneous GPU classes.
    LiquidityMining,
    /// Next-generation GPUs: pro-rata part plus fixed grants.
    Rnd,
}

/// A GPU class `{name, gpu_model, gpu_ram?}`: a homogeneous configuration that providers are
/// compared within.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuClass {
    /// Unique name, used as the key of measurements and as the apportionment tie-break key. A
    /// [`ClassName`] rather than text, so it cannot be swapped with a provider address.
    pub name: ClassName,
    /// GPU model, normalised as leases and observations are ([`GpuModel::normalise`]: `a100`,
    /// `h200`, `mi300x`…), so every part of the system compares one spelling.
    pub gpu_model: GpuModel,
    /// Memory size as Akash spells it (`80Gi`); when absent the class takes every memory size.
    pub gpu_ram: Option<String>,
}

impl GpuClass {
    /// Whether a GPU of `model` and `ram` belongs to this class. `model` is normalised with
    /// [`GpuModel::normalise`] (leases and observations already are) and compared with the
    /// class's model; text that names no model matches no class. Memory sizes are compared
    /// ignoring ASCII case; a class that names a memory size only takes GPUs whose memory size
    /// is known and equal.
    pub fn matches(&self, model: &str, ram: Option<&str>) -> bool {
        GpuModel::normalise(model).is_some_and(|model| model == self.gpu_model)
            && match (&self.gpu_ram, ram) {
                (None, _) => true,
                (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
                (Some(_), None) => false,
            }
    }

    /// Whether some GPU could belong to both classes, which would count its hours twice.
    fn overlaps(&self, other: &GpuClass) -> bool {
        self.gpu_model == other.gpu_model
            && match (&self.gpu_ram, &other.gpu_ram) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            }
    }
}

/// A class's share of a pro-rata pool's epoch emission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassShare {
    /// Name of a [`GpuClass`].
    pub class: ClassName,
    /// Share in `(0, 1]`; the shares of a pool sum to exactly 1.
    pub share: Decimal,
}

/// What happens to the part of an epoch's emission that nobody is eligible for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undistributed {
    /// Stays in the pool; `E_k = floor(R_k / (N − k))`, so later epochs pay more.
    #[default]
    Carry,
    /// Goes back to the community pool; `E_k = floor(B·(k+1)/N) − floor(B·k/N)`.
    Return,
}

/// The liquidity-mining machinery: per-epoch emission split by class share, then pro rata by
/// weight within each class. Used by the liquidity-mining pool and the R&D pool's pro-rata part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProRataRules {
    /// Classes taking part and their shares (sum exactly 1).
    pub classes: Vec<ClassShare>,
    /// Weight per online GPU-millisecond; at most 3 decimal places, used as thousandths.
    pub alpha: Decimal,
    /// Weight per leased GPU-millisecond; at most 3 decimal places, used as thousandths.
    pub beta: Decimal,
    /// Eligibility: a provider is paid only when its uptime is at least this (in `[0, 1]`).
    pub min_uptime: Decimal,
    /// Optional cap on one provider's part of a class's slice, in `(0, 1]`.
    pub max_share_per_provider: Option<Decimal>,
    /// Carry or return what is not distributed.
    pub undistributed: Undistributed,
    /// Name of the vesting schedule for amounts paid by this pool.
    pub vesting: String,
}

/// The liquidity-mining pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidityMiningPool {
    /// Total budget `B`. A USD budget is converted once, at the price in force at the start of
    /// epoch 0, when the pool is funded.
    pub budget: Money,
    /// Emission, class split, weights, eligibility and cap.
    pub rules: ProRataRules,
}

/// A committed-capacity contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedContract {
    /// Unique id; the contract's bucket in line items and the key of its state.
    pub id: String,
    /// Provider address.
    pub provider: String,
    /// Name of the committed GPUs' [`GpuClass`].
    pub class: ClassName,
    /// Number of GPUs committed; positive.
    pub gpus: u64,
    /// Pay per GPU-hour. A USD rate is converted at the price in force at each epoch's start.
    pub rate: Money,
    /// Start of the commitment.
    pub start_ms: UnixMs,
    /// Length of the commitment; the term is `[start, start + term)`.
    pub term_ms: DurationMs,
    /// An epoch with uptime below this (in `[0, 1]`) is a breach and pays nothing.
    pub sla_uptime: Decimal,
    /// Name of the vesting schedule (quarterly × 4 in the proposal).
    pub vesting: String,
    /// The contract is terminated when the run of consecutive breaches exceeds this.
    pub max_consecutive_breaches: u32,
}

impl CommittedContract {
    /// End of the term, or `None` when it is not representable.
    pub fn end_ms(&self) -> Option<UnixMs> {
        add_ms(self.start_ms, self.term_ms)
    }
}

/// The committed pool: a reserve from which contracts are paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedPool {
    /// Reserve funded at epoch 0 (a USD budget is converted at the price then in force).
    pub budget: Money,
    /// Scale pay by delivered capacity: `delivered = min(1, online_gpu_ms / (gpus × overlap_ms))`.
    pub verify_capacity: bool,
    /// The contracts, in the order they are paid when the reserve runs short.
    pub contracts: Vec<CommittedContract>,
}

/// A fixed R&D grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Unique id; the grant's bucket in line items.
    pub id: String,
    /// Provider address.
    pub provider: String,
    /// Amount, in the same unit as the R&D budget. A USD grant is converted at the price in
    /// force at the start of its epoch.
    pub amount: Money,
    /// Epoch in which the grant is paid.
    pub epoch: u32,
    /// Name of its vesting schedule.
    pub vesting: String,
}

/// The next-generation R&D pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RndPool {
    /// Total budget, grants included. The pro-rata part is `budget − Σ grants`, funded at epoch 0;
    /// each grant is funded in its own epoch.
    pub budget: Money,
    /// GPU models that may take part (default [`NEXT_GENERATION_MODELS`]), as written; each is
    /// normalised with [`GpuModel::normalise`] before it is compared with a class's model (text
    /// that names no model matches none). Every class of the pro-rata part must be of one of
    /// these models.
    pub eligible_models: Vec<String>,
    /// The pro-rata part, when the pool has one.
    pub pro_rata: Option<ProRataRules>,
    /// Fixed grants.
    pub grants: Vec<Grant>,
}

/// A whole programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    /// Epochs.
    pub calendar: EpochCalendar,
    /// Payout denom.
    pub denom: Denomination,
    /// Token prices; required when any amount is in USD.
    pub prices: Option<PriceTable>,
    /// GPU classes, referenced by name.
    pub gpu_classes: Vec<GpuClass>,
    /// Named vesting schedules.
    pub vesting: BTreeMap<String, Vesting>,
    /// Liquidity-mining pool, if configured.
    pub liquidity_mining: Option<LiquidityMiningPool>,
    /// Committed pool, if configured.
    pub committed: Option<CommittedPool>,
    /// R&D pool, if configured.
    pub rnd: Option<RndPool>,
}

/// What is wrong with one part of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    /// Calendar arithmetic failed.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// An amount, price or denomination is out of bounds or needs a missing price.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A vesting schedule is unusable.
    #[error(transparent)]
    Vesting(#[from] VestingProblem),
    /// A programme must have at least one epoch.
    #[error("the programme has no epochs")]
    NoEpochs,
    /// See [`MAX_EPOCHS`].
    #[error("{0} epochs is more than the supported {MAX_EPOCHS}")]
    TooManyEpochs(u32),
    /// Nothing to settle.
    #[error("no pool is configured")]
    NoPools,
    /// A name or address is empty.
    #[error("must not be empty")]
    Empty,
    /// Two items share a name that must be unique.
    #[error("duplicate name {0:?}")]
    Duplicate(String),
    /// A reference to a GPU class that does not exist.
    #[error("unknown GPU class {0:?}")]
    UnknownClass(String),
    /// A reference to a vesting schedule that does not exist.
    #[error("unknown vesting schedule {0:?}")]
    UnknownVesting(String),
    /// Two classes could both claim the same GPU.
    #[error("overlaps class {0:?}: a GPU must belong to at most one class")]
    OverlappingClasses(String),
    /// Class shares must split the emission exactly.
    #[error("class shares sum to {0}, not 1")]
    SharesDoNotSumToOne(Decimal),
    /// A share, uptime threshold or cap must be a fraction.
    #[error("{0} is not in the allowed range {1}")]
    OutOfRange(Decimal, &'static str),
    /// `α`/`β` are used as exact thousandths.
    #[error("{0} has more than 3 decimal places")]
    MoreThanThreeDecimals(Decimal),
    /// See [`MAX_COEFFICIENT_THOUSANDTHS`].
    #[error("{0} is negative or above 1000000")]
    CoefficientOutOfRange(Decimal),
    /// Price points must be in strictly increasing time order.
    #[error("price points must have strictly increasing times")]
    PricesNotIncreasing,
    /// A contract must commit at least one GPU for a positive time.
    #[error("must be positive")]
    NotPositive,
    /// The commitment's end is not representable.
    #[error("the term ends beyond the representable time range")]
    TermOverflow,
    /// The contracts could cost more than the committed pool holds.
    #[error(
        "maximum total {running_total} of contracts up to this one exceeds the budget {budget}"
    )]
    BudgetExceeded {
        /// Σ maximum totals of this and all earlier contracts, in base units.
        running_total: BaseUnits,
        /// The pool's budget in base units.
        budget: BaseUnits,
    },
    /// A grant's epoch is outside the programme.
    #[error("epoch {0} is outside the programme's {1} epochs")]
    EpochOutOfRange(u32, u32),
    /// Grants and the R&D budget must use one unit so `budget − Σ grants` is exact.
    #[error("grant amount and pool budget must both be in base units or both in USD")]
    UnitMismatch,
    /// The grants alone exceed the R&D budget.
    #[error("grants total {grants} exceeds the budget {budget}")]
    GrantsExceedBudget {
        /// Σ grants, in the budget's unit.
        grants: String,
        /// The budget, in its unit.
        budget: String,
    },
    /// A class in the R&D pro-rata part is not of an eligible model.
    #[error("class {class:?} has model {model:?}, which is not in eligible_models")]
    IneligibleModel {
        /// The class.
        class: String,
        /// Its model.
        model: String,
    },
}

/// A validation problem and where it is in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {problem}")]
pub struct ProgrammeError {
    /// Path such as `pools.committed.contracts[2].rate` (see the module docs).
    pub path: String,
    /// What is wrong there.
    pub problem: Problem,
}

/// `d` as an exact integer number of thousandths, as `α` and `β` are used: refused when `d` has
/// more than 3 decimal places, is negative, or exceeds [`MAX_COEFFICIENT_THOUSANDTHS`].
pub fn thousandths(d: Decimal) -> Result<u128, Problem> {
    let normal = d.normalize();
    if normal.scale() > 3 {
        return Err(Problem::MoreThanThreeDecimals(d));
    }
    let value = u128::try_from(normal.mantissa())
        .ok()
        .and_then(|m| m.checked_mul(10u128.pow(3 - normal.scale())))
        .filter(|v| *v <= MAX_COEFFICIENT_THOUSANDTHS);
    value.ok_or(Problem::CoefficientOutOfRange(d))
}

/// Checks `lowest ≤ d ≤ 1`, where `lowest` is 0 or excluded 0.
fn check_fraction(d: Decimal, zero_allowed: bool) -> Result<(), Problem> {
    let above_floor = if zero_allowed {
        !d.is_sign_negative() || d.is_zero()
    } else {
        d > Decimal::ZERO
    };
    if above_floor && d <= Decimal::ONE {
        Ok(())
    } else {
        let range = if zero_allowed { "[0, 1]" } else { "(0, 1]" };
        Err(Problem::OutOfRange(d, range))
    }
}

/// Collects problems with their paths.
struct Problems(Vec<ProgrammeError>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, problem: impl Into<Problem>) {
        self.0.push(ProgrammeError {
            path: path.into(),
            problem: problem.into(),
        });
    }

    fn check<E: Into<Problem>>(&mut self, path: impl Into<String>, result: Result<(), E>) {
        if let Err(e) = result {
            self.push(path, e);
        }
    }
}

impl Programme {
    /// Every problem in the programme, or `Ok(())` when the engine can settle it.
    ///
    /// Beyond shape checks (non-empty names, known references, fractions in range), this
    /// enforces the documented arithmetic bounds (see [`crate::money`], [`MAX_EPOCHS`],
    /// [`MAX_COEFFICIENT_THOUSANDTHS`]) and the budget checks: the contracts' maximum totals
    /// must fit in the committed budget, and the grants in the R&D budget.
    pub fn validate(&self) -> Result<(), Vec<ProgrammeError>> {
        let mut problems = Problems(Vec::new());
        self.validate_calendar(&mut problems);
        problems.check("denom", self.denom.check());
        if self.denom.name.is_empty() {
            problems.push("denom", Problem::Empty);
        }
        self.validate_prices(&mut problems);
        self.validate_classes(&mut problems);
        for (name, schedule) in &self.vesting {
            problems.check(format!("vesting.{name}"), schedule.check());
        }
        if self.liquidity_mining.is_none() && self.committed.is_none() && self.rnd.is_none() {
            problems.push("pools", Problem::NoPools);
        }
        if let Some(pool) = &self.liquidity_mining {
            let path = "pools.liquidity_mining";
            self.validate_budget(&mut problems, path, &pool.budget);
            self.validate_rules(&mut problems, path, &pool.rules, None);
        }
        if let Some(pool) = &self.committed {
            self.validate_committed(&mut problems, pool);
        }
        if let Some(pool) = &self.rnd {
            self.validate_rnd(&mut problems, pool);
        }
        if problems.0.is_empty() {
            Ok(())
        } else {
            Err(problems.0)
        }
    }

    /// The price a conversion of `amount` at time `t` uses: none for base units, the price in
    /// force at `t` for USD (an error when there is no price table or no price yet).
    pub fn price_for(&self, amount: &Money, t: UnixMs) -> Result<Option<PriceUse>, MoneyError> {
        match amount {
            Money::BaseUnits(_) => Ok(None),
            Money::Usd(_) => self
                .prices
                .as_ref()
                .ok_or(MoneyError::NoPriceTable)?
                .price_use_at(t)
                .map(Some),
        }
    }

    /// `amount` in base units at time `t`: base units as is, USD at the price in force at `t`
    /// (floored, see [`usd_to_base_units`]). Returns the price used, for the outputs.
    pub fn to_base_units(
        &self,
        amount: &Money,
        t: UnixMs,
    ) -> Result<(BaseUnits, Option<PriceUse>), MoneyError> {
        let price = self.price_for(amount, t)?;
        let units = match (amount, &price) {
            (Money::Usd(usd), Some(price)) => {
                usd_to_base_units(*usd, price.usd_per_token, self.denom.base_units_per_token)?
            }
            (Money::BaseUnits(units), _) => *units,
            (Money::Usd(_), None) => return Err(MoneyError::NoPriceTable),
        };
        Ok((units, price))
    }

    /// The class named `name`, if any.
    pub fn class(&self, name: &ClassName) -> Option<&GpuClass> {
        self.gpu_classes.iter().find(|c| &c.name == name)
    }

    fn validate_calendar(&self, problems: &mut Problems) {
        let cal = &self.calendar;
        if cal.epoch_length_ms == 0 {
            problems.push("program.epoch_length", CalendarError::ZeroEpochLength);
        }
        if cal.epochs == 0 {
            problems.push("program.epochs", Problem::NoEpochs);
        } else if cal.epochs > MAX_EPOCHS {
            problems.push("program.epochs", Problem::TooManyEpochs(cal.epochs));
        }
        if cal.epoch_length_ms > 0 && cal.epochs > 0 {
            problems.check("program.start", cal.programme_window().map(|_| ()));
        }
    }

    fn validate_prices(&self, problems: &mut Problems) {
        let Some(table) = &self.prices else { return };
        for (i, point) in table.points.iter().enumerate() {
            let path = format!("prices[{i}]");
            problems.check(&path, point.check());
            let previous = i.checked_sub(1).and_then(|j| table.points.get(j));
            if previous.is_some_and(|p| p.from_ms >= point.from_ms) {
                problems.push(&path, Problem::PricesNotIncreasing);
            }
        }
    }

    fn validate_classes(&self, problems: &mut Problems) {
        let mut seen = BTreeSet::new();
        for (i, class) in self.gpu_classes.iter().enumerate() {
            let path = format!("classes[{i}]");
            // Names and models cannot be empty: their types refuse it.
            if !seen.insert(&class.name) {
                problems.push(&path, Problem::Duplicate(class.name.to_string()));
            }
            let earlier = self.gpu_classes.iter().take(i);
            if let Some(other) = earlier
                .filter(|o| o.name != class.name)
                .find(|o| o.overlaps(class))
            {
                problems.push(&path, Problem::OverlappingClasses(other.name.to_string()));
            }
        }
    }

    fn validate_vesting_ref(&self, problems: &mut Problems, path: String, name: &str) {
        if !self.vesting.contains_key(name) {
            problems.push(path, Problem::UnknownVesting(name.to_owned()));
        }
    }

    /// A pool budget is needed at the programme start, so a USD budget needs a price then.
    fn validate_budget(&self, problems: &mut Problems, pool_path: &str, budget: &Money) {
        let path = format!("{pool_path}.budget");
        problems.check(&path, budget.check());
        problems.check(
            &path,
            self.to_base_units(budget, self.calendar.start_ms)
                .map(|_| ()),
        );
    }

    fn validate_rules(
        &self,
        problems: &mut Problems,
        pool_path: &str,
        rules: &ProRataRules,
        eligible_models: Option<&[String]>,
    ) {
        let mut seen = BTreeSet::new();
        let mut total = Decimal::ZERO;
        for (i, entry) in rules.classes.iter().enumerate() {
            let path = format!("{pool_path}.classes[{i}]");
            match self.class(&entry.class) {
                None => problems.push(&path, Problem::UnknownClass(entry.class.to_string())),
                Some(class) => {
                    let eligible = eligible_models.is_none_or(|models| {
                        models
                            .iter()
                            .any(|m| GpuModel::normalise(m).as_ref() == Some(&class.gpu_model))
                    });
                    if !eligible {
                        problems.push(
                            &path,
                            Problem::IneligibleModel {
                                class: class.name.to_string(),
                                model: class.gpu_model.to_string(),
                            },
                        );
                    }
                }
            }
            if !seen.insert(&entry.class) {
                problems.push(&path, Problem::Duplicate(entry.class.to_string()));
            }
            problems.check(format!("{path}.share"), check_fraction(entry.share, false));
            total = total.checked_add(entry.share).unwrap_or(Decimal::MAX);
        }
        if total != Decimal::ONE {
            problems.push(
                format!("{pool_path}.classes"),
                Problem::SharesDoNotSumToOne(total),
            );
        }
        problems.check(
            format!("{pool_path}.alpha"),
            thousandths(rules.alpha).map(|_| ()),
        );
        problems.check(
            format!("{pool_path}.beta"),
            thousandths(rules.beta).map(|_| ()),
        );
        problems.check(
            format!("{pool_path}.min_uptime"),
            check_fraction(rules.min_uptime, true),
        );
        if let Some(cap) = rules.max_share_per_provider {
            problems.check(
                format!("{pool_path}.max_share_per_provider"),
                check_fraction(cap, false),
            );
        }
        self.validate_vesting_ref(problems, format!("{pool_path}.vesting"), &rules.vesting);
    }

    fn validate_committed(&self, problems: &mut Problems, pool: &CommittedPool) {
        let pool_path = "pools.committed";
        self.validate_budget(problems, pool_path, &pool.budget);
        let budget = self
            .to_base_units(&pool.budget, self.calendar.start_ms)
            .ok()
            .map(|(units, _)| units);
        let mut seen = BTreeSet::new();
        let mut running_total = BaseUnits::ZERO;
        for (i, contract) in pool.contracts.iter().enumerate() {
            let path = format!("{pool_path}.contracts[{i}]");
            if contract.id.is_empty() || contract.provider.is_empty() {
                problems.push(&path, Problem::Empty);
            }
            if !seen.insert(contract.id.as_str()) {
                problems.push(
                    format!("{path}.id"),
                    Problem::Duplicate(contract.id.clone()),
                );
            }
            if self.class(&contract.class).is_none() {
                problems.push(
                    format!("{path}.class"),
                    Problem::UnknownClass(contract.class.to_string()),
                );
            }
            if contract.gpus == 0 {
                problems.push(format!("{path}.gpus"), Problem::NotPositive);
            }
            if contract.term_ms == 0 {
                problems.push(format!("{path}.term"), Problem::NotPositive);
            } else if contract.end_ms().is_none() {
                problems.push(format!("{path}.term"), Problem::TermOverflow);
            }
            problems.check(format!("{path}.rate"), contract.rate.check());
            problems.check(
                format!("{path}.sla_uptime"),
                check_fraction(contract.sla_uptime, true),
            );
            self.validate_vesting_ref(problems, format!("{path}.vesting"), &contract.vesting);
            match max_total(self, contract) {
                Err(e) => problems.push(format!("{path}.rate"), e),
                Ok(total) => {
                    running_total = BaseUnits(running_total.get().saturating_add(total.get()));
                    if let Some(budget) = budget.filter(|b| running_total > *b) {
                        problems.push(
                            &path,
                            Problem::BudgetExceeded {
                                running_total,
                                budget,
                            },
                        );
                    }
                }
            }
        }
    }

    fn validate_rnd(&self, problems: &mut Problems, pool: &RndPool) {
        let pool_path = "pools.rnd";
        self.validate_budget(problems, pool_path, &pool.budget);
        for (i, model) in pool.eligible_models.iter().enumerate() {
            if model.is_empty() {
                problems.push(format!("{pool_path}.eligible_models[{i}]"), Problem::Empty);
            }
        }
        if let Some(rules) = &pool.pro_rata {
            self.validate_rules(problems, pool_path, rules, Some(&pool.eligible_models));
        }
        let mut seen = BTreeSet::new();
        for (i, grant) in pool.grants.iter().enumerate() {
            let path = format!("{pool_path}.grants[{i}]");
            if grant.id.is_empty() || grant.provider.is_empty() {
                problems.push(&path, Problem::Empty);
            }
            if !seen.insert(grant.id.as_str()) {
                problems.push(format!("{path}.id"), Problem::Duplicate(grant.id.clone()));
            }
            if grant.epoch >= self.calendar.epochs {
                problems.push(
                    format!("{path}.epoch"),
                    Problem::EpochOutOfRange(grant.epoch, self.calendar.epochs),
                );
            } else if let Ok(window) = self.calendar.window(grant.epoch) {
                problems.check(
                    format!("{path}.amount"),
                    self.to_base_units(&grant.amount, window.start_ms())
                        .map(|_| ()),
                );
            }
            if !grant.amount.same_unit(&pool.budget) {
                problems.push(format!("{path}.amount"), Problem::UnitMismatch);
            }
            self.validate_vesting_ref(problems, format!("{path}.vesting"), &grant.vesting);
        }
        // A unit mismatch has already been reported on the grant itself.
        if let Err(problem @ Problem::GrantsExceedBudget { .. }) = rnd_pro_rata_budget(pool) {
            problems.push(format!("{pool_path}.grants"), problem);
        }
    }
}

/// The R&D pool's pro-rata budget `budget − Σ grants`, in the budget's unit.
pub(crate) fn rnd_pro_rata_budget(pool: &RndPool) -> Result<Money, Problem> {
    match &pool.budget {
        Money::BaseUnits(budget) => {
            let mut grants: u128 = 0;
            for grant in &pool.grants {
                match grant.amount {
                    Money::BaseUnits(a) => grants = grants.saturating_add(a.get()),
                    Money::Usd(_) => return Err(Problem::UnitMismatch),
                }
            }
            budget
                .get()
                .checked_sub(grants)
                .map(|rest| Money::BaseUnits(BaseUnits(rest)))
                .ok_or(Problem::GrantsExceedBudget {
                    grants: grants.to_string(),
                    budget: budget.to_string(),
                })
        }
        Money::Usd(budget) => {
            let mut grants = Decimal::ZERO;
            for grant in &pool.grants {
                match grant.amount {
                    Money::Usd(a) => grants = grants.checked_add(a).unwrap_or(Decimal::MAX),
                    Money::BaseUnits(_) => return Err(Problem::UnitMismatch),
                }
            }
            let rest = budget.checked_sub(grants).unwrap_or(Decimal::MIN);
            if rest.is_sign_negative() && !rest.is_zero() {
                Err(Problem::GrantsExceedBudget {
                    grants: grants.to_string(),
                    budget: budget.to_string(),
                })
            } else {
                Ok(Money::Usd(rest))
            }
        }
    }
}
