//! Bytes -> an audit log file. Opening it with `JsonlFileSink` + `AuditLog::open`
//! must not panic; a log that opens must verify, hold one record per line and
//! accept a further record. Independently, every line is parsed as an
//! `AuditRecord` and the parsed records are checked with `verify_chain`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use stratum_core::audit::{
    AuditEvent, AuditLog, AuditRecord, FsyncPolicy, JsonlFileSink, verify_chain,
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

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    if let Ok(sink) = JsonlFileSink::open(path, FsyncPolicy::Never)
        && let Ok(mut log) = AuditLog::open(sink)
    {
        let lines = data.iter().filter(|&&b| b == b'\n').count() as u64;
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

    let records: Vec<AuditRecord> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| from_json_slice::<AuditRecord>(l).ok())
        .collect();
    if let Ok(anchor) = verify_chain(&records) {
        assert_eq!(anchor.len, records.len() as u64);
    }
    for r in &records {
        let _ = r.compute_hash();
    }
});
