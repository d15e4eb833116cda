//! What went wrong talking to a node, sorted into the few kinds the retry logic treats
//! differently.

use std::fmt;
use std::time::Duration;

use tendermint_rpc::error::ErrorDetail;
use thiserror::Error;

/// The kind of one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// No answer within the request timeout.
    Timeout,
    /// The connection failed: refused, reset, closed mid-reply.
    Transport,
    /// HTTP 5xx without a JSON-RPC answer (an overloaded node or its proxy).
    Http5xx,
    /// HTTP 429: the node rate-limits us.
    RateLimited,
    /// Another non-200 HTTP status.
    HttpStatus,
    /// The node answered with a JSON-RPC error we have no better name for.
    NodeError,
    /// The node answered 200 with a body we cannot read (not JSON-RPC, not the expected shape,
    /// or a `null` block).
    Malformed,
    /// "height X is not available, lowest height is Y": the node has pruned the height.
    Pruned {
        /// The lowest height the node still has.
        lowest: u64,
    },
    /// "height X must be less than or equal to the current blockchain height Y": the node has
    /// not reached the height yet.
    Lagging {
        /// The node's head.
        head: u64,
    },
}

impl FailureKind {
    /// The metric label of this kind.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::Http5xx => "http_5xx",
            Self::RateLimited => "http_429",
            Self::HttpStatus => "http_status",
            Self::NodeError => "node_error",
            Self::Malformed => "malformed",
            Self::Pruned { .. } => "pruned",
            Self::Lagging { .. } => "lagging",
        }
    }

    /// Whether the node itself answered about this height (as opposed to the connection
    /// failing). A height that only ever gets such answers is one the node cannot serve.
    pub fn is_answer(&self) -> bool {
        matches!(self, Self::NodeError | Self::Malformed)
    }
}

/// One failed attempt: where, what kind, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The endpoint URL (without credentials).
    pub endpoint: String,
    /// The kind.
    pub kind: FailureKind,
    /// The message, on one line.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.endpoint,
            self.kind.label(),
            self.detail
        )
    }
}

/// Why an RPC call gave up.
#[derive(Debug, Error)]
pub enum RpcError {
    /// No endpoint was configured.
    #[error("no RPC endpoint is configured")]
    NoEndpoints,
    /// An endpoint URL that cannot be used.
    #[error("invalid RPC URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it is unusable.
        reason: String,
    },
    /// Every endpoint has pruned the height: retrying cannot help; an archive node can.
    #[error(
        "height {height} is not available on any RPC endpoint (pruned; the lowest height \
         available is {lowest}): use an archive node or start at or above {lowest}"
    )]
    Pruned {
        /// The height asked for.
        height: u64,
        /// The lowest height any endpoint still has.
        lowest: u64,
    },
    /// Every endpoint is below the height: it does not exist yet, or the nodes lag.
    #[error(
        "height {height} is above the head of every RPC endpoint (highest head: {head}); the \
         nodes are lagging or the height does not exist yet"
    )]
    AboveHead {
        /// The height asked for.
        height: u64,
        /// The highest head seen.
        head: u64,
    },
    /// The endpoints report different chains, or not the configured one.
    #[error("{endpoint} serves chain {found:?}, but the configuration expects {expected:?}")]
    WrongChain {
        /// The endpoint.
        endpoint: String,
        /// The chain id it reported.
        found: String,
        /// The configured chain id.
        expected: String,
    },
    /// The retry budget ran out.
    #[error("{call} failed after {attempts} attempt(s) over {elapsed:.1?}; last error: {last}")]
    GaveUp {
        /// What was asked (`block 123`, `status`).
        call: String,
        /// How many attempts were made.
        attempts: u32,
        /// How long they took.
        elapsed: Duration,
        /// Whether at least one node answered about the height itself (an error or unreadable
        /// body) rather than the connection failing.
        answered: bool,
        /// The last failure.
        last: Failure,
    },
}

impl RpcError {
    /// Whether the nodes answered but could not serve this height: the block is missing or
    /// unreadable on them, as opposed to the nodes being unreachable.
    pub fn is_unservable_height(&self) -> bool {
        matches!(self, Self::GaveUp { answered: true, .. })
    }
}

/// Sorts a `tendermint-rpc` error into a [`FailureKind`] and a one-line message.
pub(crate) fn classify(error: &tendermint_rpc::Error) -> (FailureKind, String) {
    let text = one_line(&error.to_string());
    let kind = match error.detail() {
        ErrorDetail::Response(response) => {
            let response = &response.source;
            let data = response.data().unwrap_or_default();
            let detail = format!("{}: {}", response.message(), data);
            return (node_error_kind(data), one_line(&detail));
        }
        ErrorDetail::HttpRequestFailed(failed) => {
            let status = failed.status.as_u16();
            if status == 429 {
                FailureKind::RateLimited
            } else if (500..600).contains(&status) {
                FailureKind::Http5xx
            } else {
                FailureKind::HttpStatus
            }
        }
        ErrorDetail::Serde(_) | ErrorDetail::MalformedJson(_) | ErrorDetail::Parse(_) => {
            FailureKind::Malformed
        }
        ErrorDetail::UnsupportedRpcVersion(_) => FailureKind::Malformed,
        _ => FailureKind::Transport,
    };
    (kind, text)
}

/// Recognises CometBFT's pruned and lagging messages inside a JSON-RPC error's data.
pub(crate) fn node_error_kind(data: &str) -> FailureKind {
    if let Some(lowest) = number_after(data, "is not available, lowest height is ") {
        return FailureKind::Pruned { lowest };
    }
    if let Some(head) = number_after(
        data,
        "must be less than or equal to the current blockchain height ",
    ) {
        return FailureKind::Lagging { head };
    }
    FailureKind::NodeError
}

fn number_after(text: &str, marker: &str) -> Option<u64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok()
}

/// Error texts can span lines (traces); logs and records want one, of bounded length.
pub(crate) fn one_line(text: &str) -> String {
    const MAX: usize = 400;
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX {
        joined
    } else {
        let mut cut: String = joined.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_and_lagging_node_messages_are_recognised() {
        assert_eq!(
            node_error_kind("height 5 is not available, lowest height is 13759500"),
            FailureKind::Pruned { lowest: 13_759_500 }
        );
        assert_eq!(
            node_error_kind(
                "height 99 must be less than or equal to the current blockchain height 42"
            ),
            FailureKind::Lagging { head: 42 }
        );
        assert_eq!(
            node_error_kind("could not find results for height #7"),
            FailureKind::NodeError
        );
        // A garbled number must not be read as a height.
        assert_eq!(
            node_error_kind("height 5 is not available, lowest height is x"),
            FailureKind::NodeError
        );
    }

    #[test]
    fn messages_are_kept_on_one_bounded_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert!(one_line(&"z ".repeat(1000)).chars().count() <= 401);
    }
}
