//! Helpers shared by the integration tests: the shipped configurations and where things are in
//! a text.

use std::path::{Path, PathBuf};

use settings::Environment;

/// The repository's `config/` folder, with the shipped configurations.
pub fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// The text of `config/example.toml`.
pub fn example_text() -> String {
    std::fs::read_to_string(config_dir().join("example.toml")).unwrap()
}

/// An environment without any overriding variable, whatever the test process has set.
pub fn no_env() -> Environment {
    Environment::from_lookup(|_| None)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    text[..offset].lines().count() + usize::from(text[..offset].ends_with('\n') || offset == 0)
}

/// `example.toml` with its inline price points replaced by `csv = "prices.csv"`.
pub fn example_with_price_csv() -> String {
    let text = example_text();
    let start = text.find("points = [").unwrap();
    let end = start + text[start..].find("]\n").unwrap() + 2;
    format!("{}csv = \"prices.csv\"\n{}", &text[..start], &text[end..])
}
