/// The environment variables that override a configuration file.
///
/// Captured once into a value (instead of read deep inside the loader) so tests can supply their
/// own without touching the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    database_url: Option<String>,
    rpc_urls: Option<Vec<String>>,
}

/// The variable that overrides `[database] url`.
pub const DATABASE_URL_VAR: &str = "AKASH_INCENTIVES_DATABASE_URL";
/// The conventional fallback for the database URL, read when ours is not set.
pub const FALLBACK_DATABASE_URL_VAR: &str = "DATABASE_URL";
/// The variable that overrides `[chain] rpc_urls`: one or more URLs separated by commas.
pub const RPC_URLS_VAR: &str = "AKASH_INCENTIVES_RPC_URLS";

impl Environment {
    /// Reads the overriding variables of this process.
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds an environment from a lookup function (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url =
            non_empty(DATABASE_URL_VAR).or_else(|| non_empty(FALLBACK_DATABASE_URL_VAR));
        let rpc_urls = non_empty(RPC_URLS_VAR).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(String::from)
                .collect()
        });
        Self {
            database_url,
            rpc_urls,
        }
    }

    /// The database URL from the environment, if one is set.
    pub fn database_url(&self) -> Option<String> {
        self.database_url.clone()
    }

    /// The RPC URLs from the environment, if set.
    pub fn rpc_urls(&self) -> Option<Vec<String>> {
        self.rpc_urls.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Environment::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn our_variable_wins_over_the_conventional_one() {
        let e = env(&[
            (DATABASE_URL_VAR, "ours.sqlite"),
            (FALLBACK_DATABASE_URL_VAR, "theirs"),
        ]);
        assert_eq!(e.database_url().as_deref(), Some("ours.sqlite"));
        let e = env(&[(FALLBACK_DATABASE_URL_VAR, "postgres://db/x")]);
        assert_eq!(e.database_url().as_deref(), Some("postgres://db/x"));
    }

    #[test]
    fn rpc_urls_are_split_on_commas_and_blank_values_ignored() {
        let e = env(&[(RPC_URLS_VAR, " http://a:26657 ,http://b:26657,, ")]);
        assert_eq!(
            e.rpc_urls(),
            Some(vec![
                "http://a:26657".to_string(),
                "http://b:26657".to_string()
            ])
        );
        assert_eq!(env(&[(RPC_URLS_VAR, "  ")]).rpc_urls(), None);
    }
}
