//! Transactions: raw bytes to messages (through cosmrs' `TxRaw`/`TxBody`), and messages to facts
//! by type URL.
//!
//! `cosmrs::Tx::from_bytes` is deliberately not used: it also parses `AuthInfo` and rejects
//! signer infos it does not understand, which would throw away the messages of a transaction the
//! chain accepted. Only the body is needed here.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use cosmrs::proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
use cosmrs::proto::prost::Message as _;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::decode::facts::{
    bounded_detail, Attribute, CloseCause, DeploymentId, Fact, GroupEnd, GroupId, GroupResource,
    GroupSpec, LeaseId, Price, ProviderRecord, Rejection, RejectionReason, ResourceUnit, Transfer,
};
use crate::decode::ids::{self, FieldError};
use crate::decode::messages::base::{self, DecCoin, Resources};
use crate::decode::messages::deployment::v1beta3::{
    DeploymentId as WireDeploymentId, GroupId as WireGroupId,
};
use crate::decode::messages::market::v1::LeaseClosedReason;
use crate::decode::messages::{self as m, dec_from_wire};
use crate::decode::{MAX_EXEC_DEPTH, MAX_GPU_UNITS_PER_REPLICA, MAX_REPLICAS};

/// Longest provider host URI, attribute key or attribute value accepted.
const MAX_TEXT_CHARS: usize = 1024;

/// Decodes a transaction's base64 text into its raw bytes.
pub(crate) fn raw_bytes(base64_text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_err(|e| format!("transaction is not base64: {e}"))
}

/// The transaction hash CometBFT and explorers show: upper-case hex SHA-256 of the raw bytes.
pub fn tx_hash(raw: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(raw))
}

/// The messages of a transaction body, as (type URL, bytes).
pub(crate) fn body_messages(raw: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let tx = TxRaw::decode(raw).map_err(|e| format!("not a TxRaw: {e}"))?;
    let body =
        TxBody::decode(tx.body_bytes.as_slice()).map_err(|e| format!("not a TxBody: {e}"))?;
    Ok(body
        .messages
        .into_iter()
        .map(|any| (any.type_url, any.value))
        .collect())
}

/// What a message's type URL means to the indexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CreateDeploymentV1beta3,
    CreateDeploymentV1beta4,
    CloseDeployment,
    CloseGroup,
    PauseGroup,
    StartGroup,
    CreateBidV1beta3,
    CreateBidV1beta4,
    CreateBidV1beta5,
    CloseBidV1beta3,
    CloseBidV1beta5,
    CreateLeaseV1beta3,
    CreateLeaseV1beta5,
    CloseLeaseV1beta3,
    CloseLeaseV1beta5,
    CreateProvider,
    UpdateProvider,
    DeleteProvider,
    Send,
    MultiSend,
    Exec,
    /// Known, and changes nothing the indexer records (escrow deposits and withdrawals, manifest
    /// updates). Escrow settlement inside them can close leases; that shows as events.
    NoFacts,
}

fn kind(type_url: &str) -> Option<Kind> {
    use m::deployment::{v1beta3 as d3, v1beta4 as d4};
    use m::market::{v1beta3 as m3, v1beta4 as m4, v1beta5 as m5};
    use m::provider::{v1beta3 as p3, v1beta4 as p4};
    Some(match type_url {
        d3::MSG_CREATE_DEPLOYMENT => Kind::CreateDeploymentV1beta3,
        d4::MSG_CREATE_DEPLOYMENT => Kind::CreateDeploymentV1beta4,
        d3::MSG_CLOSE_DEPLOYMENT | d4::MSG_CLOSE_DEPLOYMENT => Kind::CloseDeployment,
        d3::MSG_CLOSE_GROUP | d4::MSG_CLOSE_GROUP => Kind::CloseGroup,
        d3::MSG_PAUSE_GROUP | d4::MSG_PAUSE_GROUP => Kind::PauseGroup,
        d3::MSG_START_GROUP | d4::MSG_START_GROUP => Kind::StartGroup,
        d3::MSG_DEPOSIT_DEPLOYMENT
        | d3::MSG_UPDATE_DEPLOYMENT
        | d4::MSG_UPDATE_DEPLOYMENT
        | m3::MSG_WITHDRAW_LEASE
        | m4::MSG_WITHDRAW_LEASE
        | m5::MSG_WITHDRAW_LEASE
        | m::escrow::MSG_ACCOUNT_DEPOSIT => Kind::NoFacts,
        m3::MSG_CREATE_BID => Kind::CreateBidV1beta3,
        m4::MSG_CREATE_BID => Kind::CreateBidV1beta4,
        m5::MSG_CREATE_BID => Kind::CreateBidV1beta5,
        m3::MSG_CLOSE_BID | m4::MSG_CLOSE_BID => Kind::CloseBidV1beta3,
        m5::MSG_CLOSE_BID => Kind::CloseBidV1beta5,
        m3::MSG_CREATE_LEASE | m4::MSG_CREATE_LEASE => Kind::CreateLeaseV1beta3,
        m5::MSG_CREATE_LEASE => Kind::CreateLeaseV1beta5,
        m3::MSG_CLOSE_LEASE | m4::MSG_CLOSE_LEASE => Kind::CloseLeaseV1beta3,
        m5::MSG_CLOSE_LEASE => Kind::CloseLeaseV1beta5,
        p3::MSG_CREATE_PROVIDER | p4::MSG_CREATE_PROVIDER => Kind::CreateProvider,
        p3::MSG_UPDATE_PROVIDER | p4::MSG_UPDATE_PROVIDER => Kind::UpdateProvider,
        p3::MSG_DELETE_PROVIDER | p4::MSG_DELETE_PROVIDER => Kind::DeleteProvider,
        m::cosmos::MSG_SEND => Kind::Send,
        m::cosmos::MSG_MULTI_SEND => Kind::MultiSend,
        m::cosmos::MSG_EXEC => Kind::Exec,
        _ => return None,
    })
}

/// Type URL prefixes of modules that cannot change what the indexer records: their messages are
/// counted as ignored, not as unknown. Unknown messages of the deployment, market, provider and
/// escrow modules (say, a new version) are never in this list: they are rejections to look at.
const IGNORED_PREFIXES: &[&str] = &[
    "/cosmos.",
    "/ibc.",
    "/cosmwasm.",
    "/akash.audit.",
    "/akash.cert.",
    "/akash.take.",
    "/akash.staking.",
    "/akash.gov.",
    "/akash.inflation.",
    "/akash.oracle.",
    "/akash.bme.",
    "/akash.wasm.",
];

/// Whether a type URL the indexer does not decode is known to be irrelevant to it.
fn is_ignored(type_url: &str) -> bool {
    IGNORED_PREFIXES.iter().any(|p| type_url.starts_with(p))
        // Governance parameter changes of any module.
        || type_url.ends_with(".MsgUpdateParams")
}

/// Turns the messages of one successful transaction into facts.
pub(crate) struct MessageDecoder<'a> {
    pub tx_index: i32,
    pub tx_hash: &'a str,
    pub watched: &'a HashSet<String>,
    /// Facts with the index of the top-level message they came from.
    pub facts: Vec<(u32, Fact)>,
    pub rejections: &'a mut Vec<Rejection>,
    pub ignored: &'a mut BTreeMap<String, u32>,
    pub unknown: &'a mut BTreeMap<String, u32>,
    pub authz_wrapped: u32,
    /// Messages visited so far, counting those inside `MsgExec`: the `msg_index` of transfers.
    next_flat_index: i32,
}

/// Where a message sits in its transaction.
#[derive(Clone, Copy)]
struct Position {
    top_index: u32,
    depth: u32,
}

impl<'a> MessageDecoder<'a> {
    pub(crate) fn new(
        tx_index: i32,
        tx_hash: &'a str,
        watched: &'a HashSet<String>,
        rejections: &'a mut Vec<Rejection>,
        ignored: &'a mut BTreeMap<String, u32>,
        unknown: &'a mut BTreeMap<String, u32>,
    ) -> Self {
        Self {
            tx_index,
            tx_hash,
            watched,
            facts: Vec::new(),
            rejections,
            ignored,
            unknown,
            authz_wrapped: 0,
            next_flat_index: 0,
        }
    }

    /// Decodes the top-level messages in order.
    pub(crate) fn decode_all(&mut self, messages: &[(String, Vec<u8>)]) {
        for (top_index, (type_url, bytes)) in (0u32..).zip(messages) {
            self.message(
                type_url,
                bytes,
                Position {
                    top_index,
                    depth: 0,
                },
            );
        }
    }

    fn reject(&mut self, reason: RejectionReason, type_url: &str, detail: impl std::fmt::Display) {
        self.rejections.push(Rejection {
            tx_index: self.tx_index,
            tx_hash: Some(self.tx_hash.to_string()),
            reason,
            type_url: Some(bounded_detail(type_url)),
            detail: bounded_detail(detail),
        });
    }

    fn message(&mut self, type_url: &str, bytes: &[u8], at: Position) {
        let flat_index = self.next_flat_index;
        self.next_flat_index += 1;
        if at.depth > 0 {
            self.authz_wrapped += 1;
        }
        let Some(kind) = kind(type_url) else {
            if is_ignored(type_url) {
                *self.ignored.entry(type_url.to_string()).or_default() += 1;
            } else {
                *self.unknown.entry(bounded_detail(type_url)).or_default() += 1;
                self.reject(
                    RejectionReason::UnknownTypeUrl,
                    type_url,
                    format!("message {flat_index}: type URL not known to the indexer; skipped"),
                );
            }
            return;
        };
        let via_authz = at.depth > 0;
        let result = match kind {
            Kind::Exec => {
                self.exec(type_url, bytes, at);
                Ok(Vec::new())
            }
            Kind::NoFacts => Ok(Vec::new()),
            _ => facts_of(
                kind,
                bytes,
                via_authz,
                flat_index,
                self.tx_hash,
                self.watched,
            ),
        };
        match result {
            Ok(facts) => self
                .facts
                .extend(facts.into_iter().map(|fact| (at.top_index, fact))),
            Err(MessageError::Decode(error)) => self.reject(
                RejectionReason::UndecodableMessage,
                type_url,
                format!("message {flat_index}: {error}"),
            ),
            Err(MessageError::Field(error)) => self.reject(
                error.reason,
                type_url,
                format!("message {flat_index}: {error}"),
            ),
        }
    }

    fn exec(&mut self, type_url: &str, bytes: &[u8], at: Position) {
        if at.depth >= MAX_EXEC_DEPTH {
            self.reject(
                RejectionReason::ExecTooDeep,
                type_url,
                format!("MsgExec nested deeper than {MAX_EXEC_DEPTH}; its messages are skipped"),
            );
            return;
        }
        match m::cosmos::MsgExec::decode(bytes) {
            Ok(exec) => {
                for inner in &exec.msgs {
                    self.message(
                        &inner.type_url,
                        &inner.value,
                        Position {
                            top_index: at.top_index,
                            depth: at.depth + 1,
                        },
                    );
                }
            }
            Err(error) => self.reject(RejectionReason::UndecodableMessage, type_url, error),
        }
    }
}

enum MessageError {
    Decode(prost::DecodeError),
    Field(FieldError),
}

impl From<prost::DecodeError> for MessageError {
    fn from(error: prost::DecodeError) -> Self {
        Self::Decode(error)
    }
}

impl From<FieldError> for MessageError {
    fn from(error: FieldError) -> Self {
        Self::Field(error)
    }
}

/// The facts of one (non-`MsgExec`) message.
fn facts_of(
    kind: Kind,
    bytes: &[u8],
    via_authz: bool,
    flat_index: i32,
    tx_hash: &str,
    watched: &HashSet<String>,
) -> Result<Vec<Fact>, MessageError> {
    use m::deployment::{v1beta3 as d3, v1beta4 as d4};
    use m::market::{v1beta3 as m3, v1beta4 as m4, v1beta5 as m5};
    Ok(match kind {
        Kind::CreateDeploymentV1beta3 => {
            let msg = d3::MsgCreateDeployment::decode(bytes)?;
            vec![deployment_created(msg.id.as_ref(), &msg.groups)?]
        }
        Kind::CreateDeploymentV1beta4 => {
            let msg = d4::MsgCreateDeployment::decode(bytes)?;
            vec![deployment_created(msg.id.as_ref(), &msg.groups)?]
        }
        Kind::CloseDeployment => {
            let msg = d3::MsgCloseDeployment::decode(bytes)?;
            let id = deployment_id(msg.id.as_ref())?;
            vec![
                Fact::DeploymentLeasesClosed {
                    id: id.clone(),
                    cause: CloseCause::DeploymentClosed,
                },
                Fact::DeploymentClosed { id },
            ]
        }
        Kind::CloseGroup | Kind::PauseGroup => {
            let msg = d3::MsgGroup::decode(bytes)?;
            let id = group_id(msg.id.as_ref())?;
            let end = if kind == Kind::CloseGroup {
                GroupEnd::Closed
            } else {
                GroupEnd::Paused
            };
            vec![
                Fact::GroupLeasesClosed {
                    id: id.clone(),
                    cause: CloseCause::DeploymentClosed,
                },
                Fact::GroupEnded { id, end },
            ]
        }
        Kind::StartGroup => {
            let msg = d3::MsgGroup::decode(bytes)?;
            vec![Fact::GroupStarted {
                id: group_id(msg.id.as_ref())?,
            }]
        }
        Kind::CreateBidV1beta3 => {
            let msg = m3::MsgCreateBid::decode(bytes)?;
            let order = msg
                .order
                .as_ref()
                .ok_or_else(|| FieldError::invalid("bid without an order id"))?;
            vec![Fact::BidCreated {
                id: lease_id_v1beta3(order, &msg.provider)?,
                price: wire_price(msg.price.as_ref())?,
                offer: Vec::new(),
            }]
        }
        Kind::CreateBidV1beta4 => {
            let msg = m4::MsgCreateBid::decode(bytes)?;
            let order = msg
                .order
                .as_ref()
                .ok_or_else(|| FieldError::invalid("bid without an order id"))?;
            let offer = msg
                .resources_offer
                .iter()
                .map(|o| resource_unit(o.resources.as_ref(), o.count))
                .collect::<Result<_, _>>()?;
            vec![Fact::BidCreated {
                id: lease_id_v1beta3(order, &msg.provider)?,
                price: wire_price(msg.price.as_ref())?,
                offer,
            }]
        }
        Kind::CreateBidV1beta5 => {
            let msg = m5::MsgCreateBid::decode(bytes)?;
            let offer = msg
                .resources_offer
                .iter()
                .map(|o| resource_unit(o.resources.as_ref(), o.count))
                .collect::<Result<_, _>>()?;
            vec![Fact::BidCreated {
                id: lease_id_v1(msg.id.as_ref())?,
                price: wire_price(msg.price.as_ref())?,
                offer,
            }]
        }
        Kind::CloseBidV1beta3 => {
            let msg = m3::MsgBidRef::decode(bytes)?;
            let id = bid_id_v1beta3(msg.id.as_ref())?;
            bid_closed(id, None)
        }
        Kind::CloseBidV1beta5 => {
            let msg = m5::MsgBidRef::decode(bytes)?;
            bid_closed(lease_id_v1(msg.id.as_ref())?, message_reason(msg.reason))
        }
        Kind::CreateLeaseV1beta3 => {
            let msg = m3::MsgBidRef::decode(bytes)?;
            lease_created(bid_id_v1beta3(msg.id.as_ref())?, via_authz)
        }
        Kind::CreateLeaseV1beta5 => {
            let msg = m5::MsgBidRef::decode(bytes)?;
            lease_created(lease_id_v1(msg.id.as_ref())?, via_authz)
        }
        Kind::CloseLeaseV1beta3 => {
            let msg = m4::MsgBidRef::decode(bytes)?;
            lease_closed_by_owner(bid_id_v1beta3(msg.id.as_ref())?, None)
        }
        Kind::CloseLeaseV1beta5 => {
            let msg = m5::MsgBidRef::decode(bytes)?;
            lease_closed_by_owner(lease_id_v1(msg.id.as_ref())?, message_reason(msg.reason))
        }
        Kind::CreateProvider | Kind::UpdateProvider => {
            let msg = m::provider::MsgProvider::decode(bytes)?;
            let record = provider_record(msg)?;
            vec![if kind == Kind::CreateProvider {
                Fact::ProviderCreated(record)
            } else {
                Fact::ProviderUpdated(record)
            }]
        }
        Kind::DeleteProvider => {
            let msg = m::provider::MsgDeleteProvider::decode(bytes)?;
            vec![Fact::ProviderDeleted {
                owner: ids::owner(&msg.owner)?,
            }]
        }
        Kind::Send => {
            let msg = m::cosmos::MsgSend::decode(bytes)?;
            if !watched.contains(&msg.from_address) && !watched.contains(&msg.to_address) {
                return Ok(Vec::new());
            }
            let legs = msg
                .amount
                .iter()
                .map(|coin| (msg.from_address.as_str(), msg.to_address.as_str(), coin));
            transfers(legs, flat_index, tx_hash)?
        }
        Kind::MultiSend => {
            let msg = m::cosmos::MsgMultiSend::decode(bytes)?;
            multi_send_transfers(&msg, flat_index, tx_hash, watched)?
        }
        Kind::Exec | Kind::NoFacts => Vec::new(),
    })
}

/// `MsgCreateLease`, in any market version: the message carries no price (the bid's price
/// stands), so every version reports the same fact.
fn lease_created(id: LeaseId, via_authz: bool) -> Vec<Fact> {
    vec![Fact::LeaseCreated {
        id,
        price: None,
        via_authz,
    }]
}

/// `MsgCloseLease`, in any market version: the tenant (owner) closes the lease.
fn lease_closed_by_owner(id: LeaseId, reason: Option<String>) -> Vec<Fact> {
    vec![Fact::LeaseClosed {
        id,
        cause: Some(CloseCause::Owner),
        reason,
    }]
}

/// `MsgCloseBid`: the provider closes its bid, and with it the lease made from it (if any).
fn bid_closed(id: LeaseId, reason: Option<String>) -> Vec<Fact> {
    vec![Fact::LeaseClosed {
        id,
        cause: Some(CloseCause::Provider),
        reason,
    }]
}

/// The reason a v1beta5 close message gives, when it is a known, set reason. The event the
/// chain emits for the close carries the authoritative reason and takes precedence.
fn message_reason(reason: i32) -> Option<String> {
    match LeaseClosedReason::try_from(reason) {
        Ok(LeaseClosedReason::LeaseClosedInvalid) | Err(_) => None,
        Ok(known) => Some(known.name().to_string()),
    }
}

fn deployment_id(id: Option<&WireDeploymentId>) -> Result<DeploymentId, FieldError> {
    let id = id.ok_or_else(|| FieldError::invalid("message without a deployment id"))?;
    Ok(DeploymentId {
        owner: ids::owner(&id.owner)?,
        dseq: ids::dseq(id.dseq)?,
    })
}

fn group_id(id: Option<&WireGroupId>) -> Result<GroupId, FieldError> {
    let id = id.ok_or_else(|| FieldError::invalid("message without a group id"))?;
    Ok(GroupId {
        owner: ids::owner(&id.owner)?,
        dseq: ids::dseq(id.dseq)?,
        gseq: ids::seq(id.gseq, "gseq")?,
    })
}

fn lease_id_v1beta3(
    order: &m::market::v1beta3::OrderId,
    provider: &str,
) -> Result<LeaseId, FieldError> {
    checked_lease_id(
        &order.owner,
        order.dseq,
        order.gseq,
        order.oseq,
        provider,
        0,
    )
}

fn bid_id_v1beta3(id: Option<&m::market::v1beta3::BidId>) -> Result<LeaseId, FieldError> {
    let id = id.ok_or_else(|| FieldError::invalid("message without a bid or lease id"))?;
    checked_lease_id(&id.owner, id.dseq, id.gseq, id.oseq, &id.provider, 0)
}

fn lease_id_v1(id: Option<&m::market::v1::BidId>) -> Result<LeaseId, FieldError> {
    let id = id.ok_or_else(|| FieldError::invalid("message without a bid or lease id"))?;
    checked_lease_id(&id.owner, id.dseq, id.gseq, id.oseq, &id.provider, id.bseq)
}

/// A bid or lease id from the wire's unsigned fields, each checked to fit the store (`bseq` is
/// 0 before market v1beta5, where it does not exist).
fn checked_lease_id(
    owner: &str,
    dseq: u64,
    gseq: u32,
    oseq: u32,
    provider: &str,
    bseq: u32,
) -> Result<LeaseId, FieldError> {
    Ok(LeaseId {
        owner: ids::owner(owner)?,
        dseq: ids::dseq(dseq)?,
        gseq: ids::seq(gseq, "gseq")?,
        oseq: ids::seq(oseq, "oseq")?,
        provider: ids::owner(provider)?,
        bseq: ids::seq(bseq, "bseq")?,
    })
}

/// A `DecCoin` from the wire, where the amount is the decimal's integer atomics.
fn wire_price(coin: Option<&DecCoin>) -> Result<Price, FieldError> {
    let coin = coin.ok_or_else(|| FieldError::invalid("price missing"))?;
    let amount = dec_from_wire(&coin.amount).ok_or_else(|| {
        FieldError::invalid(format!(
            "price amount {:?} is not a decimal's wire text",
            bounded_detail(&coin.amount)
        ))
    })?;
    ids::price(&coin.denom, &amount)
}

fn deployment_created(
    id: Option<&WireDeploymentId>,
    groups: &[m::deployment::v1beta3::GroupSpec],
) -> Result<Fact, FieldError> {
    let id = deployment_id(id)?;
    let groups = (1u32..)
        .zip(groups)
        .map(|(gseq, spec)| {
            let resources = spec
                .resources
                .iter()
                .map(|unit| {
                    Ok(GroupResource {
                        unit: resource_unit(unit.resource.as_ref(), unit.count)?,
                        price: unit
                            .price
                            .as_ref()
                            .map(|p| wire_price(Some(p)))
                            .transpose()?,
                    })
                })
                .collect::<Result<_, FieldError>>()?;
            Ok(GroupSpec {
                gseq: ids::seq(gseq, "gseq")?,
                name: bounded_text(&spec.name, "group name")?,
                resources,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    Ok(Fact::DeploymentCreated { id, groups })
}

/// A resource unit, with every quantity checked.
fn resource_unit(resources: Option<&Resources>, count: u32) -> Result<ResourceUnit, FieldError> {
    let resources =
        resources.ok_or_else(|| FieldError::invalid("resource unit without resources"))?;
    if count > MAX_REPLICAS {
        return Err(FieldError::absurd(format!(
            "resource unit count {count} exceeds {MAX_REPLICAS}"
        )));
    }
    let cpu = resources.cpu.as_ref().and_then(|c| c.units.as_ref());
    let memory = resources.memory.as_ref().and_then(|m| m.quantity.as_ref());
    let mut storage: u128 = 0;
    for volume in &resources.storage {
        let bytes = quantity(volume.quantity.as_ref(), "storage")?;
        storage = storage
            .checked_add(bytes)
            .ok_or_else(|| FieldError::absurd("storage total exceeds 2^128"))?;
    }
    let (gpu_units, gpu_attributes) = match &resources.gpu {
        Some(gpu) => {
            let units = quantity(gpu.units.as_ref(), "GPU units")?;
            if units > u128::from(MAX_GPU_UNITS_PER_REPLICA) {
                return Err(FieldError::absurd(format!(
                    "GPU units {units} per replica exceed {MAX_GPU_UNITS_PER_REPLICA}"
                )));
            }
            (units as u64, attributes(&gpu.attributes)?)
        }
        None => (0, Vec::new()),
    };
    Ok(ResourceUnit {
        resource_id: resources.id,
        count,
        cpu_millis: quantity(cpu, "CPU")?.to_string(),
        memory_bytes: quantity(memory, "memory")?.to_string(),
        storage_bytes: storage.to_string(),
        gpu_units,
        gpu_attributes,
    })
}

/// A `ResourceValue`: ASCII decimal digits (empty or absent is zero).
fn quantity(value: Option<&base::ResourceValue>, what: &str) -> Result<u128, FieldError> {
    let Some(value) = value else { return Ok(0) };
    if value.val.is_empty() {
        return Ok(0);
    }
    if !value.val.iter().all(u8::is_ascii_digit) {
        return Err(FieldError::invalid(format!(
            "{what} quantity {:?} is not a whole number",
            bounded_detail(String::from_utf8_lossy(&value.val))
        )));
    }
    // Digits only, so the text is ASCII; a value beyond u128 is absurd for any resource.
    std::str::from_utf8(&value.val)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            FieldError::absurd(format!(
                "{what} quantity {} exceeds 2^128",
                bounded_detail(String::from_utf8_lossy(&value.val))
            ))
        })
}

fn bounded_text(text: &str, what: &str) -> Result<String, FieldError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(FieldError::absurd(format!(
            "{what} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

fn attributes(list: &[base::Attribute]) -> Result<Vec<Attribute>, FieldError> {
    list.iter()
        .map(|a| {
            Ok(Attribute {
                key: bounded_text(&a.key, "attribute key")?,
                value: bounded_text(&a.value, "attribute value")?,
            })
        })
        .collect()
}

fn provider_record(msg: m::provider::MsgProvider) -> Result<ProviderRecord, FieldError> {
    let mut attributes = attributes(&msg.attributes)?;
    // The chain refuses duplicate keys; should one slip through, the first value wins, matching
    // the store's one-value-per-key history.
    let mut seen = HashSet::with_capacity(attributes.len());
    attributes.retain(|a| seen.insert(a.key.clone()));
    let info = msg.info.unwrap_or_default();
    Ok(ProviderRecord {
        owner: ids::owner(&msg.owner)?,
        host_uri: bounded_text(&msg.host_uri, "host URI")?,
        attributes,
        email: bounded_text(&info.email, "e-mail")?,
        website: bounded_text(&info.website, "website")?,
    })
}

/// Transfer facts for the coin legs of a message.
fn transfers<'c>(
    legs: impl Iterator<Item = (&'c str, &'c str, &'c base::Coin)>,
    flat_index: i32,
    tx_hash: &str,
) -> Result<Vec<Fact>, FieldError> {
    (0i32..)
        .zip(legs)
        .map(|(leg, (sender, recipient, coin))| {
            let amount = coin
                .amount
                .parse()
                .map_err(|e| FieldError::invalid(format!("transfer amount: {e}")))?;
            if coin.denom.is_empty() {
                return Err(FieldError::invalid("transfer without a denom"));
            }
            Ok(Fact::Transfer(Transfer {
                msg_index: flat_index,
                leg,
                tx_hash: tx_hash.to_string(),
                sender: sender.to_string(),
                recipient: recipient.to_string(),
                denom: bounded_text(&coin.denom, "denom")?,
                amount,
            }))
        })
        .collect()
}

/// `MsgMultiSend` legs touching a watched wallet. With one input (the only form since SDK 0.46)
/// every output coin is a transfer from that input. With several inputs the pairing is unknown:
/// watched inputs are recorded with an empty recipient and watched outputs with an empty sender.
fn multi_send_transfers(
    msg: &m::cosmos::MsgMultiSend,
    flat_index: i32,
    tx_hash: &str,
    watched: &HashSet<String>,
) -> Result<Vec<Fact>, FieldError> {
    let touches = msg
        .inputs
        .iter()
        .chain(&msg.outputs)
        .any(|leg| watched.contains(&leg.address));
    if !touches {
        return Ok(Vec::new());
    }
    if let [input] = msg.inputs.as_slice() {
        let legs = msg.outputs.iter().flat_map(|output| {
            output
                .coins
                .iter()
                .map(|coin| (input.address.as_str(), output.address.as_str(), coin))
        });
        return transfers(legs, flat_index, tx_hash);
    }
    let inputs = msg
        .inputs
        .iter()
        .filter(|leg| watched.contains(&leg.address))
        .flat_map(|leg| {
            leg.coins
                .iter()
                .map(|coin| (leg.address.as_str(), "", coin))
        });
    let outputs = msg
        .outputs
        .iter()
        .filter(|leg| watched.contains(&leg.address))
        .flat_map(|leg| {
            leg.coins
                .iter()
                .map(|coin| ("", leg.address.as_str(), coin))
        });
    transfers(inputs.chain(outputs), flat_index, tx_hash)
}
