//! The fake's two ports: the REST gateway (HTTP/1.1: `/version`, `/status`) and the gRPC server
//! (HTTP/2: `GetStatus`), both over TLS, each behaving as the current [`Behaviour`] says.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use super::port::HeldPort;
use super::spec::{Behaviour, FakeNode, FakeProviderSpec};
use super::wire;

/// What every connection of one fake needs.
pub(crate) struct Shared {
    pub spec: FakeProviderSpec,
    pub nodes: Mutex<Vec<FakeNode>>,
    pub behaviour: watch::Sender<Behaviour>,
    pub rest_tls: TlsAcceptor,
    pub grpc_tls: TlsAcceptor,
}

impl Shared {
    fn nodes(&self) -> Vec<FakeNode> {
        self.nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Which port a connection came in on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Port {
    Rest,
    Grpc,
}

/// What a fake answers instead of a TLS ServerHello when its TLS is "bad".
const NOT_TLS: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
/// A body that is neither JSON nor a `Status` message (a length-delimited field whose length is
/// an overlong varint).
const GARBAGE: &[u8] = b"\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01{\"akash\": {\"vers";

/// Holds a REST port and, when `with_grpc`, the next port up for gRPC (retrying until a
/// consecutive pair is free).
pub(crate) fn hold_ports(with_grpc: bool) -> std::io::Result<(HeldPort, Option<HeldPort>)> {
    let mut last_error = None;
    for _ in 0..100 {
        let rest = HeldPort::any()?;
        if !with_grpc {
            return Ok((rest, None));
        }
        let Some(next) = rest.address().port().checked_add(1) else {
            continue;
        };
        match HeldPort::at(next) {
            Ok(grpc) => return Ok((rest, Some(grpc))),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free pair of consecutive ports")))
}

/// Accepts connections on one held port until shutdown, with no listener while the behaviour is
/// [`Behaviour::Down`] (the held port then refuses connections) and a new one afterwards.
///
/// `first` is the listener opened before the fake was handed out (so a fake that starts up
/// accepts at once), `None` when it starts down; `applied` reports each behaviour once the port
/// follows it.
pub(crate) async fn listen(
    shared: Arc<Shared>,
    port: Port,
    (held, first): (HeldPort, Option<TcpListener>),
    applied: watch::Sender<Behaviour>,
    mut shutdown: watch::Receiver<bool>,
) {
    let address = held.address();
    let mut listener = first;
    let mut behaviour = shared.behaviour.subscribe();
    loop {
        let now = *behaviour.borrow_and_update();
        if now == Behaviour::Down {
            listener = None;
        } else if listener.is_none() {
            listener = match held.listen() {
                Ok(listener) => Some(listener),
                Err(e) => {
                    warn!(%address, error = %e, "fake provider cannot listen on its port; it stays down until its behaviour changes");
                    None
                }
            };
        }
        applied.send_replace(now);
        tokio::select! {
            () = until_true(&mut shutdown) => return,
            changed = behaviour.changed() => if changed.is_err() { return },
            accepted = accept(listener.as_ref()) => match accepted {
                Ok((tcp, _)) => {
                    // As Go servers (the real provider) do: without it, Nagle's algorithm and the
                    // client's delayed ACKs add 40 ms stalls to every exchange.
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(connection(shared.clone(), port, tcp, shutdown.clone()));
                }
                Err(e) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    warn!(%address, error = %e, "fake provider cannot accept");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the flag turns true or its sender is gone.
pub(crate) async fn until_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|v| *v).await;
}

async fn connection(
    shared: Arc<Shared>,
    port: Port,
    tcp: TcpStream,
    mut shutdown: watch::Receiver<bool>,
) {
    let behaviour = *shared.behaviour.borrow();
    let work = async {
        match behaviour {
            Behaviour::Down => {}
            Behaviour::Hang => black_hole(tcp).await,
            Behaviour::BadTls => {
                let mut tcp = tcp;
                let _ = tcp.write_all(NOT_TLS).await;
                let _ = tcp.shutdown().await;
            }
            _ => serve_tls(shared, port, tcp).await,
        }
    };
    tokio::select! {
        () = work => {}
        () = until_true(&mut shutdown) => {}
    }
}

/// Reads and discards until the peer gives up; never writes.
async fn black_hole(mut tcp: TcpStream) {
    let mut sink = [0u8; 4096];
    while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
}

async fn serve_tls(shared: Arc<Shared>, port: Port, tcp: TcpStream) {
    let acceptor = match port {
        Port::Rest => shared.rest_tls.clone(),
        Port::Grpc => shared.grpc_tls.clone(),
    };
    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => TokioIo::new(tls),
        Ok(Err(e)) => return debug!(error = %e, "fake provider: TLS handshake failed"),
        Err(_) => return debug!("fake provider: TLS handshake timed out"),
    };
    let served = match port {
        Port::Rest => {
            let shared = shared.clone();
            hyper::server::conn::http1::Builder::new()
                .serve_connection(
                    tls,
                    service_fn(move |request| rest(shared.clone(), request)),
                )
                .await
        }
        Port::Grpc => {
            let shared = shared.clone();
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(
                    tls,
                    service_fn(move |request| grpc(shared.clone(), request)),
                )
                .await
        }
    };
    if let Err(e) = served {
        debug!(error = %e, "fake provider: connection ended with an error");
    }
}

type Answer = Result<Response<BoxBody<Bytes, Infallible>>, Infallible>;

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    Ok(response)
}

/// The answer of a provider told to fail with HTTP 500, the same on its REST and gRPC ports.
fn internal_error() -> Answer {
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/plain",
        "internal error",
    )
}

async fn rest(shared: Arc<Shared>, request: Request<Incoming>) -> Answer {
    let behaviour = *shared.behaviour.borrow();
    if behaviour == Behaviour::Http500 {
        return internal_error();
    }
    if request.method() != Method::GET {
        return answer(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "");
    }
    let json = |body: Vec<u8>| answer(StatusCode::OK, "application/json", body);
    match request.uri().path() {
        "/version" if behaviour == Behaviour::GarbageJson => json(GARBAGE.to_vec()),
        "/version" => json(wire::version_body(&shared.spec)),
        "/status" if matches!(behaviour, Behaviour::GarbageJson | Behaviour::GarbageStatus) => {
            json(GARBAGE.to_vec())
        }
        "/status" => json(wire::rest_status_body(&shared.spec, &shared.nodes())),
        _ => answer(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

async fn grpc(shared: Arc<Shared>, request: Request<Incoming>) -> Answer {
    let behaviour = *shared.behaviour.borrow();
    if behaviour == Behaviour::Http500 {
        return internal_error();
    }
    let (message, status) = match request.uri().path() {
        "/akash.provider.v1.ProviderRPC/GetStatus" => {
            if matches!(behaviour, Behaviour::GarbageJson | Behaviour::GarbageStatus) {
                (GARBAGE.to_vec(), "0")
            } else {
                (wire::grpc_status(&shared.spec, &shared.nodes()), "0")
            }
        }
        _ => (Vec::new(), "12"), // UNIMPLEMENTED
    };
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
    frame.put_slice(&message);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static(status));
    let body = Full::new(frame.freeze())
        .with_trailers(async move { Some(Ok(trailers)) })
        .boxed();
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    Ok(response)
}
