"""Audience uploads: Meta custom audiences, Google Customer Match, TikTok segment
mappings and Snapchat customer lists (PLATFORMS.md §4).

Expected hashes are computed here with hashlib from the normalised values the
platform documents ask for, not taken from the library.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _normalizer() -> stratum.Normalizer:
    return stratum.Normalizer({"phone_region": {"default": "US"}, "today": "2026-03-01"})


N = _normalizer()
GOOGLE_DEST = [{"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "123"},
                "productDestinationId": "456"}]
TIKTOK_IDS: Dict[str, Any] = {"advertiser_ids": ["adv-1"], "audience_ids": ["aud-1", "aud-2"]}


# --- Meta ------------------------------------------------------------------------

def test_meta_multi_key_rows_and_schema() -> None:
    members = [
        {"email": " Ann@Example.com ", "phone": "+1 (650) 555-1212", "first_name": "Ann"},
        {"email": "bob@example.com", "mobile_ad_id": "ab-cd"},
    ]
    out = stratum.build_audience(N, "meta", members)
    assert out["skipped"] == [] and out["warnings"] == []
    [req] = out["requests"]
    # Columns no member has (LN, ZIP, ...) are left out; the order is Meta's schema.
    assert req["payload"]["schema"] == ["EMAIL", "PHONE", "FN", "MADID"]
    phone = sha("16505551212")
    assert phone.startswith("e323ec62")  # PLATFORMS.md §6 pitfall 1
    assert req["payload"]["data"] == [
        [sha("ann@example.com"), phone, sha("ann"), ""],
        [sha("bob@example.com"), "", "", "ab-cd"],  # MADID is sent raw
    ]


def test_meta_prehashed_appendix_is_stripped() -> None:
    digest = sha("ann@example.com")
    out = stratum.build_audience(N, "meta", [{"email": digest.upper() + ".AbC_1"}])
    assert out["requests"][0]["payload"]["data"] == [[digest]]


def test_meta_split_and_skips() -> None:
    members: List[Dict[str, Optional[str]]] = [
        {"email": f"user{i}@example.com"} for i in range(5)
    ]
    members.insert(2, {"email": "not an email"})
    members.insert(4, {"email": None})
    out = stratum.build_audience(N, "meta", members, batch_size=2, operation="remove")
    assert [len(r["payload"]["data"]) for r in out["requests"]] == [2, 2, 1]
    rows = [row[0] for r in out["requests"] for row in r["payload"]["data"]]
    assert rows == [sha(f"user{i}@example.com") for i in range(5)]
    assert out["skipped"] == [2, 4]
    assert [(w["index"], w["field"], w["code"]) for w in out["warnings"]] == [
        (2, "email", "invalid_email")
    ]


def test_meta_default_limit_is_ten_thousand() -> None:
    members = [{"email": f"u{i}@example.com"} for i in range(10_001)]
    out = stratum.build_audience(N, "meta", members)
    assert [len(r["payload"]["data"]) for r in out["requests"]] == [10_000, 1]
    with pytest.raises(stratum.InvalidConfigError) as e:
        stratum.build_audience(N, "meta", members[:1], batch_size=10_001)
    assert e.value.field == "batch_size"


def test_json_output_matches_dicts() -> None:
    members = [{"email": "ann@example.com"}, {"phone": "+44 20 7946 0958"}]
    as_dicts = stratum.build_audience(N, "snapchat", members)
    as_text = stratum.build_audience(N, "snapchat", members, as_json=True)
    assert all(isinstance(r, str) for r in as_text["requests"])
    assert [json.loads(r) for r in as_text["requests"]] == as_dicts["requests"]


# --- Google ----------------------------------------------------------------------

def test_google_customer_match() -> None:
    members = [
        {"email": "John.Smith+promo@Gmail.com", "phone": "+1 (650) 555-1212"},
        {"first_name": "Mary Ann", "last_name": "Smith", "country": "us", "zip": "94105"},
        {"first_name": "Only", "zip": "94105"},  # partial address: not sent
    ]
    out = stratum.build_audience(N, "google", members, destinations=GOOGLE_DEST)
    [req] = out["requests"]
    assert req["destinations"] == GOOGLE_DEST and req["encoding"] == "HEX"
    phone = sha("+16505551212")
    assert phone.startswith("1e231c66")  # PLATFORMS.md §6 pitfall 1
    ids = [m["userData"]["userIdentifiers"] for m in req["audienceMembers"]]
    assert ids == [
        [{"emailAddress": sha("johnsmith@gmail.com")}, {"phoneNumber": phone}],
        [{"address": {"givenName": sha("mary ann"), "familyName": sha("smith"),
                      "regionCode": "US", "postalCode": "94105"}}],
    ]
    assert out["skipped"] == [2]


def test_google_needs_destinations() -> None:
    with pytest.raises(stratum.InvalidConfigError) as e:
        stratum.build_audience(N, "google", [{"email": "a@example.com"}])
    assert e.value.field == "destinations"


# --- TikTok ----------------------------------------------------------------------

def test_tiktok_segment_mapping() -> None:
    members = [
        {"email": "Ann@Example.com", "mobile_ad_id": "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
        {"phone": "+1 650 555 1212"},
    ]
    out = stratum.build_audience(N, "tiktok", members, **TIKTOK_IDS)
    [req] = out["requests"]
    assert req["action"] == "add" and req["advertiser_ids"] == ["adv-1"]
    assert req["id_schema"] == ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"]
    aud = ["aud-1", "aud-2"]
    assert req["batch_data"] == [
        [{"id": sha("ann@example.com"), "audience_ids": aud}, {},
         {"id": sha("6d92078a-8246-4ba4-ae5b-76104861e7dc"), "audience_ids": aud}],
        [{}, {"id": sha("+16505551212"), "audience_ids": aud}, {}],
    ]


def test_tiktok_remove_and_aaid() -> None:
    out = stratum.build_audience(
        N, "tiktok", [{"mobile_ad_id": "abc-123"}], operation="remove", ad_id="aaid",
        **TIKTOK_IDS,
    )
    [req] = out["requests"]
    assert req["action"] == "delete" and req["id_schema"] == ["AAID_SHA256"]


def test_tiktok_default_limit_and_ids() -> None:
    members = [{"email": f"u{i}@example.com"} for i in range(1_001)]
    out = stratum.build_audience(N, "tiktok", members, **TIKTOK_IDS)
    assert [len(r["batch_data"]) for r in out["requests"]] == [1_000, 1]
    with pytest.raises(stratum.InvalidConfigError) as e:
        stratum.build_audience(N, "tiktok", members[:1], audience_ids=["aud-1"])
    assert e.value.field == "advertiser_ids"
    with pytest.raises(stratum.InvalidConfigError) as e:
        stratum.build_audience(N, "tiktok", members[:1], ad_id="gaid", **TIKTOK_IDS)
    assert e.value.field == "ad_id"


# --- Snapchat --------------------------------------------------------------------

def test_snapchat_one_schema_per_request() -> None:
    members = [
        {"email": "ann@example.com", "mobile_ad_id": "AB-CD"},
        {"phone": "(650) 555-1212", "email": "bob@example.com"},
    ]
    out = stratum.build_audience(N, "snapchat", members, batch_size=1)
    got = [(r["users"][0]["schema"], r["users"][0]["data"]) for r in out["requests"]]
    assert got == [
        (["EMAIL_SHA256"], [[sha("ann@example.com")]]),
        (["EMAIL_SHA256"], [[sha("bob@example.com")]]),
        (["PHONE_SHA256"], [[sha("16505551212")]]),
        (["MOBILE_AD_ID_SHA256"], [[sha("ab-cd")]]),
    ]


# --- input errors ----------------------------------------------------------------

def test_bad_input() -> None:
    with pytest.raises(stratum.errors.UnknownFieldError) as f:
        stratum.build_audience(N, "meta", [{"shoe_size": "42"}])
    assert f.value.field == "field"
    with pytest.raises(stratum.InvalidJsonError):
        stratum.build_audience(N, "meta", ["ann@example.com"])  # type: ignore[list-item]
    with pytest.raises(stratum.errors.UnknownPlatformError):
        stratum.build_audience(N, "myspace", [])
    with pytest.raises(stratum.InvalidConfigError) as e:
        stratum.build_audience(N, "meta", [], operation="delete")
    assert e.value.field == "operation"


def test_explicit_value_forms() -> None:
    digest = sha("ann@example.com")
    out = stratum.build_audience(N, "meta", [
        {"email": {"hashed": {"hex": digest}}},
        {"email": {"raw": digest}},  # raw: read as an address, not passed through
    ])
    assert out["requests"][0]["payload"]["data"] == [[digest]]
    assert out["skipped"] == [1]
    assert [(w["index"], w["code"]) for w in out["warnings"]] == [(1, "invalid_email")]


# --- properties ------------------------------------------------------------------

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
EMAIL = st.one_of(
    st.builds(lambda l, up: (f"{l}@example.com".upper() if up else f"{l}@example.com"), LOCAL,
              st.booleans()),
    st.just("no-at-sign"),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(emails=st.lists(EMAIL, max_size=40), size=st.integers(min_value=1, max_value=7))
def test_meta_split_keeps_every_member_once_in_order(
    emails: List[Optional[str]], size: int
) -> None:
    out = stratum.build_audience(N, "meta", [{"email": e} for e in emails], batch_size=size)
    valid = [i for i, e in enumerate(emails) if e is not None and "@" in e]
    rows = [row for r in out["requests"] for row in r["payload"]["data"]]
    assert rows == [[sha(str(emails[i]).lower())] for i in valid]
    assert out["skipped"] == [i for i in range(len(emails)) if i not in valid]
    assert len(out["requests"]) == math.ceil(len(valid) / size)
    assert all(len(r["payload"]["data"]) <= size for r in out["requests"])


@settings(max_examples=40, deadline=None)
@given(emails=st.lists(EMAIL, max_size=40), size=st.integers(min_value=1, max_value=7))
def test_tiktok_split_keeps_every_member_once_in_order(
    emails: List[Optional[str]], size: int
) -> None:
    out = stratum.build_audience(
        N, "tiktok", [{"email": e} for e in emails], batch_size=size, **TIKTOK_IDS
    )
    valid = [e for e in emails if e is not None and "@" in e]
    ids = [row[0]["id"] for r in out["requests"] for row in r["batch_data"]]
    assert ids == [sha(e.lower()) for e in valid]
    assert all(len(r["batch_data"]) <= size for r in out["requests"])
