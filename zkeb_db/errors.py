"""The one registry of zkeb-db's SQLSTATEs and the one place that maps them.

Every expected failure in the SQL raises a SQLSTATE of class ``ZK``
(``RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = ...``, data in DETAIL
or HINT). :data:`REGISTRY` lists each code with its meaning and the Python
exception it becomes; :func:`wrap_errors` is the boundary that turns a
psycopg error into that exception. Nothing ever parses message text.

psycopg does not know the ``ZK`` codes and hands them over as a plain
:class:`psycopg.DatabaseError`; :func:`wrap_errors` reads
``exc.diag.sqlstate`` instead of the psycopg class. Input that fails the
caller's cast before a function runs (unparsable JSON, an invalid uuid
string, an integer overflow) arrives with PostgreSQL's own class ``22``
codes and is reported as :class:`InvalidInput` too. Any other error passes
through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import ClassVar

import psycopg

__all__ = [
    "REGISTRY",
    "Conflict",
    "ErrorCode",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "QuotaExceeded",
    "RateLimited",
    "Unauthenticated",
    "ZkebError",
    "exception_class",
    "from_psycopg",
    "wrap_errors",
]


class ZkebError(Exception):
    """Base class of every error zkeb-db reports.

    ``sqlstate`` is the SQLSTATE the database raised (``None`` when the
    client itself decided, e.g. a ``login`` answered ``denied``);
    ``message``, ``detail`` and ``hint`` are the server's fields.
    """

    code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate if sqlstate is not None else self.code
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.detail:
            text += f" ({self.detail})"
        return text


class Unauthenticated(ZkebError):
    """ZK401: no valid session (NULL, empty, unknown, expired or revoked token)."""

    code = "ZK401"


class Forbidden(ZkebError):
    """ZK403: allowed to nobody in this state (revoked device, suspended account...)."""

    code = "ZK403"


class NotFound(ZkebError):
    """ZK404: no such object for this tenant (another tenant's id looks the same)."""

    code = "ZK404"


class Conflict(ZkebError):
    """ZK409: duplicate username hash, same id with other content, stale sync write."""

    code = "ZK409"


class QuotaExceeded(ZkebError):
    """ZK413: quota exceeded or object too large."""

    code = "ZK413"


class InvalidInput(ZkebError):
    """ZK422 (or a PostgreSQL class 22 cast error): invalid input, nothing written."""

    code = "ZK422"


class RateLimited(ZkebError):
    """ZK429: rate limited; the client raises it for a ``login`` answered ``locked``."""

    code = "ZK429"

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message, sqlstate=sqlstate, detail=detail, hint=hint)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ErrorCode:
    """One registered SQLSTATE: the code, what it means, the exception it becomes."""

    code: str
    meaning: str
    exception: type[ZkebError]


# The code of each entry is its exception class's ``code``: written once.
REGISTRY: Mapping[str, ErrorCode] = MappingProxyType(
    {
        cls.code: ErrorCode(cls.code, meaning, cls)
        for cls, meaning in (
            (Unauthenticated,
             "no valid session (NULL, empty, unknown, expired or revoked token)"),
            (Forbidden,
             "allowed to nobody in this state: revoked device, suspended account, "
             "not the owner"),
            (NotFound,
             "no such object for this tenant (another tenant's id looks exactly like a "
             "missing one)"),
            (Conflict,
             "conflict: duplicate username hash, same id with different content, "
             "stale sync write"),
            (QuotaExceeded,
             "quota exceeded or object too large"),
            (InvalidInput,
             "invalid input: wrong length, negative, out of range, JSON of the wrong "
             "shape, bad threshold"),
            (RateLimited,
             "rate limited (reserved; login reports a lockout as status locked)"),
        )
    }
)

# PostgreSQL's "data exception" class: a value that does not even cast to the
# argument's type fails before the function runs.
_DATA_EXCEPTION_CLASS = "22"
# A value nested too deeply to parse (e.g. JSON 100,000 levels deep) fails the
# caller's cast with 54001 statement_too_complex: still input that could not
# be turned into the argument's type.
_CAST_FAILURES_OUTSIDE_22 = frozenset({"54001"})


def exception_class(sqlstate: str | None) -> type[ZkebError] | None:
    """The exception class for a SQLSTATE, or ``None`` when it is not ours to map."""
    if not sqlstate:
        return None
    entry = REGISTRY.get(sqlstate)
    if entry is not None:
        return entry.exception
    if sqlstate.startswith(_DATA_EXCEPTION_CLASS) or sqlstate in _CAST_FAILURES_OUTSIDE_22:
        return InvalidInput
    return None


def from_psycopg(exc: psycopg.Error) -> ZkebError | None:
    """The :class:`ZkebError` for a psycopg error, or ``None`` to let it pass."""
    diag = exc.diag
    cls = exception_class(diag.sqlstate)
    if cls is None:
        return None
    message = diag.message_primary or str(exc).strip()
    return cls(message, sqlstate=diag.sqlstate, detail=diag.message_detail, hint=diag.message_hint)


@contextmanager
def wrap_errors() -> Iterator[None]:
    """Turn registered SQLSTATEs raised inside the block into :class:`ZkebError`.

    The original psycopg exception is kept as ``__cause__``; anything not
    registered (and not class 22) is re-raised unchanged.
    """
    try:
        yield
    except psycopg.Error as exc:
        converted = from_psycopg(exc)
        if converted is None:
            raise
        raise converted from exc
