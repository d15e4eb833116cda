//! Uptime and online GPU capacity as a pure function of probe observations.
//!
//! Rewards are gated on uptime, and the liquidity-mining weight uses online GPU capacity, so
//! both must be re-derivable by anyone holding the exported observations. The rules:
//!
//! 1. **Standing.** An observation made by prober `p` at time `t` stands on
//!    `[t, min(t_next, t + max_staleness))`, where `t_next` is the time of `p`'s next
//!    observation of the same provider. After that, `p`'s view of the provider is unknown.
//! 2. **Majority of probers.** At time `t` the provider is online when, among the probers with a
//!    standing observation, those saying online are at least as many as those saying offline
//!    (a tie counts as online). With no standing observation it is offline.
//! 3. **Uptime** over a window is the measure of online time divided by the window's length,
//!    kept as an exact fraction ([`Uptime`]).
//! 4. **Online GPU count** of a class at `t` is the smallest count among the standing online
//!    observations that report an inventory (an inventory that lacks the class counts 0). It is
//!    0 while the provider is offline, and 0 when no standing online observation reports an
//!    inventory: capacity nobody measured is not paid for.
//! 5. **`online_gpu_ms`** is the integral of that count over the window.
//! 6. **Registration.** Outside the spans in which the provider was registered on chain
//!    ([`crate::registration`]) it is offline whatever its observations say, and an observation
//!    that stands only outside them is not counted ([`Timeline::within`]).
//!
//! All intervals are half-open and all times are integer milliseconds, so an observation made
//! exactly at a window's end does not count inside that window, and one made exactly at its
//! start does.

use crate::calendar::{add_ms, DurationMs, Window};
use crate::registration::Registration;
use crate::wide::{cmp_fractions, mul_div};
use domain::{ClassName, UnixMs};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

/// One probe result, as stored and exported by the prober.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Which vantage point made the observation. Shared text, as [`Observation::gpus`]: a
    /// reader of many observations gives all of one prober or provider the same one.
    pub prober: Arc<str>,
    /// Provider address.
    pub provider: Arc<str>,
    /// When the probe was made.
    pub time_ms: UnixMs,
    /// Whether the provider answered correctly.
    pub online: bool,
    /// Sanitised GPU counts per class name, when the provider reported an inventory. Shared:
    /// a provider reports the same inventory round after round, and a reader of many
    /// observations (`verify`) gives all that report one inventory the same map.
    pub gpus: Option<Arc<BTreeMap<ClassName, u64>>>,
}

/// Why observations or a window could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UptimeError {
    /// With zero staleness no observation would ever stand.
    #[error("max_staleness must be positive")]
    ZeroStaleness,
    /// Two observations by one prober at one instant would make the standing rule ambiguous
    /// (the store keys observations on (prober, provider, time)).
    #[error(
        "prober {prober:?} has two observations of {provider:?} at {}",
        .time_ms.as_millis()
    )]
    DuplicateObservation {
        /// The prober.
        prober: String,
        /// The provider.
        provider: String,
        /// The shared time.
        time_ms: UnixMs,
    },
    /// An uptime fraction needs `online ≤ window` and a positive window.
    #[error("uptime {online_ms}/{window_ms} is not a fraction in [0, 1]")]
    NotAFraction {
        /// Online milliseconds.
        online_ms: u64,
        /// Window milliseconds.
        window_ms: u64,
    },
}

/// Uptime as the exact fraction `online_ms / window_ms`, in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawUptime")]
pub struct Uptime {
    online_ms: u64,
    window_ms: u64,
}

/// An uptime as read from outside, checked by [`Uptime::new`] on deserialisation.
#[derive(Deserialize)]
struct RawUptime {
    online_ms: u64,
    window_ms: u64,
}

impl TryFrom<RawUptime> for Uptime {
    type Error = UptimeError;

    fn try_from(raw: RawUptime) -> Result<Self, Self::Error> {
        Uptime::new(raw.online_ms, raw.window_ms)
    }
}

impl Uptime {
    /// The fraction `online_ms / window_ms`; refused unless `0 < window_ms` and
    /// `online_ms ≤ window_ms`.
    pub fn new(online_ms: u64, window_ms: u64) -> Result<Self, UptimeError> {
        if window_ms > 0 && online_ms <= window_ms {
            Ok(Uptime {
                online_ms,
                window_ms,
            })
        } else {
            Err(UptimeError::NotAFraction {
                online_ms,
                window_ms,
            })
        }
    }

    /// Numerator: online milliseconds.
    pub fn online_ms(&self) -> u64 {
        self.online_ms
    }

    /// Denominator: the window's length in milliseconds.
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// `floor(10⁶ · online / window)`, for display; decisions use the exact fraction.
    pub fn ppm(&self) -> u32 {
        let ppm = mul_div(self.online_ms.into(), 1_000_000, self.window_ms.into());
        // The fraction is at most 1, so the result is at most 10⁶.
        ppm.and_then(|v| u32::try_from(v).ok()).unwrap_or(1_000_000)
    }

    /// Whether `online / window ≥ threshold`, compared exactly (no rounding of either side).
    pub fn at_least(&self, threshold: Decimal) -> bool {
        let Ok(mantissa) = u128::try_from(threshold.mantissa()) else {
            return true; // a negative threshold is met by any uptime
        };
        let denominator = 10u128.pow(threshold.scale()); // scale ≤ 28 < 38
        cmp_fractions(
            self.online_ms.into(),
            self.window_ms.into(),
            mantissa,
            denominator,
        ) != Ordering::Less
    }
}

/// A stretch of time during which the provider is online with constant GPU counts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OnlineSegment {
    start_ms: UnixMs,
    end_ms: UnixMs,
    /// Online GPU count per class (classes not listed have 0), never 0 for a listed class.
    /// Shared with the observation whose inventory it is, when it is one observation's.
    gpus: Arc<BTreeMap<ClassName, u64>>,
}

/// One provider's online state over time, built from its observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Sorted, disjoint; the provider is offline outside them.
    segments: Vec<OnlineSegment>,
    /// When each observation stands (rule 1), `[start, end)`, online or not.
    standing: Vec<(UnixMs, UnixMs)>,
    /// When the provider counts at all (rule 6).
    registration: Registration,
}

/// When an observation stands: `[start, end)`.
struct Standing<'a> {
    start_ms: UnixMs,
    end_ms: UnixMs,
    observation: &'a Observation,
}

impl Timeline {
    /// Builds `provider`'s timeline from `observations` (observations of other providers are
    /// ignored, so a whole export can be passed) under the standing rule with `max_staleness_ms`.
    pub fn build<'a>(
        provider: &str,
        observations: impl IntoIterator<Item = &'a Observation>,
        max_staleness_ms: DurationMs,
    ) -> Result<Timeline, UptimeError> {
        if max_staleness_ms == 0 {
            return Err(UptimeError::ZeroStaleness);
        }
        let mut mine: Vec<&Observation> = observations
            .into_iter()
            .filter(|o| *o.provider == *provider)
            .collect();
        // Two observations with one key are refused below, so the order among equals is moot.
        mine.sort_unstable_by(|a, b| (&a.prober, a.time_ms).cmp(&(&b.prober, b.time_ms)));
        let mut standings: Vec<Standing> = Vec::with_capacity(mine.len());
        for (i, o) in mine.iter().enumerate() {
            let next = mine.get(i + 1).filter(|n| n.prober == o.prober);
            if next.is_some_and(|n| n.time_ms == o.time_ms) {
                return Err(UptimeError::DuplicateObservation {
                    prober: o.prober.to_string(),
                    provider: o.provider.to_string(),
                    time_ms: o.time_ms,
                });
            }
            let stale_at = add_ms(o.time_ms, max_staleness_ms).unwrap_or(UnixMs(i64::MAX));
            let end_ms = next.map_or(stale_at, |n| n.time_ms.min(stale_at));
            standings.push(Standing {
                start_ms: o.time_ms,
                end_ms,
                observation: o,
            });
        }
        Ok(Timeline {
            standing: standings.iter().map(|s| (s.start_ms, s.end_ms)).collect(),
            segments: sweep(standings),
            registration: Registration::always(),
        })
    }

    /// The timeline restricted to `registration` (rule 6): online segments are cut to the
    /// registered spans, and only the registered part of an observation's standing counts.
    pub fn within(self, registration: &Registration) -> Timeline {
        let mut segments = Vec::with_capacity(self.segments.len());
        for segment in self.segments {
            for (start_ms, end_ms) in registration.clip(segment.start_ms, segment.end_ms) {
                segments.push(OnlineSegment {
                    start_ms,
                    end_ms,
                    gpus: Arc::clone(&segment.gpus),
                });
            }
        }
        Timeline {
            segments,
            standing: self.standing,
            registration: registration.clone(),
        }
    }

    /// How many observations stand inside `window` for some time (rule 1) while the provider is
    /// registered (rule 6): one made at or after the window's end, or whose standing ended by its
    /// start (stale, or replaced by the same prober's next observation), says nothing about the
    /// window and is not counted.
    pub fn observations_standing_in(&self, window: Window) -> u64 {
        let standing = self
            .standing
            .iter()
            .filter(|&&(start, end)| {
                self.registration
                    .clip(start, end)
                    .any(|(a, b)| window.overlap_ms(a, b) > 0)
            })
            .count();
        u64::try_from(standing).unwrap_or(u64::MAX)
    }

    /// Whether the provider is online at `t`.
    pub fn is_online(&self, t: UnixMs) -> bool {
        self.segment_at(t).is_some()
    }

    /// The online GPU count of `class` at `t` (rule 4 of the module docs).
    pub fn online_gpus(&self, class: &ClassName, t: UnixMs) -> u64 {
        self.segment_at(t)
            .and_then(|s| s.gpus.get(class).copied())
            .unwrap_or(0)
    }

    /// Online milliseconds inside `window`.
    pub fn online_ms(&self, window: Window) -> u64 {
        self.segments_in(window)
            .map(|s| window.overlap_ms(s.start_ms, s.end_ms))
            .sum()
    }

    /// Uptime over `window`: online milliseconds over the window's length, exactly.
    pub fn uptime(&self, window: Window) -> Uptime {
        Uptime {
            online_ms: self.online_ms(window),
            window_ms: window.length_ms(),
        }
    }

    /// `online_gpu_ms` of `class` over `window`: `∫ online_gpus(class, t) dt`, in GPU-ms.
    pub fn online_gpu_ms(&self, class: &ClassName, window: Window) -> u128 {
        self.segments_in(window)
            .map(|s| {
                let count = u128::from(s.gpus.get(class).copied().unwrap_or(0));
                count * u128::from(window.overlap_ms(s.start_ms, s.end_ms))
            })
            .fold(0u128, u128::saturating_add)
    }

    /// The provider's self-reported capacity in `class` over `window`, as a count it held for
    /// most of it: the largest `c` such that `online_gpus(class, t) ≥ c` for more than half of
    /// the window (offline time counts as 0). Unlike the integral it is not pulled up by a short
    /// burst, so comparing it with the leased peak shows capacity that leases never backed.
    pub fn online_gpus_most_of(&self, class: &ClassName, window: Window) -> u64 {
        let mut held: Vec<(u64, u64)> = self
            .segments_in(window)
            .map(|s| {
                let count = s.gpus.get(class).copied().unwrap_or(0);
                (count, window.overlap_ms(s.start_ms, s.end_ms))
            })
            .filter(|&(count, _)| count > 0)
            .collect();
        held.sort_unstable_by_key(|&(count, _)| std::cmp::Reverse(count));
        let half = window.length_ms() / 2;
        let mut at_least = 0u64;
        for (count, ms) in held {
            at_least = at_least.saturating_add(ms);
            if at_least > half {
                return count;
            }
        }
        0
    }

    fn segment_at(&self, t: UnixMs) -> Option<&OnlineSegment> {
        let i = self.segments.partition_point(|s| s.end_ms <= t);
        self.segments.get(i).filter(|s| s.start_ms <= t)
    }

    fn segments_in(&self, window: Window) -> impl Iterator<Item = &OnlineSegment> {
        let first = self
            .segments
            .partition_point(|s| s.end_ms <= window.start_ms());
        self.segments
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(move |s| s.start_ms < window.end_ms())
    }
}

/// Turns standing intervals into online segments: between consecutive interval boundaries the
/// set of standing observations is constant, so the majority rule and the minimum GPU counts
/// are evaluated once per stretch. Each prober has at most one standing observation at a time
/// because an observation stops standing when the same prober's next one starts.
fn sweep(mut standings: Vec<Standing>) -> Vec<OnlineSegment> {
    let mut boundaries: Vec<UnixMs> = standings
        .iter()
        .flat_map(|s| [s.start_ms, s.end_ms])
        .collect();
    boundaries.sort_unstable();
    boundaries.dedup();
    standings.sort_by_key(|s| s.start_ms);
    let mut pending = standings.into_iter().peekable();
    let mut active: Vec<Standing> = Vec::new();
    let mut segments: Vec<OnlineSegment> = Vec::new();
    for pair in boundaries.windows(2) {
        let [from, to] = *pair else { continue };
        active.retain(|s| s.end_ms > from);
        while let Some(s) = pending.next_if(|s| s.start_ms <= from) {
            if s.end_ms > from {
                active.push(s);
            }
        }
        let online = active.iter().filter(|s| s.observation.online).count();
        let offline = active.len() - online;
        if active.is_empty() || online < offline {
            continue;
        }
        let gpus = minimum_counts(&active);
        match segments.last_mut() {
            Some(last) if last.end_ms == from && last.gpus == gpus => last.end_ms = to,
            _ => segments.push(OnlineSegment {
                start_ms: from,
                end_ms: to,
                gpus,
            }),
        }
    }
    segments
}

/// Per class, the smallest count among the online observations of `active` that report an
/// inventory. When they all report the same inventory, and it lists no zero count, that
/// inventory is the answer, shared rather than built again: the usual case, one stretch after
/// another.
fn minimum_counts(active: &[Standing]) -> Arc<BTreeMap<ClassName, u64>> {
    let inventories = || {
        active
            .iter()
            .filter(|s| s.observation.online)
            .filter_map(|s| s.observation.gpus.as_ref())
    };
    if let Some(first) = inventories().next() {
        if inventories().all(|other| other == first) && first.values().all(|&count| count > 0) {
            return Arc::clone(first);
        }
    }
    let mut minimum: BTreeMap<ClassName, u64> = BTreeMap::new();
    for class in inventories().flat_map(|inv| inv.keys()) {
        if minimum.contains_key(class) {
            continue;
        }
        let count = inventories()
            .map(|inv| inv.get(class).copied().unwrap_or(0))
            .min()
            .unwrap_or(0);
        if count > 0 {
            minimum.insert(class.clone(), count);
        }
    }
    Arc::new(minimum)
}
