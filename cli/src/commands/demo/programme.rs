//! The demo's configuration: the synthetic chain on its loopback port, a SQLite file in the
//! demo folder, a prober signing with a key made for the run, and a miniature programme of
//! three short epochs with all three pools.

use domain::UnixMs;

/// The demo programme's name: its folder in the reports.
pub(super) const NAME: &str = "demo";
/// How many epochs it has.
pub(super) const EPOCHS: u32 = 3;
/// Seconds between probe rounds.
pub(super) const PROBE_SECONDS: u64 = 5;

/// What the configuration is made from.
pub(super) struct DemoSetup<'a> {
    pub rpc_url: &'a str,
    pub start_height: u64,
    pub watched_wallet: &'a str,
    pub database: &'a str,
    pub public_key: &'a str,
    /// The start of epoch 0, in unix seconds.
    pub start_unix: i64,
    pub epoch_seconds: u64,
    /// The provider the one committed contract is with, and the class its GPUs fall in.
    pub committed_provider: &'a str,
    pub committed_class: &'a str,
}

/// The classes, named as the synthetic chain's GPUs are: (name, model, memory, share of the
/// liquidity-mining budget in hundredths). H200s launched in 2024, so they are the R&D pool's.
pub(super) const CLASSES: [(&str, &str, &str, u32); 7] = [
    ("a100-80gi", "a100", "80Gi", 25),
    ("a100-40gi", "a100", "40Gi", 10),
    ("h100", "h100", "80Gi", 30),
    ("t4", "t4", "16Gi", 5),
    ("rtx4090", "rtx4090", "24Gi", 10),
    ("l40s", "l40s", "48Gi", 20),
    ("h200", "h200", "141Gi", 0),
];

/// The configuration file's text.
pub(super) fn config_text(setup: &DemoSetup) -> String {
    let start = UnixMs(setup.start_unix * 1000);
    let mut toml = format!(
        "# Written by `akash-incentives demo`: a synthetic chain and fake providers on 127.0.0.1.\n\n\
         [chain]\nchain_id = \"akashnet-2\"\nrpc_urls = [\"{rpc}\"]\nstart_height = {height}\n\
         watched_wallets = [\"{wallet}\"]\nfetch_concurrency = 8\nbatch_size = 50\n\
         request_timeout = \"5s\"\n\n\
         [database]\nurl = \"{database}\"\n\n\
         [prober]\nid = \"demo\"\ninterval = \"{probe}s\"\ntimeout = \"2s\"\nconcurrency = 16\n\
         max_staleness = \"{staleness}s\"\nkey_file = \"demo-prober.key\"\n\n\
         [[prober.vantage]]\nid = \"demo\"\npublic_key = \"{key}\"\n\n\
         [metrics]\nlisten = \"127.0.0.1:0\"\n\n\
         [program]\nname = \"{NAME}\"\nstart = \"{start}\"\nepoch_length = \"{epoch}s\"\n\
         epochs = {EPOCHS}\ndenom = \"uakt\"\n\n",
        rpc = setup.rpc_url,
        height = setup.start_height,
        wallet = setup.watched_wallet,
        database = setup.database,
        probe = PROBE_SECONDS,
        staleness = 2 * PROBE_SECONDS,
        key = setup.public_key,
        epoch = setup.epoch_seconds,
    );
    for (name, model, ram, _) in CLASSES {
        toml += &format!(
            "[[classes]]\nname = \"{name}\"\ngpu_model = \"{model}\"\ngpu_ram = \"{ram}\"\n\n"
        );
    }
    let shares: Vec<String> = CLASSES
        .iter()
        .filter(|(.., share)| *share > 0)
        .map(|(name, .., share)| format!("{{ class = \"{name}\", share = \"0.{share:02}\" }}"))
        .collect();
    toml += &format!(
        "[vesting.immediate]\nkind = \"immediate\"\n\n\
         [vesting.two-epochs]\nkind = \"periodic\"\nperiod = \"{epoch}s\"\ncount = 2\n\n\
         [pools.committed]\nbudget = {{ base_units = \"50000000\" }}\nverify_capacity = true\n\n\
         [[pools.committed.contracts]]\nid = \"demo-commitment\"\nprovider = \"{provider}\"\n\
         class = \"{class}\"\ngpus = 8\nrate = {{ base_units = \"2400000\" }}\n\
         start = \"{start}\"\nterm = \"365d\"\nsla_uptime = \"0.9\"\nvesting = \"two-epochs\"\n\
         max_consecutive_breaches = 1\n\n\
         [pools.liquidity_mining]\nbudget = {{ base_units = \"30000000\" }}\nalpha = \"1\"\n\
         beta = \"1\"\nmin_uptime = \"0.5\"\nvesting = \"immediate\"\nclasses = [{shares}]\n\n\
         [pools.rnd]\nbudget = {{ base_units = \"9000000\" }}\nalpha = \"1\"\nbeta = \"1\"\n\
         min_uptime = \"0.5\"\nvesting = \"immediate\"\nclasses = [{{ class = \"h200\", share = \"1\" }}]\n",
        epoch = setup.epoch_seconds,
        provider = setup.committed_provider,
        class = setup.committed_class,
        shares = shares.join(", "),
    );
    toml
}

/// The class a GPU of `model` and `ram` falls in.
pub(super) fn class_of(model: &str, ram: &str) -> Option<&'static str> {
    CLASSES
        .iter()
        .find(|(_, m, r, _)| *m == model && *r == ram)
        .map(|(name, ..)| *name)
}
