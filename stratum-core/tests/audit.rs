//! The JSON-lines file sink: durability, reopening, tampering and torn writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use proptest::strategy::Strategy as _;

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

// ------------------------------------------------------------ shared fixtures

use stratum_core::audit::{AuditEvent, AuditRecord, records_from_json};
use stratum_core::digest::Digest;

/// A log holding every kind of event: decisions (execute, manual required, with
/// violations and an override applied), override grant and revocation, config
/// changes, queue transitions, incidents and a torn-tail recovery.
fn varied_log(audit: &mut AuditLog) -> Result<()> {
    use stratum_core::analytics::incidents::IncidentEvent;
    use stratum_core::autopilot::ActionState;
    let at = |h: i64| t0() + TimeDelta::hours(h);
    let admin = Actor::person("u_7", "admin");
    let config = TrustGateConfig::builder()
        .guardrails(stratum_core::guardrails::GuardrailConfig {
            max_change_pct: Some(rust_decimal::Decimal::from(50)),
            ..Default::default()
        })
        .build()?;
    let mut gate = TrustGate::new(config);
    gate.decide(&healthy(at(0)), &pause(Actor::autopilot()), at(0), audit)?;
    gate.decide(
        &unhealthy(at(1)),
        &budget(100, 120, Actor::autopilot()),
        at(1),
        audit,
    )?;
    gate.decide(
        &healthy(at(2)),
        &budget(
            100,
            1_000,
            Actor::Autopilot {
                rule: Some("scale_winners".into()),
            },
        ),
        at(2),
        audit,
    )?;
    let granted = gate.grant_override(
        OverrideRequest {
            target: Target::new(scope(), "cmp_1"),
            action_kind: Some(ActionKindTag::BudgetChange),
            granted_by: admin.clone(),
            reason: "launch week, budget approved by finance".into(),
            expires_at: at(20),
        },
        at(3),
        audit,
    )?;
    gate.decide(
        &healthy(at(4)),
        &budget(100, 1_000, Actor::autopilot()),
        at(4),
        audit,
    )?;
    audit.append(
        at(5),
        admin.clone(),
        AuditEvent::OverrideRevoked {
            id: granted.id,
            reason: "launch over".into(),
        },
        Digest::ZERO,
    )?;
    audit.append(
        at(6),
        admin.clone(),
        AuditEvent::ConfigChanged {
            config_hash: Digest::of_bytes(b"new"),
            previous: Some(Digest::of_bytes(b"old")),
        },
        Digest::of_bytes(b"inputs"),
    )?;
    audit.append(
        at(7),
        Actor::System {
            name: "scheduler".into(),
        },
        AuditEvent::ActionTransition {
            id: 9,
            target: Target::new(scope(), "cmp_2"),
            kind: ActionKind::Custom {
                name: "rotate_creative".into(),
                magnitude: Some(rust_decimal::Decimal::new(125, 2)),
            },
            from: Some(ActionState::Held),
            to: ActionState::Approved,
            reason: Some("approved by media buyer".into()),
        },
        Digest::ZERO,
    )?;
    audit.append(
        at(8),
        Actor::autopilot(),
        AuditEvent::Incident(IncidentEvent::Opened {
            metric: "cpa".into(),
            at: at(8),
        }),
        Digest::ZERO,
    )?;
    audit.append(
        at(9),
        admin,
        AuditEvent::TornTailRemoved {
            offset: 4096,
            removed_bytes: 17,
            removed_digest: Digest::of_bytes(b"torn"),
        },
        Digest::ZERO,
    )?;
    Ok(())
}

#[allow(clippy::needless_pass_by_value)]
fn json_err(e: serde_json::Error) -> Error {
    Error::InvalidJson {
        what: "test",
        field: None,
        message: e.to_string(),
    }
}

fn lines_of(records: &[AuditRecord]) -> Result<Vec<serde_json::Value>> {
    records
        .iter()
        .map(|r| serde_json::to_value(r).map_err(json_err))
        .collect()
}

fn write_lines(path: &std::path::Path, lines: &[serde_json::Value]) -> Result<()> {
    let mut text = String::new();
    for l in lines {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).map_err(io)
}

fn open_file(path: &std::path::Path) -> Result<AuditLog> {
    AuditLog::open(JsonlFileSink::open(path, FsyncPolicy::Never)?)
}

fn unreadable_at(err: &Error) -> Option<u64> {
    match err {
        Error::AuditIntegrity {
            index,
            problem: IntegrityProblem::Unreadable { .. },
        } => Some(*index),
        _ => None,
    }
}

fn varied_lines() -> Result<Vec<serde_json::Value>> {
    let mut audit = AuditLog::in_memory();
    varied_log(&mut audit)?;
    lines_of(&audit.records()?)
}

/// Every object in `v` with its path of keys / indices.
fn object_paths(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            out.push(path.clone());
            for (k, child) in m {
                path.push(k.clone());
                object_paths(child, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(i.to_string());
                object_paths(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn object_at<'a>(
    v: &'a mut serde_json::Value,
    path: &[String],
) -> Option<&'a mut serde_json::Map<String, serde_json::Value>> {
    let mut cur = v;
    for step in path {
        cur = match cur {
            serde_json::Value::Object(m) => m.get_mut(step)?,
            serde_json::Value::Array(a) => a.get_mut(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    cur.as_object_mut()
}

#[test]
fn added_fields_inside_events_are_detected() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let lines = varied_lines()?;
    // (record, path to the object, what is added): inside a decision, inside
    // decision.health, inside an override grant and its request, inside a revocation.
    let cases: [(usize, &[&str]); 5] = [
        (0, &["event", "decision"]),
        (1, &["event", "decision", "health"]),
        (3, &["event", "override_granted"]),
        (3, &["event", "override_granted", "request"]),
        (5, &["event", "override_revoked"]),
    ];
    for (n, (index, path)) in cases.iter().enumerate() {
        let mut edited = lines.clone();
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        let obj = object_at(&mut edited[*index], &path).expect("path exists");
        obj.insert("approved_by".into(), serde_json::json!("u_99"));
        let file = dir.path().join(format!("added_{n}.jsonl"));
        write_lines(&file, &edited)?;
        let err = open_file(&file).unwrap_err();
        assert_eq!(unreadable_at(&err), Some(*index as u64), "{path:?}: {err}");
        assert!(err.to_string().contains("approved_by"), "{err}");
        // The same records handed over as JSON are refused at the same index.
        let json = serde_json::to_string(&edited).map_err(json_err)?;
        let err = records_from_json(&json).unwrap_err();
        assert_eq!(unreadable_at(&err), Some(*index as u64), "{err}");
    }
    // The unedited log opens and verifies.
    let file = dir.path().join("clean.jsonl");
    write_lines(&file, &lines)?;
    assert_eq!(open_file(&file)?.len(), lines.len() as u64);
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn an_extra_key_at_any_depth_of_any_record_is_detected(
        record in 0usize..10,
        pick in proptest::num::usize::ANY,
        key in "[a-z_]{1,12}",
        value in proptest::prop_oneof![
            proptest::strategy::Just(serde_json::Value::Null),
            proptest::num::i64::ANY.prop_map(serde_json::Value::from),
            "[ -~]{0,8}".prop_map(serde_json::Value::from),
            proptest::strategy::Just(serde_json::json!({"x": [1, 2]})),
        ],
    ) {
        let mut lines = varied_lines().unwrap();
        let mut paths = Vec::new();
        object_paths(&lines[record], &mut Vec::new(), &mut paths);
        let path = paths[pick % paths.len()].clone();
        let obj = object_at(&mut lines[record], &path).unwrap();
        proptest::prop_assume!(!obj.contains_key(&key));
        obj.insert(key.clone(), value);
        let json = serde_json::to_string(&lines).unwrap();
        let err = records_from_json(&json)
            .and_then(|records| verify_chain(&records).map(|_| ()))
            .unwrap_err();
        let at = match err {
            Error::AuditIntegrity { index, .. } => index,
            other => panic!("{path:?}.{key}: {other}"),
        };
        proptest::prop_assert_eq!(at, record as u64, "{:?}.{}", path, key);
    }
}

#[test]
fn undecodable_record_reports_its_index() -> Result<()> {
    let mut lines = varied_lines()?;
    lines[2]["seq"] = serde_json::json!("two");
    let json = serde_json::to_string(&lines).map_err(json_err)?;
    let err = records_from_json(&json).unwrap_err();
    assert_eq!(unreadable_at(&err), Some(2), "{err}");
    assert_eq!(err.code(), "audit_integrity");
    let err = records_from_json("{\"not\": \"a list\"}").unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    Ok(())
}

#[test]
fn a_second_writer_in_this_process_is_refused() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let mut first = open_file(&path)?;
    varied_log(&mut first)?;
    let err = JsonlFileSink::open(&path, FsyncPolicy::Never).unwrap_err();
    assert_eq!(err.code(), "audit_locked");
    assert!(matches!(err, Error::AuditLocked { .. }));
    assert!(err.to_string().contains("audit.jsonl"), "{err}");
    // The first writer carries on; once it is closed another may open.
    first.append(
        t0(),
        Actor::autopilot(),
        AuditEvent::OverrideRevoked {
            id: "ovr_x".into(),
            reason: "r".into(),
        },
        Digest::ZERO,
    )?;
    drop(first);
    let second = open_file(&path)?;
    assert_eq!(second.verify()?.len, 11);
    Ok(())
}

/// A lock released within the wait (here by a writer closed 50 ms later) is
/// taken, not refused.
#[test]
fn a_lock_released_at_once_is_waited_for() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let first = open_file(&path)?;
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(first);
    });
    let second = JsonlFileSink::open(&path, FsyncPolicy::Never);
    closer.join().expect("the closing thread");
    assert!(second.is_ok(), "{:?}", second.err());
    Ok(())
}

const CHILD_ENV: &str = "STRATUM_AUDIT_LOCK_CHILD";

/// Runs only as the child of `a_second_writer_in_another_process_is_refused`.
#[test]
fn lock_child_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    match JsonlFileSink::open(&path, FsyncPolicy::Never) {
        Err(e) if e.code() == "audit_locked" => std::process::exit(42),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => std::process::exit(7),
    }
}

#[test]
fn a_second_writer_in_another_process_is_refused() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let child = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "lock_child_process", "--nocapture"])
            .env(CHILD_ENV, &path)
            .status()
            .unwrap()
            .code()
    };
    let first = open_file(&path)?;
    assert_eq!(child(), Some(42), "the child must see audit_locked");
    drop(first);
    // Unlocked: the child opens it (and exits 7).
    assert_eq!(child(), Some(7));
    Ok(())
}

fn with_torn_tail(path: &std::path::Path, n: i64, tail: &[u8]) -> Result<Vec<u8>> {
    write_log(path, n)?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(tail).map_err(io)?;
    drop(f);
    std::fs::read(path).map_err(io)
}

#[test]
fn open_recovering_removes_only_a_torn_tail_and_audits_it() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let tail = b"{\"v\":1,\"seq\":3,\"at\":\"2026-";
    let before = with_torn_tail(&path, 3, tail)?;
    let good_len = (before.len() - tail.len()) as u64;
    // A plain open refuses and leaves the file alone.
    assert_eq!(unreadable_at(&open_file(&path).unwrap_err()), Some(3));
    let admin = Actor::person("u_1", "admin");
    let at = t0() + TimeDelta::days(1);
    let (log, torn) = AuditLog::open_recovering(
        JsonlFileSink::open(&path, FsyncPolicy::EveryAppend)?,
        at,
        admin.clone(),
    )?;
    let torn = torn.expect("a torn tail was removed");
    assert_eq!(torn.offset, good_len);
    assert_eq!(torn.bytes, tail.to_vec());
    assert_eq!(torn.digest, Digest::of_bytes(tail));
    assert_eq!(log.len(), 4);
    let records = log.records()?;
    assert_eq!(records[3].actor, admin);
    assert_eq!(records[3].at, at);
    assert_eq!(
        records[3].event,
        AuditEvent::TornTailRemoved {
            offset: good_len,
            removed_bytes: tail.len() as u64,
            removed_digest: Digest::of_bytes(tail),
        }
    );
    drop(log);
    let after = std::fs::read(&path).map_err(io)?;
    assert_eq!(&after[..good_len as usize], &before[..good_len as usize]);
    assert_eq!(open_file(&path)?.verify()?.len, 4);
    // Nothing to recover: nothing appended.
    let (log, torn) =
        AuditLog::open_recovering(JsonlFileSink::open(&path, FsyncPolicy::Never)?, at, admin)?;
    assert!(torn.is_none());
    assert_eq!(log.len(), 4);
    Ok(())
}

#[test]
fn open_recovering_never_touches_a_bad_line_before_the_end() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    write_log(&path, 3)?;
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"garbage\"";
    let edited = lines.join("\n") + "\n{\"v\":1,\"se";
    std::fs::write(&path, &edited).map_err(io)?;
    let err = AuditLog::open_recovering(
        JsonlFileSink::open(&path, FsyncPolicy::Never)?,
        t0(),
        Actor::person("u_1", "admin"),
    )
    .unwrap_err();
    assert_eq!(unreadable_at(&err), Some(1), "{err}");
    assert_eq!(std::fs::read_to_string(&path).map_err(io)?, edited);
    // A complete (newline-terminated) undecodable last line is not a torn tail.
    std::fs::write(&path, text.clone() + "{\"v\":1,\"se\n").map_err(io)?;
    let err = AuditLog::open_recovering(
        JsonlFileSink::open(&path, FsyncPolicy::Never)?,
        t0(),
        Actor::person("u_1", "admin"),
    )
    .unwrap_err();
    assert_eq!(unreadable_at(&err), Some(3), "{err}");
    Ok(())
}

#[test]
fn blank_lines_bom_and_a_missing_final_newline_are_accepted() -> Result<()> {
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("audit.jsonl");
    let anchor = write_log(&path, 3)?;
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let lines: Vec<&str> = text.lines().collect();
    let variants = [
        format!("\u{FEFF}{text}"),
        format!("{}\n\n{}\n   \n{}\n\n", lines[0], lines[1], lines[2]),
        text.trim_end_matches('\n').to_owned(),
        format!("\u{FEFF}{}\r\n{}\n\n{}", lines[0], lines[1], lines[2]),
    ];
    for (i, v) in variants.iter().enumerate() {
        let p = dir.path().join(format!("v{i}.jsonl"));
        std::fs::write(&p, v).map_err(io)?;
        let mut log = open_file(&p)?;
        assert_eq!(log.anchor(), anchor, "variant {i}");
        // Appending continues the chain on a line of its own.
        let mut gate = TrustGate::new(TrustGateConfig::default());
        let at = t0() + TimeDelta::hours(5);
        gate.decide(&healthy(at), &pause(Actor::autopilot()), at, &mut log)?;
        drop(log);
        assert_eq!(open_file(&p)?.verify()?.len, 4, "variant {i}");
    }
    Ok(())
}

// ------------------------------------------------------- compatibility (golden)

fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/audit")
        .join(name)
}

/// `testdata/audit/golden-v1.jsonl` was written once by the first release of record
/// format 1 and is only ever read: every later version must verify it and compute
/// the same hashes. `golden-v1.digests.json` holds those hashes as computed by the
/// independent encoder `testdata/audit/canonical.py` (Python, `hashlib`).
#[test]
fn golden_log_verifies_and_matches_independent_digests() -> Result<()> {
    let bytes = std::fs::read(testdata("golden-v1.jsonl")).map_err(io)?;
    // The file itself is frozen.
    assert_eq!(
        Digest::of_bytes(&bytes).to_hex(),
        "bdeb0bee859c1af0936013a8c07f05ed0ad2a07c9d4daa45ad13c265eb54f563",
        "the golden log must never be rewritten"
    );
    let expected: Vec<String> =
        serde_json::from_slice(&std::fs::read(testdata("golden-v1.digests.json")).map_err(io)?)
            .map_err(json_err)?;
    let records = stratum_core::audit::records_from_jsonl(&bytes)?;
    assert_eq!(records.len(), 26);
    assert_eq!(expected.len(), records.len());
    let anchor = verify_chain(&records)?;
    assert_eq!(anchor.len, 26);
    assert_eq!(anchor.head.to_hex(), expected[25]);
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    for ((record, digest), line) in records.iter().zip(&expected).zip(text.lines()) {
        assert_eq!(
            &record.compute_hash()?.to_hex(),
            digest,
            "seq {}",
            record.seq
        );
        assert_eq!(&record.hash.to_hex(), digest);
        // The JSON form is stable too: writing the record back gives the same JSON.
        let stored: serde_json::Value = serde_json::from_str(line).map_err(json_err)?;
        assert_eq!(serde_json::to_value(record).map_err(json_err)?, stored);
    }
    // Every kind of event is in the golden log.
    let kinds: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["event"].as_object()?.keys().next().cloned()
        })
        .collect();
    let all = [
        "action_transition",
        "config_changed",
        "decision",
        "incident",
        "override_granted",
        "override_revoked",
        "torn_tail_removed",
    ];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), all);
    // Opening it as a log (a copy: the file sink appends) works too.
    let dir = tempfile::tempdir().map_err(io)?;
    let copy = dir.path().join("golden.jsonl");
    std::fs::write(&copy, &bytes).map_err(io)?;
    assert_eq!(open_file(&copy)?.anchor(), anchor);
    Ok(())
}

fn check_unit_enum<T>(names: &[serde_json::Value]) -> Result<()>
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for (index, name) in names.iter().enumerate() {
        let value: T = serde_json::from_value(name.clone()).map_err(json_err)?;
        // A unit variant's canonical encoding is its index as a varint (one byte
        // below 128): reordering variants changes every hash that holds them.
        assert_eq!(
            Digest::of(&value)?,
            Digest::of_bytes(&[u8::try_from(index).expect("small")]),
            "{value:?} must keep index {index}"
        );
        assert_eq!(&serde_json::to_value(&value).map_err(json_err)?, name);
    }
    Ok(())
}

/// `testdata/audit/enums-v1.json` fixes the index and name of every variant of every
/// unit enum a record can hold.
#[test]
fn unit_enums_keep_their_indices_and_names() -> Result<()> {
    use stratum_core::autopilot::ActionState;
    use stratum_core::health::{Component, HealthStatus};
    let table: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(testdata("enums-v1.json")).map_err(io)?)
            .map_err(json_err)?;
    let mut checked = 0;
    for (name, variants) in &table {
        let Some(variants) = variants.as_array() else {
            continue;
        };
        match name.as_str() {
            "GateResult" => check_unit_enum::<GateResult>(variants)?,
            "Outcome" => check_unit_enum::<Outcome>(variants)?,
            "Severity" => check_unit_enum::<Severity>(variants)?,
            "ViolationEffect" => check_unit_enum::<ViolationEffect>(variants)?,
            "EnforcementMode" => check_unit_enum::<EnforcementMode>(variants)?,
            "HealthStatus" => check_unit_enum::<HealthStatus>(variants)?,
            "Component" => check_unit_enum::<Component>(variants)?,
            "ActionKindTag" => check_unit_enum::<ActionKindTag>(variants)?,
            "ActionState" => check_unit_enum::<ActionState>(variants)?,
            other => panic!("no check for {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 9);
    // Variants past the table would be new ones: the list must be complete.
    assert!(serde_json::from_value::<Outcome>(serde_json::json!("unknown")).is_err());
    Ok(())
}

#[test]
fn plain_deserialisation_of_a_record_is_as_strict() -> Result<()> {
    let lines = varied_lines()?;
    let mut edited = lines[1].clone();
    edited["event"]["decision"]["health"]["approved_by"] = serde_json::json!("u_9");
    let err = stratum_core::from_json::<AuditRecord>(&edited.to_string()).unwrap_err();
    assert!(err.to_string().contains("approved_by"), "{err}");
    let back: AuditRecord = stratum_core::from_json(&lines[1].to_string())?;
    assert_eq!(serde_json::to_value(&back).map_err(json_err)?, lines[1]);
    Ok(())
}
