"""Exceptions raised by Stratum.

Every error is a :class:`StratumError` with a stable machine-readable ``code`` (the
same string the Rust crates return from ``Error::code``) and, where the error is
about one field, the dotted path of that field in ``field``. Each kind has its own
subclass; input and configuration errors are also :class:`ValueError`.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "StratumError",
    "InvalidConfigError",
    "InvalidJsonError",
    "InvalidTypeError",
    "InvalidObservationError",
    "InvalidActionError",
    "OverrideRefusedError",
    "AuditIntegrityError",
    "AuditIoError",
    "AuditLockedError",
    "MissingRequiredFieldError",
    "EventTooOldError",
    "EventInFutureError",
    "InsufficientCustomerInfoError",
    "InvalidCurrencyError",
    "InvalidValueError",
    "InvalidMessageError",
    "MissingIdentityError",
    "InvalidTimestampError",
    "TooLargeError",
    "InvalidEncodingError",
    "InvalidDefinitionError",
    "NotFoundError",
    "CapacityExceededError",
    "UnknownFieldError",
    "UnknownPlatformError",
    "InternalError",
    "InvalidTimeError",
    "StaleHealthError",
    "HealthConfigMismatchError",
    "NotPermittedError",
    "SegmentSyntaxError",
    "UnknownNameError",
    "TypeMismatchError",
    "SegmentCycleError",
    "SegmentLimitError",
    "ERRORS_BY_CODE",
]


class StratumError(Exception):
    """Base class of every Stratum error.

    ``code`` is stable across releases; ``field`` names the offending field, or is
    ``None`` when the error is not about one field.
    """

    code: str = "stratum_error"

    def __init__(self, message: str, code: Optional[str] = None, field: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.field: Optional[str] = field

    def __reduce__(
        self,
    ) -> Tuple[Type["StratumError"], Tuple[str, str, Optional[str]], Dict[str, Any]]:
        # keeps code, field and every other attribute (e.g. `AuditIntegrityError.index`)
        # through pickling (multiprocessing)
        return (type(self), (str(self), self.code, self.field), dict(self.__dict__))


class InvalidConfigError(StratumError, ValueError):
    """A configuration value is out of range or inconsistent (``invalid_config``)."""

    code = "invalid_config"


class InvalidJsonError(StratumError, ValueError):
    """A document does not have the expected shape (``invalid_json``)."""

    code = "invalid_json"


class InvalidTypeError(InvalidJsonError, TypeError):
    """An argument or a value of the wrong type, e.g. ``bytes`` or ``None`` where a
    ``str`` is expected, or ``True`` where an ``int`` is (``invalid_json``; also a
    :class:`TypeError`)."""

    code = "invalid_json"


class InvalidObservationError(StratumError, ValueError):
    """A signal observation is malformed (``invalid_observation``)."""

    code = "invalid_observation"


class InvalidActionError(StratumError, ValueError):
    """A proposed action is malformed (``invalid_action``)."""

    code = "invalid_action"


class OverrideRefusedError(StratumError):
    """An override request was refused (``override_refused``)."""

    code = "override_refused"


class AuditIntegrityError(StratumError):
    """The audit chain does not verify (``audit_integrity``); ``index`` is the first bad record."""

    code = "audit_integrity"


class AuditIoError(StratumError, OSError):
    """Reading or writing the audit log failed (``audit_io``)."""

    code = "audit_io"


class AuditLockedError(StratumError):
    """Another writer holds the audit log file (``audit_locked``): one writer per log."""

    code = "audit_locked"


class MissingRequiredFieldError(StratumError, ValueError):
    """An event lacks a field the platform requires (``missing_required_field``)."""

    code = "missing_required_field"


class EventTooOldError(StratumError, ValueError):
    """An event is older than the platform accepts (``event_too_old``)."""

    code = "event_too_old"


class EventInFutureError(StratumError, ValueError):
    """An event lies in the future (``event_in_future``)."""

    code = "event_in_future"


class InsufficientCustomerInfoError(StratumError, ValueError):
    """Too little customer information to match (``insufficient_customer_info``)."""

    code = "insufficient_customer_info"


class InvalidCurrencyError(StratumError, ValueError):
    """Not an active ISO 4217 currency code (``invalid_currency``)."""

    code = "invalid_currency"


class InvalidValueError(StratumError, ValueError):
    """A value is out of range (``invalid_value``)."""

    code = "invalid_value"


class InvalidMessageError(StratumError, ValueError):
    """A CDP message is malformed (``invalid_message``)."""

    code = "invalid_message"


class MissingIdentityError(StratumError, ValueError):
    """A CDP message has neither ``userId`` nor ``anonymousId`` (``missing_identity``)."""

    code = "missing_identity"


class InvalidTimestampError(StratumError, ValueError):
    """A timestamp cannot be parsed (``invalid_timestamp``)."""

    code = "invalid_timestamp"


class TooLargeError(StratumError, ValueError):
    """An input exceeds a size limit (``too_large``)."""

    code = "too_large"


class InvalidEncodingError(StratumError, ValueError):
    """A body's ``Content-Encoding`` is unsupported or its data is corrupt (``invalid_encoding``)."""

    code = "invalid_encoding"


class InvalidDefinitionError(StratumError, ValueError):
    """A computed-trait definition is invalid (``invalid_definition``)."""

    code = "invalid_definition"


class NotFoundError(StratumError, LookupError):
    """A referenced item does not exist (``not_found``)."""

    code = "not_found"


class CapacityExceededError(StratumError):
    """A configured capacity was exceeded (``capacity_exceeded``)."""

    code = "capacity_exceeded"


class UnknownFieldError(StratumError, ValueError):
    """A customer-information field name that is neither ours nor a platform's key (``unknown_field``)."""

    code = "unknown_field"


class UnknownPlatformError(StratumError, ValueError):
    """A platform name that is unknown or not compiled in (``unknown_platform``)."""

    code = "unknown_platform"


class InternalError(StratumError):
    """An internal failure (a bug): please report it with the input (``internal``)."""

    code = "internal"


class InvalidTimeError(StratumError, ValueError):
    """A time argument is not a usable point in time: NaN, out of range, a bool, a date
    without a time, a naive datetime or one whose tzinfo gives no offset (``invalid_time``)."""

    code = "invalid_time"


class StaleHealthError(StratumError, ValueError):
    """A precomputed health report was scored after ``now`` or is older than the gate's
    ``max_signal_age`` (``stale_health``)."""

    code = "stale_health"


class HealthConfigMismatchError(StratumError, ValueError):
    """A health report was scored under another health config than the gate's own
    (``health_config_mismatch``)."""

    code = "health_config_mismatch"


class NotPermittedError(StratumError):
    """The actor may not do this, e.g. automation changing the gate's config
    (``not_permitted``)."""

    code = "not_permitted"


class SegmentSyntaxError(StratumError, ValueError):
    """Segment text does not parse (``segment_syntax``); ``field`` is
    ``"line:column"``, also given as :attr:`line` and :attr:`column`."""

    code = "segment_syntax"

    @property
    def line(self) -> Optional[int]:
        """1-based line of the offending token."""
        return _position(self.field, 0)

    @property
    def column(self) -> Optional[int]:
        """1-based column of the offending token."""
        return _position(self.field, 1)


def _position(field: Optional[str], i: int) -> Optional[int]:
    parts = (field or "").split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[i])


class UnknownNameError(StratumError, ValueError):
    """A segment names an undeclared trait, event, property, computed trait,
    audience or column (``unknown_name``); the message suggests the closest name."""

    code = "unknown_name"


class TypeMismatchError(StratumError, TypeError, ValueError):
    """An operator and a value or declared type do not fit (``type_mismatch``)."""

    code = "type_mismatch"


class SegmentCycleError(StratumError, ValueError):
    """Audiences reference each other in a cycle (``segment_cycle``)."""

    code = "segment_cycle"


class SegmentLimitError(StratumError, ValueError):
    """A segment exceeds a limit: nesting, literal size, window (``segment_limit``)."""

    code = "segment_limit"


ERRORS_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidConfigError,
        InvalidJsonError,
        InvalidObservationError,
        InvalidActionError,
        OverrideRefusedError,
        AuditIntegrityError,
        AuditIoError,
        AuditLockedError,
        MissingRequiredFieldError,
        EventTooOldError,
        EventInFutureError,
        InsufficientCustomerInfoError,
        InvalidCurrencyError,
        InvalidValueError,
        InvalidMessageError,
        MissingIdentityError,
        InvalidTimestampError,
        TooLargeError,
        InvalidEncodingError,
        InvalidDefinitionError,
        NotFoundError,
        CapacityExceededError,
        UnknownFieldError,
        UnknownPlatformError,
        InternalError,
        InvalidTimeError,
        StaleHealthError,
        HealthConfigMismatchError,
        NotPermittedError,
        SegmentSyntaxError,
        UnknownNameError,
        TypeMismatchError,
        SegmentCycleError,
        SegmentLimitError,
    )
}


def _make(code: str, message: str, field: Optional[str]) -> StratumError:
    """Builds the exception for ``code`` (used by the native module)."""
    cls = ERRORS_BY_CODE.get(code, StratumError)
    return cls(message, code, field)


def _json_default(value: object) -> object:
    """``json.dumps`` fallback for the types the JSON form accepts beyond JSON's own:
    ``datetime``, ``date`` and ``time`` as ISO 8601, ``Decimal`` as its exact text,
    and numpy scalars (numbers and bools, as pandas gives them) as the Python number
    they hold. Anything else (``bytes``, sets, arbitrary objects) raises ``TypeError``,
    which the caller turns into :class:`InvalidJsonError` naming the path; it is
    never silently converted with ``str()``."""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _decimal.Decimal):
        return str(value)
    item = _numpy_item(value)
    if item is not _UNSUPPORTED:
        return item
    raise TypeError(f"{_type_name(value)} is not a JSON value")


_UNSUPPORTED = object()


def _numpy_item(value: object) -> object:
    """The Python ``bool``/``int``/``float`` held by a numpy scalar (``np.int64``,
    ``np.float32``, ``np.bool_``), without importing numpy; ``_UNSUPPORTED`` for
    anything else (including numpy datetimes, whose ``.item()`` may be an int of
    nanoseconds)."""
    names = {(c.__module__, c.__name__) for c in type(value).__mro__}
    if ("numpy", "generic") not in names:
        return _UNSUPPORTED
    if not (("numpy", "number") in names or ("numpy", "bool_") in names
            or ("numpy", "bool") in names):
        return _UNSUPPORTED
    item = getattr(value, "item", None)
    if not callable(item):
        return _UNSUPPORTED
    out = item()
    if isinstance(out, (bool, int, float)):
        return out
    return _UNSUPPORTED


def _type_name(value: object) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _json_error(obj: object, cause: BaseException) -> StratumError:
    """The :class:`InvalidJsonError` for a document ``json.dumps`` refused (``cause``):
    the path of the first value or key that is not JSON, and its type."""
    found = _first_unsupported(obj, "", set())
    if found is None:
        return InvalidJsonError(f"invalid input: cannot convert to JSON: {cause}", "invalid_json", None)
    path, problem = found
    at = f" at `{path}`" if path else ""
    return InvalidJsonError(
        f"invalid input{at}: {problem}; expected a dict, list, str, int, float, bool, None, "
        "datetime or Decimal (decode bytes first)",
        "invalid_json",
        path or None,
    )


def _join(path: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _first_unsupported(obj: object, path: str, seen: set) -> Optional[Tuple[str, str]]:
    """Where ``obj`` holds something ``json.dumps`` with :func:`_json_default`
    refuses: a key that is not a str, int, float, bool or None, a value of another
    type, or a container that contains itself."""
    if obj is None or isinstance(obj, (str, int, float)):
        return None
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in seen:
            return path, "the structure contains itself (a circular reference)"
        seen.add(id(obj))
        try:
            if isinstance(obj, dict):
                for k, v in obj.items():
                    if not (k is None or isinstance(k, (str, int, float))):
                        return path, f"a key of type {_type_name(k)} ({k!r:.40}); keys must be str"
                    found = _first_unsupported(v, _join(path, k if isinstance(k, str) else str(k)), seen)
                    if found is not None:
                        return found
            else:
                for i, v in enumerate(obj):
                    found = _first_unsupported(v, f"{path}[{i}]", seen)
                    if found is not None:
                        return found
        finally:
            seen.discard(id(obj))
        return None
    try:
        converted = _json_default(obj)
    except TypeError:
        return path, f"a value of type {_type_name(obj)} is not a JSON value"
    return _first_unsupported(converted, path, seen)
