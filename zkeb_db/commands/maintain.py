"""``zkeb-db maintain``: run the batched maintenance functions until nothing is left.

Each task calls its ``zkeb_maint`` function, one bounded batch per
transaction, for as long as a batch comes back full; a batch that is not
full means the task is done (rows another worker or an API call holds locked
are skipped by the functions and left for the next run).  Every batch is
logged on the system audit chain by the function itself.

Connect as a login role that is a member of ``zkeb_maintainer``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database
from zkeb_db.errors import ZkebError, wrap_errors

__all__ = ["TASKS", "MaintenanceTask", "TaskResult", "register", "run", "run_tasks"]


@dataclass(frozen=True)
class MaintenanceTask:
    """One maintenance function and how to call it."""

    name: str
    function: str
    description: str
    frees_bytes: bool
    older_than_option: str | None = None


TASKS: tuple[MaintenanceTask, ...] = (
    MaintenanceTask("expired-backups", "zkeb_maint.cleanup_expired_backups",
                    "expired backups", frees_bytes=True),
    MaintenanceTask("trash", "zkeb_maint.purge_trash", "trash past retention",
                    frees_bytes=True, older_than_option="trash_older_than"),
    MaintenanceTask("sessions", "zkeb_maint.purge_expired_sessions", "expired sessions",
                    frees_bytes=False),
    MaintenanceTask("audit", "zkeb_maint.purge_audit_logs", "audit events past retention",
                    frees_bytes=False, older_than_option="audit_older_than"),
)
_BY_NAME = {t.name: t for t in TASKS}


@dataclass
class TaskResult:
    """What one task did in this run."""

    task: MaintenanceTask
    batches: int = 0
    deleted: int = 0
    bytes_freed: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "maintain",
        help="delete expired backups, old trash, expired sessions and old audit events",
        description=(
            "Run the zkeb_maint cleanup functions in bounded batches until nothing is left: "
            + ", ".join(f"{t.name} ({t.function})" for t in TASKS)
            + ". Each batch is its own short transaction, skips rows others hold locked, "
            "gives quota back with the delete and is logged on the system audit chain. "
            "Connect as a member of zkeb_maintainer."
        ),
    )
    add_db_argument(p, embedded_ok=False)
    p.add_argument(
        "--task", dest="tasks", action="append", choices=[t.name for t in TASKS],
        help="run only this task (repeatable; default: all, in the order above)",
    )
    p.add_argument(
        "--batch-size", type=int, default=10000, metavar="N",
        help="rows per batch (transaction), 1 to 100000 (default 10000)",
    )
    p.add_argument(
        "--max-batches", type=int, default=None, metavar="N",
        help="stop a task after N batches even if rows are left (default: no limit)",
    )
    p.add_argument(
        "--trash-older-than", default=None, metavar="INTERVAL",
        help="purge trash older than this PostgreSQL interval (default: the trash_retention "
             "setting)",
    )
    p.add_argument(
        "--audit-older-than", default=None, metavar="INTERVAL",
        help="remove audit events older than this interval, at least 1 day (default: the "
             "audit_retention setting, 6 years)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.batch_size <= 100000:
        raise CommandError("--batch-size must be 1 to 100000")
    if args.max_batches is not None and args.max_batches < 1:
        raise CommandError("--max-batches must be at least 1")
    names: list[str] = args.tasks or [t.name for t in TASKS]
    tasks = [t for t in TASKS if t.name in names]
    older_than = {
        "trash_older_than": args.trash_older_than,
        "audit_older_than": args.audit_older_than,
    }
    console = Console(stderr=True, quiet=args.quiet)
    with open_database(args) as dsn:
        try:
            conn = psycopg.connect(dsn, autocommit=True, application_name="zkeb-db maintain")
        except psycopg.OperationalError as exc:
            raise CommandError(f"cannot connect: {str(exc).strip()}") from None
        with conn, Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<27}"),
            BarColumn(bar_width=20),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>9} rows {task.fields[freed]:>10}"),
            TimeElapsedColumn(),
            console=console,
            disable=args.quiet,
        ) as progress:
            bars: dict[str, Any] = {}

            def report(result: TaskResult, done: bool) -> None:
                bar = bars.get(result.task.name)
                if bar is None:
                    bar = progress.add_task(result.task.description, total=None, rows="0",
                                            freed="")
                    bars[result.task.name] = bar
                freed = _bytes(result.bytes_freed) if result.task.frees_bytes else ""
                progress.update(bar, completed=result.deleted, rows=f"{result.deleted:,}",
                                freed=freed)
                if done:  # only now is the total known: fill the bar
                    progress.update(bar, total=max(result.deleted, 1),
                                    completed=max(result.deleted, 1))

            try:
                results = run_tasks(conn, tasks, args.batch_size, older_than=older_than,
                                    max_batches=args.max_batches, report=report)
            except ZkebError as exc:
                raise CommandError(f"{exc} ({exc.sqlstate})") from None
            except psycopg.Error as exc:
                raise CommandError(str(exc).strip().splitlines()[0]) from None
    if not args.quiet:
        console.print(_summary(results))
    return 0


def run_tasks(
    conn: psycopg.Connection[Any],
    tasks: Sequence[MaintenanceTask],
    batch_size: int,
    *,
    older_than: dict[str, str | None] | None = None,
    max_batches: int | None = None,
    report: Callable[[TaskResult, bool], None] | None = None,
) -> list[TaskResult]:
    """Run each task's function batch after batch until a batch is not full.

    ``conn`` should be in autocommit mode so that every batch commits on its
    own (inside a caller's transaction nothing is released until the end).
    """
    results: list[TaskResult] = []
    for task in tasks:
        result = TaskResult(task)
        results.append(result)
        interval = (older_than or {}).get(task.older_than_option or "")
        started = time.monotonic()
        if report is not None:
            report(result, False)
        while True:
            deleted, freed = _one_batch(conn, task, batch_size, interval)
            result.batches += 1
            result.deleted += deleted
            result.bytes_freed += freed
            result.seconds = time.monotonic() - started
            full = deleted >= batch_size
            if full and max_batches is not None and result.batches >= max_batches:
                result.stopped_early = True
            if report is not None:
                report(result, not full or result.stopped_early)
            if not full or result.stopped_early:
                break
    return results


def _one_batch(
    conn: psycopg.Connection[Any], task: MaintenanceTask, batch_size: int, interval: str | None
) -> tuple[int, int]:
    if task.older_than_option is not None:
        query = f"SELECT * FROM {task.function}(%s::interval, %s)"
        params: list[Any] = [interval, batch_size]
    else:
        query = f"SELECT * FROM {task.function}(%s)"
        params = [batch_size]
    with wrap_errors():
        row = conn.execute(query, params).fetchone()
    assert row is not None, f"{task.function} returns one row"
    deleted = int(row[0])
    freed = int(row[1]) if task.frees_bytes else 0
    return deleted, freed


def _bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _summary(results: Sequence[TaskResult]) -> Table:
    table = Table(title="zkeb-db maintain", title_justify="left")
    table.add_column("task")
    table.add_column("batches", justify="right")
    table.add_column("deleted", justify="right")
    table.add_column("freed", justify="right")
    table.add_column("seconds", justify="right")
    for r in results:
        table.add_row(
            r.task.name + (" (--max-batches reached)" if r.stopped_early else ""),
            f"{r.batches:,}",
            f"{r.deleted:,}",
            _bytes(r.bytes_freed) if r.task.frees_bytes else "-",
            f"{r.seconds:.2f}",
        )
    return table
