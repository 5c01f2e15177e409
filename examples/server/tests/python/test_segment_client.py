"""Segment's official Python library, pointed at the server, works unchanged.

Run by examples/server/scripts/test.sh: it starts the server on a free port with a
fresh data directory and passes its address and keys in the environment.
"""

import json
import os
import time
import urllib.request

import segment.analytics as analytics

HOST = os.environ["STRATUM_URL"]
WRITE_KEY = os.environ["STRATUM_WRITE_KEY"]
API_KEY = os.environ["STRATUM_API_KEY"]


def lookup(kind, value):
    """The profile an identifier resolves to, once the pipeline has caught up."""
    url = f"{HOST}/api/v1/profiles/lookup?kind={kind}&value={value}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    deadline = time.time() + 20
    while True:
        try:
            with urllib.request.urlopen(request) as response:
                body = json.load(response)
                if body["pipeline_lag_events"] == 0:
                    return body["profile"]
        except urllib.error.HTTPError as e:
            if e.code != 404 or time.time() > deadline:
                raise
        if time.time() > deadline:
            raise AssertionError(f"no profile for {kind}={value}")
        time.sleep(0.05)


def tenant_events():
    request = urllib.request.Request(
        f"{HOST}/api/v1/tenant", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["events"]


def test_the_official_client_sends_every_call_type_and_profiles_merge():
    errors = []
    analytics.write_key = WRITE_KEY
    analytics.host = HOST
    analytics.sync_mode = False
    analytics.on_error = lambda error, items: errors.append((error, items))
    analytics.max_retries = 0

    analytics.identify("user-1", {"email": "Ann@Example.com", "plan": "pro"})
    analytics.track("user-1", "Order Completed", {"total": 99.5, "currency": "EUR"})
    analytics.page(anonymous_id="anon-7", category="Docs", name="Install")
    analytics.group("user-1", "acme", {"name": "Acme Inc"})
    analytics.alias("anon-7", "user-1")
    analytics.track(anonymous_id="anon-7", event="Viewed Pricing")
    analytics.flush()
    analytics.shutdown()
    assert errors == []

    by_user = lookup("user_id", "user-1")
    by_anon = lookup("anonymous_id", "anon-7")
    by_email = lookup("email", "ann@example.com")
    assert by_user["id"] == by_anon["id"] == by_email["id"]
    assert by_user["traits"]["plan"]["value"] == "pro"
    assert by_user["groups"] == ["acme"]
    assert tenant_events() == 6


def test_a_replayed_message_is_absorbed():
    before = tenant_events()
    client = analytics.Client(WRITE_KEY, host=HOST, sync_mode=True, max_retries=0)
    client.track("user-2", "Signed Up", message_id="fixed-id-1")
    client.track("user-2", "Signed Up", message_id="fixed-id-1")
    client.flush()
    assert tenant_events() == before + 1
    assert lookup("user_id", "user-2")["id"]
