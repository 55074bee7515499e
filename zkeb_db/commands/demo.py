"""``zkeb-db demo``: deploy the plan (into a private PostgreSQL when no database is
given) and play a realistic zero-knowledge client against it, step by step."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="deploy and play a zero-knowledge backup client end to end (no server needed)",
        description=(
            "Deploy the plan, then play two users who derive keys from passphrases, "
            "register devices, back up encrypted and signed files, list, restore, try to "
            "read each other's backups, revoke a device, trash/restore/purge, run "
            "maintenance; then search every column of every table for every plaintext and "
            "key used, and run the catalog and data checks. Exit status 1 when any "
            "expectation fails. Without --db a private throwaway PostgreSQL is used; "
            "with --db the connection must be a superuser (the demo creates two login "
            "roles for the run and drops them at the end)."
        ),
    )
    add_db_argument(p, embedded_ok=True)
    p.add_argument("--chdir", metavar="DIR", default=None, help="the Sqitch project directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from zkeb_db.demo import run_demo

    console = Console()
    with open_database(args, deploy=True) as dsn:
        try:
            report = run_demo(dsn, console)
        except psycopg.OperationalError as exc:
            raise CommandError(f"cannot connect: {str(exc).strip()}") from None
    console.print()
    if report.ok:
        console.print(f"[bold green]All {report.passed} checks passed.[/bold green]")
        return 0
    console.print(
        f"[bold red]{len(report.failures)} of {report.passed + len(report.failures)} "
        "checks FAILED:[/bold red]"
    )
    for step, what in report.failures:
        console.print(f"  [red]{step}[/red]: {what}", highlight=False)
    return 1
