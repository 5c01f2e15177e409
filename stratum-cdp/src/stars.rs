//! The two operations of the large-star / small-star alternation (Kiveris et al.,
//! "Connected Components in MapReduce and Beyond", SoCC 2014), applied to one
//! partition of a link table that a distributed engine has already grouped by
//! node: the building block of connected components on clusters.
//!
//! An edge is a pair `(u, v)` of identifiers with `u < v` (byte order). Each
//! operation reads rows `(node, neighbour)` and works on each node's neighbourhood,
//! so every row of a node must be in the same partition (the engine's
//! repartition by node sees to that):
//!
//! * **large-star** ([`Star::Large`]): every node `u` links each of its *larger*
//!   neighbours to `m(u)`, the smallest of `u` and its neighbours. The rows are
//!   every edge twice, once under each end.
//! * **small-star** ([`Star::Small`]): every node `v` links itself and each of its
//!   *smaller* neighbours to the smallest of them. The rows are every edge once,
//!   under its larger end.
//!
//! Alternating the two until neither changes an edge leaves every component as
//! a star around its smallest identifier (Kiveris et al. prove it, in `O(log² n)`
//! rounds). Each output edge comes from exactly one input edge, and says whether
//! it differs from it: when no edge of a large-star and of the small-star after it
//! changed, the edge set is a fixpoint of the round and the alternation is done.
//! Duplicate rows are merged within a node, so an engine need not de-duplicate
//! edges between operations.
//!
//! ```
//! use stratum_cdp::stars::{Star, star};
//!
//! // The path a - b - c, each edge under both of its ends.
//! let rows = vec![("a", "b", false), ("b", "a", false), ("b", "c", false), ("c", "b", false)];
//! let out = star(Star::Large, rows);
//! // b's larger neighbour c moves to a, the smallest of b's neighbourhood.
//! assert!(out.iter().any(|e| (e.u, e.v, e.changed) == ("a", "c", true)));
//! assert!(out.iter().any(|e| (e.u, e.v, e.changed) == ("a", "b", false)));
//! ```

/// Which of the two operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Star {
    /// Each node links its larger neighbours to the smallest of its closed
    /// neighbourhood. Rows: every edge under both ends.
    Large,
    /// Each node links itself and its smaller neighbours to the smallest of them.
    /// Rows: every edge under its larger end (other rows are ignored).
    Small,
}

impl std::str::FromStr for Star {
    type Err = crate::Error;

    /// `large` or `small`.
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "large" => Ok(Self::Large),
            "small" => Ok(Self::Small),
            other => Err(crate::Error::InvalidConfig {
                field: "kind".into(),
                message: format!("is {other:?}; one of large, small"),
            }),
        }
    }
}

/// One output edge, `u < v`, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StarEdge<'a> {
    /// The smaller end.
    pub u: &'a str,
    /// The larger end.
    pub v: &'a str,
    /// Whether the input edge it comes from was different.
    pub changed: bool,
}

/// Applies `kind` to `rows` of `(node, neighbour, changed)`: all the rows of
/// each node must be present. Rows that link a node to itself are ignored, and
/// repeated rows merged. `changed` says that an earlier operation of the same
/// round changed that edge; it is carried to the node's output edges, so that
/// counting the changed edges at the end of a round (large-star, then small-star)
/// tells whether the round changed anything. The output edges come in no
/// particular order and may repeat (the next operation merges repeats).
#[must_use]
pub fn star<'a>(kind: Star, mut rows: Vec<(&'a str, &'a str, bool)>) -> Vec<StarEdge<'a>> {
    rows.retain(|(node, other, _)| match kind {
        Star::Large => node != other,
        Star::Small => other < node,
    });
    rows.sort_unstable();
    let mut out = Vec::with_capacity(rows.len());
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let node = group[0].0;
        let carried = group.iter().any(|r| r.2);
        // Sorted by neighbour: the first is the smallest; repeats are adjacent.
        let smallest = group[0].1;
        let mut previous = None;
        let neighbours = group.iter().map(|r| r.1).filter(move |&x| {
            let new = previous != Some(x);
            previous = Some(x);
            new
        });
        match kind {
            Star::Large => {
                let m = smallest.min(node);
                out.extend(neighbours.filter(|v| *v > node).map(|v| StarEdge {
                    u: m,
                    v,
                    changed: carried || m != node,
                }));
            }
            Star::Small => {
                // Every neighbour is smaller than the node: `smallest` is the
                // smallest of the closed neighbourhood.
                out.push(StarEdge {
                    u: smallest,
                    v: node,
                    changed: carried,
                });
                out.extend(neighbours.skip(1).map(|x| StarEdge {
                    u: smallest,
                    v: x,
                    changed: true,
                }));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    type Edges = BTreeSet<(String, String)>;

    /// One round, as an engine runs it: rows keyed by node, split at random
    /// between partitions by node (a node's rows stay together).
    /// Edges with their changed flags (an edge changed by one row and not by
    /// another counts as changed).
    type Flagged = BTreeMap<(String, String), bool>;

    /// One operation, as an engine runs it: rows keyed by node, split between
    /// partitions by node (a node's rows stay together).
    fn operation(kind: Star, edges: &Flagged, parts: usize) -> Flagged {
        let part = |node: &str| node.bytes().map(usize::from).sum::<usize>() % parts;
        let mut by_part: BTreeMap<usize, Vec<(&str, &str, bool)>> = BTreeMap::new();
        for ((u, v), &changed) in edges {
            if kind == Star::Large {
                by_part.entry(part(u)).or_default().push((u, v, changed));
            }
            by_part.entry(part(v)).or_default().push((v, u, changed));
        }
        let mut out = Flagged::new();
        for rows in by_part.into_values() {
            for e in star(kind, rows) {
                assert!(e.u < e.v, "{e:?}");
                *out.entry((e.u.to_owned(), e.v.to_owned())).or_default() |= e.changed;
            }
        }
        out
    }

    /// A round: large-star, then small-star; whether it reported a change.
    fn round(edges: &Edges, parts: usize) -> (Edges, bool) {
        let flagged: Flagged = edges.iter().map(|e| (e.clone(), false)).collect();
        let small = operation(Star::Small, &operation(Star::Large, &flagged, parts), parts);
        let changed = small.values().any(|c| *c);
        (small.into_keys().collect(), changed)
    }

    /// Component labels (the smallest member) by plain union-find.
    fn components(edges: &[(String, String)]) -> BTreeMap<String, String> {
        let mut label: BTreeMap<String, String> = BTreeMap::new();
        for (a, b) in edges {
            label.entry(a.clone()).or_insert_with(|| a.clone());
            label.entry(b.clone()).or_insert_with(|| b.clone());
        }
        loop {
            let mut moved = false;
            for (a, b) in edges {
                let m = label[a].clone().min(label[b].clone());
                for x in [a, b] {
                    if label[x] != m {
                        label.insert(x.clone(), m.clone());
                        moved = true;
                    }
                }
            }
            if !moved {
                return label;
            }
        }
    }

    fn alternate(links: &[(String, String)], parts: usize) -> (Edges, usize) {
        let mut edges: Edges = links
            .iter()
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.clone().min(b.clone()), a.clone().max(b.clone())))
            .collect();
        for rounds in 1..=200 {
            let (next, changed) = round(&edges, parts);
            if !changed {
                assert_eq!(next, edges, "no change reported, none made");
                return (next, rounds);
            }
            edges = next;
        }
        panic!("no convergence in 200 rounds");
    }

    #[test]
    fn a_path_becomes_a_star_around_its_smallest_node() {
        let links: Vec<(String, String)> = ["e-d", "d-c", "c-b", "b-a"]
            .iter()
            .map(|s| {
                let (a, b) = s.split_once('-').unwrap_or_default();
                (a.to_owned(), b.to_owned())
            })
            .collect();
        let (edges, rounds) = alternate(&links, 2);
        let want: Edges = ["b", "c", "d", "e"]
            .iter()
            .map(|x| ("a".to_owned(), (*x).to_owned()))
            .collect();
        assert_eq!(edges, want);
        assert!(rounds >= 2, "a path needs more than one round");
    }

    #[test]
    fn small_star_ignores_rows_under_the_smaller_end_and_merges_repeats() {
        let out = star(
            Star::Small,
            vec![
                ("c", "a", false),
                ("c", "a", false),
                ("c", "b", false),
                ("a", "c", true),
            ],
        );
        let mut got: Vec<_> = out.iter().map(|e| (e.u, e.v, e.changed)).collect();
        got.sort_unstable();
        assert_eq!(got, [("a", "b", true), ("a", "c", false)]);
        assert!(star(Star::Large, vec![("a", "a", false)]).is_empty());
        assert_eq!("large".parse::<Star>().ok(), Some(Star::Large));
        assert_eq!(
            "medium".parse::<Star>().map_err(|e| e.code()),
            Err("invalid_config")
        );
        // A change carried from the large-star marks the node's output.
        let out = star(Star::Small, vec![("b", "a", true)]);
        assert_eq!(
            out,
            [StarEdge {
                u: "a",
                v: "b",
                changed: true
            }]
        );
    }

    proptest! {
        /// Whatever the graph and the partitioning, the alternation ends with each
        /// component a star around its smallest member, and says so only then.
        #[test]
        fn the_alternation_ends_in_the_components_as_stars(
            links in proptest::collection::vec((0u8..40, 0u8..40), 0..120),
            parts in 1usize..5,
        ) {
            let links: Vec<(String, String)> =
                links.iter().map(|(a, b)| (format!("n{a}"), format!("n{b}"))).collect();
            let (edges, _) = alternate(&links, parts);
            let want = components(&links);
            let mut got: BTreeMap<String, String> = BTreeMap::new();
            for (u, v) in &edges {
                prop_assert!(got.insert(v.clone(), u.clone()).is_none(), "{v} in two stars");
            }
            for (x, m) in &want {
                if x == m {
                    prop_assert!(!got.contains_key(x), "{x} is a centre");
                } else {
                    prop_assert_eq!(got.get(x), Some(m));
                }
            }
        }
    }
}
