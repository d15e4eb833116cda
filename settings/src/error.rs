use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::locate::KeyPath;

/// Why a configuration file was refused. Every variant names the file; syntax and validation
/// problems also name the line, so the fix is one look away.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The file-system error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a value has the wrong type or an unknown key.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the problem.
        line: usize,
        /// What is wrong, in the parser's words.
        message: String,
    },
    /// The file parsed but describes something that cannot work.
    #[error("{}", Problems { path, problems })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
    /// The programme file published from a configuration would not load back to the programme
    /// the configuration holds, so an auditor's verification would not reproduce the rewards.
    /// Only a `Config` changed after it was loaded can get here: publishing refuses it rather
    /// than write a bundle that cannot be verified.
    #[error("{}: cannot publish the programme: {why}", path.display())]
    Unpublishable {
        /// The configuration file.
        path: PathBuf,
        /// What does not match.
        why: String,
    },
}

/// One thing wrong with an otherwise well-formed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the value is, as a key path (`pools.liquidity.classes[1].share`).
    pub key: KeyPath,
    /// The line it is written on, when it is written at all.
    pub line: Option<usize>,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

struct Problems<'a> {
    path: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        if count > 1 {
            writeln!(f, "{} has {count} problems:", self.path.display())?;
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if count > 1 {
                f.write_str("  ")?;
            }
            write!(f, "{}", self.path.display())?;
            if let Some(line) = problem.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": {}: {}", problem.key, problem.message)?;
            if i + 1 < count {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}
