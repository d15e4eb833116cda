//! The provider's `GET /version` answer, and which status API that version speaks.
//!
//! Two JSON shapes are in the wild: `{akash:{version, commit, buildTags, go, cosmosSdkVersion}}`
//! and `{akash:{name, server_name, version, commit, build_tags, go, cosmos_sdk_version}}`. Both
//! carry `akash.version`, which is all the prober needs. Providers from 0.5.0 on (including
//! 0.5.0 pre-releases, as the Akash Console's `semver >= 0.5.0-0` check does) answer the gRPC
//! `GetStatus`; older ones only the REST `/status`.

use serde::Deserialize;

use crate::text::clean;

/// Longest version string kept.
const MAX_VERSION: usize = 64;

#[derive(Deserialize)]
struct VersionBody {
    akash: AkashVersion,
}

#[derive(Deserialize)]
struct AkashVersion {
    version: String,
}

/// Why a `/version` body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Not JSON of either known shape.
    #[error("the /version body is not the expected JSON: {0}")]
    NotJson(String),
    /// `akash.version` is not `[v]MAJOR.MINOR.PATCH[-pre][+build]`.
    #[error("the provider version {0:?} is not a semantic version")]
    NotSemver(String),
}

/// A provider's reported software version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderVersion {
    /// The version as reported (cleaned of control characters, at most 64 characters).
    pub text: String,
    major: u64,
    minor: u64,
    patch: u64,
}

impl ProviderVersion {
    /// Parses a `/version` response body.
    pub fn from_body(body: &[u8]) -> Result<Self, VersionError> {
        let parsed: VersionBody =
            serde_json::from_slice(body).map_err(|e| VersionError::NotJson(e.to_string()))?;
        Self::parse(&parsed.akash.version)
    }

    /// Parses a version string such as `v0.6.4` or `0.5.0-rc1`.
    pub fn parse(raw: &str) -> Result<Self, VersionError> {
        let text = clean(raw.trim(), MAX_VERSION);
        let bare = text.strip_prefix(['v', 'V']).unwrap_or(&text);
        let core = bare.split(['-', '+']).next().unwrap_or_default();
        let mut parts = core.split('.').map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) => Ok(Self {
                text,
                major,
                minor,
                patch,
            }),
            _ => Err(VersionError::NotSemver(text)),
        }
    }

    /// Whether this provider answers gRPC `GetStatus` (version ≥ 0.5.0, pre-releases included).
    pub fn speaks_grpc(&self) -> bool {
        (self.major, self.minor, self.patch) >= (0, 5, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_known_shapes_parse() {
        let camel = br#"{"akash":{"version":"v0.6.4","commit":"abc","buildTags":"","go":"go1.22","cosmosSdkVersion":"v0.45.16"},"kube":{"major":"1","minor":"29"}}"#;
        let snake = br#"{"akash":{"name":"provider-services","server_name":"provider-servicesd","version":"0.4.7","commit":"abc","build_tags":"","go":"go1.20","cosmos_sdk_version":"v0.45.9"},"kube":{}}"#;
        let new = ProviderVersion::from_body(camel).unwrap();
        assert_eq!(new.text, "v0.6.4");
        assert!(new.speaks_grpc());
        let old = ProviderVersion::from_body(snake).unwrap();
        assert_eq!(old.text, "0.4.7");
        assert!(!old.speaks_grpc());
    }

    #[test]
    fn the_grpc_threshold_includes_pre_releases_of_0_5_0() {
        for (text, grpc) in [
            ("0.5.0-rc1", true),
            ("0.5.0", true),
            ("v0.10.0", true),
            ("1.0.0+build.7", true),
            ("0.4.99", false),
            ("0.0.1", false),
        ] {
            assert_eq!(
                ProviderVersion::parse(text).unwrap().speaks_grpc(),
                grpc,
                "{text}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_version_text_parses_or_errs(text in "\\PC{0,40}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let _ = ProviderVersion::parse(&text);
            let _ = ProviderVersion::from_body(&body);
        }
    }

    #[test]
    fn malformed_bodies_and_versions_are_errors() {
        for body in [
            &b"{not json"[..],
            b"{}",
            br#"{"akash":{}}"#,
            br#"{"akash":{"version":7}}"#,
        ] {
            assert!(matches!(
                ProviderVersion::from_body(body),
                Err(VersionError::NotJson(_))
            ));
        }
        for text in [
            "",
            "latest",
            "1.2",
            "1.2.3.4",
            "v1..3",
            "1.2.x",
            "99999999999999999999999.0.0",
        ] {
            assert!(
                matches!(
                    ProviderVersion::parse(text),
                    Err(VersionError::NotSemver(_))
                ),
                "{text}"
            );
        }
    }
}
