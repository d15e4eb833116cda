//! Publishing a file so that nobody ever reads half of it.
//!
//! Auditors' scripts, dashboards and `diff` read our outputs while we may be rewriting them, and
//! a run may be killed half-way. So a file is never written in place: its bytes go to
//! `<name>.partial` in the target's own folder (a rename is atomic only within one file system),
//! the temporary file is flushed and synced to disk, and only then renamed over the target.
//! A reader sees the old file or the new one, whole. A failed or killed write leaves the old
//! file untouched and `<name>.partial` beside it, which the next write replaces.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a file could not be published; in every case the target still holds its old content.
#[derive(Debug, Error)]
pub enum AtomicWriteError<E> {
    /// The temporary file could not be created (a missing folder, no permission, …).
    #[error("cannot create {}", path.display())]
    Create {
        /// The temporary file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The caller's writer failed.
    #[error(transparent)]
    Write(E),
    /// Flushing or syncing the temporary file failed.
    #[error(transparent)]
    Io(io::Error),
    /// The complete temporary file could not be moved over the target.
    #[error("cannot move {} to {}", from.display(), to.display())]
    Rename {
        /// The temporary file.
        from: PathBuf,
        /// The target.
        to: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The temporary file [`write_atomically`] writes `path` through: `<path>.partial`, in the
/// same folder.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = OsString::from(path.as_os_str());
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Publishes `path` with whatever `write` writes (buffered), atomically as the module describes,
/// and returns what `write` returned.
///
/// # Errors
/// When the temporary file cannot be created, written, synced or renamed; the target is then
/// unchanged.
pub fn write_atomically<T, E>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, AtomicWriteError<E>> {
    let partial = partial_path(path);
    let file = File::create(&partial).map_err(|source| AtomicWriteError::Create {
        path: partial.clone(),
        source,
    })?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out).map_err(AtomicWriteError::Write)?;
    out.flush().map_err(AtomicWriteError::Io)?;
    let file = out
        .into_inner()
        .map_err(|e| AtomicWriteError::Io(e.into_error()))?;
    file.sync_all().map_err(AtomicWriteError::Io)?;
    drop(file);
    std::fs::rename(&partial, path).map_err(|source| AtomicWriteError::Rename {
        from: partial.clone(),
        to: path.to_path_buf(),
        source,
    })?;
    sync_folder_of(path);
    Ok(written)
}

/// Writes to standard output when `out` is `None`, else publishes the file atomically
/// ([`write_atomically`]): the one way every command writes what it publishes, so a command
/// that gains an `--out` option gets atomic files for free.
///
/// # Errors
/// As [`write_atomically`]; on standard output, only the writer's own errors.
pub fn write_to<T, E>(
    out: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, AtomicWriteError<E>> {
    match out {
        Some(path) => write_atomically(path, write),
        None => write(&mut io::stdout().lock()).map_err(AtomicWriteError::Write),
    }
}

/// Makes the rename itself durable. Best effort: the file is complete and in place whether or
/// not this succeeds, and some file systems cannot sync a folder.
fn sync_folder_of(path: &Path) {
    #[cfg(unix)]
    {
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
