//! Our own `tendermint-rpc` requests: the transport and the JSON-RPC envelope are
//! `tendermint-rpc`'s, but each `result` is read into the decoder's lenient types instead of
//! `tendermint`'s strict ones, so one odd field costs one item, not the block.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tendermint_rpc::request::RequestMessage;
use tendermint_rpc::{Method, Request, Response, SimpleRequest};

use crate::decode::chain_json::{BlockResponse, BlockResultsResponse, HeightText};

/// A `result` read into our own type `T`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Lenient<T>(pub(crate) T);

impl<T: DeserializeOwned> Response for Lenient<T> {}

/// Which endpoint a [`HeightRequest`] calls, and what its result is read into.
pub(crate) trait HeightMethod: Send + 'static {
    /// The JSON-RPC method.
    const METHOD: Method;
    /// What a human calls it in messages and metrics.
    const NAME: &'static str;
    /// The lenient result type.
    type Result: DeserializeOwned + Send + 'static;
    /// The height the node says the result is for.
    fn height(result: &Self::Result) -> u64;
}

/// `/block`.
pub(crate) enum BlockMethod {}

impl HeightMethod for BlockMethod {
    const METHOD: Method = Method::Block;
    const NAME: &'static str = "block";
    type Result = BlockResponse;
    fn height(result: &BlockResponse) -> u64 {
        result.height()
    }
}

/// `/block_results`.
pub(crate) enum BlockResultsMethod {}

impl HeightMethod for BlockResultsMethod {
    const METHOD: Method = Method::BlockResults;
    const NAME: &'static str = "block_results";
    type Result = BlockResultsResponse;
    fn height(result: &BlockResultsResponse) -> u64 {
        result.height.0
    }
}

/// A request for one height: params `{"height":"<n>"}`, as CometBFT expects int64 in JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct HeightRequest<M: HeightMethod> {
    height: String,
    #[serde(skip)]
    method: PhantomData<M>,
}

impl<M: HeightMethod> HeightRequest<M> {
    pub(crate) fn new(height: u64) -> Self {
        Self {
            height: height.to_string(),
            method: PhantomData,
        }
    }
}

impl<M: HeightMethod> RequestMessage for HeightRequest<M> {
    fn method(&self) -> Method {
        M::METHOD
    }
}

impl<M: HeightMethod> Request for HeightRequest<M> {
    type Response = Lenient<M::Result>;
}

impl<M: HeightMethod> SimpleRequest for HeightRequest<M> {
    type Output = Lenient<M::Result>;
}

/// `/status`, read leniently: only the chain id and the height range matter here.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StatusRequest {}

impl RequestMessage for StatusRequest {
    fn method(&self) -> Method {
        Method::Status
    }
}

impl Request for StatusRequest {
    type Response = Lenient<StatusResult>;
}

impl SimpleRequest for StatusRequest {
    type Output = Lenient<StatusResult>;
}

/// The parts of `/status` the indexer uses.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusResult {
    pub(crate) node_info: NodeInfo,
    pub(crate) sync_info: SyncInfo,
}

/// `node_info`: the chain id is called `network` there.
#[derive(Debug, Deserialize)]
pub(crate) struct NodeInfo {
    pub(crate) network: String,
}

/// `sync_info`: the node's height range and whether it is still catching up.
#[derive(Debug, Deserialize)]
pub(crate) struct SyncInfo {
    pub(crate) latest_block_height: HeightText,
    pub(crate) earliest_block_height: HeightText,
    #[serde(default)]
    pub(crate) catching_up: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_requests_carry_the_height_as_a_string() {
        let json = HeightRequest::<BlockResultsMethod>::new(13_759_500).into_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["method"], "block_results");
        assert_eq!(value["params"]["height"], "13759500");
        assert_eq!(value["jsonrpc"], "2.0");
    }

    #[test]
    fn status_is_read_leniently_from_a_real_reply() {
        let reply = r#"{"jsonrpc":"2.0","id":1,"result":{"node_info":{"network":"akashnet-2",
            "version":"0.34.27","other":{}},"sync_info":{"latest_block_height":"13760099",
            "earliest_block_height":"13759500","catching_up":false},"validator_info":{}}}"#;
        let Lenient(status) = <Lenient<StatusResult> as Response>::from_string(reply).unwrap();
        assert_eq!(status.node_info.network, "akashnet-2");
        assert_eq!(status.sync_info.latest_block_height, HeightText(13_760_099));
        assert_eq!(
            status.sync_info.earliest_block_height,
            HeightText(13_759_500)
        );
    }
}
