"""Independent re-implementation of the audit record hash (record format 1).

Reads a JSON-lines audit log, rebuilds each record's canonical encoding from its JSON
form with the schema below (written from docs/audit.md, not from the Rust code), hashes
it with hashlib.sha256, checks `hash` and `prev_hash`, and prints the digests as a JSON
list. Standard library only:

    python3 testdata/audit/canonical.py testdata/audit/golden-v1.jsonl \
        > testdata/audit/golden-v1.digests.json

The Rust test `golden_log_verifies_and_matches_independent_digests` compares them with
its own hashes. The schema and the enum tables (enums-v1.json) are the compatibility
promise in executable form: a later version may only append variants and fields.
"""

import datetime
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "enums-v1.json"), encoding="utf-8") as f:
    UNIT_ENUMS = {k: v for k, v in json.load(f).items() if not k.startswith("_")}

STRUCT_END = b"\xff"


def varint(n):
    assert n >= 0
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n):
    return varint((n << 1) ^ (n >> 63) if n >= 0 else ((n << 1) ^ -1))


def string(s):
    b = s.encode("utf-8")
    return varint(len(b)) + b


def timestamp(text):
    # RFC 3339 UTC with up to 9 fractional digits, e.g. 2026-03-02T09:00:00.000123Z.
    assert text.endswith("Z"), text
    main, _, frac = text[:-1].partition(".")
    t = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    secs = int((t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())
    nanos = int((frac + "000000000")[:9]) if frac else 0
    return zigzag(secs) + varint(nanos)


def f64(x):
    import struct

    return struct.pack("<d", float(x))


# Field kinds: a scalar name, a type name, ("vec", T), ("opt", T) (always written,
# null = 00, else 01 + value), ("skip", T) (left out when absent; else 01 + value),
# ("skipvec", T) (left out when absent; else a sequence).
STRUCTS = {
    "Body": [("v", "u64"), ("seq", "u64"), ("at", "ts"), ("actor", "Actor"), ("event", "AuditEvent"),
             ("inputs_digest", "digest"), ("prev_hash", "digest")],
    "Decision": [("decided_at", "ts"), ("action", "ProposedAction"), ("gate", "GateResult"),
                 ("outcome", "Outcome"), ("health", "HealthSummary"), ("enforcement", "EnforcementMode"),
                 ("violations", ("skipvec", "Violation")), ("override_applied", ("skip", "AppliedOverride")),
                 ("reasons", ("vec", "Reason")), ("config_hash", "digest"), ("inputs_digest", "digest"),
                 ("audit_seq", ("skip", "u64"))],
    "ProposedAction": [("kind", "ActionKind"), ("target", "Target"), ("proposer", "Actor"),
                       ("data_volume", ("skip", "DataVolume"))],
    "DataVolume": [("conversions", "u64"), ("spend", "decimal")],
    "Target": [("scope", "Scope"), ("id", "str")],
    "Scope": [("tenant", "str"), ("platform", ("skip", "str")), ("ad_account", ("skip", "str"))],
    "HealthSummary": [("score", "f64"), ("status", "HealthStatus"), ("present_weight", "f64"),
                      ("missing", ("skipvec", "Component"))],
    "Reason": [("severity", "Severity"), ("detail", "ReasonDetail")],
    "AppliedOverride": [("id", "str"), ("granted_by", "Actor"), ("reason", "str"), ("expires_at", "ts"),
                        ("waived", ("vec", "Violation"))],
    "Override": [("id", "str"), ("request", "OverrideRequest"), ("granted_at", "ts")],
    "OverrideRequest": [("target", "Target"), ("action_kind", ("skip", "ActionKindTag")), ("granted_by", "Actor"),
                        ("reason", "str"), ("expires_at", "ts")],
    "MinDataVolume": [("conversions", "u64"), ("spend", "decimal")],
}

# Internally tagged enums: encoded as a struct whose field 0 is the variant *name*.
TAGGED = {
    "Actor": ("type", {
        "autopilot": [("rule", ("skip", "str"))],
        "person": [("id", "str"), ("role", "str")],
        "system": [("name", "str")],
    }),
    "ActionKind": ("type", {
        "budget_change": [("from", "decimal"), ("to", "decimal")],
        "bid_change": [("from", "decimal"), ("to", "decimal")],
        "pause": [],
        "resume": [],
        "custom": [("name", "str"), ("magnitude", ("skip", "decimal"))],
    }),
    "ReasonDetail": ("kind", {
        "healthy": [("score", "f64"), ("threshold", "f64")],
        "degraded": [("score", "f64"), ("healthy_threshold", "f64")],
        "unhealthy": [("score", "f64"), ("degraded_threshold", "f64")],
        "insufficient_evidence": [("present_weight", "f64"), ("required", "f64"), ("missing", ("vec", "Component"))],
        "debounced": [("bad_readings", "u64"), ("window", "u64"), ("trip_after", "u64")],
        "recovering": [("healthy_readings", "u64"), ("required", "u64"), ("cooldown_until", ("opt", "ts"))],
        "weak_component": [("component", "Component"), ("score", ("opt", "f64")), ("points_lost", "f64"),
                           ("missing", ("skip", "MissingReason"))],
        "violation": [("violation", "Violation"), ("effect", "ViolationEffect"), ("mode", "EnforcementMode")],
        "override_applied": [("id", "str"), ("granted_by", "Actor")],
        "override_ignored": [("id", "str")],
        "person_acts_despite_health": [("status", "HealthStatus"), ("score", "f64")],
    }),
    "MissingReason": ("why", {
        "not_observed": [],
        "stale": [("age_secs", "i64"), ("max_age_secs", "i64")],
        "too_few_samples": [("samples", "u64"), ("required", "u64")],
    }),
    "Violation": ("rule", {
        "change_pct": [("change_pct", ("opt", "decimal")), ("limit", "decimal")],
        "change_abs": [("change", "decimal"), ("limit", "decimal")],
        "daily_change_pct": [("change_pct", ("opt", "decimal")), ("day_start", "decimal"), ("limit", "decimal")],
        "daily_change_abs": [("change", "decimal"), ("limit", "decimal")],
        "budget_below_min": [("budget", "decimal"), ("min", "decimal")],
        "budget_above_max": [("budget", "decimal"), ("max", "decimal")],
        "cooldown": [("last_action_at", "ts"), ("until", "ts")],
        "daily_action_limit": [("executed_today", "u64"), ("limit", "u64")],
        "insufficient_data": [("conversions", ("opt", "u64")), ("spend", ("opt", "decimal")),
                              ("required", "MinDataVolume")],
    }),
    "IncidentEvent": ("event", {
        "opened": [("metric", "str"), ("at", "ts")],
        "closed": [("metric", "str"), ("opened_at", "ts"), ("at", "ts")],
    }),
}

# Externally tagged: {"name": content}; encoded as the variant index, then the content.
AUDIT_EVENT = [
    ("decision", "Decision"),
    ("override_granted", "Override"),
    ("override_revoked", [("id", "str"), ("reason", "str")]),
    ("config_changed", [("config_hash", "digest"), ("previous", ("skip", "digest"))]),
    ("action_transition", [("id", "u64"), ("target", "Target"), ("kind", "ActionKind"),
                           ("from", ("skip", "ActionState")), ("to", "ActionState"), ("reason", ("skip", "str"))]),
    ("incident", "IncidentEvent"),
    ("torn_tail_removed", [("offset", "u64"), ("removed_bytes", "u64"), ("removed_digest", "digest")]),
]

SEEN = {}


def fields(spec, obj, first_position=0, extra=b""):
    out = bytearray(extra)
    known = {name for name, _ in spec}
    unknown = set(obj) - known
    assert not unknown, f"fields outside the format: {unknown}"
    for i, (name, kind) in enumerate(spec):
        pos = first_position + i
        if isinstance(kind, tuple) and kind[0] in ("skip", "skipvec"):
            if name not in obj:
                continue
            out += varint(pos)
            out += (b"\x01" + enc(kind[1], obj[name])) if kind[0] == "skip" else enc(("vec", kind[1]), obj[name])
        else:
            out += varint(pos) + enc(kind, obj[name])
    return bytes(out) + STRUCT_END


def enc(kind, value):
    if isinstance(kind, tuple):
        tag, inner = kind
        if tag == "vec":
            return varint(len(value)) + b"".join(enc(inner, v) for v in value)
        if tag == "opt":
            return b"\x00" if value is None else b"\x01" + enc(inner, value)
        raise ValueError(kind)
    if isinstance(kind, list):
        return fields(kind, value)
    if kind == "u64":
        assert isinstance(value, int) and value >= 0
        return varint(value)
    if kind == "i64":
        return zigzag(value)
    if kind == "f64":
        return f64(value)
    if kind in ("str", "decimal"):
        assert isinstance(value, str)
        return string(value)
    if kind == "digest":
        raw = bytes.fromhex(value)
        assert len(raw) == 32
        return varint(32) + raw
    if kind == "ts":
        return timestamp(value)
    if kind in UNIT_ENUMS:
        SEEN.setdefault(kind, set()).add(value)
        return varint(UNIT_ENUMS[kind].index(value))
    if kind in STRUCTS:
        return fields(STRUCTS[kind], value)
    if kind in TAGGED:
        key, variants = TAGGED[kind]
        name = value[key]
        SEEN.setdefault(kind, set()).add(name)
        rest = {k: v for k, v in value.items() if k != key}
        return fields(variants[name], rest, first_position=1, extra=varint(0) + string(name))
    if kind == "AuditEvent":
        ((name, content),) = value.items()
        SEEN.setdefault(kind, set()).add(name)
        index = [n for n, _ in AUDIT_EVENT].index(name)
        return varint(index) + enc(AUDIT_EVENT[index][1], content)
    raise ValueError(kind)


def main(path):
    digests = []
    prev = "0" * 64
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            record = json.loads(line)
            body = {k: v for k, v in record.items() if k != "hash"}
            digest = hashlib.sha256(enc("Body", body)).hexdigest()
            assert record["prev_hash"] == prev, f"record {n}: broken link"
            assert record["hash"] == digest, f"record {n}: stored {record['hash']}, computed {digest}"
            digests.append(digest)
            prev = digest
    # The golden log must exercise every variant of every enum it can hold.
    expected = {k: set(v) for k, v in UNIT_ENUMS.items()}
    expected.update({k: set(v[1]) for k, v in TAGGED.items()})
    expected["AuditEvent"] = {n for n, _ in AUDIT_EVENT}
    for kind, names in expected.items():
        missing = names - SEEN.get(kind, set())
        assert not missing, f"{kind}: variants not in the golden log: {sorted(missing)}"
    json.dump(digests, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
