//! Uptime as a function of observations: hand-computed windows and properties.

use domain::{ClassName, GpuModel, UnixMs};
use proptest::prelude::*;
use rewards::calendar::Window;
use rewards::leases::{leased_gpu_ms, leased_peak_gpus, Lease, LeaseError};
use rewards::programme::GpuClass;
use rewards::registration::{RegisteredSpan, Registration};
use rewards::uptime::{Observation, Timeline, Uptime, UptimeError};
use std::collections::BTreeMap;

const P: &str = "akash1provider";

fn class_name(name: &str) -> ClassName {
    ClassName::new(name).unwrap()
}

fn obs(prober: &str, time_ms: i64, online: bool, gpus: Option<u64>) -> Observation {
    Observation {
        prober: prober.into(),
        provider: P.into(),
        time_ms: UnixMs(time_ms),
        online,
        gpus: gpus.map(|n| BTreeMap::from([(class_name("h100"), n)]).into()),
    }
}

fn window(a: i64, b: i64) -> Window {
    Window::new(UnixMs(a), UnixMs(b)).unwrap()
}

fn uptime(observations: &[Observation], staleness: u64, w: Window) -> (u64, u64) {
    let u = Timeline::build(P, observations, staleness)
        .unwrap()
        .uptime(w);
    (u.online_ms(), u.window_ms())
}

/// Window [0, 100), staleness 1000 (nothing expires).
/// - [0, 50): eu-1 online, us-1 offline → 1 vs 1, a tie counts as online;
/// - [50, 60): eu-1 now offline too → 0 vs 2, offline;
/// - [60, 100): ap-1 says online → 1 vs 2, still offline.
///
/// Uptime 50/100.
#[test]
fn disagreeing_probers_follow_the_majority_with_ties_online() {
    let o = [
        obs("eu-1", 0, true, Some(8)),
        obs("us-1", 0, false, None),
        obs("eu-1", 50, false, None),
        obs("ap-1", 60, true, Some(8)),
    ];
    assert_eq!(uptime(&o, 1000, window(0, 100)), (50, 100));
    let t = Timeline::build(P, &o, 1000).unwrap();
    assert!(t.is_online(UnixMs(49)));
    assert!(!t.is_online(UnixMs(50)));
    assert!(!t.is_online(UnixMs(99)));
}

/// Window [0, 100), staleness 30. Online at 0 stands on [0, 30) and then expires: with no
/// standing observation the provider is offline. Online again at 80: [80, 100) inside the
/// window. Uptime (30 + 20)/100.
#[test]
fn staleness_expires_in_the_middle_of_an_epoch() {
    let o = [obs("eu-1", 0, true, None), obs("eu-1", 80, true, None)];
    assert_eq!(uptime(&o, 30, window(0, 100)), (50, 100));
    let t = Timeline::build(P, &o, 30).unwrap();
    assert!(t.is_online(UnixMs(29)));
    assert!(!t.is_online(UnixMs(30)));
}

/// Observations exactly on the boundaries of [100, 200):
/// - online at 100 (the window's start) counts from 100;
/// - offline at 150;
/// - online at 200 (the window's end) belongs to the next window only.
///
/// Uptime 50/100 in [100, 200); the next window [200, 300) is fully online.
#[test]
fn an_observation_exactly_at_the_window_boundary() {
    let o = [
        obs("eu-1", 100, true, None),
        obs("eu-1", 150, false, None),
        obs("eu-1", 200, true, None),
    ];
    assert_eq!(uptime(&o, 1000, window(100, 200)), (50, 100));
    assert_eq!(uptime(&o, 1000, window(200, 300)), (100, 100));
    assert_eq!(uptime(&o, 1000, window(0, 100)), (0, 100));
}

/// Online GPU count is the minimum among standing online observations that report one:
/// [0, 40): eu-1 says 8 → 8; [40, 100): us-1 also online, says 6 → 6.
/// An observation without inventory (ap-1 at 70) does not lower it.
/// online_gpu_ms over [0, 100) = 8·40 + 6·60 = 680.
/// Window [100, 200), staleness 30. Counted: what stands inside the window for some time.
/// - eu-1 at 70 stands on [70, 100): stale exactly at the start, not counted;
/// - us-1 at 75 is replaced by us-1 at 90, which stands on [90, 120): 75 not counted, 90 is;
/// - eu-1 at 150 and us-1 at 199 are; eu-1 at 200 (the end) is not.
#[test]
fn only_observations_standing_inside_the_window_are_counted() {
    let observations = [
        obs("eu-1", 70, true, None),
        obs("us-1", 75, true, None),
        obs("us-1", 90, false, None),
        obs("eu-1", 150, true, None),
        obs("us-1", 199, true, None),
        obs("eu-1", 200, true, None),
    ];
    let timeline = Timeline::build(P, &observations, 30).unwrap();
    assert_eq!(timeline.observations_standing_in(window(100, 200)), 3);
    // One millisecond earlier, eu-1 at 70 stands on the window's first millisecond.
    assert_eq!(timeline.observations_standing_in(window(99, 200)), 4);
}

#[test]
fn online_gpu_count_is_the_smallest_standing_report() {
    let o = [
        obs("eu-1", 0, true, Some(8)),
        obs("us-1", 40, true, Some(6)),
        obs("ap-1", 70, true, None),
    ];
    let t = Timeline::build(P, &o, 1000).unwrap();
    assert_eq!(t.online_gpus(&class_name("h100"), UnixMs(10)), 8);
    assert_eq!(t.online_gpus(&class_name("h100"), UnixMs(50)), 6);
    assert_eq!(t.online_gpus(&class_name("a100"), UnixMs(50)), 0);
    assert_eq!(t.online_gpu_ms(&class_name("h100"), window(0, 100)), 680);
}

/// A reader of many observations (`verify`) gives every observation that reports one inventory
/// the same shared map, which the timeline then shares too: the timeline must be the one that
/// copies of the map give, a class listed with 0 GPUs included.
#[test]
fn a_shared_inventory_measures_as_its_copies() {
    let inventory = BTreeMap::from([(class_name("h100"), 4), (class_name("a100"), 0)]);
    let shared = std::sync::Arc::new(inventory.clone());
    let observations = |gpus: &dyn Fn() -> std::sync::Arc<BTreeMap<ClassName, u64>>| {
        ["eu-1", "us-1", "ap-1"]
            .iter()
            .enumerate()
            .flat_map(|(p, prober)| (0..5i64).map(move |round| (p, prober, round)))
            .map(|(p, prober, round)| Observation {
                gpus: Some(gpus()),
                ..obs(prober, round * 100 + i64::try_from(p).unwrap(), true, None)
            })
            .collect::<Vec<_>>()
    };
    let from_shared = observations(&|| std::sync::Arc::clone(&shared));
    let from_copies = observations(&|| std::sync::Arc::new(inventory.clone()));
    let t = Timeline::build(P, &from_shared, 150).unwrap();
    assert_eq!(t, Timeline::build(P, &from_copies, 150).unwrap());
    let w = window(0, 600);
    assert_eq!(t.uptime(w).online_ms(), 552);
    assert_eq!(t.online_gpu_ms(&class_name("h100"), w), 4 * 552);
    assert_eq!(t.online_gpus(&class_name("a100"), UnixMs(50)), 0);
    assert_eq!(t.online_gpus_most_of(&class_name("h100"), w), 4);
    assert_eq!(t.online_gpus_most_of(&class_name("a100"), w), 0);
}

/// Online without any inventory counts as online time but 0 GPUs: capacity nobody measured is
/// not paid for. [0, 50): eu-1 online, no inventory → 0 GPUs; [50, 100): us-1 reports 4 → 4.
/// An inventory that lacks the class counts 0 for it even when another prober reports more.
#[test]
fn online_without_an_inventory_has_no_gpus() {
    let o = [obs("eu-1", 0, true, None), obs("us-1", 50, true, Some(4))];
    let t = Timeline::build(P, &o, 1000).unwrap();
    assert_eq!(t.uptime(window(0, 100)).online_ms(), 100);
    assert_eq!(t.online_gpus(&class_name("h100"), UnixMs(10)), 0);
    assert_eq!(t.online_gpus(&class_name("h100"), UnixMs(60)), 4);
    assert_eq!(t.online_gpu_ms(&class_name("h100"), window(0, 100)), 200);

    let mut other_class = obs("ap-1", 70, true, None);
    other_class.gpus = Some(BTreeMap::from([(class_name("a100"), 8)]).into());
    let t = Timeline::build(P, &[o[0].clone(), o[1].clone(), other_class], 1000).unwrap();
    assert_eq!(t.online_gpus(&class_name("h100"), UnixMs(80)), 0);
    assert_eq!(t.online_gpus(&class_name("a100"), UnixMs(80)), 0);
    assert_eq!(t.online_gpu_ms(&class_name("h100"), window(0, 100)), 4 * 20);
}

#[test]
fn other_providers_and_bad_inputs() {
    let mut other = obs("eu-1", 0, true, None);
    other.provider = "akash1other".into();
    assert_eq!(uptime(&[other], 1000, window(0, 10)), (0, 10));
    assert_eq!(
        Timeline::build(P, &[obs("eu-1", 0, true, None)], 0),
        Err(UptimeError::ZeroStaleness)
    );
    assert!(matches!(
        Timeline::build(
            P,
            &[obs("eu-1", 5, true, None), obs("eu-1", 5, false, None)],
            10
        ),
        Err(UptimeError::DuplicateObservation {
            time_ms: UnixMs(5),
            ..
        })
    ));
    // Times at the ends of the i64 range and the longest staleness: no overflow, no panic.
    let extreme = [
        obs("eu-1", i64::MIN, true, Some(u64::MAX)),
        obs("us-1", i64::MAX, true, Some(u64::MAX)),
    ];
    let t = Timeline::build(P, &extreme, u64::MAX).unwrap();
    let everything = window(i64::MIN, i64::MAX);
    assert_eq!(t.uptime(everything).online_ms(), u64::MAX);
    assert_eq!(
        t.online_gpu_ms(&class_name("h100"), everything),
        u128::from(u64::MAX) * u128::from(u64::MAX)
    );
    assert!(Uptime::new(11, 10).is_err());
    assert!(Uptime::new(0, 0).is_err());
    // Stored or exported uptimes are checked when read back, not trusted.
    assert!(serde_json::from_str::<Uptime>(r#"{"online_ms":11,"window_ms":10}"#).is_err());
    assert!(serde_json::from_str::<Window>(r#"{"start_ms":5,"end_ms":5}"#).is_err());
    let u: Uptime = serde_json::from_str(r#"{"online_ms":3,"window_ms":10}"#).unwrap();
    assert_eq!(u.ppm(), 300_000);
}

#[test]
fn uptime_thresholds_compare_exactly() {
    let u = Uptime::new(949_999, 1_000_000).unwrap();
    assert!(!u.at_least("0.95".parse().unwrap()));
    assert!(u.at_least("0.949999".parse().unwrap()));
    assert_eq!(u.ppm(), 949_999);
    let third = Uptime::new(1, 3).unwrap();
    assert!(third.at_least("0.3333333333333333333333333333".parse().unwrap()));
    assert!(!third.at_least("0.3333333333333333333333333334".parse().unwrap()));
}

fn class(name: &str, model: &str, ram: Option<&str>) -> GpuClass {
    GpuClass {
        name: class_name(name),
        gpu_model: GpuModel::normalise(model).unwrap(),
        gpu_ram: ram.map(Into::into),
    }
}

fn lease(
    units: u64,
    model: Option<&str>,
    ram: Option<&str>,
    created: i64,
    closed: Option<i64>,
) -> Lease {
    Lease {
        gpu_units: units,
        model: model.map(Into::into),
        ram: ram.map(Into::into),
        created_ms: UnixMs(created),
        closed_ms: closed.map(UnixMs),
    }
}

/// Window [100, 200):
/// - 2 × h100 80Gi, [50, 150) → 2 × 50 = 100 in class h100-80;
/// - 1 × H100 (model case differs) 80gi, open since 180 → runs to the end: 20;
/// - 4 × h100 without ram info → no class names it (h100-80 needs 80Gi): unattributed 4 × 100;
/// - 1 × unknown model → unattributed 100;
/// - 3 × a100 (class without ram), [120, 130) → 30.
#[test]
fn leased_gpu_ms_per_class_with_unattributed_hours() {
    let classes = [
        class("h100-80", "h100", Some("80Gi")),
        class("a100", "a100", None),
    ];
    let leases = [
        lease(2, Some("h100"), Some("80Gi"), 50, Some(150)),
        lease(1, Some("H100"), Some("80gi"), 180, None),
        lease(4, Some("h100"), None, 0, None),
        lease(1, None, None, 0, Some(500)),
        lease(3, Some("a100"), Some("40Gi"), 120, Some(130)),
        lease(9, Some("a100"), None, 200, None),
    ];
    let out = leased_gpu_ms(&leases, &classes, window(100, 200)).unwrap();
    assert_eq!(out.by_class["h100-80"], 120);
    assert_eq!(out.by_class["a100"], 30);
    assert_eq!(out.unattributed, 500);
    assert_eq!(
        leased_gpu_ms(&[lease(1, None, None, 10, Some(5))], &classes, window(0, 1)),
        Err(LeaseError {
            created_ms: UnixMs(10),
            closed_ms: UnixMs(5)
        })
    );
}

fn registered(spans: &[(Option<i64>, Option<i64>)]) -> Registration {
    Registration::new(spans.iter().map(|&(from, until)| RegisteredSpan {
        from_ms: from.map(UnixMs),
        until_ms: until.map(UnixMs),
    }))
    .unwrap()
}

/// Window [0, 100), staleness 1000, eu-1 online with 8 GPUs from 0 and again at 70, the
/// provider registered on [20, 50) and from 90 on (deleted at 50, created again at 90):
/// - online 30 + 10 = 40 ms, 8 × 40 online GPU-ms, whatever the observations say outside;
/// - the observation at 0 stands on [0, 70), partly registered: counted; the one at 70 stands on
///   [70, ∞) and is registered from 90: counted; an observation standing only on [50, 90) is
///   not, and one standing from 85 counts only in a window reaching past 90;
/// - a lease [10, 95) counts only on [20, 50) and [90, 95), and an open one stays open.
#[test]
fn only_the_registered_part_of_the_timeline_counts() {
    let r = registered(&[(Some(20), Some(50)), (Some(90), None)]);
    let h100 = class_name("h100");
    let o = [
        obs("eu-1", 0, true, Some(8)),
        obs("eu-1", 70, true, Some(8)),
    ];
    let t = Timeline::build(P, &o, 1000).unwrap().within(&r);
    let w = window(0, 100);
    assert_eq!(t.online_ms(w), 40);
    assert_eq!(t.online_gpu_ms(&h100, w), 320);
    assert!(!t.is_online(UnixMs(10)) && t.is_online(UnixMs(20)) && !t.is_online(UnixMs(50)));
    assert_eq!(t.observations_standing_in(w), 2);
    let between = [obs("eu-1", 55, true, Some(8)), obs("eu-1", 85, false, None)];
    let t = Timeline::build(P, &between, 1000).unwrap().within(&r);
    // 55 stands on [55, 85), never registered; 85 stands from 85 and is registered from 90.
    assert_eq!(t.observations_standing_in(window(0, 100)), 1);
    assert_eq!(t.observations_standing_in(window(0, 90)), 0);
    let classes = [class("h100", "h100", None)];
    let pieces = lease(2, Some("h100"), None, 10, Some(95))
        .within(&r)
        .unwrap();
    let out = leased_gpu_ms(&pieces, &classes, w).unwrap();
    assert_eq!(out.by_class["h100"], 2 * (30 + 5));
    let open = lease(1, Some("h100"), None, 95, None).within(&r).unwrap();
    assert_eq!(open, vec![lease(1, Some("h100"), None, 95, None)]);
    assert_eq!(
        lease(1, None, None, 10, Some(5)).within(&r),
        Err(LeaseError {
            created_ms: UnixMs(10),
            closed_ms: UnixMs(5)
        })
    );
    let never = Timeline::build(P, &o, 1000)
        .unwrap()
        .within(&Registration::default());
    assert_eq!(
        (never.online_ms(w), never.observations_standing_in(w)),
        (0, 0)
    );
}

/// Window [0, 100):
/// - reported capacity: 8 GPUs on [0, 30), 2 on [30, 100) → 2 for most of the window (≥ 2 for
///   100 ms, ≥ 8 only for 30); with 8 on [0, 60) it is 8; offline most of the time it is 0;
/// - leases of h100: 2 on [10, 40), 3 on [40, 70) (back to back: never 5), 1 open from 50 → peak
///   4 on [50, 70); a lease before the window and one of another class do not count.
#[test]
fn reported_capacity_for_most_of_the_window_and_the_leased_peak() {
    let h100 = class_name("h100");
    let w = window(0, 100);
    let mostly = |o: &[Observation]| {
        Timeline::build(P, o, 1000)
            .unwrap()
            .online_gpus_most_of(&h100, w)
    };
    assert_eq!(
        mostly(&[
            obs("eu-1", 0, true, Some(8)),
            obs("eu-1", 30, true, Some(2))
        ]),
        2
    );
    assert_eq!(
        mostly(&[
            obs("eu-1", 0, true, Some(8)),
            obs("eu-1", 60, true, Some(2))
        ]),
        8
    );
    assert_eq!(
        mostly(&[obs("eu-1", 0, true, Some(8)), obs("eu-1", 40, false, None)]),
        0
    );
    let classes = [class("h100", "h100", None), class("a100", "a100", None)];
    let leases = [
        lease(2, Some("h100"), None, 10, Some(40)),
        lease(3, Some("h100"), None, 40, Some(70)),
        lease(1, Some("h100"), None, 50, None),
        lease(9, Some("h100"), None, -50, Some(0)),
        lease(6, Some("a100"), None, 0, Some(5)),
    ];
    let peaks = leased_peak_gpus(&leases, &classes, w).unwrap();
    assert_eq!(peaks[&h100], 4);
    assert_eq!(peaks[&class_name("a100")], 6);
    assert!(leased_peak_gpus(&[lease(1, None, None, 10, Some(5))], &classes, w).is_err());
}

fn arb_observations() -> impl Strategy<Value = Vec<Observation>> {
    prop::collection::vec(
        (
            0..3usize,
            0i64..1_000,
            any::<bool>(),
            prop::option::of(0u64..9),
        ),
        0..40,
    )
    .prop_map(|raw| {
        let mut seen = std::collections::BTreeSet::new();
        raw.into_iter()
            .filter(|(p, t, _, _)| seen.insert((*p, *t)))
            .map(|(p, t, online, gpus)| obs(["eu-1", "us-1", "ap-1"][p], t, online, gpus))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn uptime_is_a_fraction_in_zero_one(o in arb_observations(), stale in 1u64..300, a in -100i64..1_100, len in 1i64..1_200) {
        let w = window(a, a + len);
        let u = Timeline::build(P, &o, stale).unwrap().uptime(w);
        prop_assert!(u.online_ms() <= u.window_ms());
        prop_assert_eq!(u.window_ms(), len as u64);
        prop_assert!(u.ppm() <= 1_000_000);
    }

    #[test]
    fn splitting_a_window_never_changes_online_time(o in arb_observations(), stale in 1u64..300, a in -100i64..1_100, l1 in 1i64..600, l2 in 1i64..600) {
        let t = Timeline::build(P, &o, stale).unwrap();
        let (b, c) = (a + l1, a + l1 + l2);
        prop_assert_eq!(
            t.online_ms(window(a, c)),
            t.online_ms(window(a, b)) + t.online_ms(window(b, c))
        );
        prop_assert_eq!(
            t.online_gpu_ms(&class_name("h100"), window(a, c)),
            t.online_gpu_ms(&class_name("h100"), window(a, b)) + t.online_gpu_ms(&class_name("h100"), window(b, c))
        );
    }

    #[test]
    fn a_registration_only_removes_time_and_keeps_what_it_covers(o in arb_observations(), stale in 1u64..300, from in 0i64..1_000, len in 0i64..1_000) {
        let w = window(0, 1_000);
        let full = Timeline::build(P, &o, stale).unwrap();
        let r = registered(&[(Some(from), Some(from + len))]);
        let cut = full.clone().within(&r);
        prop_assert!(cut.online_ms(w) <= full.online_ms(w).min(r.registered_ms(w)));
        prop_assert!(cut.observations_standing_in(w) <= full.observations_standing_in(w));
        if len > 0 && from + len <= 1_000 {
            let span = window(from, from + len);
            prop_assert_eq!(cut.online_ms(span), full.online_ms(span));
            prop_assert_eq!(cut.is_online(UnixMs(from)), full.is_online(UnixMs(from)));
        }
    }

    #[test]
    fn the_count_held_for_most_of_a_window_is_backed_by_its_integral(o in arb_observations(), stale in 1u64..300, a in -100i64..1_100, len in 1i64..1_200) {
        let w = window(a, a + len);
        let t = Timeline::build(P, &o, stale).unwrap();
        let h100 = class_name("h100");
        let mostly = u128::from(t.online_gpus_most_of(&h100, w));
        // Held for more than half the window, so the integral exceeds half of count × window.
        prop_assert!(mostly == 0 || 2 * t.online_gpu_ms(&h100, w) > mostly * len as u128);
    }

    #[test]
    fn the_leased_peak_bounds_the_leased_time(spans in prop::collection::vec((0i64..200, 0i64..200, 1u64..9), 0..12), a in 0i64..200, len in 1i64..200) {
        let classes = [class("h100", "h100", None)];
        let leases: Vec<Lease> = spans.iter()
            .map(|&(start, length, units)| lease(units, Some("h100"), None, start, Some(start + length)))
            .collect();
        let w = window(a, a + len);
        let peak = leased_peak_gpus(&leases, &classes, w).unwrap().get(&class_name("h100")).copied().unwrap_or(0);
        let leased = leased_gpu_ms(&leases, &classes, w).unwrap().by_class.get(&class_name("h100")).copied().unwrap_or(0);
        prop_assert!(leased <= u128::from(peak) * len as u128);
        prop_assert_eq!(peak == 0, leased == 0);
    }

    #[test]
    fn adding_an_online_observation_never_lowers_uptime(o in arb_observations(), stale in 1u64..300, prober in 0..4usize, time in 0i64..1_000, gpus in prop::option::of(0u64..9)) {
        let name = ["eu-1", "us-1", "ap-1", "new-1"][prober];
        prop_assume!(!o.iter().any(|x| *x.prober == *name && x.time_ms == UnixMs(time)));
        let w = window(0, 1_000);
        let before = Timeline::build(P, &o, stale).unwrap().uptime(w);
        let mut more = o.clone();
        more.push(obs(name, time, true, gpus));
        let after = Timeline::build(P, &more, stale).unwrap().uptime(w);
        prop_assert!(after.online_ms() >= before.online_ms());
    }
}
