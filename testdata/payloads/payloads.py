#!/usr/bin/env python3
"""Writes the golden payload tests in testdata/payloads/: for each platform an input
(`<platform>.input.json`: neutral events, the builder's settings and a fixed `now`)
and the expected request bodies (`<platform>.expected.json`), and the audience uploads of one member list
(`audience.input.json`, `<platform>.audience.expected.json`). The normalised strings
are written here by hand from PLATFORMS.md §2; every digest is computed with
Python's hashlib, independently of the Rust implementation. The request layouts are
PLATFORMS.md §3. Run: python3 testdata/payloads/payloads.py
"""
import copy
import hashlib
import json
import pathlib

HERE = pathlib.Path(__file__).parent
NOW = "2026-03-01T12:05:00Z"
T = 1772366400  # 2026-03-01T12:00:00Z = 20513 days * 86400 + 12 * 3600
T_OLD = T - 20 * 86400  # 2026-02-09T12:00:00Z
PRE = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"  # sha256("password")
UA = "Mozilla/5.0 (X11; Linux x86_64)"


def h(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def full_user(click, browser):
    return {
        "email": {"raw": "John.Smith+promo@Gmail.com"},
        "phone": {"raw": "+1 (650) 555-1212"},
        "first_name": {"raw": "Mary Ann"},
        "last_name": {"raw": "O\u2019Connor"},
        "city": {"raw": "San Francisco"},
        "state": {"raw": "California"},
        "zip": {"raw": "94105-1234"},
        "country": {"raw": "US"},
        "gender": {"raw": "Female"},
        "birth_date": {"raw": "2/16/1997"},
        "external_id": {"raw": " CUST-42 "},
        "client_ip": {"raw": "203.0.113.7"},
        "user_agent": {"raw": UA},
        "click_id": {"raw": click},
        "browser_id": {"raw": browser},
        "mobile_ad_id": {"raw": "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
    }


def purchase(user, url=True):
    e = {
        "event_name": "Purchase",
        "event_time": "2026-03-01T12:00:00Z",
        "event_id": "order-1001",
        "action_source": "website",
        "user": user,
        "value": "49.99",
        "currency": "eur",
        "contents": [{"id": "SKU-1", "quantity": 2, "item_price": "12.50"}, {"id": "SKU-2"}],
    }
    if url:
        e["event_source_url"] = "https://shop.example/checkout"
    return e


def second(name, source):
    # Pre-hashed email (upper-case hex is lowercased, never hashed again), no id.
    return {
        "event_name": name,
        "event_time": "2026-02-09T12:00:00Z",
        "action_source": source,
        "user": {"email": {"auto": PRE}},
    }


# Hand-normalised values (PLATFORMS.md §2).
META_EM = "john.smith+promo@gmail.com"
META_PH = "16505551212"
NAME_FN = "maryann"  # D8: spaces removed
NAME_LN = "oconnor"  # D8: U+2019 is punctuation
CITY = "sanfrancisco"
STATE = "ca"
ZIP = "94105"  # D14
COUNTRY = "us"
GENDER = "f"
DOB = "19970216"  # D15
XID = "cust-42"  # D16

cases = {}

meta_user = {
    "client_ip_address": "203.0.113.7",
    "client_user_agent": UA,
    "country": [h(COUNTRY)],
    "ct": [h(CITY)],
    "db": [h(DOB)],
    "em": [h(META_EM)],
    "external_id": [h(XID)],
    "fbc": "fb.1.1772366400000.IwAR2xYz",
    "fbp": "fb.1.1772366400000.1234567890",
    "fn": [h(NAME_FN)],
    "ge": [h(GENDER)],
    "ln": [h(NAME_LN)],
    "madid": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
    "ph": [h(META_PH)],
    "st": [h(STATE)],
    "zp": [h(ZIP)],
}
cases["meta"] = (
    {
        "now": NOW,
        "batch_size": 1,
        "events": [
            purchase(full_user("fb.1.1772366400000.IwAR2xYz", "fb.1.1772366400000.1234567890")),
            second("Lead", "physical_store"),
        ],
    },
    {
        "requests": [
            {
                "data": [
                    {
                        "event_name": "Purchase",
                        "event_time": T,
                        "event_id": "order-1001",
                        "action_source": "website",
                        "event_source_url": "https://shop.example/checkout",
                        "user_data": meta_user,
                        "custom_data": {
                            "value": 49.99,
                            "currency": "EUR",
                            "contents": [{"id": "SKU-1", "quantity": 2, "item_price": 12.5}, {"id": "SKU-2"}],
                        },
                    }
                ]
            },
            {
                "data": [
                    {
                        "event_name": "Lead",
                        "event_time": T_OLD,
                        "action_source": "physical_store",
                        "user_data": {"em": [PRE.lower()]},
                    }
                ]
            },
        ],
        "warnings": [[1, "missing_event_id"]],
    },
)

cases["google"] = (
    {
        "now": NOW,
        "destinations": [
            {
                "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                "productDestinationId": "987654321",
            }
        ],
        "events": [purchase(full_user("Cj0KCQiA1234", "ignored")), second("lead", "physical_store")],
    },
    {
        "requests": [
            {
                "destinations": [
                    {
                        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                        "productDestinationId": "987654321",
                    }
                ],
                "events": [
                    {
                        "transactionId": "order-1001",
                        "eventTimestamp": "2026-03-01T12:00:00Z",
                        "eventSource": "WEB",
                        "userData": {
                            "userIdentifiers": [
                                {"emailAddress": h("johnsmith@gmail.com")},  # D22
                                {"phoneNumber": h("+16505551212")},
                                {
                                    "address": {
                                        "givenName": h("mary ann"),  # D9
                                        "familyName": h("o\u2019connor"),  # punctuation kept
                                        "regionCode": "US",
                                        "postalCode": "94105-1234",  # raw
                                    }
                                },
                            ]
                        },
                        "adIdentifiers": {"gclid": "Cj0KCQiA1234"},
                        "eventDeviceInfo": {"userAgent": UA, "ipAddress": "203.0.113.7"},
                        "currency": "EUR",
                        "conversionValue": 49.99,
                        "cartData": {
                            "items": [
                                {"merchantProductId": "SKU-1", "quantity": 2, "unitPrice": 12.5},
                                {"merchantProductId": "SKU-2"},
                            ]
                        },
                    },
                    {
                        "eventTimestamp": "2026-02-09T12:00:00Z",
                        "eventSource": "IN_STORE",
                        "userData": {"userIdentifiers": [{"emailAddress": PRE.lower()}]},
                    },
                ],
                "encoding": "HEX",
            }
        ],
        "warnings": [[1, "missing_event_id"]],
    },
)

cases["tiktok"] = (
    {
        "now": NOW,
        "event_source_ids": {"web": "C4PIXEL", "offline": "OFFLINE-SET-1"},
        "events": [
            purchase(full_user("E.CP.ttclid123", "ttp-abc")),
            second("CompletePayment", "physical_store"),
        ],
    },
    {
        "requests": [
            {
                "event_source": "web",
                "event_source_id": "C4PIXEL",
                "data": [
                    {
                        "event": "Purchase",
                        "event_time": T,
                        "event_id": "order-1001",
                        "user": {
                            "city": CITY,
                            "country": COUNTRY,
                            "email": h(META_EM),
                            "external_id": h(XID),
                            "first_name": h(NAME_FN),
                            "ip": "203.0.113.7",
                            "last_name": h(NAME_LN),
                            "phone": h("+16505551212"),  # D7
                            "state": STATE,
                            "ttclid": "E.CP.ttclid123",
                            "ttp": "ttp-abc",
                            "user_agent": UA,
                            "zip_code": h(ZIP),
                        },
                        "page": {"url": "https://shop.example/checkout"},
                        "properties": {
                            "currency": "EUR",
                            "value": 49.99,
                            "contents": [
                                {"content_id": "SKU-1", "quantity": 2, "price": 12.5},
                                {"content_id": "SKU-2"},
                            ],
                        },
                    }
                ],
            },
            {
                "event_source": "offline",
                "event_source_id": "OFFLINE-SET-1",
                "data": [
                    {
                        "event": "CompletePayment",
                        "event_time": T_OLD,
                        "user": {"email": PRE.lower()},
                    }
                ],
            },
        ],
        "warnings": [[1, "missing_event_id"]],
    },
)

cases["snapchat"] = (
    {
        "now": NOW,
        "events": [
            purchase(full_user("sc-click-1", "sc-cookie-1")),
            second("SIGN_UP", "physical_store"),
        ],
    },
    {
        "requests": [
            {
                "data": [
                    {
                        "event_name": "Purchase",
                        "event_time": T,
                        "event_id": "order-1001",
                        "action_source": "WEB",
                        "event_source_url": "https://shop.example/checkout",
                        "user_data": {
                            "client_ip_address": "203.0.113.7",
                            "client_user_agent": UA,
                            "country": [h(COUNTRY)],
                            "ct": [h(CITY)],
                            "db": [h(DOB)],
                            "em": [h(META_EM)],
                            "external_id": [h(XID)],
                            "fn": [h(NAME_FN)],
                            "ge": [h(GENDER)],
                            "ln": [h(NAME_LN)],
                            "madid": "6d92078a-8246-4ba4-ae5b-76104861e7dc",  # D17
                            "ph": [h(META_PH)],
                            "sc_click_id": "sc-click-1",
                            "sc_cookie1": "sc-cookie-1",
                            "st": [h(STATE)],
                            "zp": [h(ZIP)],
                        },
                        "custom_data": {
                            "currency": "EUR",
                            "value": 49.99,
                            "contents": [{"id": "SKU-1", "quantity": 2, "item_price": 12.5}, {"id": "SKU-2"}],
                        },
                    },
                    {
                        "event_name": "SIGN_UP",
                        "event_time": T_OLD,
                        "action_source": "OFFLINE",
                        "user_data": {"em": [PRE.lower()]},
                    },
                ]
            }
        ],
        "warnings": [[1, "missing_event_id"]],
    },
)

# Meta Limited Data Use: the meta case with LDU for California on every event.
meta_in, meta_out = copy.deepcopy(cases["meta"])
meta_in["data_processing"] = {"options": ["LDU"], "country": 1, "state": 1000}
for r in meta_out["requests"]:
    for e in r["data"]:
        e.update({"data_processing_options": ["LDU"], "data_processing_options_country": 1,
                  "data_processing_options_state": 1000})
cases["meta_ldu"] = (meta_in, meta_out)

# Google consent: the google case with request-level consent (user data granted,
# personalisation denied) and the second event overriding it with user data denied.
google_in, google_out = copy.deepcopy(cases["google"])
google_in["consent"] = {"ad_user_data": True, "ad_personalization": False}
google_in["events"][1]["consent"] = {"ad_user_data": False}
google_out["requests"][0]["consent"] = {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_DENIED"}
google_out["requests"][0]["events"][1]["consent"] = {"adUserData": "CONSENT_DENIED"}
cases["google_consent"] = (google_in, google_out)

# Audience uploads (PLATFORMS.md §4): members in, call bodies out, batch size 2.
MEMBERS = [
    {"user": {"email": {"raw": "John.Smith+promo@Gmail.com"}, "phone": {"raw": "+1 (650) 555-1212"},
              "first_name": {"raw": "Mary Ann"}, "zip": {"raw": "94105-1234"}}},
    {"user": {"email": {"auto": "a" * 64 + ".AQYBAQIA"}}},  # Meta appendix: stripped (D23)
    {"user": {"email": {"raw": "not-an-email"}}},  # dropped -> member skipped
    {"user": {"mobile_ad_id": {"raw": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}}},
]
MADID = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
audience = {
    "meta": {
        "requests": [
            {"payload": {"schema": ["EMAIL", "PHONE", "FN", "ZIP"],
                         "data": [[h(META_EM), h(META_PH), h(NAME_FN), h(ZIP)], ["a" * 64, "", "", ""]]}},
            {"payload": {"schema": ["MADID"], "data": [[MADID]]}},
        ],
        "skipped": [2],
        "warnings": [[2, "invalid_email"]],
    },
    "google": {
        "requests": [
            {
                "destinations": [
                    {
                        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                        "productDestinationId": "555",
                    }
                ],
                "audienceMembers": [
                    {"userData": {"userIdentifiers": [
                        {"emailAddress": h("johnsmith@gmail.com")},
                        {"phoneNumber": h("+16505551212")},
                    ]}},
                ],
                "encoding": "HEX",
            }
        ],
        # Member 0's first name and zip form no complete address: not sent. Member 1's
        # hash carries Meta's appendix: dropped elsewhere (D4).
        "skipped": [1, 2, 3],
        "warnings": [[1, "foreign_hash_format"], [2, "invalid_email"]],
    },
    "snapchat": {
        "requests": [
            {"users": [{"schema": ["EMAIL_SHA256"], "data": [[h(META_EM)]]}]},
            {"users": [{"schema": ["PHONE_SHA256"], "data": [[h(META_PH)]]}]},
            {"users": [{"schema": ["MOBILE_AD_ID_SHA256"], "data": [[h(MADID.lower())]]}]},
        ],
        "skipped": [1, 2],
        "warnings": [[1, "foreign_hash_format"], [2, "invalid_email"]],
    },
    # TikTok segment mapping: advertiser "7000000000000000001", audience "1234567",
    # action add, mobile ad ids as IDFA; `{}` where a member lacks an identifier.
    "tiktok": {
        "requests": [
            {
                "advertiser_ids": ["7000000000000000001"],
                "action": "add",
                "id_schema": ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"],
                "batch_data": [
                    [
                        {"id": h(META_EM), "audience_ids": ["1234567"]},
                        {"id": h("+16505551212"), "audience_ids": ["1234567"]},  # D7
                        {},
                    ],
                    [{}, {}, {"id": h(MADID.lower()), "audience_ids": ["1234567"]}],
                ],
            }
        ],
        "skipped": [1, 2],
        "warnings": [[1, "foreign_hash_format"], [2, "invalid_email"]],
    },
}
(HERE / "audience.input.json").write_text(json.dumps({"batch_size": 2, "members": MEMBERS}, indent=2) + "\n")
for name, expected in audience.items():
    (HERE / f"{name}.audience.expected.json").write_text(json.dumps(expected, indent=2) + "\n")

for name, (inp, expected) in cases.items():
    (HERE / f"{name}.input.json").write_text(json.dumps(inp, indent=2, ensure_ascii=False) + "\n")
    (HERE / f"{name}.expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
