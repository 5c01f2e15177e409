//! The JSON-lines file sink: durability, reopening, tampering and torn writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use chrono::TimeDelta;
use common::*;
use stratum_core::audit::{AuditLog, FsyncPolicy, JsonlFileSink, MemorySink, verify_chain};
use stratum_core::gate::*;
use stratum_core::{Error, IntegrityProblem, Result};

fn write_log(path: &std::path::Path, n: i64) -> Result<stratum_core::audit::Anchor> {
    let mut audit = AuditLog::open(JsonlFileSink::open(path, FsyncPolicy::EveryAppend)?)?;
    let mut gate = TrustGate::new(TrustGateConfig::default());
    for h in 0..n {
        let at = t0() + TimeDelta::hours(h);
        gate.decide(&healthy(at), &pause(Actor::autopilot()), at, &mut audit)?;
    }
    Ok(audit.anchor())
}

fn io(e: std::io::Error) -> Error {
    Error::AuditIo {
        path: "test".into(),
        source: e,
    }
}

#[test]
fn file_log_survives_reopen_and_continues_the_chain() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let first = write_log(&path, 3)?;
    assert_eq!(first.len, 3);
    // Reopen: verified, and appends continue the same chain.
    let second = write_log(&path, 2)?;
    assert_eq!(second.len, 5);
    let log = AuditLog::open(JsonlFileSink::open(&path, FsyncPolicy::Never)?)?;
    assert_eq!(log.anchor(), second);
    assert_eq!(log.verify()?, second);
    let text = std::fs::read_to_string(&path).map_err(io)?;
    assert_eq!(text.lines().count(), 5);
    assert!(text.ends_with('\n'));
    // The file is plain JSON lines with stable field names.
    let first_line: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or_default()).map_err(|e| {
            Error::InvalidJson {
                what: "line",
                field: None,
                message: e.to_string(),
            }
        })?;
    for key in [
        "v",
        "seq",
        "at",
        "actor",
        "event",
        "inputs_digest",
        "prev_hash",
        "hash",
    ] {
        assert!(first_line.get(key).is_some(), "missing {key}");
    }
    assert_eq!(first_line["prev_hash"], "0".repeat(64));
    assert!(first_line["event"]["decision"]["outcome"].is_string());
    Ok(())
}

#[test]
fn editing_a_line_on_disk_is_pinpointed() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    write_log(&path, 4)?;
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Flip the outcome recorded in record 2.
    lines[2] = lines[2].replacen("\"outcome\":\"execute\"", "\"outcome\":\"alert_only\"", 1);
    std::fs::write(&path, lines.join("\n") + "\n").map_err(io)?;
    let err = AuditLog::open(JsonlFileSink::open(&path, FsyncPolicy::Never)?).unwrap_err();
    match err {
        Error::AuditIntegrity {
            index: 2,
            problem: IntegrityProblem::HashMismatch { .. },
        } => {}
        other => panic!("expected a hash mismatch at 2, got {other}"),
    }
    // Deleting line 1 instead: a sequence gap at index 1.
    write_log(&dir.path().join("b.jsonl"), 4)?;
    let text = std::fs::read_to_string(dir.path().join("b.jsonl")).map_err(io)?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    std::fs::write(dir.path().join("b.jsonl"), lines.join("\n") + "\n").map_err(io)?;
    let err = AuditLog::open(JsonlFileSink::open(
        dir.path().join("b.jsonl"),
        FsyncPolicy::Never,
    )?)
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AuditIntegrity {
                index: 1,
                problem: IntegrityProblem::SequenceGap {
                    expected: 1,
                    found: 2
                }
            }
        ),
        "{err}"
    );
    Ok(())
}

#[test]
fn torn_and_garbage_lines_are_reported_not_guessed() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    write_log(&path, 2)?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io)?;
    f.write_all(b"{\"v\":1,\"seq\":2,\"at\":\"2026-")
        .map_err(io)?;
    drop(f);
    let err = AuditLog::open(JsonlFileSink::open(&path, FsyncPolicy::Never)?).unwrap_err();
    match &err {
        Error::AuditIntegrity {
            index: 2,
            problem: IntegrityProblem::Unreadable { message },
        } => assert!(message.contains("incomplete"), "{message}"),
        other => panic!("{other}"),
    }
    std::fs::write(dir.path().join("g.jsonl"), "not json\n").map_err(io)?;
    let err = AuditLog::open(JsonlFileSink::open(
        dir.path().join("g.jsonl"),
        FsyncPolicy::Never,
    )?)
    .unwrap_err();
    assert!(matches!(
        err,
        Error::AuditIntegrity {
            index: 0,
            problem: IntegrityProblem::Unreadable { .. }
        }
    ));
    Ok(())
}

#[test]
fn unopenable_paths_are_io_errors() {
    let err = JsonlFileSink::open("/nonexistent-dir/x/audit.jsonl", FsyncPolicy::EveryAppend)
        .unwrap_err();
    assert_eq!(err.code(), "audit_io");
    assert!(err.to_string().contains("/nonexistent-dir/x/audit.jsonl"));
}

#[test]
fn memory_sink_from_records_is_verified_on_open() -> Result<()> {
    let mut audit = AuditLog::in_memory();
    let mut gate = TrustGate::new(TrustGateConfig::default());
    for h in 0..3 {
        let at = t0() + TimeDelta::hours(h);
        gate.decide(&healthy(at), &pause(Actor::autopilot()), at, &mut audit)?;
    }
    let mut records = audit.records()?;
    let reopened = AuditLog::open(MemorySink::from_records(records.clone()))?;
    assert_eq!(reopened.anchor(), audit.anchor());
    records.swap(0, 2);
    assert!(AuditLog::open(MemorySink::from_records(records.clone())).is_err());
    assert!(verify_chain(&records).is_err());
    Ok(())
}

#[test]
fn record_hash_is_independent_of_json_formatting() -> Result<()> {
    let mut audit = AuditLog::in_memory();
    let mut gate = TrustGate::new(TrustGateConfig::default());
    gate.decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)?;
    let r = &audit.records()?[0];
    let pretty = serde_json::to_string_pretty(r).map_err(|e| Error::InvalidJson {
        what: "AuditRecord",
        field: None,
        message: e.to_string(),
    })?;
    let back: stratum_core::audit::AuditRecord = stratum_core::from_json(&pretty)?;
    assert_eq!(back.compute_hash()?, r.hash);
    Ok(())
}
