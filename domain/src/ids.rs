//! The ids of deployments, groups, bids and leases, and their one text form.
//!
//! Akash tools print a lease as `owner/dseq/gseq/oseq/provider/bseq`; every message, export and
//! comparison of this project uses [`LeaseId`]'s `Display` for it. The sequence numbers are held in
//! the store's signed column types (`dseq` BIGINT, the others INTEGER); the indexer refuses chain
//! values beyond them before an id is made.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeploymentId {
    /// The tenant.
    pub owner: String,
    /// Deployment sequence.
    pub dseq: i64,
}

/// The id of a deployment's group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId {
    /// The tenant.
    pub owner: String,
    /// Deployment sequence.
    pub dseq: i64,
    /// Group sequence.
    pub gseq: i32,
}

impl GroupId {
    /// The deployment this group belongs to.
    pub fn deployment(&self) -> DeploymentId {
        DeploymentId {
            owner: self.owner.clone(),
            dseq: self.dseq,
        }
    }
}

/// The id of a bid, and of the lease made from it.
///
/// With the `diesel` feature it loads from its six key columns in field order, so the store's
/// lease rows hold the id itself instead of repeating its fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "diesel", derive(diesel::Queryable))]
pub struct LeaseId {
    /// The tenant.
    pub owner: String,
    /// Deployment sequence.
    pub dseq: i64,
    /// Group sequence.
    pub gseq: i32,
    /// Order sequence.
    pub oseq: i32,
    /// The provider.
    pub provider: String,
    /// Bid sequence; 0 before market v1beta5, where it does not exist.
    pub bseq: i32,
}

impl LeaseId {
    /// The group this bid or lease belongs to.
    pub fn group(&self) -> GroupId {
        GroupId {
            owner: self.owner.clone(),
            dseq: self.dseq,
            gseq: self.gseq,
        }
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.dseq)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.owner, self.dseq, self.gseq)
    }
}

impl fmt::Display for LeaseId {
    /// `owner/dseq/gseq/oseq/provider/bseq`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}/{}/{}",
            self.owner, self.dseq, self.gseq, self.oseq, self.provider, self.bseq
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_akash_tools_do() {
        let lease = LeaseId {
            owner: "akash1tenant".into(),
            dseq: 13_759_608,
            gseq: 1,
            oseq: 1,
            provider: "akash1provider".into(),
            bseq: 0,
        };
        assert_eq!(
            lease.to_string(),
            "akash1tenant/13759608/1/1/akash1provider/0"
        );
        assert_eq!(lease.group().to_string(), "akash1tenant/13759608/1");
        assert_eq!(
            lease.group().deployment().to_string(),
            "akash1tenant/13759608"
        );
    }
}
