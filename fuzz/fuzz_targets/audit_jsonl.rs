//! Bytes -> an audit log file. Decoding them in memory (`records_from_jsonl`) must
//! not panic; when they decode into a chain that verifies, the same bytes written
//! to a file must open with `JsonlFileSink` + `AuditLog::open`, verify, hold one
//! record per non-blank line and accept a further record (a file that does not
//! decode is refused by the same scanner, so it is written only for those).
//! When the bytes do not decode as a whole, every line is parsed on its own as an
//! `AuditRecord` and the lines that parse are checked with `verify_chain` (when they
//! do decode, those are the records already checked above).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use stratum_core::audit::{
    AuditEvent, AuditLog, AuditRecord, FsyncPolicy, JsonlFileSink, records_from_jsonl, verify_chain,
};
use stratum_core::digest::Digest;
use stratum_core::from_json_slice;
use stratum_core::gate::Actor;

/// One scratch file per fuzzing process, in memory (`/dev/shm`) where there is
/// one: every input writes, reopens and appends to it.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("stratum-fuzz-audit-{}.jsonl", std::process::id()))
    })
}

/// Lines holding something other than whitespace, after a UTF-8 byte order mark.
fn record_lines(data: &[u8]) -> u64 {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64
}

fuzz_target!(|data: &[u8]| {
    let decoded = records_from_jsonl(data);
    let path = scratch();
    match &decoded {
        Ok(records) => {
            assert_eq!(records.len() as u64, record_lines(data));
            if verify_chain(records).is_ok() {
                reopen_and_append(path, data);
            } else {
                for r in records {
                    let _ = r.compute_hash();
                }
            }
        }
        Err(_) => {
            let records: Vec<AuditRecord> = data
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .filter_map(|l| from_json_slice::<AuditRecord>(l).ok())
                .collect();
            if let Ok(anchor) = verify_chain(&records) {
                assert_eq!(anchor.len, records.len() as u64);
            }
        }
    }
});

/// Writes a chain that verified in memory to the scratch file, opens it with the
/// file sink, checks it and appends one more record.
fn reopen_and_append(path: &PathBuf, data: &[u8]) {
    if std::fs::write(path, data).is_ok()
        && let Ok(sink) = JsonlFileSink::open(path, FsyncPolicy::Never)
        && let Ok(mut log) = AuditLog::open(sink)
    {
        let lines = record_lines(data);
        assert_eq!(log.len(), lines);
        assert!(log.verify().is_ok());
        let at = log
            .records()
            .ok()
            .and_then(|r| r.last().map(|r| r.at))
            .unwrap_or_else(|| DateTime::from_timestamp(1_772_366_400, 0).unwrap_or_default());
        let event = AuditEvent::ConfigChanged {
            config_hash: Digest::of_bytes(data),
            previous: None,
        };
        if log
            .append(at, Actor::person("u_fuzz", "admin"), event, Digest::ZERO)
            .is_ok()
        {
            assert_eq!(log.len(), lines + 1);
            assert!(log.verify().is_ok());
        }
    }
}
