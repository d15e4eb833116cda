//! One block and its results to a [`DecodedBlock`]: pairing transactions with their results,
//! skipping failed ones, and merging each transaction's messages with its events.
//!
//! Messages say *why* something happened (the tenant closed a lease, the provider closed a bid,
//! the tenant closed the deployment); events say *what* the chain did, including what no message
//! names (a lease closed when escrow ran dry during another message's settlement). So within a
//! successful transaction:
//! * a lease-created event gives the price of the lease its message creates;
//! * a lease-closed event for a lease a close message names — directly, or through its
//!   deployment or group — is that message's close; the event adds the chain's reason, and a
//!   network-initiated reason (`insufficient_funds`) overrides the message's cause, because the
//!   chain closed the lease during settlement before the message could;
//! * a lease-closed event no message explains is a close by the chain itself: era B names the
//!   reason; era A events carry none, and the only such close the chain makes is the escrow
//!   overdraft, so the cause is `insufficient_funds`.
//!
//! Era B events carry `msg_index`, so they are matched only with their own message and their
//! facts are placed right after that message's; era A events can match any message of the
//! transaction and what is left of them follows the transaction's messages.

use std::collections::{BTreeMap, HashSet};

use tracing::debug_span;

use crate::decode::chain_json::{
    BlockResponse, BlockResultsResponse, CometVersion, Event, JsonCode, JsonList, JsonObject,
    TxResult,
};
use crate::decode::events::{decode_event, ChainEvent, EventReason, LocatedEvent};
use crate::decode::facts::{
    bounded_detail, CloseCause, DecodedBlock, Fact, Rejection, RejectionReason, TxFact,
    BLOCK_EVENTS_TX_INDEX,
};
use crate::decode::messages::market::v1::LeaseClosedReason;
use crate::decode::tx::{body_messages, raw_bytes, tx_hash, MessageDecoder};

/// What the decoder needs besides the block: the wallets whose transfers are recorded.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// Accounts (the programme wallet, …) whose incoming and outgoing bank transfers are facts.
    pub watched_wallets: HashSet<String>,
}

impl DecodeOptions {
    /// Options watching these wallets.
    pub fn watching(wallets: impl IntoIterator<Item = String>) -> Self {
        Self {
            watched_wallets: wallets.into_iter().collect(),
        }
    }
}

/// Decodes a block and its results. Never fails: whatever cannot be used becomes a
/// reason-coded [`Rejection`] in the result, and everything else is still decoded.
///
/// `comet` must be the CometBFT version the chain ran at this height (from configuration), which
/// decides whether event attributes are base64 and which block-level events exist.
pub fn decode_block(
    block: &BlockResponse,
    results: &BlockResultsResponse,
    comet: CometVersion,
    options: &DecodeOptions,
) -> DecodedBlock {
    let height = block.height();
    let _span = debug_span!("decode_block", height).entered();
    let txs = block.txs();
    let mut decoded = DecodedBlock {
        height,
        time: block.time().to_string(),
        time_ms: block.time_ms(),
        hash: block.hash().to_string(),
        tx_count: u32::try_from(txs.len()).unwrap_or(u32::MAX),
        failed_tx_count: 0,
        authz_wrapped_messages: 0,
        facts: Vec::new(),
        rejections: Vec::new(),
        ignored_messages: BTreeMap::new(),
        unknown_messages: BTreeMap::new(),
    };
    if let Some(tx_results) = paired_results(block, results, &mut decoded.rejections) {
        for ((tx_index, tx), result) in (0i32..).zip(txs).zip(tx_results) {
            decode_tx(tx_index, tx, result, comet, options, &mut decoded);
        }
    }
    let block_events: Vec<&JsonObject<Event>> = match comet {
        CometVersion::V034 => [&results.begin_block_events, &results.end_block_events]
            .into_iter()
            .flatten()
            .flat_map(JsonList::items)
            .collect(),
        CometVersion::V038 => results
            .finalize_block_events
            .iter()
            .flat_map(JsonList::items)
            .collect(),
    };
    let events = located_events(
        block_events.into_iter(),
        comet,
        BLOCK_EVENTS_TX_INDEX,
        None,
        &mut decoded.rejections,
    );
    let mut facts = Vec::new();
    for event in events {
        push_event_fact(
            event.event,
            &mut facts,
            BLOCK_EVENTS_TX_INDEX,
            None,
            &mut decoded.rejections,
        );
    }
    decoded.facts.extend(facts.into_iter().map(|fact| TxFact {
        tx_index: BLOCK_EVENTS_TX_INDEX,
        fact,
    }));
    decoded
}

/// The transaction results, when they can be paired one-to-one with the block's transactions;
/// otherwise records why not and returns `None` (no transaction of the block is applied).
fn paired_results<'r>(
    block: &BlockResponse,
    results: &'r BlockResultsResponse,
    rejections: &mut Vec<Rejection>,
) -> Option<&'r [JsonObject<TxResult>]> {
    let block_rejection = |reason, detail: String| Rejection {
        tx_index: BLOCK_EVENTS_TX_INDEX,
        tx_hash: None,
        reason,
        type_url: None,
        detail: bounded_detail(detail),
    };
    if results.height.0 != block.height() {
        rejections.push(block_rejection(
            RejectionReason::ResultsHeightMismatch,
            format!(
                "block results are for height {}, not {}; no transaction applied",
                results.height.0,
                block.height()
            ),
        ));
        return None;
    }
    let tx_results = match &results.txs_results {
        JsonList::Items(items) => items.as_slice(),
        JsonList::Malformed(value) => {
            rejections.push(block_rejection(
                RejectionReason::MalformedTxResult,
                format!("txs_results is not a list: {value}; no transaction applied"),
            ));
            return None;
        }
    };
    let txs = block.txs();
    if tx_results.len() == txs.len() {
        return Some(tx_results);
    }
    for (tx_index, tx) in (0i32..).zip(txs) {
        rejections.push(Rejection {
            tx_index,
            tx_hash: raw_bytes(tx).ok().map(|raw| tx_hash(&raw)),
            reason: RejectionReason::TxResultCountMismatch,
            type_url: None,
            detail: format!(
                "block has {} transactions but {} results; not applied",
                txs.len(),
                tx_results.len()
            ),
        });
    }
    if txs.is_empty() {
        rejections.push(block_rejection(
            RejectionReason::TxResultCountMismatch,
            format!("block has no transactions but {} results", tx_results.len()),
        ));
    }
    None
}

fn decode_tx(
    tx_index: i32,
    tx: &str,
    result: &JsonObject<TxResult>,
    comet: CometVersion,
    options: &DecodeOptions,
    decoded: &mut DecodedBlock,
) {
    let reject = |rejections: &mut Vec<Rejection>, hash: Option<&str>, reason, detail: String| {
        rejections.push(Rejection {
            tx_index,
            tx_hash: hash.map(str::to_string),
            reason,
            type_url: None,
            detail: bounded_detail(detail),
        })
    };
    // The result decides first: a failed transaction changed nothing, so its bytes are not even
    // decoded (it is only counted).
    let hash_of_text = || raw_bytes(tx).ok().map(|raw| tx_hash(&raw));
    let result = match result {
        JsonObject::Object(result) => result,
        JsonObject::Malformed(value) => {
            return reject(
                &mut decoded.rejections,
                hash_of_text().as_deref(),
                RejectionReason::MalformedTxResult,
                format!("result is not an object: {value}; not applied"),
            )
        }
    };
    match &result.code {
        JsonCode::Code(0) => {}
        JsonCode::Code(_) => {
            decoded.failed_tx_count += 1;
            return;
        }
        JsonCode::Malformed(value) => {
            return reject(
                &mut decoded.rejections,
                hash_of_text().as_deref(),
                RejectionReason::MalformedTxResult,
                format!("result code is not a number: {value}; not applied"),
            )
        }
    }
    let raw = match raw_bytes(tx) {
        Ok(raw) => raw,
        Err(error) => {
            return reject(
                &mut decoded.rejections,
                None,
                RejectionReason::UndecodableTx,
                error,
            )
        }
    };
    let hash = tx_hash(&raw);
    if raw.is_empty() {
        let events = result.events.items().len();
        return reject(
            &mut decoded.rejections,
            Some(&hash),
            RejectionReason::EmptyTx,
            format!("transaction bytes are empty; its result reports {events} event(s)"),
        );
    }
    let messages = match body_messages(&raw) {
        Ok(messages) => messages,
        Err(error) => {
            return reject(
                &mut decoded.rejections,
                Some(&hash),
                RejectionReason::UndecodableTx,
                error,
            )
        }
    };
    let mut decoder = MessageDecoder::new(
        tx_index,
        &hash,
        &options.watched_wallets,
        &mut decoded.rejections,
        &mut decoded.ignored_messages,
        &mut decoded.unknown_messages,
    );
    decoder.decode_all(&messages);
    decoded.authz_wrapped_messages += decoder.authz_wrapped;
    let message_facts = std::mem::take(&mut decoder.facts);
    let events = match &result.events {
        JsonList::Items(events) => located_events(
            events.iter(),
            comet,
            tx_index,
            Some(&hash),
            &mut decoded.rejections,
        ),
        JsonList::Malformed(value) => {
            reject(
                &mut decoded.rejections,
                Some(&hash),
                RejectionReason::MalformedEvent,
                format!("events are not a list: {value}; messages applied without them"),
            );
            Vec::new()
        }
    };
    let facts = merge(
        message_facts,
        events,
        tx_index,
        &hash,
        &mut decoded.rejections,
    );
    decoded
        .facts
        .extend(facts.into_iter().map(|fact| TxFact { tx_index, fact }));
}

/// Decodes the events the indexer uses, recording the malformed ones.
fn located_events<'e>(
    events: impl Iterator<Item = &'e JsonObject<Event>>,
    comet: CometVersion,
    tx_index: i32,
    tx_hash: Option<&str>,
    rejections: &mut Vec<Rejection>,
) -> Vec<LocatedEvent> {
    let mut located = Vec::new();
    for event in events {
        let outcome = match event {
            JsonObject::Object(event) => decode_event(event, comet),
            JsonObject::Malformed(value) => Err(crate::decode::events::EventError {
                kind: String::new(),
                detail: format!("event is not an object: {value}"),
            }),
        };
        match outcome {
            Ok(Some(event)) => located.push(event),
            Ok(None) => {}
            Err(error) => rejections.push(Rejection {
                tx_index,
                tx_hash: tx_hash.map(str::to_string),
                reason: RejectionReason::MalformedEvent,
                type_url: None,
                detail: bounded_detail(format_args!(
                    "event {:?} skipped: {}",
                    error.kind, error.detail
                )),
            }),
        }
    }
    located
}

/// Merges one transaction's message facts with its events (see the module documentation).
fn merge(
    message_facts: Vec<(u32, Fact)>,
    events: Vec<LocatedEvent>,
    tx_index: i32,
    tx_hash: &str,
    rejections: &mut Vec<Rejection>,
) -> Vec<Fact> {
    let mut pending: Vec<Option<LocatedEvent>> = events.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(message_facts.len() + pending.len());
    let flush = |pending: &mut Vec<Option<LocatedEvent>>,
                 out: &mut Vec<Fact>,
                 rejections: &mut Vec<Rejection>,
                 before: Option<u32>| {
        for slot in pending.iter_mut() {
            let due = match (slot.as_ref().map(|e| e.msg_index), before) {
                (Some(Some(index)), Some(next)) => index < next,
                (Some(_), None) => true,
                _ => false,
            };
            if due {
                if let Some(event) = slot.take() {
                    push_event_fact(event.event, out, tx_index, Some(tx_hash), rejections);
                }
            }
        }
    };
    for (top_index, fact) in message_facts {
        flush(&mut pending, &mut out, rejections, Some(top_index));
        // Takes the first pending event of this message that `pick` accepts.
        let mut take = |pick: &dyn Fn(&ChainEvent) -> bool| {
            pending.iter_mut().find_map(|slot| {
                let event = slot.as_ref()?;
                let own = event.msg_index.is_none_or(|index| index == top_index);
                (own && pick(&event.event)).then(|| slot.take().map(|e| e.event))?
            })
        };
        match fact {
            Fact::LeaseCreated {
                id,
                price: None,
                via_authz,
            } => {
                let price =
                    take(&|e| matches!(e, ChainEvent::LeaseCreated { id: i, .. } if *i == id))
                        .and_then(|e| match e {
                            ChainEvent::LeaseCreated { price, .. } => price,
                            _ => None,
                        });
                out.push(Fact::LeaseCreated {
                    id,
                    price,
                    via_authz,
                });
            }
            Fact::LeaseClosed { id, cause, reason } => {
                let event =
                    take(&|e| matches!(e, ChainEvent::LeaseClosed { id: i, .. } if *i == id));
                let (cause, reason) = match event {
                    Some(ChainEvent::LeaseClosed { reason: seen, .. }) => {
                        explained_close(cause, reason, seen)
                    }
                    _ => (cause, reason),
                };
                out.push(Fact::LeaseClosed { id, cause, reason });
            }
            Fact::DeploymentLeasesClosed { id, cause } => {
                while let Some(ChainEvent::LeaseClosed { id: lease, reason }) = take(
                    &|e| matches!(e, ChainEvent::LeaseClosed { id: l, .. } if l.owner == id.owner && l.dseq == id.dseq),
                ) {
                    let (cause, reason) = explained_close(Some(cause), None, reason);
                    out.push(Fact::LeaseClosed {
                        id: lease,
                        cause,
                        reason,
                    });
                }
                out.push(Fact::DeploymentLeasesClosed { id, cause });
            }
            Fact::GroupLeasesClosed { id, cause } => {
                while let Some(ChainEvent::LeaseClosed { id: lease, reason }) =
                    take(&|e| matches!(e, ChainEvent::LeaseClosed { id: l, .. } if l.group() == id))
                {
                    let (cause, reason) = explained_close(Some(cause), None, reason);
                    out.push(Fact::LeaseClosed {
                        id: lease,
                        cause,
                        reason,
                    });
                }
                out.push(Fact::GroupLeasesClosed { id, cause });
            }
            Fact::DeploymentClosed { id } => {
                take(&|e| matches!(e, ChainEvent::DeploymentClosed { id: d } if *d == id));
                out.push(Fact::DeploymentClosed { id });
            }
            Fact::GroupEnded { id, end } => {
                take(&|e| matches!(e, ChainEvent::GroupEnded { id: g, .. } if *g == id));
                out.push(Fact::GroupEnded { id, end });
            }
            other => out.push(other),
        }
    }
    flush(&mut pending, &mut out, rejections, None);
    out
}

/// Cause and reason of a close a message explains, given the event the chain emitted for it.
fn explained_close(
    cause: Option<CloseCause>,
    message_reason: Option<String>,
    event_reason: EventReason,
) -> (Option<CloseCause>, Option<String>) {
    match event_reason {
        EventReason::Absent => (cause, message_reason),
        EventReason::Known(reason) => {
            let cause = match cause_of(reason) {
                Some(CloseCause::InsufficientFunds) => Some(CloseCause::InsufficientFunds),
                _ => cause,
            };
            (cause, Some(reason.name().to_string()))
        }
        EventReason::Unknown(name) => (cause, Some(name)),
    }
}

/// The cause implied by a chain reason code: 1–9999 owner, 10000–19999 provider, 20000–29999
/// network (the only network-initiated close is the escrow overdraft).
fn cause_of(reason: LeaseClosedReason) -> Option<CloseCause> {
    match reason as i32 {
        1..=9_999 => Some(CloseCause::Owner),
        10_000..=19_999 => Some(CloseCause::Provider),
        20_000..=29_999 => Some(CloseCause::InsufficientFunds),
        _ => None,
    }
}

/// The fact of an event no message explains.
fn push_event_fact(
    event: ChainEvent,
    out: &mut Vec<Fact>,
    tx_index: i32,
    tx_hash: Option<&str>,
    rejections: &mut Vec<Rejection>,
) {
    out.push(match event {
        ChainEvent::LeaseCreated { id, price } => Fact::LeaseCreated {
            id,
            price,
            via_authz: false,
        },
        ChainEvent::LeaseClosed { id, reason } => {
            let (cause, reason) = match reason {
                EventReason::Absent => (Some(CloseCause::InsufficientFunds), None),
                EventReason::Known(reason) => (cause_of(reason), Some(reason.name().to_string())),
                EventReason::Unknown(name) => (None, Some(name)),
            };
            if cause.is_none() {
                rejections.push(Rejection {
                    tx_index,
                    tx_hash: tx_hash.map(str::to_string),
                    reason: RejectionReason::UnknownCloseReason,
                    type_url: None,
                    detail: bounded_detail(format_args!(
                        "lease {id} closed by the chain with reason {reason:?}; cause left unknown"
                    )),
                });
            }
            Fact::LeaseClosed { id, cause, reason }
        }
        ChainEvent::DeploymentClosed { id } => Fact::DeploymentClosed { id },
        ChainEvent::GroupEnded { id, end } => Fact::GroupEnded { id, end },
    });
}
