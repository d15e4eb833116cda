//! The demo's world on 127.0.0.1: a synthetic chain served as a CometBFT RPC node, and one
//! fake provider for each provider the chain registers, each registered with its fake's
//! address so the prober reaches it. Nothing leaves this machine.

use anyhow::Context as _;
use simnet::chain::generate::{self, GenerateOptions, GenerationSummary, SyntheticProvider};
use simnet::chain::{ChainServer, ChainSource, ServeOptions};
use simnet::providers::{Behaviour, FakeGpu, FakeNode, FakeProvider, FakeProviderSpec};

/// How many providers register (each with a fake).
pub(super) const PROVIDERS: u32 = 10;
/// The provider whose fake never answers.
const NEVER_ANSWERS: usize = 2;
/// The provider [`World::take_offline`] stops.
const GOES_OFFLINE: usize = 1;
/// GPUs on each fake's node.
const GPUS_PER_PROVIDER: u32 = 8;

/// The running chain and providers; they stop when it is dropped.
pub(super) struct World {
    pub chain: ChainServer,
    pub fakes: Vec<FakeProvider>,
    /// The providers the chain registers, the fakes' owners, in the same order.
    pub providers: Vec<SyntheticProvider>,
    pub summary: GenerationSummary,
    pub first_height: u64,
    pub last_height: u64,
    /// The last block's time, in unix seconds.
    pub last_block_unix: i64,
    /// The runtime the servers run on, kept apart from the commands' own runtimes.
    runtime: tokio::runtime::Runtime,
}

impl World {
    /// Starts the fakes, then generates a chain of `blocks` one-second blocks from
    /// `start_unix` whose providers are the fakes, and serves it. One provider never answers;
    /// [`World::take_offline`] stops another when the demo says.
    pub(super) fn start(start_unix: i64, blocks: u64) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the demo's servers")?;
        let mut options = GenerateOptions {
            seed: 2024,
            blocks,
            providers: PROVIDERS,
            start_unix,
            block_seconds: 1,
            ..GenerateOptions::default()
        };
        let providers = generate::providers(&options)?;
        let (chain, fakes, summary) = runtime.block_on(async {
            let mut fakes = Vec::with_capacity(providers.len());
            for (i, provider) in providers.iter().enumerate() {
                let nodes = provider
                    .gpus
                    .iter()
                    .enumerate()
                    .map(|(n, (model, ram))| {
                        let gpu = FakeGpu::nvidia(model, ram, "SXM");
                        FakeNode::with_gpus(&format!("node-{n}"), &gpu, GPUS_PER_PROVIDER, 2)
                    })
                    .collect();
                let mut spec = FakeProviderSpec::up(&provider.address, nodes);
                if i == NEVER_ANSWERS {
                    spec = spec.behaving(Behaviour::Down);
                }
                fakes.push(FakeProvider::start(spec).await?);
            }
            options.host_uris = fakes.iter().map(FakeProvider::host_uri).collect();
            let (chain, summary) = generate::generate_in_memory(&options)?;
            let server =
                ChainServer::start(ChainSource::memory(chain)?, ServeOptions::default()).await?;
            anyhow::Ok((server, fakes, summary))
        })?;
        Ok(Self {
            chain,
            fakes,
            providers,
            summary,
            first_height: options.first_height,
            last_height: options.first_height + blocks - 1,
            last_block_unix: start_unix + i64::try_from(blocks)? - 1,
            runtime,
        })
    }

    /// Takes one provider offline, as from now: its ports close.
    pub(super) fn take_offline(&self) -> String {
        let fake = &self.fakes[GOES_OFFLINE];
        self.runtime.block_on(fake.set_behaviour(Behaviour::Down));
        fake.owner().to_owned()
    }
}
