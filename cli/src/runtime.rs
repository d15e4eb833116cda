//! What the long-running commands (`index`, `probe --follow`, `serve`) share within one
//! process: the HTTP server for the process's registry ([`Context::metrics_registry`]) and its
//! health, and the shutdown signal.
//!
//! One shutdown signal means SIGINT (Ctrl-C) and SIGTERM (service managers, `kill`) stop every
//! command the same way: the work in hand is finished and stored, and the command exits 0,
//! instead of each command listening for its own subset of signals. One server means a scrape
//! sees every part the process runs, wherever its metrics were registered.
//!
//! [`Context::metrics_registry`]: crate::context::Context::metrics_registry

use std::future::Future;
use std::net::SocketAddr;

use prometheus::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

/// A request to stop, raised once by SIGINT or SIGTERM and seen by every clone.
#[derive(Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
}

impl Shutdown {
    /// Installs the SIGINT and SIGTERM handlers now, so a signal that arrives while the command
    /// is still starting is not lost, and raises the request when either arrives. A signal
    /// whose handler cannot be installed keeps its default action (it ends the process).
    ///
    /// Must be called inside a tokio runtime.
    pub fn on_signals() -> Self {
        let (raise, requested) = watch::channel(false);
        let signals = signals();
        tokio::spawn(async move {
            signals.await;
            raise.send_replace(true);
        });
        Self { requested }
    }

    /// Resolves once a stop has been requested (at once if it already has).
    pub fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut requested = self.requested.clone();
        async move {
            // The sender lives until it has raised the request; gone without it means never.
            if requested.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The request as a watch channel, for code that polls it or hands it on.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.requested.clone()
    }
}

/// Resolves when SIGINT or SIGTERM arrives; the handlers are installed before this returns.
#[cfg(unix)]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let interrupt = async {
            match interrupt {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        let terminate = async {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
}

/// Resolves on Ctrl-C (there is no SIGTERM to listen for).
#[cfg(not(unix))]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Whether the process is ready for work, asked by `/readyz`: `Err` says why not. It runs on a
/// blocking thread, so it may query the database.
pub type Readiness = std::sync::Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The process's HTTP endpoint, serving until the shutdown is requested:
/// - `/metrics`: the registry in the Prometheus text format;
/// - `/healthz`: 200 while the process runs (a liveness probe);
/// - `/readyz`, when the command has a [`Readiness`] check: 200 when it passes, 503 with the
///   reason when it does not.
pub struct MetricsServer {
    local_addr: SocketAddr,
}

impl MetricsServer {
    /// Binds `listen` and serves from a task of the current runtime, until `shutdown` is
    /// requested or the runtime ends.
    ///
    /// # Errors
    /// When `listen` cannot be bound; each command decides whether it can run without metrics.
    pub async fn start(
        listen: SocketAddr,
        registry: Registry,
        readiness: Option<Readiness>,
        shutdown: &Shutdown,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        tokio::spawn(serve(
            listener,
            routes(registry, readiness),
            shutdown.requested(),
        ));
        Ok(Self { local_addr })
    }

    /// The address actually bound (differs from the configured one for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

fn routes(registry: Registry, readiness: Option<Readiness>) -> axum::Router {
    use axum::http::StatusCode;
    use axum::routing::get;
    let metrics = get(move || {
        let registry = registry.clone();
        async move {
            prometheus::TextEncoder::new()
                .encode_to_string(&registry.gather())
                .unwrap_or_else(|e| format!("# cannot encode metrics: {e}\n"))
        }
    });
    let app = axum::Router::new()
        .route("/metrics", metrics)
        .route("/healthz", get(|| async { "ok\n" }));
    let Some(readiness) = readiness else {
        return app;
    };
    app.route(
        "/readyz",
        get(move || {
            let readiness = readiness.clone();
            async move {
                match tokio::task::spawn_blocking(move || readiness()).await {
                    Ok(Ok(())) => (StatusCode::OK, "ready\n".to_string()),
                    Ok(Err(why)) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: {why}\n"),
                    ),
                    Err(e) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: the check failed: {e}\n"),
                    ),
                }
            }
        }),
    )
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        warn!(error = %e, "the metrics server stopped");
    }
}
