//! The CometBFT JSON-RPC node stand-in: URI `GET` and JSON-RPC 2.0 `POST`, the node's own error
//! texts and shapes, and optional fault injection.
//!
//! Error shapes follow CometBFT's `rpc/jsonrpc/server`: a failing call is an `Internal error`
//! (code -32603) whose `data` is the core's message, for example `height 9 must be less than or
//! equal to the current blockchain height 5`. A URI request carries the id `-1` and fails with
//! HTTP 500; a JSON-RPC `POST` echoes the caller's id and fails inside an HTTP 200 reply.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;
use tracing::{debug, info, warn};

use super::faults::{Fault, FaultDice, Faults, FaultsError, InjectedFaults};
use super::source::ChainSource;

/// How and where to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The listen address; it must be a loopback address. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Faults to inject (none by default).
    pub faults: Faults,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: Faults::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The listen address is not loopback: simnet never listens beyond this machine.
    #[error("simnet only listens on loopback addresses, not {0}")]
    NotLoopback(SocketAddr),
    /// Bad fault settings.
    #[error(transparent)]
    Faults(#[from] FaultsError),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running node stand-in. Dropping it stops the server and closes every connection.
pub struct ChainServer {
    addr: SocketAddr,
    state: Arc<NodeState>,
    range: (u64, u64),
    task: JoinHandle<()>,
}

impl ChainServer {
    /// Binds the listen address and starts serving `source` in the current tokio runtime.
    pub async fn start(source: ChainSource, options: ServeOptions) -> Result<Self, ServeError> {
        if !options.listen.ip().is_loopback() {
            return Err(ServeError::NotLoopback(options.listen));
        }
        options.faults.validate()?;
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?;
        let range = source.range();
        let state = Arc::new(NodeState {
            source,
            dice: FaultDice::new(options.faults),
            head: AtomicU64::new(range.1),
        });
        info!(%addr, earliest = range.0, latest = range.1, "serving a chain as a CometBFT RPC node");
        let task = tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Self {
            addr,
            state,
            range,
            task,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The RPC URL to give a client, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Pretends the chain has only reached `height` (clamped to the served range), so `--follow`
    /// can be tested: `/status` reports it and higher heights get the node's "must be less than
    /// or equal to the current blockchain height" error.
    pub fn set_head(&self, height: u64) {
        self.state
            .head
            .store(height.clamp(self.range.0, self.range.1), Ordering::SeqCst);
    }

    /// The faults injected so far.
    pub fn injected(&self) -> InjectedFaults {
        self.state.dice.injected()
    }

    /// Stops the server and waits until its connections are closed.
    pub async fn shutdown(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for ChainServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct NodeState {
    source: ChainSource,
    dice: FaultDice,
    head: AtomicU64,
}

type Node = Arc<NodeState>;

/// Lets a handler reset the TCP connection its request came on.
#[derive(Clone)]
struct ConnectionControl(Arc<Notify>);

async fn accept_loop(listener: TcpListener, state: Node) {
    let router = Router::new()
        .route("/", post(json_rpc))
        .route("/status", get(uri_status))
        .route("/block", get(uri_block))
        .route("/block_results", get(uri_block_results))
        .with_state(state.clone());
    // Owned here, so aborting this task aborts every connection with it.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    if state.dice.resets_connections() {
                        // Closing such a socket sends RST instead of FIN: a real reset.
                        let _ = stream.set_zero_linger();
                    }
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    // Typically out of file descriptors; back off instead of spinning.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let control = Arc::new(Notify::new());
    let handle = control.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request
            .extensions_mut()
            .insert(ConnectionControl(handle.clone()));
        router.clone().oneshot(request)
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                debug!(%error, "connection ended with an error");
            }
        }
        () = control.notified() => debug!("connection reset by fault injection"),
    }
}

/// A call the node understands.
#[derive(Debug, Clone, Copy)]
enum Call {
    Status,
    Block(Option<i64>),
    BlockResults(Option<i64>),
}

/// How the request came, which decides the id and the HTTP status of errors.
enum Form {
    Uri,
    JsonRpc(Value),
}

impl Form {
    fn id(&self) -> Value {
        match self {
            Self::Uri => Value::from(-1),
            Self::JsonRpc(id) => id.clone(),
        }
    }
}

/// A JSON-RPC error object.
struct RpcError {
    code: i32,
    message: &'static str,
    data: String,
}

impl RpcError {
    fn internal(data: String) -> Self {
        Self {
            code: -32603,
            message: "Internal error",
            data,
        }
    }

    fn invalid_params(data: String) -> Self {
        Self {
            code: -32602,
            message: "Invalid params",
            data,
        }
    }
}

async fn uri_status(
    State(node): State<Node>,
    Extension(c): Extension<ConnectionControl>,
) -> Response {
    answer(&node, &c, Form::Uri, Ok(Call::Status)).await
}

async fn uri_block(
    State(node): State<Node>,
    Extension(c): Extension<ConnectionControl>,
    RawQuery(query): RawQuery,
) -> Response {
    let call = uri_height(query.as_deref()).map(Call::Block);
    answer(&node, &c, Form::Uri, call).await
}

async fn uri_block_results(
    State(node): State<Node>,
    Extension(c): Extension<ConnectionControl>,
    RawQuery(query): RawQuery,
) -> Response {
    let call = uri_height(query.as_deref()).map(Call::BlockResults);
    answer(&node, &c, Form::Uri, call).await
}

async fn json_rpc(
    State(node): State<Node>,
    Extension(c): Extension<ConnectionControl>,
    body: Bytes,
) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(request)) => Value::Object(request),
        Ok(_) => {
            let error = RpcError {
                code: -32600,
                message: "Invalid Request",
                data: "only single JSON-RPC request objects are served".into(),
            };
            return error_reply(StatusCode::OK, &Value::Null, &error);
        }
        Err(e) => {
            let error = RpcError {
                code: -32700,
                message: "Parse error",
                data: format!("error unmarshaling request: {e}"),
            };
            return error_reply(StatusCode::INTERNAL_SERVER_ERROR, &Value::Null, &error);
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let call = match request.get("method").and_then(Value::as_str) {
        Some("status") => Ok(Call::Status),
        Some("block") => json_height(&params).map(Call::Block),
        Some("block_results") => json_height(&params).map(Call::BlockResults),
        other => {
            let error = RpcError {
                code: -32601,
                message: "Method not found",
                data: format!("method {:?} is not served", other.unwrap_or("")),
            };
            return error_reply(StatusCode::OK, &id, &error);
        }
    };
    answer(&node, &c, Form::JsonRpc(id), call).await
}

/// The `height` of a URI query: `height=5` or `height="5"`; absent means the latest.
fn uri_height(query: Option<&str>) -> Result<Option<i64>, RpcError> {
    let Some(raw) = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("height="))
    else {
        return Ok(None);
    };
    let unquoted = raw.replace("%22", "\"");
    let text = unquoted.trim_matches('"');
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|e| {
        RpcError::invalid_params(format!(
            "error converting http params to arguments: {text:?}: {e}"
        ))
    })
}

/// The `height` of JSON-RPC params, by name (`{"height":"5"}`) or position (`["5"]`).
fn json_height(params: &Value) -> Result<Option<i64>, RpcError> {
    let value = match params {
        Value::Object(map) => map.get("height"),
        Value::Array(list) => list.first(),
        _ => None,
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
            RpcError::invalid_params(format!("error converting json params to arguments: {n}"))
        }),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|e| {
            RpcError::invalid_params(format!(
                "error converting json params to arguments: {s:?}: {e}"
            ))
        }),
        Some(other) => Err(RpcError::invalid_params(format!(
            "error converting json params to arguments: {other}"
        ))),
    }
}

/// Applies faults, then serves the call in the request's form.
async fn answer(
    node: &NodeState,
    control: &ConnectionControl,
    form: Form,
    call: Result<Call, RpcError>,
) -> Response {
    match node.dice.roll() {
        Fault::None => {}
        Fault::Http500 => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Fault::Http429 => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "rate limited",
            )
                .into_response()
        }
        Fault::Reset => {
            control.0.notify_one();
            // The connection task drops this request together with the socket.
            return std::future::pending().await;
        }
        Fault::Stall(duration) => tokio::time::sleep(duration).await,
    }
    let id = form.id();
    let outcome = match call {
        Ok(call) => serve_call(node, call).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(result) => success_reply(&id, &result),
        Err(error) => {
            let status = match form {
                Form::Uri => StatusCode::INTERNAL_SERVER_ERROR,
                Form::JsonRpc(_) => StatusCode::OK,
            };
            error_reply(status, &id, &error)
        }
    }
}

async fn serve_call(node: &NodeState, call: Call) -> Result<Bytes, RpcError> {
    let head = node.head.load(Ordering::SeqCst);
    let (earliest, _) = node.source.range();
    match call {
        Call::Status => {
            let status = node.source.status(head).await;
            Ok(Bytes::from(serde_json::to_vec(&status).unwrap_or_default()))
        }
        Call::Block(height) => {
            let height = resolve_height(height, earliest, head)?;
            match node.source.block(height).await {
                Some(block) if !node.dice.is_missing(height) => Ok(block),
                // CometBFT's answer when its block store lacks the block.
                _ => Ok(Bytes::from_static(
                    br#"{"block_id":{"hash":"","parts":{"total":0,"hash":""}},"block":null}"#,
                )),
            }
        }
        Call::BlockResults(height) => {
            let height = resolve_height(height, earliest, head)?;
            match node.source.block_results(height).await {
                Some(results) if !node.dice.is_missing(height) => Ok(results),
                _ => Err(RpcError::internal(format!(
                    "could not find results for height #{height}"
                ))),
            }
        }
    }
}

/// CometBFT's `getHeight`: absent means the head; otherwise within `earliest..=head`.
fn resolve_height(height: Option<i64>, earliest: u64, head: u64) -> Result<u64, RpcError> {
    let Some(height) = height else {
        return Ok(head);
    };
    let Ok(wanted) = u64::try_from(height) else {
        return Err(RpcError::internal(format!(
            "height must be greater than 0, but got {height}"
        )));
    };
    if wanted == 0 {
        return Err(RpcError::internal(format!(
            "height must be greater than 0, but got {height}"
        )));
    }
    if wanted > head {
        return Err(RpcError::internal(format!(
            "height {wanted} must be less than or equal to the current blockchain height {head}"
        )));
    }
    if wanted < earliest {
        return Err(RpcError::internal(format!(
            "height {wanted} is not available, lowest height is {earliest}"
        )));
    }
    Ok(wanted)
}

fn success_reply(id: &Value, result: &[u8]) -> Response {
    let id = serde_json::to_vec(id).unwrap_or_else(|_| b"-1".to_vec());
    let mut body = Vec::with_capacity(result.len() + id.len() + 40);
    body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    body.extend_from_slice(&id);
    body.extend_from_slice(br#","result":"#);
    body.extend_from_slice(result);
    body.push(b'}');
    json_response(StatusCode::OK, body)
}

fn error_reply(status: StatusCode, id: &Value, error: &RpcError) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": error.code, "message": error.message, "data": error.data},
    });
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_are_checked_like_cometbft_does() {
        assert_eq!(resolve_height(None, 10, 20).ok(), Some(20));
        assert_eq!(resolve_height(Some(15), 10, 20).ok(), Some(15));
        let above = resolve_height(Some(21), 10, 20).err().unwrap();
        assert_eq!(
            above.data,
            "height 21 must be less than or equal to the current blockchain height 20"
        );
        assert_eq!(above.code, -32603);
        let below = resolve_height(Some(9), 10, 20).err().unwrap();
        assert_eq!(below.data, "height 9 is not available, lowest height is 10");
        let zero = resolve_height(Some(0), 10, 20).err().unwrap();
        assert_eq!(zero.data, "height must be greater than 0, but got 0");
        assert!(resolve_height(Some(-4), 10, 20).is_err());
    }

    #[test]
    fn uri_and_json_heights_accept_the_forms_clients_send() {
        assert_eq!(uri_height(Some("height=5")).ok(), Some(Some(5)));
        assert_eq!(uri_height(Some("height=%225%22")).ok(), Some(Some(5)));
        assert_eq!(uri_height(Some("other=1")).ok(), Some(None));
        assert!(uri_height(Some("height=abc")).is_err());
        let named = serde_json::json!({"height": "7"});
        assert_eq!(json_height(&named).ok(), Some(Some(7)));
        let positional = serde_json::json!([8]);
        assert_eq!(json_height(&positional).ok(), Some(Some(8)));
        assert_eq!(json_height(&Value::Null).ok(), Some(None));
        assert!(json_height(&serde_json::json!({"height": [1]})).is_err());
    }
}
