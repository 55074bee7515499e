"""``zkeb-db health``: cache, index use, sizes, bloat, old transactions, maintenance backlog
and the audit chain, for a human or (``--json``) for a monitoring system."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import psycopg

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "health",
        help="cache hit ratio, index use, sizes, dead tuples, oldest transaction, "
        "maintenance backlog and audit chain status",
        description=(
            "Report the operational health of a zkeb-db database. Exit status 0 when "
            "everything could be collected and the audit chain verifies, 1 otherwise. "
            "Run it as the deployer (or a superuser): the maintenance backlog reads the "
            "tables, and other roles' transactions are visible only with pg_monitor."
        ),
    )
    add_db_argument(p, embedded_ok=False)
    p.add_argument("--json", action="store_true", help="print one JSON document (for monitoring)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zkeb_db.health import collect_health, render, to_json

    with open_database(args) as dsn:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name="zkeb-db health") as conn:
                report = collect_health(conn)
        except psycopg.OperationalError as exc:
            raise CommandError(f"cannot connect: {str(exc).strip()}") from None
    if args.json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        from rich.console import Console

        render(report, Console())
    return 0 if report["ok"] else 1
