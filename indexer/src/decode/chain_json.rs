//! Serde types for the `result` member of CometBFT's `/block` and `/block_results` replies.
//!
//! These types are deliberately *lenient*: a node (or a hostile proxy) can send one attribute, one
//! event or one tx result in the wrong JSON shape, and that must cost us that one item — recorded
//! as a rejection by the decoder — not the whole block. Every leaf the decoder reads is therefore
//! wrapped in [`JsonText`], [`JsonCode`], [`JsonList`] or [`JsonObject`], which accept any JSON
//! value and keep whatever was not of the expected shape as [`serde_json::Value`] for the
//! rejection record. Only a syntactically broken document, or a header without a usable height,
//! fails deserialization as a whole.
//!
//! Attribute keys and values are kept as the raw strings the node sent. Whether they are base64
//! (CometBFT 0.34) or plain text (0.38) is not guessed from the text: the caller knows it from the
//! configured upgrade height and passes a [`CometVersion`] to the decoder.
//!
//! All types also implement `Serialize`, writing back the node's own shapes, so the synthetic
//! chain generator and the fixture server can produce blocks from them.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Which CometBFT JSON shape a height uses.
///
/// Akash ran CometBFT 0.34 (base64 event attributes, `begin_block_events`/`end_block_events`) up
/// to the v1.0.0 upgrade and 0.38 (plain attributes, `finalize_block_events`) from it. The caller
/// chooses per height from configuration (`cometbft_038_height`); the decoder never guesses from
/// the text, because a plain attribute can also be valid base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CometVersion {
    /// CometBFT 0.34: event attribute keys and values are base64.
    V034,
    /// CometBFT 0.38: event attributes are plain text; block events are `finalize_block_events`.
    V038,
}

impl CometVersion {
    /// The version in force at `height`, given the first height that uses CometBFT 0.38
    /// (`None` when the chain never switched).
    pub fn at_height(height: u64, cometbft_038_height: Option<u64>) -> Self {
        match cometbft_038_height {
            Some(first) if height >= first => Self::V038,
            _ => Self::V034,
        }
    }
}

/// The `result` of `/block?height=N`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BlockResponse {
    /// The block's id; its `hash` is the block hash we record.
    pub block_id: BlockId,
    /// The block itself.
    pub block: Block,
}

impl BlockResponse {
    /// The block height from the header.
    pub fn height(&self) -> u64 {
        self.block.header.height.0
    }

    /// The block time exactly as the header spells it (RFC 3339 with nanoseconds).
    pub fn time(&self) -> &str {
        &self.block.header.time.text
    }

    /// The block time in unix milliseconds (truncated towards the past).
    pub fn time_ms(&self) -> i64 {
        self.block.header.time.unix_ms
    }

    /// The block hash (upper-case hex), from `block_id`.
    pub fn hash(&self) -> &str {
        &self.block_id.hash
    }

    /// The raw transactions, each base64 as the node sends them.
    pub fn txs(&self) -> &[String] {
        &self.block.data.txs
    }
}

/// `block_id` of a block reply: only the hash matters to us.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct BlockId {
    /// Upper-case hex hash of the block header.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hash: String,
}

/// A block: its header and its transactions (evidence and commit are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Block {
    /// The header, for height, time and chain id.
    pub header: Header,
    /// The transactions.
    #[serde(default)]
    pub data: BlockData,
}

/// The parts of a block header the indexer records.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Header {
    /// The chain id, e.g. `akashnet-2`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub chain_id: String,
    /// The height; CometBFT sends it as a JSON string.
    pub height: HeightText,
    /// The block time: the RFC 3339 text, kept verbatim, and its instant.
    pub time: BlockTime,
}

/// `data` of a block: base64 transactions (`null` when the block is empty).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct BlockData {
    /// Each transaction as the node's base64 text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub txs: Vec<String>,
}

/// A block height as CometBFT writes it in JSON: a decimal string (a bare number is accepted too).
/// Only the wire form; the height the rest of the system uses is [`domain::Height`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeightText(pub u64);

impl Serialize for HeightText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for HeightText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeightVisitor;
        impl Visitor<'_> for HeightVisitor {
            type Value = HeightText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a block height as a decimal string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HeightText, E> {
                Ok(HeightText(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeightText, E> {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::invalid_value(de::Unexpected::Str(v), &self));
                }
                v.parse()
                    .map(HeightText)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(HeightVisitor)
    }
}

/// A block header time: the node's RFC 3339 text verbatim (exports reproduce it) and the instant
/// in unix milliseconds (queries compare it).
///
/// A header time that is not RFC 3339 makes the whole reply invalid: without a time no lease
/// can be dated, so such a block is a bad RPC reply, not something to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTime {
    /// The text as sent, e.g. `2024-02-15T00:02:04.846443707Z`.
    pub text: String,
    /// Unix milliseconds, truncated (floor) from the nanosecond time.
    pub unix_ms: i64,
}

impl BlockTime {
    /// Parses RFC 3339 text, keeping it verbatim.
    pub fn parse(text: &str) -> Option<Self> {
        let instant = domain::UnixMs::from_chain_time(text).ok()?;
        Some(Self {
            text: text.to_string(),
            unix_ms: instant.as_millis(),
        })
    }
}

impl Serialize for BlockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for BlockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"an RFC 3339 block time")
        })
    }
}

/// The `result` of `/block_results?height=N`, for CometBFT 0.34 and 0.38 alike.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BlockResultsResponse {
    /// The height these results belong to.
    pub height: HeightText,
    /// One result per transaction, in block order (`null` when the block has none).
    #[serde(default)]
    pub txs_results: JsonList<JsonObject<TxResult>>,
    /// CometBFT 0.34: events of BeginBlock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_block_events: Option<JsonList<JsonObject<Event>>>,
    /// CometBFT 0.34: events of EndBlock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_block_events: Option<JsonList<JsonObject<Event>>>,
    /// CometBFT 0.38: events of FinalizeBlock outside transactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalize_block_events: Option<JsonList<JsonObject<Event>>>,
}

/// The outcome of one transaction (`ExecTxResult` / `ResponseDeliverTx`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct TxResult {
    /// 0 on success; anything else means the transaction changed nothing.
    #[serde(default)]
    pub code: JsonCode,
    /// The module that produced a non-zero code (`sdk`, `market`, …).
    #[serde(default)]
    pub codespace: JsonText,
    /// The events the transaction emitted.
    #[serde(default)]
    pub events: JsonList<JsonObject<Event>>,
}

/// One ABCI event.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Event {
    /// The event type, e.g. `akash.v1` or `akash.market.v1.EventLeaseClosed`.
    #[serde(rename = "type", default)]
    pub kind: JsonText,
    /// Key/value pairs, raw as sent (base64 under CometBFT 0.34).
    #[serde(default)]
    pub attributes: JsonList<JsonObject<EventAttribute>>,
}

/// One event attribute, raw as sent: base64 under CometBFT 0.34, plain under 0.38.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct EventAttribute {
    /// The key.
    #[serde(default)]
    pub key: JsonText,
    /// The value.
    #[serde(default)]
    pub value: JsonText,
}

/// A JSON leaf that should be a string: the text, an explicit null/absence, or whatever else came.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum JsonText {
    /// A JSON string.
    Text(String),
    /// `null` or a missing member.
    #[default]
    Null,
    /// Any other JSON value, kept for the rejection record.
    Malformed(Value),
}

impl JsonText {
    /// The text when the value was a string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl From<&str> for JsonText {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<String> for JsonText {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Null => serializer.serialize_none(),
            Self::Malformed(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match AnyLeaf::deserialize(deserializer)? {
            AnyLeaf::Text(text) => Self::Text(text),
            AnyLeaf::Null => Self::Null,
            AnyLeaf::Unsigned(v) => Self::Malformed(Value::from(v)),
            AnyLeaf::Other(value) => Self::Malformed(value),
        })
    }
}

/// A tx result `code`: a number (or numeric string); anything else is kept as malformed.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonCode {
    /// The code; 0 means success.
    Code(u32),
    /// A value that is not a code. The decoder treats the transaction as failed.
    Malformed(Value),
}

impl Default for JsonCode {
    /// An absent code is success: encoders omit zero values.
    fn default() -> Self {
        Self::Code(0)
    }
}

impl JsonCode {
    /// The code when it was well-formed.
    pub fn value(&self) -> Option<u32> {
        match self {
            Self::Code(code) => Some(*code),
            Self::Malformed(_) => None,
        }
    }
}

impl Serialize for JsonCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Code(code) => serializer.serialize_u32(*code),
            Self::Malformed(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for JsonCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match AnyLeaf::deserialize(deserializer)? {
            AnyLeaf::Unsigned(v) => u32::try_from(v)
                .map(Self::Code)
                .unwrap_or_else(|_| Self::Malformed(Value::from(v))),
            AnyLeaf::Text(text) => match text.parse() {
                Ok(code) => Self::Code(code),
                Err(_) => Self::Malformed(Value::String(text)),
            },
            AnyLeaf::Null => Self::Code(0),
            AnyLeaf::Other(value) => Self::Malformed(value),
        })
    }
}

/// Any JSON value, sorted into the cases the lenient leaves care about without buffering the
/// common ones.
enum AnyLeaf {
    Text(String),
    Unsigned(u64),
    Null,
    Other(Value),
}

impl<'de> Deserialize<'de> for AnyLeaf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LeafVisitor;
        impl<'de> Visitor<'de> for LeafVisitor {
            type Value = AnyLeaf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Text(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AnyLeaf, D::Error> {
                AnyLeaf::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Other(Value::Bool(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Unsigned(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyLeaf, E> {
                Ok(AnyLeaf::Other(Value::from(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AnyLeaf, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(AnyLeaf::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AnyLeaf, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(AnyLeaf::Other)
            }
        }
        deserializer.deserialize_any(LeafVisitor)
    }
}

/// A JSON member that should be an array: its items, or whatever else came.
///
/// `null` and absence are an empty list, as CometBFT writes `null` for empty arrays.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonList<T> {
    /// The items of the array (empty for `null`).
    Items(Vec<T>),
    /// A value that is not an array, kept for the rejection record.
    Malformed(Value),
}

impl<T> Default for JsonList<T> {
    fn default() -> Self {
        Self::Items(Vec::new())
    }
}

impl<T> JsonList<T> {
    /// The items, or an empty slice when the value was not an array.
    pub fn items(&self) -> &[T] {
        match self {
            Self::Items(items) => items,
            Self::Malformed(_) => &[],
        }
    }
}

impl<T> From<Vec<T>> for JsonList<T> {
    fn from(items: Vec<T>) -> Self {
        Self::Items(items)
    }
}

impl<T: Serialize> Serialize for JsonList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Items(items) => items.serialize(serializer),
            Self::Malformed(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = JsonList<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonList<T>, A::Error> {
                // Cap the pre-allocation: a hostile size hint must not reserve gigabytes.
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(JsonList::Items(items))
            }
            fn visit_unit<E: de::Error>(self) -> Result<JsonList<T>, E> {
                Ok(JsonList::Items(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<JsonList<T>, E> {
                Ok(JsonList::Items(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonList<T>, D::Error> {
                JsonList::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonList<T>, E> {
                Ok(JsonList::Malformed(Value::Bool(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonList<T>, E> {
                Ok(JsonList::Malformed(Value::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonList<T>, E> {
                Ok(JsonList::Malformed(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonList<T>, E> {
                Ok(JsonList::Malformed(Value::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonList<T>, E> {
                Ok(JsonList::Malformed(Value::String(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JsonList<T>, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(JsonList::Malformed)
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// A JSON member that should be an object of type `T`: the object, or whatever else came.
///
/// `T`'s own fields are lenient leaves, so any object deserializes; only a non-object (a string,
/// a number, an array, `null`) ends up [`JsonObject::Malformed`].
#[derive(Debug, Clone, PartialEq)]
pub enum JsonObject<T> {
    /// The object.
    Object(T),
    /// A value that is not an object, kept for the rejection record.
    Malformed(Value),
}

impl<T> JsonObject<T> {
    /// The object when it was one.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Self::Object(object) => Some(object),
            Self::Malformed(_) => None,
        }
    }
}

impl<T> From<T> for JsonObject<T> {
    fn from(object: T) -> Self {
        Self::Object(object)
    }
}

impl<T: Serialize> Serialize for JsonObject<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Object(object) => object.serialize(serializer),
            Self::Malformed(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = JsonObject<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JsonObject<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(JsonObject::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<JsonObject<T>, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(JsonObject::Malformed)
            }
            fn visit_unit<E: de::Error>(self) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonObject<T>, D::Error> {
                JsonObject::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::Bool(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonObject<T>, E> {
                Ok(JsonObject::Malformed(Value::String(v.to_string())))
            }
        }
        deserializer.deserialize_any(ObjectVisitor(PhantomData))
    }
}

/// Reads `null` as the type's default, for members CometBFT writes as `null` when empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_arrive_as_strings_and_bad_heights_fail_the_document() {
        let ok: BlockResultsResponse =
            serde_json::from_str(r#"{"height":"42","txs_results":null}"#).unwrap();
        assert_eq!(ok.height, HeightText(42));
        assert!(ok.txs_results.items().is_empty());
        assert!(
            serde_json::from_str::<BlockResultsResponse>(r#"{"height":"-1"}"#).is_err(),
            "a negative height must not be accepted"
        );
    }

    #[test]
    fn block_times_keep_their_text_and_truncate_to_milliseconds() {
        let time = BlockTime::parse("2024-02-15T00:02:04.846943707Z").unwrap();
        assert_eq!(time.text, "2024-02-15T00:02:04.846943707Z");
        assert_eq!(time.unix_ms, 1_707_955_324_846);
        let before_epoch = BlockTime::parse("1969-12-31T23:59:59.9995Z").unwrap();
        assert_eq!(before_epoch.unix_ms, -1, "truncation goes towards the past");
        assert!(BlockTime::parse("yesterday").is_none());
        let bad = r#"{"block_id":{"hash":"AB"},"block":{"header":{"height":"5","time":"soon"}}}"#;
        assert!(serde_json::from_str::<BlockResponse>(bad).is_err());
    }

    #[test]
    fn malformed_leaves_are_kept_without_losing_their_neighbours() {
        let json = r#"{"height":"7","txs_results":[
            {"code":0,"events":[{"type":"akash.v1","attributes":[
                {"key":"a","value":"b"},
                {"key":{"nested":1},"value":5},
                "not an attribute"]}]},
            "not a result",
            {"code":"eleven","events":7},
            {"code":11}
        ],"finalize_block_events":null}"#;
        let results: BlockResultsResponse = serde_json::from_str(json).unwrap();
        let txs = results.txs_results.items();
        assert_eq!(txs.len(), 4);
        let first = txs[0].as_object().unwrap();
        assert_eq!(first.code, JsonCode::Code(0));
        let attributes = first.events.items()[0]
            .as_object()
            .unwrap()
            .attributes
            .items();
        assert_eq!(attributes[0].as_object().unwrap().key.as_text(), Some("a"));
        let bad = attributes[1].as_object().unwrap();
        assert!(matches!(bad.key, JsonText::Malformed(_)));
        assert!(matches!(bad.value, JsonText::Malformed(_)));
        assert!(matches!(attributes[2], JsonObject::Malformed(_)));
        assert!(matches!(txs[1], JsonObject::Malformed(_)));
        let third = txs[2].as_object().unwrap();
        assert!(matches!(third.code, JsonCode::Malformed(_)));
        assert!(matches!(third.events, JsonList::Malformed(_)));
        assert_eq!(txs[3].as_object().unwrap().code.value(), Some(11));
    }

    #[test]
    fn serializing_writes_the_node_shapes_back() {
        let json = r#"{"block_id":{"hash":"AB"},"block":{"header":{"chain_id":"c","height":"5","time":"2024-01-01T00:00:00.5Z"},"data":{"txs":null}}}"#;
        let block: BlockResponse = serde_json::from_str(json).unwrap();
        assert_eq!(block.height(), 5);
        assert_eq!(block.hash(), "AB");
        assert_eq!(block.time(), "2024-01-01T00:00:00.5Z");
        assert_eq!(block.time_ms(), 1_704_067_200_500);
        assert!(block.txs().is_empty());
        let again: BlockResponse =
            serde_json::from_str(&serde_json::to_string(&block).unwrap()).unwrap();
        assert_eq!(again, block);
        let written = serde_json::to_value(&block).unwrap();
        assert_eq!(written["block"]["header"]["height"], "5");
    }
}
