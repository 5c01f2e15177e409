"""Identity resolution: the incremental graph and bulk link tables."""

from __future__ import annotations

import pytest
from conftest import NOW

import stratum


def test_link_explain_unmerge() -> None:
    g = stratum.IdentityGraph()
    a = g.link("m1", [("anonymous_id", "a-1"), ("email", "Ann@Example.com ")], NOW)
    b = g.link("m2", [("anonymous_id", "a-2"), ("email", "ann@example.com")], NOW)
    assert a["profile"] == b["profile"]
    profile = a["profile"]
    assert len(g) == 1
    assert g.profile_of("email", "ANN@example.com") == profile
    ids = {(i["kind"], i["value"]) for i in g.identifiers(profile)}
    assert ids == {("anonymous_id", "a-1"), ("anonymous_id", "a-2"), ("email", "ann@example.com")}
    assert "m2" in g.explain_text(profile)
    assert g.explain(profile)
    g.remove_identifier("email", "ann@example.com")
    assert g.profile_of("anonymous_id", "a-1") != g.profile_of("anonymous_id", "a-2")
    g.restore_identifier("email", "ann@example.com")
    assert g.profile_of("anonymous_id", "a-1") == g.profile_of("anonymous_id", "a-2")


def test_identify_segment_messages() -> None:
    g = stratum.IdentityGraph()
    g.identify({"type": "page", "messageId": "m1", "anonymousId": "a-1"}, NOW)
    r = g.identify(
        {"type": "identify", "messageId": "m2", "anonymousId": "a-1", "userId": "u-1",
         "traits": {"email": "Ann@Example.com"}},
        NOW,
    )
    assert r["profile"] == "prof:m1"
    assert len(g.identifiers("prof:m1")) == 3


def test_identify_without_identity_is_refused() -> None:
    with pytest.raises(stratum.errors.MissingIdentityError):
        stratum.IdentityGraph().identify({"type": "track", "messageId": "m", "event": "x"}, NOW)


def test_unknown_profile() -> None:
    with pytest.raises(stratum.errors.NotFoundError):
        stratum.IdentityGraph().explain("prof:none")


LINKS = [("anon-1", "ann@example.com"), ("user-7", "ann@example.com"),
         ("anon-2", "undefined"), ("anon-3", "undefined")]


def test_bulk_from_pairs() -> None:
    labels = stratum.resolve_identities(LINKS)
    assert labels["anon-1"] == labels["user-7"] == labels["ann@example.com"]
    assert labels["anon-2"] != labels["anon-3"]
    assert labels["undefined"] is None


@pytest.mark.parametrize("kind", ["pyarrow", "polars", "pandas"])
def test_bulk_from_tables(kind: str) -> None:
    mod = pytest.importorskip(kind)
    cols = {"left": [a for a, _ in LINKS], "right": [b for _, b in LINKS]}
    table = mod.table(cols) if kind == "pyarrow" else mod.DataFrame(cols)
    out = stratum.resolve_identities(table)
    assert type(out).__module__.split(".")[0] == kind
    if kind == "pyarrow":
        rows = out.to_pylist()
    elif kind == "polars":
        rows = out.to_dicts()
    else:
        rows = [{"identifier": i, "component": (None if c != c else int(c))}
                for i, c in zip(out["identifier"], out["component"])]
    got = {r["identifier"]: r["component"] for r in rows}
    assert got == stratum.resolve_identities(LINKS)


def test_star_operations_over_arrow_columns() -> None:
    import pyarrow as pa
    from stratum._native import star_arrow

    # The path a - b - c, each edge under both ends: b's larger neighbour moves to a.
    nodes = pa.array(["a", "b", "b", "c"])
    others = pa.array(["b", "a", "c", "b"])
    flags = pa.array([False] * 4)
    u, v, changed = (pa.array(x) for x in star_arrow("large", nodes, others, flags))
    got = sorted(zip(u.to_pylist(), v.to_pylist(), changed.to_pylist()))
    assert got == [("a", "b", False), ("a", "c", True)]
    with pytest.raises(stratum.InvalidConfigError, match="one of large, small"):
        star_arrow("medium", nodes, others, flags)
    with pytest.raises(stratum.StratumError, match="same length"):
        star_arrow("small", nodes, others, pa.array([False]))
    with pytest.raises(stratum.StratumError, match="boolean"):
        star_arrow("small", nodes, others, others)
