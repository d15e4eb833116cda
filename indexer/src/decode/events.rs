//! Akash market and deployment events, for both eras.
//!
//! * Era A (node ≤ v0.38, CometBFT 0.34): untyped events of type `akash.v1` with plain-text
//!   attributes `module`, `action`, `owner`, `dseq`, `gseq`, `oseq`, `provider`, `price-denom`,
//!   `price-amount`; every attribute key and value is base64 in the RPC JSON.
//! * Era B (node ≥ v1.0.0, CometBFT 0.38): typed events such as
//!   `akash.market.v1.EventLeaseClosed`, one attribute per proto field whose value is that field's
//!   proto-JSON (`id` an object with `dseq` as a quoted number, `reason` a quoted enum name), plus
//!   a plain `msg_index` tying the event to the message that emitted it.
//!
//! Only the events the indexer needs are read: lease created (its price), lease closed (which
//! lease, and the chain's reason), deployment closed, group closed or paused. Events of other
//! types are skipped without decoding their attributes.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Deserialize;

use crate::decode::chain_json::{CometVersion, Event, JsonText};
use crate::decode::facts::{DeploymentId, GroupEnd, GroupId, LeaseId, Price};
use crate::decode::ids;
use crate::decode::messages::market::v1::LeaseClosedReason;

/// An Akash event the indexer uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ChainEvent {
    /// A lease was created, at this price.
    LeaseCreated { id: LeaseId, price: Option<Price> },
    /// A lease was closed.
    LeaseClosed { id: LeaseId, reason: EventReason },
    /// A deployment was closed.
    DeploymentClosed { id: DeploymentId },
    /// A group was closed or paused.
    GroupEnded { id: GroupId, end: GroupEnd },
}

/// The close reason an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventReason {
    /// Era A events carry none.
    Absent,
    /// A reason the indexer knows.
    Known(LeaseClosedReason),
    /// A reason name or number the indexer does not know, kept verbatim.
    Unknown(String),
}

/// An event with the index of the message that emitted it, when the event says (era B).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocatedEvent {
    pub msg_index: Option<u32>,
    pub event: ChainEvent,
}

/// Why an Akash event could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventError {
    /// The event type.
    pub kind: String,
    /// What was wrong.
    pub detail: String,
}

/// Decodes one event. `Ok(None)` for events the indexer does not use.
pub(crate) fn decode_event(
    event: &Event,
    comet: CometVersion,
) -> Result<Option<LocatedEvent>, EventError> {
    let Some(kind) = event.kind.as_text() else {
        return Err(EventError {
            kind: String::new(),
            detail: format!("event type is not a string: {:?}", event.kind),
        });
    };
    let typed = match kind {
        "akash.v1" => None,
        "akash.market.v1.EventLeaseCreated"
        | "akash.market.v1.EventLeaseClosed"
        | "akash.deployment.v1.EventDeploymentClosed"
        | "akash.deployment.v1.EventGroupClosed"
        | "akash.deployment.v1.EventGroupPaused" => Some(kind),
        _ => return Ok(None),
    };
    let fail = |detail: String| EventError {
        kind: kind.to_string(),
        detail,
    };
    let attributes = decode_attributes(event, comet).map_err(fail)?;
    let get = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    };
    let located = match typed {
        None => decode_untyped(&get)
            .map_err(fail)?
            .map(|event| LocatedEvent {
                msg_index: None,
                event,
            }),
        Some(kind) => {
            let msg_index = match get("msg_index") {
                Some(text) => Some(
                    text.trim_matches('"')
                        .parse()
                        .map_err(|_| fail(format!("msg_index {text:?} is not a number")))?,
                ),
                None => None,
            };
            let event = decode_typed(kind, &get).map_err(fail)?;
            Some(LocatedEvent { msg_index, event })
        }
    };
    Ok(located)
}

/// Attribute keys and values as text, in event order.
type Attributes<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The attributes as text: base64-decoded under CometBFT 0.34, as sent under 0.38.
fn decode_attributes(event: &Event, comet: CometVersion) -> Result<Attributes<'_>, String> {
    let list = match &event.attributes {
        crate::decode::chain_json::JsonList::Items(items) => items,
        crate::decode::chain_json::JsonList::Malformed(value) => {
            return Err(format!("attributes are not a list: {value}"))
        }
    };
    let text = |leaf: &'_ JsonText, what: &str| -> Result<Option<String>, String> {
        match leaf {
            JsonText::Text(text) => Ok(Some(text.clone())),
            JsonText::Null => Ok(None),
            JsonText::Malformed(value) => Err(format!("attribute {what} is not a string: {value}")),
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for attribute in list {
        let Some(attribute) = attribute.as_object() else {
            return Err("an attribute is not an object".to_string());
        };
        match comet {
            CometVersion::V038 => {
                let key = match &attribute.key {
                    JsonText::Text(text) => Cow::Borrowed(text.as_str()),
                    JsonText::Null => Cow::Borrowed(""),
                    JsonText::Malformed(value) => {
                        return Err(format!("attribute key is not a string: {value}"))
                    }
                };
                let value = match &attribute.value {
                    JsonText::Text(text) => Cow::Borrowed(text.as_str()),
                    JsonText::Null => Cow::Borrowed(""),
                    JsonText::Malformed(value) => {
                        return Err(format!("attribute value is not a string: {value}"))
                    }
                };
                out.push((key, value));
            }
            CometVersion::V034 => {
                let key = text(&attribute.key, "key")?.unwrap_or_default();
                let value = text(&attribute.value, "value")?.unwrap_or_default();
                out.push((Cow::Owned(unbase64(&key)?), Cow::Owned(unbase64(&value)?)));
            }
        }
    }
    Ok(out)
}

/// Decodes one base64 attribute of CometBFT 0.34 into UTF-8 text.
fn unbase64(text: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("attribute {text:?} is not base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("attribute {text:?} is not UTF-8 text"))
}

/// Group `gseq` of `deployment`. Both event eras spell a group as its deployment's attributes
/// plus a sequence, so both build it here.
fn group_of(deployment: DeploymentId, gseq: i32) -> GroupId {
    GroupId {
        owner: deployment.owner,
        dseq: deployment.dseq,
        gseq,
    }
}

/// The lease of order `oseq` in `group`, made from `provider`'s bid `bseq` (0 in era A, which
/// has no bid sequence).
fn lease_of(group: GroupId, oseq: i32, provider: String, bseq: i32) -> LeaseId {
    LeaseId {
        owner: group.owner,
        dseq: group.dseq,
        gseq: group.gseq,
        oseq,
        provider,
        bseq,
    }
}

/// Era A: `akash.v1` events, told apart by `module` and `action`.
fn decode_untyped<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<Option<ChainEvent>, String> {
    let required = |key: &str| get(key).ok_or_else(|| format!("attribute {key:?} is missing"));
    let deployment = || -> Result<DeploymentId, String> {
        let owner = required("owner")?;
        Ok(DeploymentId {
            owner: ids::owner(owner)?,
            dseq: ids::dseq_text(required("dseq")?)?,
        })
    };
    let group = || -> Result<GroupId, String> {
        Ok(group_of(
            deployment()?,
            ids::seq_text(required("gseq")?, "gseq")?,
        ))
    };
    let lease = || -> Result<LeaseId, String> {
        Ok(lease_of(
            group()?,
            ids::seq_text(required("oseq")?, "oseq")?,
            ids::owner(required("provider")?)?,
            0,
        ))
    };
    let event = match (get("module"), get("action")) {
        (Some("market"), Some("lease-created")) => {
            let price = match (get("price-denom"), get("price-amount")) {
                (Some(denom), Some(amount)) => Some(ids::price(denom, amount)?),
                _ => None,
            };
            ChainEvent::LeaseCreated {
                id: lease()?,
                price,
            }
        }
        (Some("market"), Some("lease-closed")) => ChainEvent::LeaseClosed {
            id: lease()?,
            reason: EventReason::Absent,
        },
        (Some("deployment"), Some("deployment-closed")) => {
            ChainEvent::DeploymentClosed { id: deployment()? }
        }
        (Some("deployment"), Some("group-closed")) => ChainEvent::GroupEnded {
            id: group()?,
            end: GroupEnd::Closed,
        },
        (Some("deployment"), Some("group-paused")) => ChainEvent::GroupEnded {
            id: group()?,
            end: GroupEnd::Paused,
        },
        _ => return Ok(None),
    };
    Ok(Some(event))
}

/// A proto-JSON id of a deployment, group, order, bid or lease; absent fields are zero/empty.
#[derive(Deserialize)]
struct JsonId {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    dseq: JsonNumber,
    #[serde(default)]
    gseq: JsonNumber,
    #[serde(default)]
    oseq: JsonNumber,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    bseq: JsonNumber,
}

/// A proto-JSON integer: uint64 arrives quoted, uint32 bare.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum JsonNumber {
    #[default]
    Absent,
    Number(u64),
    Text(String),
}

impl JsonNumber {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Absent => Cow::Borrowed("0"),
            Self::Number(n) => Cow::Owned(n.to_string()),
            Self::Text(text) => Cow::Borrowed(text),
        }
    }
}

/// A proto-JSON `DecCoin`: the amount is the decimal text.
#[derive(Deserialize)]
struct JsonDecCoin {
    denom: String,
    amount: String,
}

/// Era B: typed events.
fn decode_typed<'a>(
    kind: &str,
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<ChainEvent, String> {
    let id_text = get("id").ok_or("attribute \"id\" is missing")?;
    let id: JsonId =
        serde_json::from_str(id_text).map_err(|e| format!("id {id_text:?} is not JSON: {e}"))?;
    let deployment = || -> Result<DeploymentId, String> {
        Ok(DeploymentId {
            owner: ids::owner(&id.owner)?,
            dseq: ids::dseq_text(&id.dseq.text())?,
        })
    };
    let group = || -> Result<GroupId, String> {
        Ok(group_of(
            deployment()?,
            ids::seq_text(&id.gseq.text(), "gseq")?,
        ))
    };
    let lease = || -> Result<LeaseId, String> {
        Ok(lease_of(
            group()?,
            ids::seq_text(&id.oseq.text(), "oseq")?,
            ids::owner(&id.provider)?,
            ids::seq_text(&id.bseq.text(), "bseq")?,
        ))
    };
    Ok(match kind {
        "akash.market.v1.EventLeaseCreated" => {
            let price = match get("price") {
                Some(text) => {
                    let coin: JsonDecCoin = serde_json::from_str(text)
                        .map_err(|e| format!("price {text:?} is not a JSON DecCoin: {e}"))?;
                    Some(ids::price(&coin.denom, &coin.amount)?)
                }
                None => None,
            };
            ChainEvent::LeaseCreated {
                id: lease()?,
                price,
            }
        }
        "akash.market.v1.EventLeaseClosed" => {
            let reason = match get("reason") {
                Some(text) => parse_reason(text)?,
                None => EventReason::Absent,
            };
            ChainEvent::LeaseClosed {
                id: lease()?,
                reason,
            }
        }
        "akash.deployment.v1.EventDeploymentClosed" => {
            ChainEvent::DeploymentClosed { id: deployment()? }
        }
        "akash.deployment.v1.EventGroupClosed" => ChainEvent::GroupEnded {
            id: group()?,
            end: GroupEnd::Closed,
        },
        _ => ChainEvent::GroupEnded {
            id: group()?,
            end: GroupEnd::Paused,
        },
    })
}

/// A `LeaseClosedReason` in proto-JSON: a quoted enum name, or a number for values the emitting
/// node's enum did not know.
fn parse_reason(text: &str) -> Result<EventReason, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("reason {text:?} is not JSON: {e}"))?;
    let known = match &value {
        serde_json::Value::String(name) => LeaseClosedReason::from_name(name),
        serde_json::Value::Number(number) => number
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .and_then(|n| LeaseClosedReason::try_from(n).ok()),
        _ => return Err(format!("reason {text:?} is neither a name nor a number")),
    };
    Ok(match known {
        Some(reason) => EventReason::Known(reason),
        None => EventReason::Unknown(match value {
            serde_json::Value::String(name) => name,
            other => other.to_string(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::chain_json::{EventAttribute, JsonObject};

    fn event(kind: &str, attributes: &[(&str, &str)]) -> Event {
        Event {
            kind: kind.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| {
                    JsonObject::Object(EventAttribute {
                        key: (*k).into(),
                        value: (*v).into(),
                    })
                })
                .collect::<Vec<_>>()
                .into(),
        }
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn era_a_events_are_base64_and_carry_prices() {
        let pairs = [
            ("module", "market"),
            ("action", "lease-created"),
            ("owner", "akash1owner"),
            ("dseq", "13759517"),
            ("gseq", "1"),
            ("oseq", "2"),
            ("provider", "akash1provider"),
            ("price-denom", "uakt"),
            ("price-amount", "2037.578017543302848935"),
        ];
        let encoded: Vec<(String, String)> = pairs.iter().map(|(k, v)| (b64(k), b64(v))).collect();
        let refs: Vec<(&str, &str)> = encoded
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let decoded = decode_event(&event("akash.v1", &refs), CometVersion::V034)
            .unwrap()
            .unwrap();
        let ChainEvent::LeaseCreated { id, price } = decoded.event else {
            panic!("not a lease-created event: {decoded:?}");
        };
        assert_eq!(id.to_string(), "akash1owner/13759517/1/2/akash1provider/0");
        assert_eq!(price.unwrap().amount.as_str(), "2037.578017543302848935");
        // The same attributes sent plain under 0.34 are not base64 and are rejected.
        assert!(decode_event(&event("akash.v1", &pairs), CometVersion::V034).is_err());
    }

    #[test]
    fn era_b_events_are_proto_json_with_msg_index() {
        let closed = event(
            "akash.market.v1.EventLeaseClosed",
            &[
                (
                    "id",
                    r#"{"owner":"akash1o","dseq":"23940027","gseq":2,"oseq":1,"provider":"akash1p","bseq":3}"#,
                ),
                ("reason", r#""lease_closed_reason_insufficient_funds""#),
                ("msg_index", "1"),
            ],
        );
        let decoded = decode_event(&closed, CometVersion::V038).unwrap().unwrap();
        assert_eq!(decoded.msg_index, Some(1));
        assert_eq!(
            decoded.event,
            ChainEvent::LeaseClosed {
                id: LeaseId {
                    owner: "akash1o".into(),
                    dseq: 23_940_027,
                    gseq: 2,
                    oseq: 1,
                    provider: "akash1p".into(),
                    bseq: 3,
                },
                reason: EventReason::Known(LeaseClosedReason::LeaseClosedReasonInsufficientFunds),
            }
        );
        let future = event(
            "akash.market.v1.EventLeaseClosed",
            &[
                (
                    "id",
                    r#"{"owner":"akash1o","dseq":"1","gseq":1,"oseq":1,"provider":"akash1p"}"#,
                ),
                ("reason", r#""lease_closed_reason_reclaimed""#),
            ],
        );
        let decoded = decode_event(&future, CometVersion::V038).unwrap().unwrap();
        assert!(matches!(
            decoded.event,
            ChainEvent::LeaseClosed { reason: EventReason::Unknown(ref name), .. } if name == "lease_closed_reason_reclaimed"
        ));
    }

    #[test]
    fn malformed_typed_attributes_are_errors_and_other_events_are_skipped() {
        let bad = event("akash.market.v1.EventLeaseClosed", &[("id", "{not json")]);
        let error = decode_event(&bad, CometVersion::V038).unwrap_err();
        assert_eq!(error.kind, "akash.market.v1.EventLeaseClosed");
        assert!(error.detail.contains("not JSON"), "{}", error.detail);
        let huge = event(
            "akash.market.v1.EventLeaseClosed",
            &[(
                "id",
                r#"{"owner":"akash1o","dseq":"18446744073709551615","gseq":1,"oseq":1,"provider":"akash1p"}"#,
            )],
        );
        assert!(
            decode_event(&huge, CometVersion::V038).is_err(),
            "dseq beyond i64"
        );
        let other = event("transfer", &[("amount", "!!not base64!!")]);
        assert_eq!(decode_event(&other, CometVersion::V034), Ok(None));
    }
}
