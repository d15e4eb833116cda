//! `simnet providers`: fake Akash providers on 127.0.0.1 for demos and manual tests of the
//! prober (`probe --once --grpc-port rest+1 --target OWNER=URI …`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use simnet::providers::{Behaviour, FakeGpu, FakeNode, FakeProvider, FakeProviderSpec};

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// A JSON file holding an array of provider specs ({owner, version, nodes, script,
    /// rest_shape}); replaces --count, --behaviour, --version and --gpus.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["count", "behaviour", "version", "gpus"])]
    spec: Option<PathBuf>,

    /// How many fakes to start.
    #[arg(long, default_value_t = 3)]
    count: usize,

    /// How they behave: up, down, hang, bad_tls, garbage_json, garbage_status or http_500.
    #[arg(long, default_value = "up")]
    behaviour: String,

    /// The version they report (below 0.5.0 they serve only REST /status, like old providers).
    #[arg(long, default_value = "0.6.4")]
    version: String,

    /// GPUs on each fake's single node (NVIDIA A100 80Gi SXM, a quarter of them allocated).
    #[arg(long, default_value_t = 8)]
    gpus: u32,

    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECONDS")]
    seconds: Option<u64>,
}

pub fn run(args: ProvidersArgs, context: &Context) -> anyhow::Result<()> {
    let specs = match &args.spec {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str::<Vec<FakeProviderSpec>>(&text).map_err(|e| {
                UsageError(format!(
                    "{}: not a list of provider specs: {e}",
                    path.display()
                ))
            })?
        }
        None => generated_specs(&args)?,
    };
    let runtime = context.runtime()?;
    runtime.block_on(async {
        let mut fakes = Vec::with_capacity(specs.len());
        for spec in specs {
            fakes.push(FakeProvider::start(spec).await?);
        }
        let mut targets = Vec::new();
        for fake in &fakes {
            let grpc = fake
                .grpc_addr()
                .map_or_else(|| "none".to_string(), |a| a.to_string());
            println!(
                "{} {} grpc={grpc} behaviour={} cert_sha256={}",
                fake.owner(),
                fake.host_uri(),
                fake.behaviour().name(),
                fake.cert_sha256()
            );
            targets.push(format!("--target {}={}", fake.owner(), fake.host_uri()));
        }
        println!(
            "probe them with: akash-incentives probe --once --grpc-port rest+1 {}",
            targets.join(" ")
        );
        match args.seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => tokio::signal::ctrl_c().await?,
        }
        drop(fakes);
        anyhow::Ok(())
    })
}

fn generated_specs(args: &ProvidersArgs) -> anyhow::Result<Vec<FakeProviderSpec>> {
    let behaviour = Behaviour::from_name(&args.behaviour).ok_or_else(|| {
        let names: Vec<&str> = Behaviour::ALL.iter().map(|b| b.name()).collect();
        UsageError(format!(
            "--behaviour {:?} is not one of {}",
            args.behaviour,
            names.join(", ")
        ))
    })?;
    let gpu = FakeGpu::nvidia("a100", "80Gi", "SXM4");
    Ok((0..args.count)
        .map(|i| {
            let node = FakeNode::with_gpus("gpu-node-1", &gpu, args.gpus, args.gpus / 4);
            FakeProviderSpec::up(&format!("akash1fakeprovider{i:04}"), vec![node])
                .with_version(&args.version)
                .behaving(behaviour)
        })
        .collect())
}
