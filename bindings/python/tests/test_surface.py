"""The shared request -> response vectors of testdata/surface, through the Python API.

Each vector is a request of the host-neutral surface (`stratum_bindings`) and the
response (or error) every binding must give for it; the Rust crate runs the same
files. An expected object pins the keys it lists; lists are compared element by
element.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

import pytest
from conftest import REPO

import stratum

SURFACE = REPO / "testdata" / "surface"


def _matches(actual: Any, expected: Any, at: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{at}: {actual!r} is not an object"
        for k, v in expected.items():
            _matches(actual.get(k), v, f"{at}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{at}: {actual!r} is not a list"
        assert len(actual) == len(expected), f"{at}: {len(actual)} elements, expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            _matches(a, e, f"{at}[{i}]")
    else:
        assert actual == expected, f"{at}: got {actual!r}, expected {expected!r}"


def _build_payloads(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    return stratum.build_payloads(n, r["platform"], r["events"], r["now"], **r.get("options", {}))


def _build_audience(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    members = [
        {field: value for field, value in m["user"].items()} for m in r["members"]
    ]
    return stratum.build_audience(
        n, r["platform"], members, operation=r.get("operation", "add"), **r.get("options", {})
    )


def _normalize(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    results = [
        n.normalize(r["platform"], v["field"], v["value"], country=v.get("country"))
        for v in r["values"]
    ]
    return {"results": results}


def _emq_score(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    e = r["event"]
    return stratum.emq_score(n, r["platform"], e.get("user", {}), e.get("event_id"))


def _plain(value: Dict[str, str]) -> str:
    # The rows API takes text (auto-detected): the vectors' values are plain.
    (text,) = value.values()
    return text


def _emq_report(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    rows = [
        dict({f: _plain(v) for f, v in e.get("user", {}).items()}, event_id=e.get("event_id"))
        for e in r["events"]
    ]
    return stratum.emq_report(n, r["platform"], rows, options=r.get("options"))


def _health_score(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    return stratum.HealthConfig(r.get("config")).score(r["signals"], r["now"]).to_dict()


def _gate_preview(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    gate = stratum.TrustGate(r.get("config"))
    return gate.evaluate(r["signals"], r["action"], r["now"]).to_dict()


def _rfc3339(t: Any) -> Any:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def _parse_message(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    m = stratum.parse_message(r["body"], r["received_at"], config=r.get("config"))
    return {
        "type": m.type,
        "message_id": m.message_id,
        "anonymous_id": m.anonymous_id,
        "user_id": m.user_id,
        "event": m.event,
        "timestamp": _rfc3339(m.timestamp),
        "timestamp_source": m.timestamp_source,
        "original_timestamp": _rfc3339(m.original_timestamp),
        "sent_at": _rfc3339(m.sent_at),
        "received_at": _rfc3339(m.received_at),
    }


def _read_segment(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    seg = r["segment"]
    s = stratum.Segment.parse(seg) if isinstance(seg, str) else stratum.Segment.from_json(seg)
    if r.get("schema") is not None:
        s.validate(r["schema"])
    return {"text": s.to_text(), "json": s.to_dict()}


def _person_audiences(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    # The surface's one-person preview, composed from the Cdp API: the same
    # messages, each received at `now`, then a full evaluation at `now`.
    cdp = stratum.Cdp(computed_traits=r.get("computed_traits"))
    cdp.set_audiences(r["audiences"])
    for m in r["messages"]:
        cdp.ingest(m, r["now"])
    members = cdp.evaluate_audiences(r["now"])
    return {
        "profiles": [
            {"profile": p, "audiences": {k: p in v for k, v in members.items()}}
            for p in sorted(cdp.profiles())
        ],
        "members": members,
    }


def _evaluate_table(n: stratum.Normalizer, r: Dict[str, Any]) -> Dict[str, Any]:
    # The surface's JSON columns as an Arrow table through `Audiences.evaluate`.
    pa = pytest.importorskip("pyarrow")
    audiences = stratum.Audiences(r["audiences"], r.get("computed_traits"))
    t = r["table"]
    out = audiences.evaluate(pa.table(t["columns"]), t.get("computed"), t.get("consent"))
    return {k: pa.array(v).to_pylist() for k, v in out.items()}


ENTRIES: Dict[str, Callable[[stratum.Normalizer, Dict[str, Any]], Dict[str, Any]]] = {
    "build_payloads": _build_payloads,
    "build_audience": _build_audience,
    "normalize": _normalize,
    "emq_score": _emq_score,
    "emq_report": _emq_report,
    "health_score": _health_score,
    "gate_preview": _gate_preview,
    "parse_message": _parse_message,
    "read_segment": _read_segment,
    "person_audiences": _person_audiences,
    "evaluate_table": _evaluate_table,
}


def _cases() -> List[Any]:
    out = []
    for path in sorted(SURFACE.glob("*.json")):
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            out.append(pytest.param(doc, case, id=f"{doc['entry']}: {case['name']}"))
    return out


def test_every_vector_file_has_an_entry_here() -> None:
    entries = {json.loads(p.read_text())["entry"] for p in SURFACE.glob("*.json")}
    assert entries and entries <= set(ENTRIES)


@pytest.mark.parametrize(("doc", "case"), _cases())
def test_vector(doc: Dict[str, Any], case: Dict[str, Any]) -> None:
    # Entries that do not normalise run with a default normaliser (unused).
    n = stratum.Normalizer(doc.get("normalizer", {"phone_region": {"default": "US"}}))
    call = ENTRIES[doc["entry"]]
    if "error" in case:
        with pytest.raises(stratum.StratumError) as info:
            call(n, case["request"])
        _matches({"code": info.value.code, "field": info.value.field}, case["error"], "error")
    else:
        _matches(call(n, case["request"]), case["response"], "response")
