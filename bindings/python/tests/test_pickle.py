"""Config-holding objects pickle (rebuilt from their config), so they can be built
once on a driver and shipped to Spark, Dask or Ray workers."""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
from typing import Any, Dict, List

import pytest
from conftest import budget_change, healthy_signals

import stratum

CONFIG = {
    "phone_region": {"default": "GB"},
    "external_id_mode": "exact",
    "google_encoding": "base64",
    "today": "2026-03-01",
}


def _digest(n: stratum.Normalizer) -> List[Any]:
    return [
        n.normalize("meta", "email", " Jane.Doe@Example.COM "),
        n.normalize("meta", "phone", "020 7031 3000"),
        n.normalize("google", "email", "jane@example.com"),
        n.normalize("meta", "external_id", "Crm-42"),
        n.normalize("meta", "date_of_birth", "1990-02-01"),
    ]


def test_a_normaliser_pickles_with_its_whole_config() -> None:
    n = stratum.Normalizer(CONFIG)
    back = pickle.loads(pickle.dumps(n))
    assert isinstance(back, stratum.Normalizer)
    assert back.to_dict() == n.to_dict()
    assert _digest(back) == _digest(n)
    # The region travelled: a national GB number reads as +44.
    assert back.normalize("meta", "phone", "020 7031 3000")["value"] == hashlib.sha256(
        b"442070313000"
    ).hexdigest()


def test_to_dict_is_the_form_the_constructor_takes() -> None:
    n = stratum.Normalizer({"phone_region": "require_international"})
    again = stratum.Normalizer(n.to_dict())
    assert again.to_dict() == n.to_dict()
    assert again.normalize("meta", "phone", "020 7031 3000")["warning"] == n.normalize(
        "meta", "phone", "020 7031 3000"
    )["warning"]


def test_health_config_signals_and_actions_pickle() -> None:
    config = stratum.HealthConfig({"weights": {
        "emq": 0.5, "api_health": 0.2, "event_loss": 0.1, "platform_stability": 0.1,
        "data_quality": 0.1,
    }})
    back = pickle.loads(pickle.dumps(config))
    assert back.config_hash == config.config_hash
    signals = stratum.Signals(healthy_signals())
    s2 = pickle.loads(pickle.dumps(signals))
    assert s2.to_dict() == signals.to_dict()
    now = "2026-03-01T12:05:00Z"
    assert back.score(s2, now).to_dict() == config.score(signals, now).to_dict()
    action = stratum.ProposedAction(budget_change())
    a2 = pickle.loads(pickle.dumps(action))
    assert a2.to_dict() == action.to_dict()
    assert a2.kind == "budget_change"


def _hash_in_child(n: stratum.Normalizer) -> Dict[str, Any]:
    return n.normalize("meta", "phone", "020 7031 3000")


def test_a_normaliser_crosses_a_process_boundary() -> None:
    n = stratum.Normalizer(CONFIG)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got = pool.apply(_hash_in_child, (n,))
    assert got == n.normalize("meta", "phone", "020 7031 3000")


@pytest.mark.parametrize("make", [
    lambda: stratum.TrustGate(),
    lambda: stratum.Guardrails(),
    lambda: stratum.Deduplicator(10),
])
def test_objects_holding_state_do_not_pickle(make: Any) -> None:
    # A copy of a gate, a ledger or a de-duplication window would drift from the
    # original (a tripped gate copied before it tripped would not be): they are
    # shipped as config and rebuilt, or persisted with their own state APIs.
    with pytest.raises(TypeError):
        pickle.dumps(make())
