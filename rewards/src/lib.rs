//! # `rewards`: the arithmetic of the GPU-provider incentive programme
//!
//! This crate is pure: no I/O, no clock, no database, no threads. It takes a [`Programme`]
//! (built by the configuration loader), the state carried from the previous epoch and one
//! epoch's measured inputs, and returns every line item with its reason and vesting schedule,
//! and a ledger per pool. Anyone holding the same inputs gets the same numbers, to the base
//! unit. Money is integer base units ([`domain::BaseUnits`]); USD figures stay
//! `rust_decimal::Decimal` until a single exact conversion; there is no floating point anywhere.
//!
//! ## Vocabulary
//!
//! The facts this crate exchanges with the rest of the workspace are spelled with the `domain`
//! crate's types, not local aliases: amounts are [`domain::BaseUnits`], instants
//! [`domain::UnixMs`], class names [`domain::ClassName`] and a class's GPU model a
//! [`domain::GpuModel`]. The settlement step, the store and the reports use the same types, so a
//! value means one thing everywhere, and the compiler keeps apart what a bare `u128`, `i64` or
//! `String` would let through: an amount and a GPU-millisecond count, an instant and a duration,
//! a class name and a provider address (`EpochInputs::insert(class, provider, …)` no longer
//! accepts them swapped). Their serialised forms are the bare integer or string, so every JSON
//! record reads and hashes exactly as before. Arithmetic is done on the inner integers, checked.
//! Provider addresses are still text here; weights, GPU-milliseconds and apportionment totals
//! stay plain `u128`, being counts rather than amounts of money.
//!
//! ## The specification, and where each formula lives
//!
//! | rule | implemented by |
//! |---|---|
//! | epoch `k` is `[start + k·L, start + (k+1)·L)` | [`calendar::EpochCalendar::window`] |
//! | apportionment by largest remainder, ties to the smaller key, `W = 0` undistributed | [`apportion::apportion`] |
//! | cap with re-apportionment of the excess, returned when everyone is capped | [`apportion::apportion_capped`], [`apportion::cap_amount`], [`prorata`] |
//! | carry: `E_k = floor(R_k / (N − k))` | [`prorata::carry_emission`] |
//! | return: `E_k = floor(B·(k+1)/N) − floor(B·k/N)` | [`prorata::return_emission`] |
//! | class split by share | [`prorata::share_weights`] + [`apportion::apportion`] |
//! | `w = α·online_gpu_ms + β·leased_gpu_ms` (α, β in thousandths) | [`prorata::provider_weight`], [`programme::thousandths`] |
//! | eligibility `uptime ≥ min_uptime`, compared exactly | [`uptime::Uptime::at_least`] |
//! | `pay = floor(gpus × rate × overlap_ms / 3_600_000 × delivered)` | [`committed::delivered_gpu_ms`], [`committed::overlap_ms`] |
//! | SLA breach, termination, clawback | [`settle::Engine::settle_epoch`] (committed pool, see [`committed`]) |
//! | contracts' maximum total for the budget check | [`committed::max_total`] |
//! | USD → base units, `floor(usd × units / price)` | [`money::usd_to_base_units`] |
//! | vesting schedules and `vested(t)` | [`vesting::Vesting::vested`] |
//! | clawback takes what is not vested strictly before the instant | [`vesting::VestingEntry::unvested_for_clawback`] |
//! | earned / vested / unvested / clawed back / paid / claimable | [`vesting::positions`] |
//! | ledger identities | [`ledger::PoolLedger::check`] and the programme-wide check in [`settle`] |
//! | uptime from observations (standing, majority, staleness) | [`uptime::Timeline`] |
//! | measured only while registered on chain | [`registration::Registration`], [`uptime::Timeline::within`], [`leases::Lease::within`] |
//! | `leased_gpu_ms` and unattributed hours | [`leases::leased_gpu_ms`] |
//!
//! ## How a settlement runs
//!
//! 1. The loader builds a [`Programme`]; [`Programme::validate`] reports every problem with its
//!    configuration path. [`Engine::new`] refuses an invalid programme.
//! 2. The settlement step measures each provider and class over the epoch
//!    ([`uptime::Timeline`], [`leases::leased_gpu_ms`]) into [`EpochInputs`].
//! 3. [`Engine::settle_epoch`] settles the next epoch from the [`ProgrammeState`], checks every
//!    identity, and only then updates the state ([`settle_programme`] does all epochs).
//!
//! ## Choices made where the specification is silent
//!
//! **Time.** Times are unix milliseconds ([`domain::UnixMs`]), durations milliseconds (`u64`); all intervals
//! are half-open, so an observation or lease boundary exactly at an epoch's end belongs to the
//! next epoch. Programmes have at most [`programme::MAX_EPOCHS`] epochs.
//!
//! **Prices.** The price in force at `t` is the last price point at or before `t`. A pool
//! budget in USD is converted **once**, at the price in force at the start of epoch 0, when the
//! pool is funded; a contract rate in USD at the price in force at the start of each epoch it
//! is paid for; an R&D grant in USD at the start of its epoch. The price and the table's source
//! are recorded on the ledger of every pool that converted something that epoch, and on every
//! committed line derived from a USD rate.
//!
//! **Ledgers.** Beyond the specified columns a ledger has `funded` (money entering the pool:
//! the budget at epoch 0, an R&D grant in its epoch) and `shortfall` (committed pay the reserve
//! could not cover). `opening` includes `funded`, so `closing = opening − allocated − returned +
//! clawed_back` holds as specified, `opening_k = closing_{k−1} + funded_k`, and the
//! programme-wide identity's "budget" is `Σ funded`. Also asserted:
//! `emitted = allocated + forfeited + carried + returned − released` (`released` being the
//! `PROGRAMME_END` amount below, 0 before the last epoch), and that the line items add up to the
//! ledger's columns.
//!
//! **Programme end.** Nothing is left in a pool after the last epoch, under `carry` and `return`
//! alike. In epoch `N − 1` a slice without eligible weight is returned rather than carried
//! (there is no later epoch), so `carried` is 0; then whatever the pool still holds (never-used
//! budget, forfeited pay and clawbacks in the committed reserve, including amounts clawed back in
//! that very epoch, the R&D pool's leftover) is returned with one pool-level line
//! ([`ledger::Bucket::Pool`], no provider, basis the amount) of reason
//! [`ledger::Reason::ProgrammeEnd`]. It counts in `returned` but was never emitted, hence
//! `released` above. So the last `closing` of every pool is 0 and
//! `Σ allocated − Σ clawed_back + Σ returned = Σ funded`. Amounts allocated to providers and still
//! vesting after the last epoch are **not** returned: they are no longer pool money but owed to
//! their providers, vest on their schedules, and show as `unvested` in [`vesting::positions`]
//! until they do. (A contract can no longer be terminated after the last epoch, so nothing can
//! claw them back.)
//!
//! **Pro-rata pools.** A class slice nobody can take is not re-split among other classes; it
//! follows the pool's `undistributed` policy (carried or returned). Eligible providers with zero
//! weight get a `PAID` line of 0; ineligible ones an `UPTIME_BELOW_THRESHOLD` line of 0 with their
//! weight. The cap is `floor(max_share_per_provider × class slice)`; when everyone with weight is
//! capped the rest is `CAP_EXCESS`, which the specification says is returned: it goes to `returned`
//! under both policies (carrying it would only pile it up in front of the same capped providers).
//! Class shares must each be in `(0, 1]` and sum to exactly 1; GPU classes must not overlap, so a
//! GPU belongs to at most one class. α and β are at most 10⁶
//! ([`programme::MAX_COEFFICIENT_THOUSANDTHS`]). A measurement for a class the programme does not
//! define is refused rather than ignored.
//!
//! **Committed pool.** The SLA uses the provider's uptime as measured for the contract's class over
//! the whole epoch, even when the term covers only part of it; a contract with no measurement
//! counts as offline all epoch. Epochs outside the term neither count as breaches nor reset the
//! run. With `verify_capacity`, `pay` simplifies exactly to
//! `floor(rate × min(gpus × overlap_ms, online_gpu_ms) / 3_600_000)`, and a provider's online
//! GPU-ms in a class is used up by its contracts in configuration order, so one GPU is never paid
//! twice (the specification's formula, read per contract, would pay it once per contract). Only
//! a contract that meets its SLA uses capacity up: one whose pay is forfeited (`SLA_BREACH`,
//! `COMMITMENT_BROKEN`) or that is already terminated consumes nothing, so the next contract is
//! paid for all it delivered. A forfeited contract's basis and amount are still computed from the
//! capacity left when its turn comes. The terminating epoch's pay is forfeited
//! (`COMMITMENT_BROKEN`), the clawback instant is the end of that epoch, and a terminated contract
//! produces no further lines. Contracts that met the SLA are paid in configuration order from the
//! opening balance plus the epoch's clawbacks; what the reserve cannot cover is `POOL_EXHAUSTED`. A
//! termination writes one `CLAWED_BACK` line per clawed-back entry (same contract and provider, in
//! the order of the entries). Each such line names the entry it takes back in `clawback_of`
//! ([`ledger::EntryRef`]: the epoch the amount was earned in and the entry's
//! [`vesting::VestingEntry::number`], the number the settlement's `clawbacks` list and the store
//! use),
//! so no reader has to pair lines with clawback records by their order. Every line of a contract
//! except `POOL_EXHAUSTED` (pay that never existed) carries the contract's vesting schedule id:
//! `PAID`, `CLAWED_BACK`, and also the forfeited `SLA_BREACH` and `COMMITMENT_BROKEN`, which name
//! the schedule the pay would have vested on. The budget check adds the contracts' maximum totals (full delivery, no breach, programme
//! epochs only) in configuration order and names the first contract at which the running total
//! exceeds the budget; USD rates use the price table as loaded.
//!
//! **Registration.** A provider counts as registered in an epoch when it was registered for any
//! part of the window ([`EpochInputs::unregistered`] lists those that were not). A contract of
//! an unregistered provider is a breach whatever its SLA, recorded as `PROVIDER_NOT_REGISTERED`
//! unless it breaks the commitment (then `COMMITMENT_BROKEN`); a grant of one is funded but not
//! paid (`PROVIDER_NOT_REGISTERED`, counted as forfeited), so its amount stays in the R&D pool's
//! balance. Pro-rata pools need no such gate: time outside registration is never measured, so
//! an unregistered provider has no weight.
//!
//! **R&D pool.** The budget includes the grants, which must be in the budget's unit; the
//! pro-rata part's budget is `budget − Σ grants`, funded at epoch 0, and each grant is funded
//! and paid in its epoch. Every class of the pro-rata part must be of a model in
//! `eligible_models` (each normalised with [`domain::GpuModel::normalise`] before comparing),
//! which validation enforces.
//!
//! **Vesting.** Only positive allocations create vesting entries. An entry counts as earned from
//! its anchor (the end of its epoch). Times are whole milliseconds, so "an amount vesting exactly
//! at the clawback instant goes to the clawback" means a clawback at `t` keeps what had vested at
//! `t − 1`: a periodic piece or delayed amount due at `t`, and for a linear schedule the units
//! accruing in millisecond `t`, go back to the pool. `claimable = vested − paid` is never negative:
//! a payment beyond what has vested is reported as `overpaid` instead. Degenerate schedules are rejected by validation; if one is ever
//! evaluated anyway it vests at the cliff or anchor instead of panicking. The carried state
//! ([`ProgrammeState`]) holds only the **open** entries, those with an unvested part at the end
//! of the last settled epoch and no clawback; an entry whose amount has wholly vested, or that a
//! clawback froze, closes and leaves it, its vested amount added to a per provider and pool
//! total ([`ProgrammeState::vested_closed`]). Nothing is lost by this: a closed entry can never
//! change again and no clawback can take from it, and the cumulative vested amounts are the
//! closed totals plus the open entries' vested amounts. Entries keep the number they were
//! created with, so clawbacks and the store name them the same way before and after.
//!
//! **Uptime.** A tie between probers counts as online. Observations without an inventory do not
//! take part in the minimum GPU count; when none of the standing online observations reports an
//! inventory the count is 0. Two observations by one prober of one provider at the same
//! millisecond are an error. GPU models are compared normalised ([`domain::GpuModel`]: a lease's
//! model is normalised before it is compared with a class's, and one that names no model
//! matches no class); memory sizes are compared ignoring ASCII case; a class that names a memory
//! size takes only leases that state the same size.
//!
//! **Errors.** No input makes this crate panic; every failure is a typed error
//! ([`SettleError`], [`programme::ProgrammeError`], …), and a refused epoch leaves the state
//! untouched.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod apportion;
pub mod calendar;
pub mod committed;
pub mod leases;
pub mod ledger;
pub mod money;
pub mod programme;
pub mod prorata;
pub mod registration;
pub mod settle;
pub mod uptime;
pub mod vesting;
mod wide;

pub use apportion::{apportion, Apportionment};
pub use programme::Programme;
pub use settle::{
    settle_programme, Engine, EpochInputs, EpochSettlement, Measurement, ProgrammeState,
    SettleError,
};
