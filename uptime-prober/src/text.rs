//! Making provider-supplied text safe to store and print.
//!
//! Node names, GPU names, versions and error messages come from providers and can hold anything.
//! PostgreSQL refuses NUL bytes in TEXT (one bad node name would fail the whole round's
//! transaction), and control characters garble logs, so they are dropped, and lengths are capped.

/// `text` without control characters, cut to at most `max_chars` characters.
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn drops_control_characters_and_caps_length() {
        assert_eq!(clean("gpu\0-node\n1", 100), "gpu-node1");
        assert_eq!(clean("ééééé", 3), "ééé");
    }
}
