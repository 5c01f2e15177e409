"""Writes the shared request -> response vectors of the binding surface.

Expected request bodies come from the golden documents of `testdata/payloads/`
(hand-normalised values hashed with Python's `hashlib`, see `payloads.py` there);
the error and rejection cases are written here by hand. Run from the repository root:

    python3 testdata/surface/make_vectors.py

A vector pins the keys it lists: an expected object is compared on its own keys
(message texts are left to the crates' tests), an expected list element by element.
Error vectors pin the rules' codes and fields, not JSON shape errors: a host that
takes a request apart into arguments names paths from its own arguments.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "testdata" / "payloads"
OUT = ROOT / "testdata" / "surface"

NORMALIZER = {"phone_region": {"default": "US"}, "today": "2026-03-01"}
NOW = "2026-03-01T12:05:00Z"
DESTINATION = {
    "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
    "productDestinationId": "987654321",
}


def load(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def warnings(pairs: list) -> list:
    return [{"index": i, "code": c} for i, c in pairs]


def payload_cases() -> list:
    cases = []
    for name, options in [
        ("meta", lambda i: {"batch_size": i["batch_size"]}),
        (
            "meta_ldu",
            lambda i: {
                "batch_size": i["batch_size"],
                "data_processing": {
                    "options": i["data_processing"]["options"],
                    "country": i["data_processing"]["country"],
                    "state": i["data_processing"]["state"],
                },
            },
        ),
        ("google", lambda i: {"destinations": i["destinations"]}),
        (
            "google_consent",
            lambda i: {"destinations": i["destinations"], "consent": i["consent"]},
        ),
        ("tiktok", lambda i: {"event_source_ids": i["event_source_ids"]}),
        ("snapchat", lambda i: {}),
    ]:
        i = load(f"{name}.input.json")
        e = load(f"{name}.expected.json")
        cases.append(
            {
                "name": f"{name} golden",
                "request": {
                    "platform": name.split("_")[0],
                    "now": i["now"],
                    "events": i["events"],
                    "options": options(i),
                },
                "response": {
                    "requests": e["requests"],
                    "rejected": [],
                    "warnings": warnings(e["warnings"]),
                },
            }
        )
    purchase = {
        "event_name": "Purchase",
        "event_time": "2026-03-01T12:00:00Z",
        "event_id": "o-1",
        "action_source": "website",
        "event_source_url": "https://shop.example/checkout",
        "user": {
            "email": {"raw": "ann@example.com"},
            "user_agent": {"raw": "Mozilla/5.0"},
        },
    }
    old = dict(purchase, event_time="2026-02-20T12:00:00Z")
    future = dict(purchase, event_time="2026-03-01T12:10:00Z")
    no_currency = dict(purchase, value="10.00")
    cases += [
        {
            "name": "rejected events keep their index, code and field",
            "request": {
                "platform": "meta",
                "now": NOW,
                "events": [old, purchase, future, no_currency],
            },
            "response": {
                "rejected": [
                    {"index": 0, "code": "event_too_old", "field": "event_time"},
                    {"index": 2, "code": "event_in_future", "field": "event_time"},
                    {"index": 3, "code": "missing_required_field", "field": "currency"},
                ],
                "warnings": [],
                "event_indices": [[1]],
            },
        },
        {
            "name": "a dropped field and a missing event id are warnings",
            "request": {
                "platform": "snapchat",
                "now": NOW,
                "events": [
                    dict(
                        {k: v for k, v in purchase.items() if k != "event_id"},
                        user={
                            "email": {"raw": "not-an-email"},
                            "phone": {"raw": "+1 650 555 1212"},
                        },
                    )
                ],
            },
            "response": {
                "rejected": [],
                "warnings": [
                    {"index": 0, "code": "invalid_email", "field": "email"},
                    {"index": 0, "code": "missing_event_id", "field": None},
                ],
                "event_indices": [[0]],
            },
        },
        {
            "name": "batch size zero",
            "request": {
                "platform": "snapchat",
                "now": NOW,
                "events": [],
                "options": {"batch_size": 0},
            },
            "error": {"code": "invalid_config", "field": "batch_size"},
        },
        {
            "name": "google needs a destination",
            "request": {"platform": "google", "now": NOW, "events": [purchase]},
            "error": {"code": "invalid_config", "field": "destinations"},
        },
        {
            "name": "an option of another platform is refused",
            "request": {
                "platform": "meta",
                "now": NOW,
                "events": [],
                "options": {"destinations": [DESTINATION]},
            },
            "error": {"code": "invalid_config", "field": "destinations"},
        },
        {
            "name": "meta data processing options are checked",
            "request": {
                "platform": "meta",
                "now": NOW,
                "events": [],
                "options": {"data_processing": {"options": ["GDPR"]}},
            },
            "error": {"code": "invalid_config", "field": "data_processing"},
        },
    ]
    return cases


def audience_cases() -> list:
    i = load("audience.input.json")
    options = {
        "meta": {},
        "google": {"destinations": [dict(DESTINATION, productDestinationId="555")]},
        "tiktok": {
            "advertiser_ids": ["7000000000000000001"],
            "audience_ids": ["1234567"],
            "ad_id": "idfa",
        },
        "snapchat": {},
    }
    cases = []
    for platform, opts in options.items():
        e = load(f"{platform}.audience.expected.json")
        cases.append(
            {
                "name": f"{platform} golden",
                "request": {
                    "platform": platform,
                    "members": i["members"],
                    "operation": "add",
                    "options": dict(opts, batch_size=i["batch_size"]),
                },
                "response": {
                    "requests": e["requests"],
                    "skipped": e["skipped"],
                    "warnings": warnings(e["warnings"]),
                },
            }
        )
    cases += [
        {
            "name": "tiktok names the removal in the body",
            "request": {
                "platform": "tiktok",
                "members": [{"user": {"email": {"raw": "ann@example.com"}}}],
                "operation": "remove",
                "options": dict(options["tiktok"], ad_id="aaid"),
            },
            "response": {
                "requests": [
                    {
                        "advertiser_ids": ["7000000000000000001"],
                        "action": "delete",
                        # only the columns some member fills
                        "id_schema": ["EMAIL_SHA256"],
                        "batch_data": [
                            [
                                {
                                    "id": hashlib.sha256(b"ann@example.com").hexdigest(),
                                    "audience_ids": ["1234567"],
                                }
                            ]
                        ],
                    }
                ],
                "skipped": [],
                "warnings": [],
            },
        },
        {
            "name": "tiktok needs an advertiser",
            "request": {
                "platform": "tiktok",
                "members": [],
                "options": {"audience_ids": ["1"]},
            },
            "error": {"code": "invalid_config", "field": "advertiser_ids"},
        },
        {
            "name": "an option of another platform is refused",
            "request": {
                "platform": "snapchat",
                "members": [],
                "options": {"ad_id": "aaid"},
            },
            "error": {"code": "invalid_config", "field": "ad_id"},
        },
        {
            "name": "batch size above the limit",
            "request": {
                "platform": "meta",
                "members": [],
                "options": {"batch_size": 10001},
            },
            "error": {"code": "invalid_config", "field": "batch_size"},
        },
    ]
    return cases


def normalize_cases() -> tuple:
    """The normalisation vectors of `testdata/normalization.json` (those with the
    default config), one request each."""
    doc = json.loads((ROOT / "testdata" / "normalization.json").read_text())
    cases = []
    for c in doc["cases"]:
        if "config" in c:
            continue
        value = {"field": c["field"], "value": c["input"]}
        country = c.get("context", {}).get("country")
        if country is not None:
            value["country"] = country
        expected = {k: v for k, v in c["expected"].items() if k != "sha256"}
        if expected.get("origin") == "raw":
            # A raw key is sent as its normalised text: `value`; `normalized` is the
            # text that was hashed, and nothing was.
            assert expected.pop("normalized") == expected["value"], c["id"]
            expected["normalized"] = None
        expected["field"] = c["field"]
        if "warning" in expected:
            expected["value"] = None
        cases.append(
            {
                "name": c["id"],
                "request": {"platform": c["platform"], "values": [value]},
                "response": {"results": [expected]},
            }
        )
    return doc["defaults"], cases


FULL = {
    "email": {"raw": "ann@example.com"},
    "phone": {"raw": "+1 650 555 1212"},
    "client_ip": {"raw": "203.0.113.7"},
    "user_agent": {"raw": "Mozilla/5.0"},
}


def emq_score_cases() -> list:
    # Meta takes every key: the reference set R weighs 3 + 2 + 2 + 3 + 2 + 2 = 14
    # (email, phone, external id, click id, browser id, IP + UA; docs/emq.md).
    return [
        {
            "name": "email, phone and IP + UA: 10 * 7 / 14",
            "request": {"platform": "meta", "event": {"user": FULL}},
            "response": {"model": "stratum-emq-1", "score": 5.0},
        },
        {
            "name": "email alone: 10 * 3 / 14 = 2.14",
            "request": {"platform": "meta", "event": {"user": {"email": FULL["email"]}}},
            "response": {"model": "stratum-emq-1", "score": 2.1},
        },
        {
            "name": "an invalid email counts nothing",
            "request": {"platform": "meta", "event": {"user": {"email": {"raw": "nope"}}}},
            "response": {"score": 0.0},
        },
    ]


def emq_report_cases() -> list:
    return [
        {
            "name": "coverage: email 1, phone and IP + UA 0.5: 10 * 5 / 14 = 3.57",
            "request": {
                "platform": "meta",
                "events": [
                    {"user": FULL, "event_id": "o-1"},
                    {"user": {"email": FULL["email"]}, "event_id": "o-2"},
                ],
            },
            "response": {"model": "stratum-emq-1", "emq": 3.6, "events": 2, "duplicates": 0},
        },
        {
            "name": "a ROAS model is validated with its field",
            "request": {
                "platform": "meta",
                "events": [],
                "options": {"roas": {"attributed_revenue": "100", "spend": "-1"}},
            },
            "error": {"code": "invalid_config", "field": "roas.spend"},
        },
    ]


SCOPE = {"tenant": "acme", "platform": "meta", "ad_account": "act_1"}
ALL_MISSING = ["emq", "api_health", "event_loss", "platform_stability", "data_quality"]
BUDGET_CHANGE = {
    "kind": {"type": "budget_change", "from": "500", "to": "550"},
    "target": {"scope": SCOPE, "id": "cmp_42"},
    "proposer": {"type": "autopilot"},
}


def health_cases() -> list:
    # DESIGN.md: a missing component scores 0 by default; emq weighs 0.35 and scores
    # EMQ x 10.
    emq10 = {"observed_at": "2026-03-01T11:00:00Z", "score": 10, "events": 1000}
    return [
        {
            "name": "nothing observed: every component missing, score 0",
            "request": {"signals": {"scope": SCOPE}, "now": NOW},
            "response": {"score": 0.0, "status": "unhealthy", "missing": ALL_MISSING},
        },
        {
            "name": "a perfect EMQ alone: 0.35 x 100",
            "request": {"signals": {"scope": SCOPE, "emq": emq10}, "now": NOW},
            "response": {"score": 35.0, "status": "unhealthy", "missing": ALL_MISSING[1:]},
        },
        {
            "name": "an EMQ above 10 is a malformed observation",
            "request": {
                "signals": {"scope": SCOPE, "emq": dict(emq10, score=11)},
                "now": NOW,
            },
            "error": {"code": "invalid_observation", "field": "emq.score"},
        },
        {
            "name": "thresholds are validated with their field",
            "request": {
                "config": {"thresholds": {"healthy": 10, "degraded": 50}},
                "signals": {"scope": SCOPE},
                "now": NOW,
            },
            "error": {"code": "invalid_config", "field": "health.thresholds.degraded"},
        },
    ]


def gate_cases() -> list:
    # docs/trust-gate.md: too little evidence (a telemetry outage) is Inconclusive,
    # AlertOnly; an action below the healthy threshold never executes.
    return [
        {
            "name": "nothing observed: inconclusive, alert only, nothing recorded",
            "request": {"signals": {"scope": SCOPE}, "action": BUDGET_CHANGE, "now": NOW},
            "response": {
                "gate": "inconclusive",
                "outcome": "alert_only",
                "audit_seq": None,
                "health": {"score": 0.0, "status": "unhealthy"},
            },
        },
        {
            "name": "a negative budget is an invalid action",
            "request": {
                "signals": {"scope": SCOPE},
                "action": dict(BUDGET_CHANGE, kind={"type": "budget_change", "from": "500", "to": "-5"}),
                "now": NOW,
            },
            "error": {"code": "invalid_action", "field": "kind.to"},
        },
    ]


def message_cases() -> list:
    # docs/cdp.md: with `sentAt`, the event time is `originalTimestamp` moved by the
    # client's clock error (`receivedAt - sentAt`).
    track = {
        "type": "track",
        "event": "Signed Up",
        "userId": "u-1",
        "messageId": "m-1",
        "originalTimestamp": "2026-03-01T11:59:00Z",
        "sentAt": "2026-03-01T12:00:00Z",
    }
    received = "2026-03-01T12:00:05Z"
    return [
        {
            "name": "clock skew is corrected from sentAt",
            "request": {"body": json.dumps(track), "received_at": received},
            "response": {
                "type": "track",
                "message_id": "m-1",
                "user_id": "u-1",
                "event": "Signed Up",
                "timestamp": "2026-03-01T11:59:05Z",
                "timestamp_source": "skew_corrected",
            },
        },
        {
            "name": "a message needs a user or anonymous id",
            "request": {
                "body": json.dumps({k: v for k, v in track.items() if k != "userId"}),
                "received_at": received,
            },
            "error": {"code": "missing_identity", "field": "userId"},
        },
        {
            "name": "the size limit counts the bytes as received",
            "request": {
                "body": json.dumps(track),
                "received_at": received,
                "config": {"max_message_bytes": 64},
            },
            "error": {"code": "too_large", "field": "$"},
        },
        {
            "name": "parser limits are validated with their field",
            "request": {
                "body": json.dumps(track),
                "received_at": received,
                "config": {"max_message_bytes": 0},
            },
            "error": {"code": "invalid_config", "field": "max_message_bytes"},
        },
    ]


def segment_cases() -> list:
    schema = {
        "traits": {"plan": "string", "age": "number"},
        "events": {"Order Completed": {"total": "number"}},
        "computed": {"orders_30d": "number"},
    }
    order = {
        "event": {
            "event": "Order Completed",
            "count": {"at_least": 2},
            "window": {"within": {"seconds": 2592000}},
            "filters": [{"name": "total", "op": "gt", "value": {"number": "50"}}],
        }
    }
    plan_pro = {"trait": {"name": "plan", "op": "eq", "value": {"string": "pro"}}}
    return [
        {
            "name": "the text form gives the canonical text and the JSON form",
            "request": {"segment": 'plan="pro"   and not in audience "churned"  # a comment'},
            "response": {
                "text": 'plan = "pro" and not in audience "churned"',
                "json": {"and": [plan_pro, {"not": {"in_audience": "churned"}}]},
            },
        },
        {
            "name": "the JSON form gives the same",
            "request": {"segment": order, "schema": schema},
            "response": {
                "text": 'performed "Order Completed" at least 2 times within 30d where properties.total > 50',
                "json": order,
            },
        },
        {
            "name": "a syntax error names line:column",
            "request": {"segment": 'plan = "pro" and\n  performed 12'},
            "error": {"code": "segment_syntax", "field": "2:13"},
        },
        {
            "name": "an operator that does not take the literal",
            "request": {"segment": 'plan > "pro"'},
            "error": {"code": "type_mismatch", "field": "$.trait.value"},
        },
        {
            "name": "a window of zero is over a limit",
            "request": {"segment": 'performed "Signed In" within 0d'},
            "error": {"code": "segment_limit", "field": "$.event.window"},
        },
        {
            "name": "an undeclared name, with the schema",
            "request": {"segment": 'plna = "pro"', "schema": schema},
            "error": {"code": "unknown_name", "field": "$.trait.name"},
        },
        {
            "name": "a literal of the wrong type for the declared one",
            "request": {"segment": {"and": [plan_pro, {"trait": {"name": "age", "op": "eq", "value": {"string": "old"}}}]}, "schema": schema},
            "error": {"code": "type_mismatch", "field": "$.and[1].trait.value"},
        },
    ]


def person_cases() -> list:
    now = "2026-03-01T12:00:00Z"
    consent = {"consent": {"categoryPreferences": {"advertising": True}}}

    def order(mid: str, when: str, total: int) -> dict:
        return {
            "type": "track",
            "event": "Order Completed",
            "userId": "u-1",
            "messageId": mid,
            "timestamp": when,
            "properties": {"total": total},
        }

    audiences = [
        {"key": "pro", "name": "Pro plan", "segment": 'plan = "pro"'},
        {"key": "buyers", "segment": 'performed "Order Completed" at least 2 times within 30d where properties.total > 50'},
        {"key": "three_orders", "segment": 'performed "Order Completed" exactly 3 times'},
        {"key": "frequent", "segment": {"computed": {"name": "orders_30d", "op": "ge", "value": {"number": "2"}}}},
        {"key": "ads", "segment": 'consent "advertising"'},
        {"key": "pro_ads", "segment": 'in audience "pro" and in audience "ads"'},
        {"key": "lapsed", "segment": 'never performed "Order Completed" within 7d'},
    ]
    computed = [
        {"name": "orders_30d", "kind": "count", "event": "Order Completed", "window_seconds": 2592000}
    ]
    messages = [
        order("o-3", "2026-02-26T10:00:00Z", 80),
        order("o-1", "2026-01-10T10:00:00Z", 60),
        {
            "type": "page",
            "name": "Pricing",
            "anonymousId": "a-1",
            "messageId": "p-1",
            "timestamp": "2026-01-01T09:00:00Z",
        },
        {
            "type": "identify",
            "userId": "u-1",
            "anonymousId": "a-1",
            "messageId": "i-1",
            "timestamp": "2026-01-02T09:00:00Z",
            "traits": {"plan": "pro", "email": "ann@example.com"},
            "context": consent,
        },
        order("o-2", "2026-02-17T10:00:00Z", 75),
        # a repeated delivery: dropped by messageId (else `three_orders` would not hold)
        order("o-3", "2026-02-26T10:00:00Z", 80),
    ]
    return [
        {
            "name": "one person's messages in any order, a duplicate dropped",
            "request": {
                "audiences": audiences,
                "computed_traits": computed,
                "messages": messages,
                "now": now,
            },
            "response": {
                "profiles": [
                    {
                        "profile": "prof:p-1",
                        "audiences": {
                            "ads": True,
                            "buyers": True,
                            "frequent": True,
                            "lapsed": False,
                            "pro": True,
                            "pro_ads": True,
                            "three_orders": True,
                        },
                    }
                ],
                "members": {
                    "ads": ["prof:p-1"],
                    "buyers": ["prof:p-1"],
                    "frequent": ["prof:p-1"],
                    "lapsed": [],
                    "pro": ["prof:p-1"],
                    "pro_ads": ["prof:p-1"],
                    "three_orders": ["prof:p-1"],
                },
            },
        },
        {
            "name": "windows end at now",
            "request": {
                "audiences": audiences,
                "computed_traits": computed,
                "messages": messages,
                "now": "2026-03-20T12:00:00Z",
            },
            "response": {
                "members": {
                    "ads": ["prof:p-1"],
                    "buyers": [],
                    "frequent": [],
                    "lapsed": ["prof:p-1"],
                    "pro": ["prof:p-1"],
                    "pro_ads": ["prof:p-1"],
                    "three_orders": ["prof:p-1"],
                },
            },
        },
        {
            "name": "messages that do not link give one profile each",
            "request": {
                "audiences": [{"key": "pro", "segment": 'plan = "pro"'}],
                "messages": [
                    {"type": "identify", "userId": "u-1", "messageId": "i-1", "timestamp": "2026-02-01T09:00:00Z", "traits": {"plan": "pro"}},
                    {"type": "page", "anonymousId": "a-9", "messageId": "p-9", "timestamp": "2026-02-01T09:00:00Z"},
                ],
                "now": now,
            },
            "response": {
                "profiles": [
                    {"profile": "prof:i-1", "audiences": {"pro": True}},
                    {"profile": "prof:p-9", "audiences": {"pro": False}},
                ],
                "members": {"pro": ["prof:i-1"]},
            },
        },
        {
            "name": "a segment's syntax error names line:column",
            "request": {
                "audiences": [{"key": "pro", "segment": "plan = "}],
                "messages": [],
                "now": now,
            },
            "error": {"code": "segment_syntax", "field": "1:8"},
        },
        {
            "name": "audiences that depend on each other are refused",
            "request": {
                "audiences": [
                    {"key": "a", "segment": 'in audience "b"'},
                    {"key": "b", "segment": 'not in audience "a"'},
                ],
                "messages": [],
                "now": now,
            },
            "error": {"code": "segment_cycle", "field": None},
        },
        {
            "name": "a computed trait must be defined",
            "request": {
                "audiences": [{"key": "frequent", "segment": "computed orders_30d >= 3"}],
                "messages": [],
                "now": now,
            },
            "error": {"code": "unknown_name"},
        },
    ]


def table_cases() -> list:
    audiences = [
        {"key": "pro_spenders", "segment": 'plan = "pro" and ltv >= 100.5'},
        {"key": "young_or_vip", "segment": "age < 30 or vip = true"},
        {"key": "pro_not_young", "segment": 'in audience "pro_spenders" and not in audience "young_or_vip"'},
        {"key": "ads", "segment": {"consent": "advertising"}},
        {"key": "frequent", "segment": "computed orders_30d >= 3"},
    ]
    table = {
        "columns": {
            "plan": ["pro", "free", "pro", None, "pro"],
            "ltv": [150.0, 500.0, 100.5, 999.0, None],
            "age": [45, 20, 31, None, 50],
            "vip": [False, False, True, None, False],
            "consent.advertising": [True, False, None, True, True],
            "orders": [3, 0, 5, 1, 2],
        },
        "computed": {"orders_30d": "orders"},
    }
    return [
        {
            "name": "one membership per row, audiences reading audiences",
            "request": {"audiences": audiences, "table": table},
            "response": {
                "pro_spenders": [True, False, True, False, False],
                "young_or_vip": [False, True, True, False, False],
                "pro_not_young": [True, False, False, False, False],
                "ads": [True, False, False, True, True],
                "frequent": [True, False, True, False, False],
            },
        },
        {
            "name": "a consent column named for its category",
            "request": {
                "audiences": [{"key": "ads", "segment": 'consent "advertising"'}],
                "table": {"columns": {"ads_ok": [True, None, False]}, "consent": {"advertising": "ads_ok"}},
            },
            "response": {"ads": [True, False, False]},
        },
        {
            "name": "a column the audiences need is missing",
            "request": {"audiences": audiences, "table": {"columns": {"plan": ["pro"]}}},
            "error": {"code": "unknown_name"},
        },
        {
            "name": "audiences that depend on each other are refused",
            "request": {
                "audiences": [
                    {"key": "a", "segment": 'in audience "b"'},
                    {"key": "b", "segment": 'in audience "a"'},
                ],
                "table": {"columns": {}},
            },
            "error": {"code": "segment_cycle", "field": None},
        },
    ]


def main() -> None:
    defaults, normalize = normalize_cases()
    for entry, normalizer, cases in [
        ("build_payloads", NORMALIZER, payload_cases()),
        ("build_audience", NORMALIZER, audience_cases()),
        ("normalize", defaults, normalize),
        ("emq_score", NORMALIZER, emq_score_cases()),
        ("emq_report", NORMALIZER, emq_report_cases()),
        ("health_score", None, health_cases()),
        ("gate_preview", None, gate_cases()),
        ("parse_message", None, message_cases()),
        ("read_segment", None, segment_cases()),
        ("person_audiences", None, person_cases()),
        ("evaluate_table", None, table_cases()),
    ]:
        doc = {"entry": entry, "cases": cases}
        if normalizer is not None:
            doc["normalizer"] = normalizer
        (OUT / f"{entry}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
