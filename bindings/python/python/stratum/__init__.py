"""Stratum: automation executes only when the signals it acts on are healthy.

Signal health scoring, the trust gate, guardrails, the hash-chained audit log and
backtests (``stratum-core``); conversion-API normalisation, hashing, EMQ reports and
payloads for conversions and audience uploads (``stratum-connectors``); Segment
messages, de-duplication, identity resolution, segments and audiences
(``stratum-cdp``).

Configuration and single documents are dicts in the JSON form documented for the
Rust crates. Batches cross into the native code once: lists, or Arrow-compatible
columns and tables (pyarrow, polars, pandas), returned as the kind passed in.
"""

from __future__ import annotations

from . import errors
from ._native import (
    FIELDS,
    PLATFORMS,
    ArrowArray,
    Audiences,
    AuditLog,
    Autopilot,
    Cdp,
    Decision,
    Deduplicator,
    Guardrails,
    HealthConfig,
    HealthReport,
    IdentityGraph,
    Message,
    Normalizer,
    ProposedAction,
    Segment,
    Signals,
    TrustGate,
    __version__,
    attribute,
    backtest,
    build_audience,
    build_payloads,
    compare_configs,
    detect_anomalies,
    emq_score,
    parse_batch,
    parse_message,
    sha256_hex,
    verify_chain,
)
from .batch import emq_report, normalize_batch, resolve_identities
from .segments import evaluate_segments
from .errors import (
    AuditIntegrityError,
    InternalError,
    InvalidActionError,
    InvalidConfigError,
    InvalidJsonError,
    InvalidObservationError,
    StratumError,
)

__all__ = [
    "FIELDS",
    "PLATFORMS",
    "ArrowArray",
    "Audiences",
    "AuditIntegrityError",
    "AuditLog",
    "Autopilot",
    "Cdp",
    "Decision",
    "Deduplicator",
    "Guardrails",
    "HealthConfig",
    "HealthReport",
    "IdentityGraph",
    "InternalError",
    "InvalidActionError",
    "InvalidConfigError",
    "InvalidJsonError",
    "InvalidObservationError",
    "Message",
    "Normalizer",
    "ProposedAction",
    "Segment",
    "Signals",
    "StratumError",
    "TrustGate",
    "__version__",
    "attribute",
    "backtest",
    "build_audience",
    "build_payloads",
    "compare_configs",
    "detect_anomalies",
    "emq_report",
    "emq_score",
    "errors",
    "evaluate_segments",
    "normalize_batch",
    "parse_batch",
    "parse_message",
    "resolve_identities",
    "sha256_hex",
    "verify_chain",
]
