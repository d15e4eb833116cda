//! Settles a programme of the proposal's size: 120 daily epochs, 1,000 providers, about
//! 10,000 GPUs in 5 classes, 50 committed contracts (plus 10 R&D grants).
//!
//! Run with `cargo bench -p rewards`. Inputs are generated deterministically before timing; the
//! timed part is `Engine::new` plus the 120 `settle_epoch` calls, single-threaded. The target
//! is under 1 s for the whole programme.

#[path = "../tests/common/generate.rs"]
mod generate;

use generate::{generate, Shape};
use rewards::settle::{Engine, ProgrammeState};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let shape = Shape {
        epochs: 120,
        epoch_length_ms: 86_400_000,
        providers: 1_000,
        total_gpus: 10_000,
        contracts: 50,
        grants: 10,
        rnd_pro_rata: true,
        unregistered_per_mille: 0,
    };
    let (programme, inputs) = generate(shape, 2024);
    let gpus: u128 = inputs
        .first()
        .map(|i| {
            i.measurements
                .values()
                .flat_map(|m| m.values())
                .map(|m| m.online_gpu_ms)
                .sum()
        })
        .unwrap_or(0)
        / 86_400_000;
    println!(
        "settle: {} epochs, {} providers, ~{} GPUs online in epoch 0, {} classes, {} contracts",
        shape.epochs,
        shape.providers,
        gpus,
        programme.gpu_classes.len(),
        shape.contracts
    );
    let mut totals: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut lines = 0usize;
    let rnd_classes = programme
        .rnd
        .as_ref()
        .and_then(|p| p.pro_rata.as_ref())
        .map_or(0, |r| r.classes.len());
    println!("R&D pro-rata classes: {rnd_classes}");
    for _ in 0..RUNS {
        let started = Instant::now();
        let engine = match Engine::new(&programme) {
            Ok(engine) => engine,
            Err(errors) => {
                eprintln!("generated programme is invalid: {errors:?}");
                std::process::exit(1);
            }
        };
        let mut state = ProgrammeState::default();
        lines = 0;
        for epoch_inputs in &inputs {
            match engine.settle_epoch(&mut state, epoch_inputs) {
                Ok(settled) => lines += settled.line_items.len(),
                Err(e) => {
                    eprintln!("settlement failed: {e}");
                    std::process::exit(1);
                }
            }
        }
        totals.push(started.elapsed());
        std::hint::black_box(&state);
    }
    totals.sort();
    let median = totals[RUNS / 2];
    let best = totals[0];
    let per_epoch = median / shape.epochs;
    println!("line items per run: {lines}");
    println!(
        "total: median {} ms, best {} ms over {RUNS} runs; per epoch: median {} µs",
        median.as_millis(),
        best.as_millis(),
        per_epoch.as_micros()
    );
    println!(
        "target < 1000 ms total: {}",
        if median < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );
}
