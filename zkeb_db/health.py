"""Operational health of a zkeb-db database (``zkeb-db health``).

``collect_health(conn)`` gathers, each from one query in
``zkeb_db/sql/health_*.sql``:

- ``cache``: the database's buffer cache hit ratio;
- ``hot_indexes``: use (``idx_scan``) and size of the indexes the API and
  maintenance depend on (a hot index that is missing is reported, not
  skipped);
- ``indexes`` and ``tables``: sizes, live and dead tuples, vacuum times;
- ``oldest_transaction``: the oldest open transaction of the cluster;
- ``maintenance_backlog``: rows waiting for ``zkeb-db maintain``;
- ``audit_chain``: ``zkeb_maint.verify_audit_chain()``.

A section that cannot be collected (missing privilege, missing function)
is ``null`` and its error is listed under ``errors`` (or under ``skipped``
when the role may not read it); the others are still reported.
``failures`` lists what should page someone (a broken audit chain, a
section that failed); ``warnings`` what deserves a look.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

T = TypeVar("T")

PROJECT_SCHEMAS: tuple[str, ...] = ("zkeb", "zkeb_private", "zkeb_api", "zkeb_maint")

# The indexes every API call or maintenance batch leans on.
HOT_INDEXES: tuple[str, ...] = (
    "zkeb.users_pkey",
    "zkeb.users_username_hash_key",
    "zkeb.sessions_pkey",
    "zkeb.sessions_expires_at_idx",
    "zkeb.devices_pkey",
    "zkeb.encrypted_backups_pkey",
    "zkeb.encrypted_backups_list_idx",
    "zkeb.encrypted_backups_name_idx",
    "zkeb.encrypted_backups_expires_at_idx",
    "zkeb.encrypted_backups_deleted_at_idx",
    "zkeb.sync_metadata_pkey",
    "zkeb.sync_metadata_seq_key",
    "zkeb.audit_logs_pkey",
    "zkeb.audit_logs_created_at_idx",
)

# Thresholds for warnings (not failures).
CACHE_HIT_WARN = 0.95
CACHE_MIN_BLOCKS = 10_000
DEAD_RATIO_WARN = 0.2
DEAD_TUPLES_MIN = 10_000
OLDEST_XACT_WARN_SECONDS = 300.0

SECTIONS: tuple[str, ...] = (
    "cache",
    "tables",
    "indexes",
    "hot_indexes",
    "oldest_transaction",
    "maintenance_backlog",
    "audit_chain",
)


def load_sql(name: str) -> str:
    """The text of ``zkeb_db/sql/<name>``."""
    return resources.files("zkeb_db").joinpath("sql", name).read_text(encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _version(num: int) -> str:
    return f"{num // 10000}.{num % 10000}"


def _query(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(load_sql(name).encode(), params or {})
        return [{k: _jsonable(v) for k, v in row.items()} for row in cur.fetchall()]


def _hot_indexes(indexes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_name = {str(i["index"]): i for i in indexes}
    out: list[dict[str, Any]] = []
    for name in HOT_INDEXES:
        row = by_name.get(name)
        if row is None:
            out.append({"index": name, "exists": False, "idx_scan": None, "size_bytes": None})
        else:
            out.append(
                {
                    "index": name,
                    "exists": True,
                    "table": row["table"],
                    "idx_scan": row["idx_scan"],
                    "idx_tup_read": row["idx_tup_read"],
                    "size_bytes": row["size_bytes"],
                    "is_valid": row["is_valid"],
                }
            )
    return out


def _audit_chain(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    bad = [r for r in rows if not r["ok"]]
    return {
        "ok": bool(rows) and not bad,
        "checked_count": sum(int(r["checked_count"] or 0) for r in rows),
        "first_bad_event_id": bad[0]["first_bad_event_id"] if bad else None,
        "rows": list(rows),
    }


def collect_health(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every health section of the database behind ``conn`` (see the module doc).

    ``conn`` must be in autocommit mode so that one failing section does not
    abort the others.
    """
    if not conn.autocommit:
        raise ValueError("collect_health needs an autocommit connection")
    params = {"schemas": list(PROJECT_SCHEMAS)}
    report: dict[str, Any] = {
        "database": conn.info.dbname,
        "server_version": _version(conn.info.server_version),
        "collected_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    errors: dict[str, str] = {}
    skipped: dict[str, str] = {}

    def run(section: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except psycopg.Error as exc:
            sqlstate = exc.sqlstate or "?"
            text = str(exc).strip()
            message = f"{sqlstate}: {text.splitlines()[0] if text else type(exc).__name__}"
            # Not allowed to read it (a monitoring role): say so, it is not a failure.
            # The audit chain is the exception: not being able to verify it is.
            if sqlstate == "42501" and section != "audit_chain":
                skipped[section] = message
            else:
                errors[section] = message
            return None

    cache = run("cache", lambda: _query(conn, "health_cache.sql")[0])
    report["cache_hit_ratio"] = cache["cache_hit_ratio"] if cache else None
    report["cache"] = cache
    report["tables"] = run("tables", lambda: _query(conn, "health_tables.sql", params))
    indexes = run("indexes", lambda: _query(conn, "health_indexes.sql", params))
    report["indexes"] = indexes
    report["hot_indexes"] = _hot_indexes(indexes) if indexes is not None else None
    if indexes is None:
        (skipped if "indexes" in skipped else errors)["hot_indexes"] = (
            skipped.get("indexes") or errors["indexes"]
        )
    report["oldest_transaction"] = run(
        "oldest_transaction", lambda: _query(conn, "health_oldest_transaction.sql")[0]
    )
    report["maintenance_backlog"] = run(
        "maintenance_backlog", lambda: _query(conn, "health_backlog.sql")[0]
    )
    chain_rows = run("audit_chain", lambda: _query(conn, "health_audit_chain.sql"))
    report["audit_chain"] = _audit_chain(chain_rows) if chain_rows is not None else None
    report["errors"] = errors
    report["skipped"] = skipped
    report["warnings"] = _warnings(report)
    report["failures"] = _failures(report)
    report["ok"] = not report["failures"]
    return report


def _warnings(report: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    cache = report.get("cache")
    if cache and cache["cache_hit_ratio"] is not None:
        blocks = int(cache["blks_hit"]) + int(cache["blks_read"])
        if blocks >= CACHE_MIN_BLOCKS and cache["cache_hit_ratio"] < CACHE_HIT_WARN:
            out.append(
                f"cache hit ratio {cache['cache_hit_ratio']:.3f} is below {CACHE_HIT_WARN}"
            )
    for table in report.get("tables") or []:
        if table["dead_tuples"] >= DEAD_TUPLES_MIN and table["dead_ratio"] > DEAD_RATIO_WARN:
            out.append(
                f"{table['table']}: {table['dead_tuples']} dead tuples "
                f"({table['dead_ratio']:.0%}); is autovacuum keeping up?"
            )
    for index in report.get("hot_indexes") or []:
        if not index["exists"]:
            out.append(f"hot index {index['index']} is missing")
        elif not index["is_valid"]:
            out.append(f"hot index {index['index']} is invalid (failed CREATE INDEX CONCURRENTLY?)")
    oldest = report.get("oldest_transaction")
    age = oldest["age_seconds"] if oldest else None
    if oldest and age is not None and age > OLDEST_XACT_WARN_SECONDS:
        out.append(
            f"transaction of pid {oldest['pid']} ({oldest['database']}) open for "
            f"{oldest['age_seconds']:.0f} s: it holds back VACUUM"
        )
    return out


def _failures(report: Mapping[str, Any]) -> list[str]:
    out = [f"{section}: {message}" for section, message in report["errors"].items()]
    chain = report.get("audit_chain")
    if chain is not None and not chain["ok"]:
        out.append(
            "audit chain verification failed"
            + (
                f" (first bad event {chain['first_bad_event_id']})"
                if chain["first_bad_event_id"] is not None
                else ""
            )
        )
    return out


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text (stable key order, for monitoring systems)."""
    return json.dumps(_jsonable(report), indent=2, sort_keys=True)


def _size(n: Any) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def render(report: Mapping[str, Any], console: Any) -> None:
    """Print the report for a human with rich (``console`` is a ``rich.console.Console``)."""
    from rich.table import Table

    console.print(
        f"[bold]zkeb-db health[/bold] of database [cyan]{report['database']}[/cyan] "
        f"(PostgreSQL {report['server_version']})"
    )
    ratio = report.get("cache_hit_ratio")
    console.print(f"cache hit ratio: {'-' if ratio is None else f'{ratio:.4f}'}")

    hot = report.get("hot_indexes")
    if hot is not None:
        t = Table(title="hot indexes", title_justify="left")
        t.add_column("index", no_wrap=True)
        t.add_column("idx_scan", justify="right")
        t.add_column("size", justify="right")
        for i in hot:
            t.add_row(
                i["index"],
                "missing" if not i["exists"] else str(i["idx_scan"]),
                _size(i["size_bytes"]),
            )
        console.print(t)

    tables = report.get("tables")
    if tables is not None:
        t = Table(title="tables", title_justify="left")
        t.add_column("table", no_wrap=True)
        for col in ("live", "dead", "dead %", "table size", "index size"):
            t.add_column(col, justify="right")
        t.add_column("last vacuum")
        for r in tables:
            t.add_row(
                r["table"],
                str(r["live_tuples"]),
                str(r["dead_tuples"]),
                f"{r['dead_ratio']:.1%}",
                _size(r["table_bytes"]),
                _size(r["index_bytes"]),
                (r["last_vacuum"] or "never")[:19],
            )
        console.print(t)

    oldest = report.get("oldest_transaction")
    if oldest is not None:
        if oldest["pid"] is None:
            console.print("oldest open transaction: none")
        else:
            console.print(
                f"oldest open transaction: pid {oldest['pid']} on {oldest['database']} "
                f"({oldest['state']}), open {oldest['age_seconds']:.1f} s, "
                f"{oldest['open_transactions']} open in total"
            )

    backlog = report.get("maintenance_backlog")
    if backlog is not None:
        console.print(
            "waiting for maintenance: "
            f"{backlog['expired_backups']} expired backups "
            f"({_size(backlog['expired_backup_bytes'])}), "
            f"{backlog['trash_past_retention']} trashed past {backlog['trash_retention']} "
            f"({_size(backlog['trash_past_retention_bytes'])}), "
            f"{backlog['expired_sessions']} expired sessions, "
            f"{backlog['audit_rows_past_retention']} audit rows past {backlog['audit_retention']}"
        )

    chain = report.get("audit_chain")
    if chain is not None:
        if chain["ok"]:
            console.print(
                f"audit chain: [green]ok[/green] ({chain['checked_count']} events checked)"
            )
        else:
            console.print(
                f"audit chain: [red]BROKEN[/red], first bad event {chain['first_bad_event_id']}"
            )

    for w in report.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {w}")
    for section, reason in report.get("skipped", {}).items():
        console.print(f"[dim]skipped {section}: {reason}[/dim]")
    for f in report.get("failures", []):
        console.print(f"[red]failure:[/red] {f}")
