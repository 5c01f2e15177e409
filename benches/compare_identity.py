"""Side-by-side bulk identity resolution: string pairs in, a component label per
identifier out, end to end (reading the same TSV file), each tool in its own
process so that its peak memory is its own.

Tools: Stratum (`resolve_tsv`, and `stratum-python`: the Python package from a
Polars DataFrame), pandas factorize + scipy.sparse.csgraph
`connected_components`, python-igraph and networkx. Every partition is checked
against scipy's: two labelings over the same identifiers describe the same
partition exactly when the number of distinct (label_a, label_b) pairs equals the
number of distinct labels of each.

Run through `benches/compare_identity.sh`, which makes the virtual environment
and the input file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def read_pairs(path: str) -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["a", "b"],
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        quoting=3,
        engine="c",
    )
    return df["a"].to_numpy(), df["b"].to_numpy()


def canonical_index(a: np.ndarray, b: np.ndarray) -> pd.Index:
    """Identifiers in first-appearance order of column a then column b."""
    _, uniques = pd.factorize(np.concatenate([a, b]))
    return pd.Index(uniques)


#: Peak resident set when the tool's timed work ended (before the partition check's
#: own bookkeeping).
PEAK = 0


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def tool_scipy(path: str):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    t = time.perf_counter()
    a, b = read_pairs(path)
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    n = len(uniques)
    m = len(a)
    graph = coo_matrix(
        (np.ones(m, dtype=np.int8), (codes[:m], codes[m:])), shape=(n, n)
    ).tocsr()
    count, labels = connected_components(graph, directed=False)
    seconds = time.perf_counter() - t
    global PEAK
    PEAK = peak_rss()
    # factorize order is the canonical order already.
    return seconds, m, n, count, labels


def tool_igraph(path: str):
    import igraph as ig

    t = time.perf_counter()
    a, b = read_pairs(path)
    g = ig.Graph.TupleList(zip(a, b), directed=False)
    membership = g.connected_components().membership
    names = g.vs["name"]
    seconds = time.perf_counter() - t
    global PEAK
    PEAK = peak_rss()
    index = canonical_index(a, b)
    labels = np.empty(len(index), dtype=np.int64)
    labels[index.get_indexer(names)] = membership
    return seconds, len(a), len(names), max(membership) + 1, labels


def tool_networkx(path: str):
    import networkx as nx

    t = time.perf_counter()
    a, b = read_pairs(path)
    g = nx.Graph()
    g.add_edges_from(zip(a, b))
    label = {}
    count = 0
    for count, component in enumerate(nx.connected_components(g), start=1):
        for node in component:
            label[node] = count - 1
    seconds = time.perf_counter() - t
    global PEAK
    PEAK = peak_rss()
    index = canonical_index(a, b)
    labels = np.fromiter((label[x] for x in index), dtype=np.int64, count=len(index))
    return seconds, len(a), g.number_of_nodes(), count, labels


def tool_stratum_python(path: str):
    """The Python package, from a Polars DataFrame (what a notebook would do)."""
    import polars as pl
    import stratum

    t = time.perf_counter()
    df = pl.read_csv(
        path, separator="\t", has_header=False, new_columns=["a", "b"],
        schema_overrides={"a": pl.String, "b": pl.String}, quote_char=None,
    )
    out = stratum.resolve_identities(df, left="a", right="b", blocklist=False)
    seconds = time.perf_counter() - t
    global PEAK
    PEAK = peak_rss()
    a, b = df["a"].to_numpy(), df["b"].to_numpy()
    index = canonical_index(a, b)
    labels = np.empty(len(index), dtype=np.int64)
    labels[index.get_indexer(out["identifier"].to_numpy())] = out["component"].to_numpy()
    return seconds, len(df), out.height, int(out["component"].max()) + 1, labels


TOOLS = {
    "scipy": tool_scipy,
    "igraph": tool_igraph,
    "networkx": tool_networkx,
    "stratum-python": tool_stratum_python,
}


def worker(tool: str, path: str, out: str) -> None:
    seconds, links, identifiers, components, labels = TOOLS[tool](path)
    np.save(out, labels)
    print(
        json.dumps(
            {
                "tool": tool,
                "links": links,
                "identifiers": identifiers,
                "components": components,
                "seconds": round(seconds, 3),
                "peak_rss_bytes": PEAK,
            }
        )
    )


def stratum_labels(path: str, labels_tsv: str) -> np.ndarray:
    a, b = read_pairs(path)
    index = canonical_index(a, b)
    df = pd.read_csv(
        labels_tsv,
        sep="\t",
        header=None,
        names=["id", "label"],
        dtype={"id": str, "label": "Int64"},
        keep_default_na=False,
        na_values=[""],
        quoting=3,
    )
    positions = index.get_indexer(df["id"].to_numpy())
    if (positions < 0).any():
        raise SystemExit("stratum labelled an identifier that is not in the input")
    labels = np.full(len(index), -1, dtype=np.int64)
    labels[positions] = df["label"].fillna(-1).to_numpy(dtype=np.int64)
    if (labels < 0).any():
        raise SystemExit("stratum left identifiers without a label")
    return labels


def same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    if len(x) != len(y):
        return False
    pairs = np.unique(np.stack([x, y], axis=1), axis=0)
    return len(pairs) == len(np.unique(x)) == len(np.unique(y))


def warm(path: str) -> None:
    """Reads `path` once, untimed, to bring it into the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("links_tsv")
    p.add_argument("--stratum", required=True, help="path of the resolve_tsv binary")
    p.add_argument("--work", required=True, help="directory for label files")
    p.add_argument(
        "--tools",
        default="stratum,scipy,igraph,networkx",
        help="comma-separated subset of stratum,stratum-python,scipy,igraph,networkx",
    )
    p.add_argument("--worker", nargs=2, metavar=("TOOL", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], args.links_tsv, args.worker[1])
        return

    tools = [t for t in args.tools.split(",") if t]
    results = {}
    labels = {}
    for tool in tools:
        print(f"running {tool} ...", file=sys.stderr, flush=True)
        # Every tool starts with the input in the page cache, so that the first one
        # does not pay for reading it from disk.
        warm(args.links_tsv)
        if tool == "stratum":
            out = f"{args.work}/stratum_labels.tsv"
            run = subprocess.run(
                [args.stratum, args.links_tsv, out], check=True, capture_output=True, text=True
            )
            results[tool] = json.loads(run.stdout)
            labels[tool] = stratum_labels(args.links_tsv, out)
        else:
            out = f"{args.work}/{tool}_labels.npy"
            run = subprocess.run(
                [sys.executable, __file__, args.links_tsv, "--stratum", args.stratum,
                 "--work", args.work, "--worker", tool, out],
                check=True, capture_output=True, text=True,
            )
            results[tool] = json.loads(run.stdout.strip().splitlines()[-1])
            labels[tool] = np.load(out)

    reference = "scipy" if "scipy" in labels else tools[0]
    links = results[reference]["links"]
    print()
    print(f"{links:,} links, {len(labels[reference]):,} identifiers, "
          f"{results[reference]['components']:,} components")
    print(f"{'tool':<10} {'seconds':>9} {'M links/s':>10} {'peak RSS':>10} {'vs stratum':>11}  partition")
    base = results.get("stratum", {}).get("seconds")
    for tool in tools:
        r = results[tool]
        same = same_partition(labels[tool], labels[reference])
        speed = links / r["seconds"] / 1e6
        ratio = f"{r['seconds'] / base:.1f}x" if base else "-"
        print(
            f"{tool:<10} {r['seconds']:>9.2f} {speed:>10.2f} "
            f"{r['peak_rss_bytes'] / 2**30:>8.2f} GiB {ratio:>11}  "
            f"{'identical' if same else 'DIFFERENT'} to {reference}"
        )
        if not same:
            raise SystemExit(f"{tool} gives a different partition from {reference}")
    print()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
