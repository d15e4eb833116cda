// The diesel view of the tables in migrations/. Written by hand because the same schema must
// describe both backends; only types the MultiConnection supports are used.

diesel::table! {
    blocks (height) {
        height -> BigInt,
        time -> Text,
        time_ms -> BigInt,
        hash -> Text,
        tx_count -> Integer,
        failed_tx_count -> Integer,
    }
}

diesel::table! {
    indexer_cursor (chain_id) {
        chain_id -> Text,
        height -> BigInt,
        updated_at_ms -> BigInt,
    }
}

diesel::table! {
    providers (owner) {
        owner -> Text,
        host_uri -> Text,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        created_height -> Nullable<BigInt>,
        updated_height -> Nullable<BigInt>,
        deleted_height -> Nullable<BigInt>,
    }
}

diesel::table! {
    provider_attributes (owner, key, set_height) {
        owner -> Text,
        key -> Text,
        value -> Text,
        set_height -> BigInt,
        unset_height -> Nullable<BigInt>,
    }
}

diesel::joinable!(provider_attributes -> providers (owner));

diesel::table! {
    deployments (owner, dseq) {
        owner -> Text,
        dseq -> BigInt,
        state -> Text,
        created_height -> BigInt,
        closed_height -> Nullable<BigInt>,
    }
}

diesel::table! {
    deployment_groups (owner, dseq, gseq) {
        owner -> Text,
        dseq -> BigInt,
        gseq -> Integer,
        name -> Text,
        state -> Text,
        created_height -> BigInt,
        closed_height -> Nullable<BigInt>,
    }
}

diesel::table! {
    group_resources (owner, dseq, gseq, resource_index) {
        owner -> Text,
        dseq -> BigInt,
        gseq -> Integer,
        resource_index -> Integer,
        resource_id -> BigInt,
        count -> BigInt,
        cpu_millis -> Text,
        memory_bytes -> Text,
        storage_bytes -> Text,
        gpu_units -> BigInt,
        gpu_attributes -> Text,
        price_denom -> Nullable<Text>,
        price_amount -> Nullable<Text>,
    }
}

diesel::table! {
    bids (owner, dseq, gseq, oseq, provider, bseq) {
        owner -> Text,
        dseq -> BigInt,
        gseq -> Integer,
        oseq -> Integer,
        provider -> Text,
        bseq -> Integer,
        price_denom -> Text,
        price_amount -> Text,
        resources_offer -> Text,
        created_height -> BigInt,
    }
}

diesel::table! {
    leases (owner, dseq, gseq, oseq, provider, bseq) {
        owner -> Text,
        dseq -> BigInt,
        gseq -> Integer,
        oseq -> Integer,
        provider -> Text,
        bseq -> Integer,
        gpu_units -> Nullable<BigInt>,
        gpu_model -> Nullable<Text>,
        gpu_ram -> Nullable<Text>,
        price_denom -> Text,
        price_amount -> Text,
        created_height -> BigInt,
        created_time -> Text,
        created_time_ms -> BigInt,
        closed_height -> Nullable<BigInt>,
        closed_time -> Nullable<Text>,
        closed_time_ms -> Nullable<BigInt>,
        close_cause -> Nullable<Text>,
        close_reason -> Nullable<Text>,
        via_authz -> Integer,
    }
}

diesel::table! {
    transfers (height, tx_index, msg_index, leg) {
        height -> BigInt,
        tx_index -> Integer,
        msg_index -> Integer,
        leg -> Integer,
        tx_hash -> Text,
        sender -> Text,
        recipient -> Text,
        denom -> Text,
        amount -> Text,
    }
}

diesel::table! {
    indexer_rejections (height, tx_index, seq) {
        height -> BigInt,
        tx_index -> Integer,
        seq -> Integer,
        tx_hash -> Nullable<Text>,
        reason -> Text,
        type_url -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    provider_registrations (owner, life) {
        owner -> Text,
        life -> Integer,
        created_height -> Nullable<BigInt>,
        created_time -> Nullable<Text>,
        created_time_ms -> Nullable<BigInt>,
        deleted_height -> Nullable<BigInt>,
        deleted_time -> Nullable<Text>,
        deleted_time_ms -> Nullable<BigInt>,
    }
}

diesel::table! {
    probe_signatures (prober, provider, time_ms) {
        prober -> Text,
        provider -> Text,
        time_ms -> BigInt,
        signature -> Nullable<Text>,
        import_id -> Nullable<Text>,
    }
}

diesel::table! {
    probe_rejections (import_id, line) {
        import_id -> Text,
        line -> BigInt,
        source -> Text,
        reason -> Text,
        detail -> Text,
        raw -> Text,
        recorded_at_ms -> BigInt,
    }
}

diesel::table! {
    probe_observations (prober, provider, time_ms) {
        prober -> Text,
        provider -> Text,
        time -> Text,
        time_ms -> BigInt,
        online -> Integer,
        latency_ms -> Nullable<BigInt>,
        error_kind -> Nullable<Text>,
        error -> Nullable<Text>,
        version -> Nullable<Text>,
        cert_sha256 -> Nullable<Text>,
        status_api -> Nullable<Text>,
    }
}

diesel::table! {
    probe_gpus (prober, provider, time_ms, node) {
        prober -> Text,
        provider -> Text,
        time_ms -> BigInt,
        node -> Text,
        vendor -> Nullable<Text>,
        model -> Nullable<Text>,
        ram -> Nullable<Text>,
        interface -> Nullable<Text>,
        allocatable -> BigInt,
        allocated -> BigInt,
        raw_allocatable -> Text,
        raw_allocated -> Text,
        clamps -> Nullable<Text>,
        flags -> Nullable<Text>,
    }
}

diesel::table! {
    epochs (programme, epoch) {
        programme -> Text,
        epoch -> Integer,
        start_ms -> BigInt,
        end_ms -> BigInt,
        state -> Text,
        sealed_at_ms -> Nullable<BigInt>,
        inputs_hash -> Nullable<Text>,
        inputs -> Nullable<Text>,
        programme_hash -> Nullable<Text>,
        carried_state -> Nullable<Text>,
    }
}

diesel::table! {
    allocations (programme, epoch, line) {
        programme -> Text,
        epoch -> Integer,
        line -> Integer,
        pool -> Text,
        bucket_kind -> Text,
        bucket -> Text,
        provider -> Nullable<Text>,
        basis_kind -> Text,
        basis -> Text,
        amount -> Text,
        reason -> Text,
        vesting -> Nullable<Text>,
        price_usd_per_token -> Nullable<Text>,
        price_from_ms -> Nullable<BigInt>,
        price_source -> Nullable<Text>,
        clawback_of_epoch -> Nullable<Integer>,
        clawback_of_entry -> Nullable<Integer>,
    }
}

diesel::table! {
    pool_ledgers (programme, epoch, pool) {
        programme -> Text,
        epoch -> Integer,
        pool -> Text,
        opening -> Text,
        funded -> Text,
        emitted -> Text,
        allocated -> Text,
        forfeited -> Text,
        clawed_back -> Text,
        returned -> Text,
        carried -> Text,
        shortfall -> Text,
        closing -> Text,
        price_usd_per_token -> Nullable<Text>,
        price_from_ms -> Nullable<BigInt>,
        price_source -> Nullable<Text>,
    }
}

diesel::table! {
    vesting_entries (programme, entry) {
        programme -> Text,
        entry -> Integer,
        epoch -> Integer,
        line -> Integer,
        pool -> Text,
        bucket_kind -> Text,
        bucket -> Text,
        provider -> Text,
        schedule_id -> Text,
        schedule -> Text,
        anchor_ms -> BigInt,
        amount -> Text,
        clawback_epoch -> Nullable<Integer>,
        clawback_at_ms -> Nullable<BigInt>,
        clawed_back -> Nullable<Text>,
    }
}

diesel::table! {
    programmes (name) {
        name -> Text,
        denom -> Text,
        watched_wallets -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    blocks,
    indexer_cursor,
    providers,
    provider_registrations,
    provider_attributes,
    deployments,
    deployment_groups,
    group_resources,
    bids,
    leases,
    transfers,
    indexer_rejections,
    probe_rejections,
    probe_signatures,
    probe_observations,
    probe_gpus,
    epochs,
    allocations,
    pool_ledgers,
    vesting_entries,
    programmes,
);
