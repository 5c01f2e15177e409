"""Objects shared between threads: calls wait for each other and all succeed.

Also: objects used from a thread other than the one that made them, and inputs that
Python itself cannot convert (deep nesting, lone surrogates, huge integers), which must
raise typed ``StratumError`` subclasses.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from conftest import NOW, budget_change, healthy_signals

import stratum
from stratum import errors

THREADS = 8
CALLS = 300


def run_threads(work: Callable[[int], Any], threads: int = THREADS) -> List[Any]:
    """Runs ``work(i)`` on ``threads`` threads started together; re-raises the first
    exception any of them hit, returns their results."""
    start = threading.Barrier(threads)
    results: List[Any] = [None] * threads
    failures: List[BaseException] = []

    def body(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    ts = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        raise failures[0]
    return results


def test_shared_trust_gate_and_audit_log(tmp_path: Path) -> None:
    gate = stratum.TrustGate()
    log = stratum.AuditLog(tmp_path / "audit.jsonl", fsync="never")
    signals = stratum.Signals(healthy_signals())
    action = stratum.ProposedAction(budget_change())

    def work(i: int) -> List[str]:
        outcomes = []
        for _ in range(CALLS):
            outcomes.append(gate.decide(signals, action, log, NOW).outcome)
            gate.evaluate(signals, action, NOW)
        return outcomes

    results = run_threads(work)
    assert all(len(r) == CALLS for r in results)
    assert {o for r in results for o in r} == {"execute"}
    total = THREADS * CALLS
    assert len(log) == total
    anchor = log.verify()
    assert anchor["len"] == total
    records = log.records()
    assert [r["seq"] for r in records] == list(range(total))
    assert stratum.verify_chain(records) == anchor
    # Every decision names the record that holds it, once each.
    assert sorted(r["event"]["decision"]["audit_seq"] for r in records) == list(range(total))


def test_shared_audit_log_appends_and_verifies_concurrently() -> None:
    log = stratum.AuditLog()

    def work(i: int) -> int:
        for k in range(CALLS):
            log.append({"type": "system", "name": f"t{i}"}, {"config_changed": {"config_hash": f"{i * CALLS + k:064x}"}}, NOW)
            if k % 50 == 0:
                assert log.verify()["len"] >= 1
        return len(log)

    run_threads(work)
    assert log.verify()["len"] == THREADS * CALLS
    hashes = sorted(r["event"]["config_changed"]["config_hash"] for r in log.records())
    assert hashes == [f"{n:064x}" for n in range(THREADS * CALLS)]


def test_shared_identity_graph() -> None:
    graph = stratum.IdentityGraph()

    def work(i: int) -> None:
        for k in range(CALLS):
            graph.link(f"m{i}-{k}", [("user_id", f"u{i}-{k}"), ("email", f"p{i}-{k}@example.com")], NOW)
            graph.profile_of("user_id", f"u{i}-{k}")

    run_threads(work)
    # Each link joined two fresh identifiers: one profile per link.
    assert len(graph) == THREADS * CALLS
    for i in range(THREADS):
        for k in (0, CALLS - 1):
            p = graph.profile_of("email", f"p{i}-{k}@example.com")
            assert p is not None and p == graph.profile_of("user_id", f"u{i}-{k}")


def test_shared_cdp() -> None:
    cdp = stratum.Cdp()

    def work(i: int) -> None:
        for k in range(CALLS // 3):
            out = cdp.ingest(
                {"type": "identify", "messageId": f"m{i}-{k}", "userId": f"u{i}-{k}",
                 "traits": {"plan": "pro"}, "timestamp": "2026-03-01T11:00:00Z"},
                NOW,
            )
            assert out["outcome"] == "resolved"
            # The same message again, from this thread: a duplicate.
            again = cdp.ingest(
                {"type": "identify", "messageId": f"m{i}-{k}", "userId": f"u{i}-{k}",
                 "timestamp": "2026-03-01T11:00:00Z"},
                NOW,
            )
            assert again["outcome"] == "duplicate"

    run_threads(work)
    assert len(cdp.profiles()) == THREADS * (CALLS // 3)


def test_shared_deduplicator_and_guardrails() -> None:
    d = stratum.Deduplicator(3600)
    kept: List[int] = []

    def work(i: int) -> int:
        # Every thread offers the same ids: each is kept exactly once overall.
        return sum(d.check(f"m{k}", NOW) for k in range(CALLS))

    kept = run_threads(work)
    assert sum(kept) == CALLS
    assert len(d) == CALLS


def test_objects_work_from_another_thread(tmp_path: Path) -> None:
    log = stratum.AuditLog(tmp_path / "a.jsonl")
    cdp = stratum.Cdp()
    out: Dict[str, Any] = {}

    def other() -> None:
        out["ref"] = log.append({"type": "system", "name": "ops"}, {"config_changed": {"config_hash": "0" * 64}}, NOW)
        out["verify"] = log.verify()
        out["ingest"] = cdp.ingest({"type": "identify", "messageId": "m1", "userId": "u1"}, NOW)
        out["profiles"] = cdp.profiles()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert out["ref"]["seq"] == 0
    assert out["verify"]["len"] == 1
    assert out["ingest"]["outcome"] == "resolved"
    assert len(out["profiles"]) == 1
    # And back on this thread.
    assert len(log) == 1 and log.verify()["len"] == 1
    assert cdp.profiles() == out["profiles"]


def test_two_writers_on_one_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = stratum.AuditLog(path)
    with pytest.raises(errors.AuditLockedError) as info:
        stratum.AuditLog(path)
    assert info.value.code == "audit_locked"
    assert isinstance(info.value, stratum.StratumError)
    first.append({"type": "system", "name": "ops"}, {"config_changed": {"config_hash": "0" * 64}}, NOW)
    del first
    assert len(stratum.AuditLog(path)) == 1


def test_a_writer_in_another_process_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "audit.jsonl"
    log = stratum.AuditLog(path)
    code = (
        "import sys, stratum\n"
        "try:\n"
        "    stratum.AuditLog(sys.argv[1])\n"
        "except stratum.errors.AuditLockedError:\n"
        "    sys.exit(42)\n"
        "sys.exit(7)\n"
    )
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == 42
    del log
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == 7


# ------------------------------------------------------------ untyped inputs


def deep(depth: int) -> Dict[str, Any]:
    d: Dict[str, Any] = {}
    for _ in range(depth):
        d = {"x": d}
    return d


def test_deeply_nested_input_is_invalid_json() -> None:
    with pytest.raises(errors.InvalidJsonError) as info:
        stratum.TrustGate(deep(10_000))
    assert info.value.code == "invalid_json"
    signals = healthy_signals()
    signals["emq"] = deep(10_000)
    with pytest.raises(errors.InvalidJsonError):
        stratum.Signals(signals)
    log = stratum.AuditLog()
    with pytest.raises(errors.InvalidJsonError):
        stratum.verify_chain([deep(10_000)])
    with pytest.raises(errors.InvalidJsonError):
        log.append({"type": "system", "name": "ops"}, deep(10_000), NOW)
    # Moderately deep (beyond the JSON parser's nesting limit) is typed as well.
    with pytest.raises(errors.InvalidJsonError):
        stratum.TrustGate(deep(500))


LONE = "\ud800"


def test_lone_surrogates_in_str_arguments_are_invalid_json() -> None:
    graph = stratum.IdentityGraph()
    calls: List[Callable[[], Any]] = [
        lambda: graph.link("m" + LONE, [("user_id", "u1")], NOW),
        lambda: graph.link("m1", [("user_id", LONE)], NOW),
        lambda: graph.profile_of("user_id", LONE),
        lambda: graph.explain(LONE),
        lambda: stratum.Cdp().profile(LONE),
        lambda: stratum.Cdp().ingest('{"type":"identify","userId":"' + LONE + '"}', NOW),
        lambda: stratum.AuditLog(None, fsync=LONE),
        lambda: stratum.AuditLog().append({"type": "system", "name": LONE}, {"config_changed": {"config_hash": "0" * 64}}, NOW),
        lambda: stratum.TrustGate(f'{{"x": "{LONE}"}}'),
        lambda: stratum.Deduplicator().check(LONE, NOW),
        lambda: stratum.resolve_identities([("a", LONE)]),
        lambda: normalizer().normalize("meta", "email", LONE),
        lambda: normalizer().normalize(LONE, "email", "a@b.c"),
        lambda: normalizer().normalize_list("meta", "email", ["a@b.c", LONE]),
        lambda: stratum.build_payloads(normalizer(), LONE, [], NOW),
    ]
    for call in calls:
        with pytest.raises(errors.InvalidJsonError) as info:
            call()
        assert info.value.code == "invalid_json"


def normalizer() -> stratum.Normalizer:
    return stratum.Normalizer({"phone_region": {"default": "US"}, "today": "2026-03-01"})


@pytest.mark.parametrize("size", [-1, 0, 2**64, 2**63, -(2**70)])
def test_out_of_range_batch_sizes_are_invalid_config(size: int) -> None:
    n = normalizer()
    with pytest.raises(errors.InvalidConfigError) as info:
        stratum.build_payloads(n, "meta", [], NOW, batch_size=size)
    assert info.value.field == "batch_size"
    with pytest.raises(errors.InvalidConfigError) as info:
        stratum.build_audience(n, "meta", [], batch_size=size)
    assert info.value.field == "batch_size"


@pytest.mark.parametrize("window", [2**63, 2**64, 2**62, -(2**63) - 1, 0])
def test_out_of_range_windows_are_typed(window: int) -> None:
    with pytest.raises(stratum.StratumError) as info:
        stratum.Deduplicator(window)
    assert info.value.code == "invalid_config"
    with pytest.raises(stratum.StratumError) as info:
        stratum.Cdp(dedup_window_seconds=window)
    assert info.value.code == "invalid_config"


def test_huge_numbers_elsewhere_are_typed() -> None:
    with pytest.raises(stratum.StratumError) as info:
        stratum.TrustGate().evaluate(healthy_signals(), budget_change(), 2**2000)
    assert info.value.code == "invalid_time"
    # An int too large for a float is the infinity of its sign, not OverflowError.
    config = stratum.HealthConfig()
    assert config.status_of(2**2000) == "healthy"
    assert config.status_of(-(2**2000)) == "unhealthy"
    # A bool is no score.
    with pytest.raises(stratum.errors.InvalidTypeError, match="bool"):
        config.status_of(True)


def test_open_recovering_from_python(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = stratum.AuditLog(path)
    for i in range(3):
        log.append({"type": "system", "name": "ops"}, {"config_changed": {"config_hash": f"{i:064x}"}}, NOW)
    del log
    tail = b'{"v":1,"seq":3,"at":"2026-'
    with open(path, "ab") as f:
        f.write(tail)
    with pytest.raises(stratum.AuditIntegrityError) as info:
        stratum.AuditLog(path)
    assert info.value.index == 3
    admin = {"type": "person", "id": "u_1", "role": "admin"}
    log, torn = stratum.AuditLog.open_recovering(path, admin, NOW)
    assert torn is not None
    assert torn["bytes"] == tail
    import hashlib

    assert torn["digest"] == hashlib.sha256(tail).hexdigest()
    assert len(log) == 4
    last = log.records()[-1]
    assert last["actor"] == admin
    assert last["event"] == {
        "torn_tail_removed": {"offset": torn["offset"], "removed_bytes": len(tail), "removed_digest": torn["digest"]}
    }
    del log
    log, torn = stratum.AuditLog.open_recovering(path, admin, NOW)
    assert torn is None and len(log) == 4


def test_verify_chain_reports_the_index_of_an_undecodable_record() -> None:
    log = stratum.AuditLog()
    for i in range(3):
        log.append({"type": "system", "name": "ops"}, {"config_changed": {"config_hash": f"{i:064x}"}}, NOW)
    records = log.records()
    bad = copy.deepcopy(records)
    bad[2]["seq"] = "two"
    with pytest.raises(stratum.AuditIntegrityError) as info:
        stratum.verify_chain(bad)
    assert info.value.index == 2
    added = copy.deepcopy(records)
    added[1]["event"]["config_changed"]["approved_by"] = "u_9"
    with pytest.raises(stratum.AuditIntegrityError) as info:
        stratum.verify_chain(added)
    assert info.value.index == 1


REENTRANT = r"""
import datetime as dt, gc, sys
import stratum

t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
cdp = stratum.Cdp()
cdp.set_audiences([{"key": "buyers", "segment": 'performed "Order Completed" within 1d'}])
for i in range(200):
    cdp.ingest({"type": "track", "messageId": f"o{i}", "userId": f"u{i}",
                "event": "Order Completed", "timestamp": t0.isoformat()}, t0)
gate = stratum.TrustGate()
calls = {
    "audience_history": (cdp, cdp.audience_history, cdp.profiles),
    "take_transitions": (cdp, lambda: cdp.take_transitions(as_events=True), cdp.profiles),
    "evaluate_audiences": (cdp, lambda: cdp.evaluate_audiences(t0), cdp.profiles),
    "gate.config": (gate, gate.config, lambda: gate.config_hash),
}
_, call, again = calls[sys.argv[1]]

class Trap:
    # Cyclic garbage whose finalizer calls the same object: it runs whenever the
    # collector does, e.g. while the result is being converted to Python objects.
    def __init__(self):
        self.me = self
    def __del__(self):
        again()

for _ in range(50):
    Trap()
gc.set_threshold(1)
for _ in range(20):
    call()
    Trap()
print("ok")
"""


@pytest.mark.parametrize("method", ["audience_history", "take_transitions",
                                    "evaluate_audiences", "gate.config"])
def test_a_finalizer_calling_the_same_object_during_conversion_does_not_hang(method: str) -> None:
    # The result becomes Python objects only after the object's lock is released: a
    # garbage collection run by one of those allocations may call the object again
    # from the same thread, which would otherwise wait for itself forever.
    import subprocess
    import sys

    try:
        out = subprocess.run([sys.executable, "-c", REENTRANT, method], capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{method}: deadlocked when a finalizer called the same object")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
