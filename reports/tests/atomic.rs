//! The atomic writer: a reader sees the old file or the new one, whole; a failed write leaves
//! the old file; the temporary file lives in the target's own folder.

use std::path::Path;

use reports::atomic::{partial_path, write_atomically, write_to, AtomicWriteError};

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_complete_write_replaces_the_target_and_returns_the_writers_value() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("leases.csv");
    std::fs::write(&target, "old\n").unwrap();
    let rows = write_atomically(&target, |out| {
        out.write_all(b"new\n")?;
        Ok::<_, std::io::Error>(1)
    })
    .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    assert_eq!(
        names_in(dir.path()),
        ["leases.csv"],
        "nothing left beside it"
    );
}

#[test]
fn the_temporary_file_is_in_the_targets_folder_and_the_target_is_untouched_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let target = folder.join("positions.csv");
    std::fs::write(&target, "old\n").unwrap();
    write_atomically(&target, |out| {
        out.write_all(b"half")?;
        out.flush()?;
        // Mid-write: the partial file sits beside the target, which still holds the old bytes.
        assert_eq!(
            names_in(&folder),
            ["positions.csv", "positions.csv.partial"]
        );
        assert_eq!(partial_path(&target), folder.join("positions.csv.partial"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(names_in(dir.path()), ["out"], "nothing written elsewhere");
        Ok::<_, std::io::Error>(())
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "half");
}

#[test]
fn an_interrupted_write_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("observations.jsonl");
    std::fs::write(&target, "old\n").unwrap();
    let error = write_atomically(&target, |out| {
        out.write_all(b"{\"half\": ")?;
        Err::<(), _>(std::io::Error::other("the store went away"))
    })
    .unwrap_err();
    assert!(matches!(error, AtomicWriteError::Write(_)), "{error:?}");
    assert_eq!(error.to_string(), "the store went away");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    // The next complete write replaces both the leftover and the target.
    write_atomically(&target, |out| out.write_all(b"new\n")).unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    assert_eq!(names_in(dir.path()), ["observations.jsonl"]);
}

#[test]
fn a_missing_folder_is_an_error_naming_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing/leases.csv");
    let error = write_atomically(&target, |out| out.write_all(b"x")).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cannot create {}", partial_path(&target).display())
    );
    assert!(!target.exists());
}

#[test]
fn without_a_path_the_bytes_go_to_standard_output_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_to(None, |out| {
        out.write_all(b"")?;
        Ok::<_, std::io::Error>(7)
    })
    .unwrap();
    assert_eq!(written, 7);
    assert!(names_in(dir.path()).is_empty());
    let target = dir.path().join("file.csv");
    write_to(Some(&target), |out| out.write_all(b"a,b\n")).unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "a,b\n");
}
