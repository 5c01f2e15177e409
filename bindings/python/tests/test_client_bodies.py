"""Bodies as Segment-compatible clients send them: the shared vectors of
``testdata/messages`` (also run by the Rust tests), gzip bodies, and the real
``segment-analytics-python`` client pointed at a local capture server."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import http.server
import json
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import stratum
from stratum import errors

from conftest import REPO

VECTORS = REPO / "testdata" / "messages"
UTC = dt.timezone.utc


def _time(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def _vector_names() -> List[str]:
    return sorted(p.name[: -len(".expect.json")] for p in VECTORS.glob("*.expect.json"))


@pytest.mark.parametrize("name", _vector_names())
def test_shared_client_vectors(name: str) -> None:
    expect = json.loads((VECTORS / f"{name}.expect.json").read_text())
    body = (VECTORS / f"{name}.body.json").read_bytes()
    out = stratum.parse_batch(body, _time(expect["received_at"]))
    messages = iter(out["messages"])
    errs = {e["index"]: e for e in out["errors"]}
    assert len(out["messages"]) + len(errs) == len(expect["results"])
    for i, want in enumerate(expect["results"]):
        if "code" in want:
            assert errs[i]["code"] == want["code"]
            assert errs[i]["field"].startswith(want["field_prefix"])
            continue
        m = next(messages)
        got = m.to_dict()
        for key, value in want.items():
            if key == "identifiers":
                continue  # checked by the Rust side, which exposes `identifiers`
            if key in ("timestamp", "original_timestamp", "sent_at"):
                assert getattr(m, key) == _time(value), (name, i, key)
            elif key == "properties_json":
                assert m.properties_json == value
                assert m.properties == json.loads(value)
            elif key.endswith("_json"):
                attr = key[: -len("_json")]
                assert getattr(m, attr) == json.loads(value), (name, i, key)
            elif key == "consent":
                assert m.consent == value
            else:
                assert got[key] == value, (name, i, key)


def test_big_integers_keep_every_digit_and_decimals_are_exact_in_json() -> None:
    m = stratum.parse_message(
        b'{"type":"track","messageId":"m","userId":"u","event":"e",'
        b'"properties":{"id":123456789012345678901234567890,"x":0.10000000000000000000001}}',
        "2026-03-01T12:00:00Z",
    )
    assert m.properties["id"] == 123456789012345678901234567890
    assert m.to_dict()["properties"]["id"] == 123456789012345678901234567890
    exact = json.loads(m.properties_json, parse_float=decimal.Decimal)
    assert exact["x"] == decimal.Decimal("0.10000000000000000000001")


def test_unknown_fields_category_channel_and_metadata_are_kept() -> None:
    m = stratum.parse_message(
        {"type": "page", "messageId": "m", "anonymousId": "a", "name": "Home", "category": "Docs",
         "channel": "web", "_metadata": {"bundled": ["Segment.io"]}, "writeKey": "wk", "version": 2},
        "2026-03-01T12:00:00Z",
    )
    assert (m.category, m.channel) == ("Docs", "web")
    assert m.metadata == {"bundled": ["Segment.io"]}
    assert m.extra == {"version": 2, "writeKey": "wk"}


def test_one_bad_element_costs_only_itself() -> None:
    body = (
        b'{"batch":[{"type":"page","messageId":"m1","anonymousId":"a"},'
        b'{"type":"page","messageId":"m2","anonymousId":"a","name":"\\ud800"},'
        b'{"type":"track","messageId":"m3","anonymousId":"a","event":"e","properties":{"v":NaN}},'
        b'{"type":"page","messageId":"m4","anonymousId":"a"}]}'
    )
    out = stratum.parse_batch(body, "2026-03-01T12:00:00Z")
    assert [m.message_id for m in out["messages"]] == ["m1", "m4"]
    assert [(e["index"], e["code"]) for e in out["errors"]] == [(1, "invalid_json"), (2, "invalid_json")]


def test_gzip_bodies_and_their_errors() -> None:
    doc = {"batch": [{"type": "page", "messageId": "m1", "anonymousId": "a"}]}
    body = gzip.compress(json.dumps(doc).encode())
    out = stratum.parse_batch(body, "2026-03-01T12:00:00Z", content_encoding="gzip")
    assert [m.message_id for m in out["messages"]] == ["m1"]
    m = stratum.parse_message(
        gzip.compress(b'{"type":"page","messageId":"p","anonymousId":"a"}'),
        "2026-03-01T12:00:00Z",
        content_encoding="gzip",
    )
    assert m.message_id == "p"
    bomb = gzip.compress(b"0" * (8 << 20))
    with pytest.raises(errors.TooLargeError) as too_large:
        stratum.parse_batch(bomb, "2026-03-01T12:00:00Z", content_encoding="gzip")
    assert too_large.value.field == "$"
    with pytest.raises(errors.InvalidEncodingError) as unsupported:
        stratum.parse_batch(body, "2026-03-01T12:00:00Z", content_encoding="br")
    assert unsupported.value.field == "Content-Encoding"
    assert isinstance(unsupported.value, ValueError)
    with pytest.raises(errors.InvalidEncodingError):
        stratum.parse_batch(body[: len(body) // 2], "2026-03-01T12:00:00Z", content_encoding="gzip")


class _Capture(http.server.BaseHTTPRequestHandler):
    bodies: List[Tuple[Optional[str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        self.bodies.append((self.headers.get("Content-Encoding"), self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"success": true}')

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def capture() -> Iterator[Tuple[str, List[Tuple[Optional[str], bytes]]]]:
    _Capture.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Capture.bodies
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("use_gzip", [False, True])
def test_segment_analytics_python_bodies(
    capture: Tuple[str, List[Tuple[Optional[str], bytes]]], use_gzip: bool
) -> None:
    from segment.analytics import Client

    host, bodies = capture
    client = Client("write-key", host=host, sync_mode=True, gzip=use_gzip, max_retries=0)
    client.identify("legacy-42", {"email": "ann@example.com", "logins": 2**70})
    client.track("u-7", "Order Completed", {"order_id": 2**70 + 1, "total": 19.99})
    client.page("u-7", category="Docs", name="Pricing", properties={"path": "/pricing"})
    client.group("u-7", "acme-1", {"name": "Acme", "email": "billing@acme.example"})
    client.alias("legacy-42", "u-7")
    client.track("u-7", "Imported", timestamp=dt.datetime(2020, 1, 15, 8, 0, tzinfo=UTC))
    assert len(bodies) == 6
    received = dt.datetime.now(tz=UTC)
    messages: List[Any] = []
    for encoding, body in bodies:
        assert encoding == ("gzip" if use_gzip else None)
        out = stratum.parse_batch(body, received, content_encoding=encoding)
        assert out["errors"] == []
        messages.extend(out["messages"])
    identify, track, page, group, alias, imported = messages
    assert identify.traits["logins"] == 2**70
    assert track.properties == {"order_id": 2**70 + 1, "total": 19.99}
    # The library sends the event time as `timestamp` and `sentAt`: corrected.
    assert track.timestamp_source == "skew_corrected"
    assert track.original_timestamp is not None
    assert abs(track.timestamp - received) < dt.timedelta(seconds=5)
    assert (page.category, page.name) == ("Docs", "Pricing")
    assert group.traits["email"] == "billing@acme.example"
    assert alias.previous_id == "legacy-42"
    # A historical timestamp stays historical (within the seconds in flight).
    assert abs(imported.timestamp - dt.datetime(2020, 1, 15, 8, 0, tzinfo=UTC)) < dt.timedelta(seconds=5)
    graph = stratum.IdentityGraph()
    for m in messages:
        graph.identify(m)
    # The group's email is the company's, and the alias merged both user ids.
    assert graph.profile_of("email", "billing@acme.example") is None
    assert graph.profile_of("user_id", "legacy-42") == graph.profile_of("user_id", "u-7")
