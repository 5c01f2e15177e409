"""The audit log across the boundary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from conftest import NOW

import stratum


def _config_changed(i: int) -> Dict[str, Any]:
    return {"config_changed": {"config_hash": f"{i:064x}"}}


def test_append_verify_records() -> None:
    log = stratum.AuditLog()
    refs = [log.append({"type": "system", "name": "ops"}, _config_changed(i), NOW) for i in range(3)]
    assert [r["seq"] for r in refs] == [0, 1, 2]
    assert log.head == refs[-1]["hash"]
    anchor = log.verify()
    assert anchor == {"len": 3, "head": refs[-1]["hash"]}
    records = log.records()
    assert [r["prev_hash"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert stratum.verify_chain(records) == anchor


def test_tampering_is_found_at_its_index() -> None:
    log = stratum.AuditLog()
    for i in range(3):
        log.append({"type": "system", "name": "ops"}, _config_changed(i), NOW)
    records = log.records()
    records[1]["event"]["config_changed"]["config_hash"] = "f" * 64
    with pytest.raises(stratum.AuditIntegrityError) as info:
        stratum.verify_chain(records)
    assert info.value.code == "audit_integrity"
    assert info.value.index == 1


def test_file_log_reopens_and_detects_edits(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = stratum.AuditLog(path, fsync="never")
    for i in range(2):
        log.append({"type": "system", "name": "ops"}, _config_changed(i), NOW)
    del log
    reopened = stratum.AuditLog(str(path))
    assert len(reopened) == 2
    del reopened  # one writer per file: release it before reopening below
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["at"] = "2026-03-01T13:00:00Z"
    path.write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    with pytest.raises(stratum.AuditIntegrityError):
        stratum.AuditLog(path)


def test_bad_fsync_policy(tmp_path: Path) -> None:
    with pytest.raises(stratum.InvalidConfigError) as info:
        stratum.AuditLog(tmp_path / "a.jsonl", fsync="sometimes")
    assert info.value.field == "fsync"


def test_golden_log_verifies_and_matches_the_independent_encoder() -> None:
    """testdata/audit: the record-format-1 golden log verifies through the package, and
    the independent encoder (canonical.py, standard library only) gives the committed
    hashes and finds every enum variant in it."""
    import subprocess
    import sys

    from conftest import REPO

    golden = REPO / "testdata" / "audit"
    lines = (golden / "golden-v1.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    expected = json.loads((golden / "golden-v1.digests.json").read_text())
    assert stratum.verify_chain(records) == {"len": len(expected), "head": expected[-1]}
    assert [r["hash"] for r in records] == expected
    out = subprocess.run(
        [sys.executable, str(golden / "canonical.py"), str(golden / "golden-v1.jsonl")],
        check=True, capture_output=True, text=True,
    ).stdout
    assert json.loads(out) == expected
