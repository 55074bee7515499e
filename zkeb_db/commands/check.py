"""``zkeb-db check``: the zero-knowledge and tenancy rules, asserted over the catalog."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import psycopg

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="assert the zero-knowledge and tenancy rules over the catalog",
        description=(
            "Run zkeb_private.guard_violations() (the rules of the change "
            "function_private_guard_violations) and print every rule with PASS or FAIL "
            "and the offending objects. A deployed checker that is missing or differs "
            "from the project's is itself a failure, and the project's rules then run "
            "anyway. Exit status 0 when every rule passes, 1 otherwise. Connect as the "
            "deployer or a superuser."
        ),
    )
    add_db_argument(p, embedded_ok=False)
    p.add_argument(
        "--data",
        action="store_true",
        help="also check the stored data (zkeb_maint.check_invariants, verify_audit_chain)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def _project() -> Path | None:
    from zkeb_db.dbopts import project_dir

    try:
        return project_dir(None)
    except CommandError:
        return None


def run(args: argparse.Namespace) -> int:
    from zkeb_db.check import render_text, run_checks, to_json

    with open_database(args) as dsn:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name="zkeb-db check") as conn:
                report = run_checks(conn, project=_project(), data=args.data)
        except psycopg.OperationalError as exc:
            raise CommandError(f"cannot connect: {str(exc).strip()}") from None
        except psycopg.Error as exc:
            raise CommandError(
                f"the checker failed: {str(exc).strip().splitlines()[0]}"
            ) from None
    sys.stdout.write((to_json(report) if args.json else render_text(report)) + "\n")
    return 0 if report.ok else 1
