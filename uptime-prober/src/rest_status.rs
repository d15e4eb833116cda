//! The REST `GET /status` of providers older than 0.5.0: GPU counts per node, no GPU models.
//!
//! The current shape lists `cluster.inventory.available.nodes[]` as `{name, allocatable:{gpu,…},
//! available:{gpu,…}}`, so a node's allocated count is `allocatable − available`. Older
//! providers wrap every value as `{units:{val:"8"}}` (or `{size:{val}}` for bytes), and the
//! oldest list `available` as a bare array of per-node free resources with no allocatable count;
//! for those the free count is all that is known, and it is recorded as allocatable with nothing
//! allocated (a lower bound on capacity; such nodes have no GPU model, so they earn no
//! class-specific weight anyway).

use serde_json::Value;

use crate::sanitise::{RawAllocated, RawNode};
use crate::text::clean;

/// Why a `/status` body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestStatusError {
    /// Not JSON.
    #[error("the /status body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but without `cluster.inventory`.
    #[error("the /status body has no cluster.inventory object")]
    NoInventory,
    /// More nodes than any real cluster has.
    #[error("the /status body lists {0} nodes, more than the {max} accepted", max = crate::MAX_NODES)]
    TooManyNodes(usize),
}

/// The nodes of a REST `/status` body, with their GPU counts as sent.
pub fn parse(body: &[u8]) -> Result<Vec<RawNode>, RestStatusError> {
    let status: Value =
        serde_json::from_slice(body).map_err(|e| RestStatusError::NotJson(e.to_string()))?;
    let inventory = status
        .pointer("/cluster/inventory")
        .filter(|v| v.is_object())
        .ok_or(RestStatusError::NoInventory)?;
    let entries: &[Value] = match inventory.get("available") {
        Some(Value::Array(nodes)) => nodes,
        Some(available) => available
            .get("nodes")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
        None => &[],
    };
    if entries.len() > crate::MAX_NODES {
        return Err(RestStatusError::TooManyNodes(entries.len()));
    }
    Ok(entries
        .iter()
        .enumerate()
        .map(|(i, entry)| node(i, entry))
        .collect())
}

fn node(index: usize, entry: &Value) -> RawNode {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("node-{index}"), |n| clean(n, 253));
    match entry.get("allocatable") {
        Some(allocatable) => RawNode {
            name,
            allocatable: gpu_count(allocatable),
            allocated: RawAllocated::FromAvailable(entry.get("available").and_then(gpu_count)),
            info: None,
        },
        // The oldest shape: the entry is the node's free resources and nothing else.
        None => RawNode {
            name,
            allocatable: gpu_count(entry),
            allocated: RawAllocated::Reported(None),
            info: None,
        },
    }
}

/// The `gpu` member of a resources object, as text: a number, a string, or `{units:{val}}`.
fn gpu_count(resources: &Value) -> Option<String> {
    value_text(resources.get("gpu")?)
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(clean(s, 64)),
        Value::Object(wrapper) => wrapper
            .get("units")
            .or_else(|| wrapper.get("size"))
            .and_then(|inner| inner.get("val"))
            .and_then(value_text),
        // null, booleans, arrays: not a count; kept as text so the clamp says "unparseable".
        Value::Null => None,
        other => Some(clean(&other.to_string(), 64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_shape_gives_allocatable_and_available_per_node() {
        let body = br#"{"cluster":{"leases":3,"inventory":{"active":[],"available":{"nodes":[
            {"name":"gpu-1","allocatable":{"cpu":64000,"gpu":8,"memory":1,"storage_ephemeral":1},
             "available":{"cpu":1000,"gpu":5,"memory":1,"storage_ephemeral":1}},
            {"name":"cpu-1","allocatable":{"cpu":64000,"memory":1},"available":{"cpu":1}}],
            "storage":[]}}},"bidengine":{"orders":0},"manifest":{"deployments":2}}"#;
        let nodes = parse(body).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].name, "gpu-1");
        assert_eq!(nodes[0].allocatable.as_deref(), Some("8"));
        assert_eq!(
            nodes[0].allocated,
            RawAllocated::FromAvailable(Some("5".into()))
        );
        assert_eq!(nodes[1].allocatable, None);
    }

    #[test]
    fn units_val_wrappers_and_bare_arrays_are_read() {
        let wrapped = br#"{"cluster":{"inventory":{"available":{"nodes":[
            {"name":"n","allocatable":{"gpu":{"units":{"val":"4"}}},"available":{"gpu":{"units":{"val":"1"}}}}]}}}}"#;
        let nodes = parse(wrapped).unwrap();
        assert_eq!(nodes[0].allocatable.as_deref(), Some("4"));
        assert_eq!(
            nodes[0].allocated,
            RawAllocated::FromAvailable(Some("1".into()))
        );

        let bare = br#"{"cluster":{"inventory":{"available":[{"cpu":{"units":{"val":"100"}},"gpu":{"units":{"val":"2"}}}]}}}"#;
        let nodes = parse(bare).unwrap();
        assert_eq!(nodes[0].name, "node-0");
        assert_eq!(nodes[0].allocatable.as_deref(), Some("2"));
        assert_eq!(nodes[0].allocated, RawAllocated::Reported(None));
    }

    #[test]
    fn huge_and_odd_values_are_kept_as_text_for_the_sanitiser() {
        let body = br#"{"cluster":{"inventory":{"available":{"nodes":[
            {"name":"a","allocatable":{"gpu":18446744073709551615},"available":{"gpu":-1}},
            {"name":"b","allocatable":{"gpu":1e400},"available":{"gpu":true}}]}}}}"#;
        // 1e400 is outside f64: serde_json refuses the whole body, which is a malformed body.
        assert!(matches!(parse(body), Err(RestStatusError::NotJson(_))));
        let body = br#"{"cluster":{"inventory":{"available":{"nodes":[
            {"name":"a","allocatable":{"gpu":18446744073709551615},"available":{"gpu":-1}},
            {"name":"b","allocatable":{"gpu":99999999999999999999999},"available":{"gpu":true}}]}}}}"#;
        let nodes = parse(body).unwrap();
        assert_eq!(
            nodes[0].allocatable.as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(
            nodes[0].allocated,
            RawAllocated::FromAvailable(Some("-1".into()))
        );
        assert_eq!(nodes[1].allocatable.as_deref(), Some("1e+23"));
        assert_eq!(
            nodes[1].allocated,
            RawAllocated::FromAvailable(Some("true".into()))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_body_parses_or_errs(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&body);
        }

        #[test]
        fn any_json_values_in_the_node_list_parse_or_err(gpu in "\\PC{0,30}", name in "\\PC{0,30}") {
            let body = format!(r#"{{"cluster":{{"inventory":{{"available":{{"nodes":[{{"name":{name:?},"allocatable":{{"gpu":{gpu}}},"available":{{"gpu":{gpu:?}}}}}]}}}}}}}}"#);
            let _ = parse(body.as_bytes());
        }
    }

    #[test]
    fn bodies_that_are_not_a_status_are_errors() {
        assert!(matches!(parse(b"<html>"), Err(RestStatusError::NotJson(_))));
        assert_eq!(parse(b"{}"), Err(RestStatusError::NoInventory));
        assert_eq!(
            parse(br#"{"cluster":{"inventory":7}}"#),
            Err(RestStatusError::NoInventory)
        );
        assert_eq!(parse(br#"{"cluster":{"inventory":{}}}"#), Ok(vec![]));
    }
}
