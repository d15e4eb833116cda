//! How failures become exit codes and messages.

use std::fmt;
use std::process::ExitCode;

/// Exit status for a usage or configuration error.
pub const USAGE: u8 = 2;
/// Exit status for work that failed.
pub const FAILURE: u8 = 1;

/// Marks an error as the user's to fix in the command line or configuration (exit status 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Prints the error as one sentence plus its causes and picks the exit status.
pub fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    let is_usage = error.chain().any(|cause| {
        cause.downcast_ref::<UsageError>().is_some()
            || cause.downcast_ref::<settings::ConfigError>().is_some()
    });
    ExitCode::from(if is_usage { USAGE } else { FAILURE })
}
