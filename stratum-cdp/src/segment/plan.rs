//! Compilation of a set of segments to one plan, and its evaluation: per profile
//! (incremental use) and column by column over a table of many profiles.
//!
//! Every distinct condition of every segment becomes one *leaf*; every segment
//! becomes a short postfix program over leaves. Over a table, rows are processed
//! in blocks of 4,096: each leaf fills one bitmap per block with a tight loop over
//! its column, then each program combines bitmaps word by word (64 rows per
//! operation). Blocks are spread over the available cores.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use super::ast::{CmpOp, Count, Expr, Literal, Predicate, Window};
use super::value::{Cell, int_bounds, lookup, matches, matches_int};
use crate::computed::{ComputedTraits, TraitEvent};
use crate::error::{Error, Result};
use crate::profile::Profile;

/// Rows per block of columnar evaluation.
const BLOCK: usize = 4096;
const BLOCK_WORDS: usize = BLOCK / 64;

/// Events that an event condition counts: a name and property filters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stream {
    pub(crate) event: String,
    pub(crate) filters: Vec<Predicate>,
    /// Per filter, its literal's [`int_bounds`].
    bounds: Vec<Option<(i64, bool)>>,
}

/// A value a plan reads per profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    Trait(String),
    Computed(String),
    Consent(String),
    Events {
        stream: usize,
        window: Option<Window>,
    },
}

#[derive(Debug, Clone)]
enum Leaf {
    Cmp {
        input: usize,
        op: CmpOp,
        lit: Option<Literal>,
        /// The literal's [`int_bounds`].
        bounds: Option<(i64, bool)>,
    },
    Count {
        input: usize,
        count: Count,
    },
    Consent {
        input: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum Instr {
    Leaf(u32),
    /// Membership of another audience (its index), evaluated before this one.
    Audience(u32),
    And(u32),
    Or(u32),
    Not,
}

/// The common forms of a program, evaluated per profile without the stack
/// machine.
#[derive(Debug, Clone)]
enum Shape {
    /// One leaf.
    Leaf(u32),
    /// Every one of these leaves.
    All(Box<[u32]>),
    /// Any of these leaves.
    Any(Box<[u32]>),
    /// Anything else: run the program.
    Program,
}

impl Shape {
    fn of(program: &[Instr]) -> Self {
        let leaves = |items: &[Instr]| -> Option<Box<[u32]>> {
            items
                .iter()
                .map(|i| match i {
                    Instr::Leaf(l) => Some(*l),
                    _ => None,
                })
                .collect()
        };
        match program {
            [Instr::Leaf(l)] => Shape::Leaf(*l),
            [items @ .., Instr::And(n)] if *n as usize == items.len() => {
                leaves(items).map_or(Shape::Program, Shape::All)
            }
            [items @ .., Instr::Or(n)] if *n as usize == items.len() => {
                leaves(items).map_or(Shape::Program, Shape::Any)
            }
            _ => Shape::Program,
        }
    }
}

/// Reusable buffers of per-profile evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    leaves: Vec<bool>,
    stack: Vec<bool>,
}

/// A compiled set of segments.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) inputs: Vec<Input>,
    pub(crate) streams: Vec<Stream>,
    leaves: Vec<Leaf>,
    programs: Vec<Vec<Instr>>,
    /// Per program, its shape.
    shapes: Vec<Shape>,
    /// Per input, the leaves that read it (per-profile evaluation reads each
    /// input once and evaluates its leaves together).
    readers: Vec<Vec<u32>>,
    order: Vec<usize>,
    keys: Vec<String>,
    /// Whether an input's value depends on the evaluation time.
    pub(crate) time_dependent: bool,
    /// Event name → the streams counting it.
    by_event: HashMap<String, Vec<usize>, foldhash::fast::RandomState>,
    /// Per stream: the longest window that reads it, in seconds, or `None` when
    /// no window reads it (all-time conditions need only the count, so no event
    /// time is kept).
    pub(crate) horizon: Vec<Option<i64>>,
}

/// Rejects cycles and returns the segments in dependency order.
fn topo(keys: &[String], deps: &[Vec<usize>]) -> Result<Vec<usize>> {
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; keys.len()];
    let mut order = Vec::with_capacity(keys.len());
    for root in 0..keys.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&d) = deps[node].get(*next) {
                *next += 1;
                match state[d] {
                    0 => {
                        state[d] = 1;
                        stack.push((d, 0));
                    }
                    1 => {
                        let start = stack.iter().position(|(n, _)| *n == d).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[start..]
                            .iter()
                            .map(|(n, _)| keys[*n].clone())
                            .collect();
                        cycle.push(keys[d].clone());
                        return Err(Error::SegmentCycle { cycle });
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

struct Compiler<'a> {
    plan: Plan,
    index: &'a HashMap<&'a str, usize>,
    keys: &'a [String],
    deps: Vec<usize>,
    computed: Option<&'a ComputedTraits>,
}

impl Compiler<'_> {
    fn input(&mut self, i: Input) -> usize {
        if let Some(p) = self.plan.inputs.iter().position(|x| *x == i) {
            return p;
        }
        self.plan.inputs.push(i);
        self.plan.inputs.len() - 1
    }

    fn leaf(&mut self, l: Leaf) -> u32 {
        let same = |a: &Leaf, b: &Leaf| match (a, b) {
            (
                Leaf::Cmp { input, op, lit, .. },
                Leaf::Cmp {
                    input: i2,
                    op: o2,
                    lit: l2,
                    ..
                },
            ) => input == i2 && op == o2 && lit == l2,
            (
                Leaf::Count { input, count },
                Leaf::Count {
                    input: i2,
                    count: c2,
                },
            ) => input == i2 && count == c2,
            (Leaf::Consent { input }, Leaf::Consent { input: i2 }) => input == i2,
            _ => false,
        };
        if let Some(p) = self.plan.leaves.iter().position(|x| same(x, &l)) {
            return p as u32;
        }
        self.plan.leaves.push(l);
        (self.plan.leaves.len() - 1) as u32
    }

    fn compile(&mut self, e: &Expr, field: &str, out: &mut Vec<Instr>) -> Result<()> {
        match e {
            Expr::And(items) | Expr::Or(items) => {
                let word = if matches!(e, Expr::And(_)) {
                    "and"
                } else {
                    "or"
                };
                for (i, x) in items.iter().enumerate() {
                    self.compile(x, &format!("{field}.{word}[{i}]"), out)?;
                }
                let n = items.len() as u32;
                out.push(if word == "and" {
                    Instr::And(n)
                } else {
                    Instr::Or(n)
                });
            }
            Expr::Not(x) => {
                self.compile(x, &format!("{field}.not"), out)?;
                out.push(Instr::Not);
            }
            Expr::Trait(p) => {
                let input = self.input(Input::Trait(p.name.clone()));
                out.push(Instr::Leaf(self.leaf(Leaf::Cmp {
                    input,
                    op: p.op,
                    lit: p.value.clone(),
                    bounds: int_bounds(p.value.as_ref()),
                })));
            }
            Expr::Computed(p) => {
                if let Some(defs) = self.computed {
                    let known = defs.definitions().iter().map(|d| d.name());
                    if !defs.definitions().iter().any(|d| d.name() == p.name) {
                        return Err(Error::UnknownName {
                            field: format!("{field}.computed.name"),
                            kind: "computed trait",
                            name: p.name.clone(),
                            suggestion: super::schema::suggestion(&p.name, known),
                        });
                    }
                    if defs
                        .definitions()
                        .iter()
                        .any(|d| d.name() == p.name && d.window().is_some())
                    {
                        self.plan.time_dependent = true;
                    }
                }
                let input = self.input(Input::Computed(p.name.clone()));
                out.push(Instr::Leaf(self.leaf(Leaf::Cmp {
                    input,
                    op: p.op,
                    lit: p.value.clone(),
                    bounds: int_bounds(p.value.as_ref()),
                })));
            }
            Expr::Event(ev) => {
                let s = Stream {
                    event: ev.event.clone(),
                    filters: ev.filters.clone(),
                    bounds: ev
                        .filters
                        .iter()
                        .map(|f| int_bounds(f.value.as_ref()))
                        .collect(),
                };
                let stream = match self.plan.streams.iter().position(|x| *x == s) {
                    Some(p) => p,
                    None => {
                        self.plan.streams.push(s);
                        self.plan.streams.len() - 1
                    }
                };
                if ev.window.is_some() {
                    self.plan.time_dependent = true;
                }
                let input = self.input(Input::Events {
                    stream,
                    window: ev.window,
                });
                out.push(Instr::Leaf(self.leaf(Leaf::Count {
                    input,
                    count: ev.count,
                })));
            }
            Expr::InAudience(k) => {
                let Some(&i) = self.index.get(k.as_str()) else {
                    return Err(Error::UnknownName {
                        field: format!("{field}.in_audience"),
                        kind: "audience",
                        name: k.clone(),
                        suggestion: super::schema::suggestion(
                            k,
                            self.keys.iter().map(String::as_str),
                        ),
                    });
                };
                self.deps.push(i);
                out.push(Instr::Audience(i as u32));
            }
            Expr::Consent(c) => {
                let input = self.input(Input::Consent(c.clone()));
                out.push(Instr::Leaf(self.leaf(Leaf::Consent { input })));
            }
        }
        Ok(())
    }
}

impl Plan {
    /// Compiles segments keyed by audience key (in this order). Audience
    /// references must name one of `segments`; cycles are rejected. With
    /// `computed`, computed-trait conditions must name one of its definitions.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for an unknown audience or computed trait,
    /// [`Error::SegmentCycle`] for audiences that depend on themselves.
    pub fn compile(segments: &[(String, Expr)], computed: Option<&ComputedTraits>) -> Result<Self> {
        let keys: Vec<String> = segments.iter().map(|(k, _)| k.clone()).collect();
        let index: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut c = Compiler {
            plan: Plan {
                inputs: Vec::new(),
                streams: Vec::new(),
                leaves: Vec::new(),
                programs: Vec::new(),
                shapes: Vec::new(),
                readers: Vec::new(),
                order: Vec::new(),
                keys: keys.clone(),
                time_dependent: false,
                by_event: HashMap::default(),
                horizon: Vec::new(),
            },
            index: &index,
            keys: &keys,
            deps: Vec::new(),
            computed,
        };
        let mut deps = Vec::with_capacity(segments.len());
        for (key, e) in segments {
            let mut prog = Vec::new();
            c.deps.clear();
            c.compile(e, &format!("audiences.{key}"), &mut prog)?;
            c.plan.programs.push(prog);
            deps.push(std::mem::take(&mut c.deps));
        }
        let mut plan = c.plan;
        plan.order = topo(&keys, &deps)?;
        plan.shapes = plan.programs.iter().map(|p| Shape::of(p)).collect();
        plan.readers = vec![Vec::new(); plan.inputs.len()];
        for (l, leaf) in plan.leaves.iter().enumerate() {
            let (Leaf::Cmp { input, .. } | Leaf::Count { input, .. } | Leaf::Consent { input }) =
                leaf;
            plan.readers[*input].push(l as u32);
        }
        for (i, st) in plan.streams.iter().enumerate() {
            plan.by_event.entry(st.event.clone()).or_default().push(i);
        }
        plan.horizon = (0..plan.streams.len())
            .map(|st| {
                let mut far: Option<i64> = None;
                for input in &plan.inputs {
                    if let Input::Events {
                        stream,
                        window: Some(w),
                    } = input
                        && *stream == st
                    {
                        let seconds = match *w {
                            Window::Within { seconds } => seconds,
                            Window::Between { to_seconds, .. } => to_seconds,
                        };
                        far = Some(far.map_or(seconds, |f| f.max(seconds)));
                    }
                }
                far
            })
            .collect();
        Ok(plan)
    }

    /// The audience keys, in compilation order.
    #[must_use]
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The event streams whose events `e` counts towards.
    pub(crate) fn streams_of(&self, e: &TraitEvent, out: &mut Vec<usize>) {
        out.clear();
        let Some(list) = e.name.as_deref().and_then(|n| self.by_event.get(n)) else {
            return;
        };
        // `by_event` matched the name; each property the filters read is looked
        // up (and its number read) once, however many streams filter on it.
        let mut read: Vec<(&str, Cell<'_>)> = Vec::new();
        for &i in list {
            let stream = &self.streams[i];
            let pass = stream
                .filters
                .iter()
                .zip(&stream.bounds)
                .all(|(f, bounds)| {
                    let cell = match read.iter().find(|(path, _)| *path == f.name) {
                        Some((_, cell)) => *cell,
                        None => {
                            let cell = Cell::json(lookup(&e.properties, &f.name)).read_number();
                            read.push((&f.name, cell));
                            cell
                        }
                    };
                    matches_int(cell, f.op, f.value.as_ref(), *bounds)
                });
            if pass {
                out.push(i);
            }
        }
    }

    /// Evaluates every segment for one profile. `count(stream, window)` returns the
    /// number of the profile's matching events in the window at `now`. Sets bit
    /// `i` of `out` for membership of segment `i`.
    pub(crate) fn eval_profile(
        &self,
        profile: &Profile,
        computed: &ComputedTraits,
        counts: &[u64],
        now: DateTime<Utc>,
        out: &mut [u64],
        scratch: &mut Scratch,
    ) {
        out.iter_mut().for_each(|w| *w = 0);
        let Scratch { leaves, stack } = scratch;
        leaves.clear();
        leaves.resize(self.leaves.len(), false);
        // Each input is read once (a trait looked up and its number read once),
        // then every leaf reading it is evaluated.
        for (input, readers) in self.inputs.iter().zip(&self.readers) {
            match input {
                Input::Trait(name) => {
                    let cell = Cell::json(profile.trait_value(name)).read_number();
                    self.compare(readers, cell, leaves);
                }
                Input::Computed(name) => {
                    let v = match profile.computed.get(name) {
                        Some(st) => st.value(now),
                        None => match computed.definitions().iter().find(|d| d.name() == name) {
                            Some(d) => d.new_state().value(now),
                            None => crate::computed::ComputedValue::Null,
                        },
                    };
                    self.compare(readers, Cell::computed(&v).read_number(), leaves);
                }
                Input::Consent(cat) => {
                    let granted = profile.consent_granted(cat) == Some(true);
                    for &l in readers {
                        leaves[l as usize] = granted;
                    }
                }
                Input::Events { .. } => {
                    for &l in readers {
                        if let Leaf::Count { input, count } = &self.leaves[l as usize] {
                            leaves[l as usize] =
                                count.holds(counts.get(*input).copied().unwrap_or(0));
                        }
                    }
                }
            }
        }
        for &s in &self.order {
            let member = match &self.shapes[s] {
                Shape::Leaf(l) => leaves[*l as usize],
                Shape::All(ls) => ls.iter().all(|l| leaves[*l as usize]),
                Shape::Any(ls) => ls.iter().any(|l| leaves[*l as usize]),
                Shape::Program => Self::run(&self.programs[s], leaves, out, stack),
            };
            if member {
                out[s / 64] |= 1 << (s % 64);
            }
        }
    }

    /// Runs one program on evaluated leaves and the audiences done so far.
    fn run(program: &[Instr], leaves: &[bool], done: &[u64], stack: &mut Vec<bool>) -> bool {
        stack.clear();
        for ins in program {
            match *ins {
                Instr::Leaf(l) => stack.push(leaves[l as usize]),
                Instr::Audience(a) => stack.push(done[a as usize / 64] >> (a % 64) & 1 == 1),
                Instr::And(n) => {
                    let at = stack.len() - n as usize;
                    let v = stack[at..].iter().all(|b| *b);
                    stack.truncate(at);
                    stack.push(v);
                }
                Instr::Or(n) => {
                    let at = stack.len() - n as usize;
                    let v = stack[at..].iter().any(|b| *b);
                    stack.truncate(at);
                    stack.push(v);
                }
                Instr::Not => {
                    if let Some(b) = stack.last_mut() {
                        *b = !*b;
                    }
                }
            }
        }
        stack.pop() == Some(true)
    }

    /// Evaluates comparison leaves `readers` on one value.
    fn compare(&self, readers: &[u32], cell: Cell<'_>, leaves: &mut [bool]) {
        for &l in readers {
            if let Leaf::Cmp {
                op, lit, bounds, ..
            } = &self.leaves[l as usize]
            {
                leaves[l as usize] = matches_int(cell, *op, lit.as_ref(), *bounds);
            }
        }
    }

    /// Evaluates every segment over a table whose columns are aligned with the
    /// plan's inputs; one bitmap per segment, in compilation order.
    pub(crate) fn eval_columns(&self, rows: usize, cols: &[&Column]) -> Vec<Bitmap> {
        let words = rows.div_ceil(64);
        let nseg = self.programs.len();
        let mut out: Vec<Vec<u64>> = vec![vec![0u64; words]; nseg];
        let blocks = rows.div_ceil(BLOCK);
        // One block is one worker: asking the system for its parallelism reads
        // files (the cgroup's CPU quota) and would cost more than a small table.
        let threads = if blocks <= 1 {
            1
        } else {
            std::thread::available_parallelism()
                .map(std::num::NonZero::get)
                .unwrap_or(1)
                .min(blocks)
        };
        // Each worker takes a contiguous range of blocks and writes its own slice
        // of every output bitmap.
        let per = blocks.div_ceil(threads.max(1)).max(1);
        let mut slices: Vec<Vec<&mut [u64]>> = (0..threads).map(|_| Vec::new()).collect();
        for bm in &mut out {
            let mut rest: &mut [u64] = bm;
            for (t, slot) in slices.iter_mut().enumerate() {
                let first = (t * per * BLOCK_WORDS).min(words);
                let last = ((t + 1) * per * BLOCK_WORDS).min(words);
                let (mine, tail) = rest.split_at_mut(last - first);
                slot.push(mine);
                rest = tail;
            }
        }
        let work = |t: usize, mut mine: Vec<&mut [u64]>| {
            let first_block = t * per;
            let last_block = ((t + 1) * per).min(blocks);
            let mut leaf_bits = vec![[0u64; BLOCK_WORDS]; self.leaves.len()];
            let mut seg_bits = vec![[0u64; BLOCK_WORDS]; nseg];
            let mut stack: Vec<[u64; BLOCK_WORDS]> = Vec::with_capacity(16);
            for b in first_block..last_block {
                let start = b * BLOCK;
                let n = BLOCK.min(rows - start);
                for (l, bits) in leaf_bits.iter_mut().enumerate() {
                    self.leaf_block(l, cols, start, n, bits);
                }
                for &s in &self.order {
                    stack.clear();
                    for ins in &self.programs[s] {
                        match *ins {
                            Instr::Leaf(l) => stack.push(leaf_bits[l as usize]),
                            Instr::Audience(a) => stack.push(seg_bits[a as usize]),
                            Instr::And(k) | Instr::Or(k) => {
                                let at = stack.len() - k as usize;
                                let mut acc = stack[at];
                                for x in &stack[at + 1..] {
                                    for (a, w) in acc.iter_mut().zip(x) {
                                        if matches!(ins, Instr::And(_)) {
                                            *a &= w;
                                        } else {
                                            *a |= w;
                                        }
                                    }
                                }
                                stack.truncate(at);
                                stack.push(acc);
                            }
                            Instr::Not => {
                                if let Some(top) = stack.last_mut() {
                                    top.iter_mut().for_each(|w| *w = !*w);
                                }
                            }
                        }
                    }
                    let mut bits = stack.pop().unwrap_or([0; BLOCK_WORDS]);
                    // clear bits past the last row
                    let used = n.div_ceil(64);
                    if !n.is_multiple_of(64) {
                        bits[used - 1] &= (1u64 << (n % 64)) - 1;
                    }
                    bits[used..].iter_mut().for_each(|w| *w = 0);
                    seg_bits[s] = bits;
                    let off = (b - first_block) * BLOCK_WORDS;
                    mine[s][off..off + used].copy_from_slice(&bits[..used]);
                }
            }
        };
        if threads <= 1 {
            // One worker (one core, or wasm32, where no thread can be spawned): in line.
            for (t, mine) in slices.into_iter().enumerate() {
                work(t, mine);
            }
        } else {
            std::thread::scope(|sc| {
                for (t, mine) in slices.into_iter().enumerate() {
                    let work = &work;
                    sc.spawn(move || work(t, mine));
                }
            });
        }
        out.into_iter()
            .map(|words| Bitmap { words, len: rows })
            .collect()
    }

    // Float columns compare exactly with the literal's nearest `f64`, as documented.
    #[allow(clippy::float_cmp)]
    fn leaf_block(
        &self,
        l: usize,
        cols: &[&Column],
        start: usize,
        n: usize,
        out: &mut [u64; BLOCK_WORDS],
    ) {
        out.iter_mut().for_each(|w| *w = 0);
        let (input, op, lit, count) = match &self.leaves[l] {
            Leaf::Cmp { input, op, lit, .. } => (*input, *op, lit.as_ref(), None),
            Leaf::Count { input, count } => (*input, CmpOp::Exists, None, Some(*count)),
            Leaf::Consent { input } => (*input, CmpOp::Eq, None, None),
        };
        let col = cols[input];
        let range = start..start + n;
        if let Some(c) = count {
            if let Column::Count(xs) = col {
                pack(out, &xs[range], |x| c.holds(u64::from(*x)));
            }
            return;
        }
        if matches!(self.leaves[l], Leaf::Consent { .. }) {
            if let Column::Bool(xs) = col {
                pack(out, &xs[range], |x| *x == Some(true));
            }
            return;
        }
        match (col, lit) {
            (Column::Dictionary { codes, values }, _) => {
                let hit: Vec<bool> = values
                    .iter()
                    .map(|v| matches(Cell::Str(v), op, lit))
                    .collect();
                let missing = matches(Cell::Missing, op, lit);
                pack(out, &codes[range], |c| {
                    hit.get(*c as usize).copied().unwrap_or(missing)
                });
            }
            (Column::F64(xs), Some(Literal::Number(d))) if is_order(op) => {
                let t = d.to_f64().unwrap_or(f64::NAN);
                let xs = &xs[range];
                match op {
                    CmpOp::Eq => pack(out, xs, |x| *x == t),
                    CmpOp::Ne => pack(out, xs, |x| *x != t),
                    CmpOp::Lt => pack(out, xs, |x| *x < t),
                    CmpOp::Le => pack(out, xs, |x| *x <= t),
                    CmpOp::Gt => pack(out, xs, |x| *x > t),
                    _ => pack(out, xs, |x| *x >= t),
                }
            }
            (Column::I64(xs), Some(Literal::Number(d)))
                if is_order(op) && d.floor().to_i64().is_some() =>
            {
                let (f, exact) = floor_i64(*d);
                let xs = &xs[range];
                match op {
                    CmpOp::Eq => pack(out, xs, |x| exact && *x == Some(f)),
                    CmpOp::Ne => pack(out, xs, |x| !(exact && *x == Some(f))),
                    CmpOp::Lt if exact => pack(out, xs, |x| x.is_some_and(|x| x < f)),
                    CmpOp::Lt | CmpOp::Le => pack(out, xs, |x| x.is_some_and(|x| x <= f)),
                    CmpOp::Gt => pack(out, xs, |x| x.is_some_and(|x| x > f)),
                    _ if exact => pack(out, xs, |x| x.is_some_and(|x| x >= f)),
                    _ => pack(out, xs, |x| x.is_some_and(|x| x > f)),
                }
            }
            (Column::Str(xs), Some(Literal::String(s)))
                if matches!(
                    op,
                    CmpOp::Eq | CmpOp::Ne | CmpOp::StartsWith | CmpOp::Contains
                ) =>
            {
                let xs = &xs[range];
                let s = s.as_str();
                match op {
                    CmpOp::Eq => pack(out, xs, |x| x.as_deref() == Some(s)),
                    CmpOp::Ne => pack(out, xs, |x| x.as_deref() != Some(s)),
                    CmpOp::StartsWith => {
                        pack(out, xs, |x| x.as_deref().is_some_and(|x| x.starts_with(s)));
                    }
                    _ => pack(out, xs, |x| x.as_deref().is_some_and(|x| x.contains(s))),
                }
            }
            (Column::Bool(xs), Some(Literal::Bool(b))) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                let b = *b;
                if op == CmpOp::Eq {
                    pack(out, &xs[range], |x| *x == Some(b));
                } else {
                    pack(out, &xs[range], |x| *x != Some(b));
                }
            }
            _ => {
                for i in 0..n {
                    if col.with_cell(start + i, |c| matches(c, op, lit)) {
                        out[i / 64] |= 1 << (i % 64);
                    }
                }
            }
        }
    }
}

fn is_order(op: CmpOp) -> bool {
    matches!(
        op,
        CmpOp::Eq | CmpOp::Ne | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge
    )
}

/// `(floor(d), d is an integer)` (callers check that the floor fits an `i64`).
fn floor_i64(d: Decimal) -> (i64, bool) {
    let f = d.floor();
    (f.to_i64().unwrap_or_default(), f == d)
}

#[inline]
fn pack<T>(out: &mut [u64], xs: &[T], f: impl Fn(&T) -> bool) {
    for (w, chunk) in out.iter_mut().zip(xs.chunks(64)) {
        let mut word = 0u64;
        for (j, x) in chunk.iter().enumerate() {
            word |= u64::from(f(x)) << j;
        }
        *w = word;
    }
}

/// A typed column of profile values (one entry per row).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Floats; `NaN` is missing. Compare with the literal's nearest `f64`.
    F64(Vec<f64>),
    /// Integers (exact comparisons).
    I64(Vec<Option<i64>>),
    /// Exact decimals.
    Decimal(Vec<Option<Decimal>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Strings.
    Str(Vec<Option<String>>),
    /// Dictionary-encoded strings: `codes[i]` indexes `values`, `u32::MAX` is
    /// missing ([`Column::dictionary`] builds it from [`Column::Str`]).
    Dictionary {
        /// One code per row.
        codes: Vec<u32>,
        /// The distinct values.
        values: Vec<String>,
    },
    /// Instants.
    Timestamp(Vec<Option<DateTime<Utc>>>),
    /// JSON values (lists, mixed types).
    Json(Vec<Option<Value>>),
    /// Computed-trait values.
    Computed(Vec<crate::computed::ComputedValue>),
    /// Event counts (the counts of an event condition's window).
    Count(Vec<u32>),
}

impl Column {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::F64(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::Decimal(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Str(v) => v.len(),
            Self::Dictionary { codes, .. } => codes.len(),
            Self::Timestamp(v) => v.len(),
            Self::Json(v) => v.len(),
            Self::Computed(v) => v.len(),
            Self::Count(v) => v.len(),
        }
    }

    /// A string column dictionary-encoded (other columns unchanged): every
    /// condition on it is then evaluated once per distinct value, and per row by
    /// a table lookup.
    #[must_use]
    pub fn dictionary(self) -> Self {
        let Self::Str(v) = self else { return self };
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut values = Vec::new();
        let codes = v
            .into_iter()
            .map(|s| match s {
                None => u32::MAX,
                Some(s) => *index.entry(s).or_insert_with_key(|k| {
                    values.push(k.clone());
                    (values.len() - 1) as u32
                }),
            })
            .collect();
        Self::Dictionary { codes, values }
    }

    /// Whether the column has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with_cell<R>(&self, i: usize, f: impl FnOnce(Cell<'_>) -> R) -> R {
        match self {
            Self::F64(v) => f(Cell::F64(v[i])),
            Self::I64(v) => f(v[i].map_or(Cell::Missing, Cell::Int)),
            Self::Decimal(v) => f(v[i].map_or(Cell::Missing, Cell::Num)),
            Self::Bool(v) => f(v[i].map_or(Cell::Missing, Cell::Bool)),
            Self::Str(v) => f(v[i].as_deref().map_or(Cell::Missing, Cell::Str)),
            Self::Dictionary { codes, values } => f(values
                .get(codes[i] as usize)
                .map_or(Cell::Missing, |s| Cell::Str(s))),
            Self::Timestamp(v) => f(v[i].map_or(Cell::Missing, Cell::Time)),
            Self::Json(v) => f(Cell::json(v[i].as_ref())),
            Self::Computed(v) => f(Cell::computed(&v[i])),
            Self::Count(v) => f(Cell::Int(i64::from(v[i]))),
        }
    }
}

/// One bit per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `i`'s bit (`false` past the end).
    #[must_use]
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Number of set bits.
    #[must_use]
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The bits as booleans.
    #[must_use]
    pub fn to_bools(&self) -> Vec<bool> {
        (0..self.len).map(|i| self.get(i)).collect()
    }

    /// The 64-bit words (row `i` is bit `i % 64` of word `i / 64`).
    #[must_use]
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}
