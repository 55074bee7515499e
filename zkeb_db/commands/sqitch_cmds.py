"""``zkeb-db deploy | revert | verify | status | log | plan``: the Sqitch-compatible deployer.

Each command reads sqitch.conf and sqitch.plan from the project directory
(``--chdir``, default the current one) and talks to the database chosen by
``--db`` (a postgresql:// URI, a conninfo string, a ``db:pg:`` URI or a target
name), else ``--target``, ``ZKEB_DB_URI``, sqitch.conf's target, libpq's
``PG*`` defaults. Like Sqitch, a target URI may also be given as a positional
argument (``zkeb-db deploy db:pg://host/db``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkeb_db.cli import CommandError
from zkeb_db.sqitch.config import load_config
from zkeb_db.sqitch.engine import DEFAULT_LOCK_TIMEOUT, MODES, Engine, Project, Reporter
from zkeb_db.sqitch.errors import SqitchError
from zkeb_db.sqitch.formatter import (
    LOG_FORMATS,
    PLAN_FORMATS,
    format_date,
    format_item,
    resolve_format,
)
from zkeb_db.sqitch.target import looks_like_connection


def _set_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected VAR=VALUE, got {text!r}")
    return name, value


def _common(p: argparse.ArgumentParser, *, format_is_f: bool = False) -> None:
    g = p.add_argument_group("project and target")
    g.add_argument(
        "-C",
        "--chdir",
        metavar="DIR",
        default=".",
        help="project directory holding sqitch.conf and sqitch.plan (default: .)",
    )
    # As in Sqitch, -f is --plan-file, except for log and plan where it is --format.
    plan_opts = ["--plan-file"] if format_is_f else ["-f", "--plan-file"]
    g.add_argument(*plan_opts, metavar="FILE", help="plan file (default from sqitch.conf)")
    g.add_argument(
        "--db",
        metavar="URI",
        help="database: postgresql:// URI, conninfo, db:pg: URI or target name "
        "(default: ZKEB_DB_URI, sqitch.conf target, libpq PG* variables)",
    )
    g.add_argument("-t", "--target", metavar="TARGET", help="Sqitch target name or URI")
    g.add_argument("--registry", metavar="SCHEMA", help="registry schema (default: sqitch)")
    g.add_argument(
        "-s",
        "--set",
        dest="variables",
        metavar="VAR=VALUE",
        type=_set_var,
        action="append",
        default=[],
        help="psql variable for the scripts (repeatable)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="only print results and errors")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "deploy",
        help="deploy the Sqitch plan (Sqitch-compatible)",
        description="Deploy changes of the plan, as `sqitch deploy` does.",
    )
    _common(p)
    p.add_argument("args", nargs="*", metavar="TARGET|CHANGE", help="target URI and/or change")
    p.add_argument(
        "--to",
        "--to-change",
        dest="to",
        metavar="CHANGE",
        help="deploy up to this change (name, name@tag, @tag or id)",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        help="on failure revert: all (default), to the last tag, or only the failed change",
    )
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run each verify script right after its deploy script",
    )
    p.add_argument(
        "--log-only",
        action="store_true",
        help="record the changes as deployed without running the scripts",
    )
    p.add_argument("--lock-timeout", type=float, default=DEFAULT_LOCK_TIMEOUT, metavar="SECONDS")
    p.set_defaults(func=cmd_deploy)

    p = subparsers.add_parser(
        "revert",
        help="revert deployed changes (Sqitch-compatible)",
        description="Revert changes, newest first, as `sqitch revert` does.",
    )
    _common(p)
    p.add_argument("args", nargs="*", metavar="TARGET|CHANGE", help="target URI and/or change")
    p.add_argument(
        "--to",
        "--to-change",
        dest="to",
        metavar="CHANGE",
        help="revert the changes deployed after this one",
    )
    p.add_argument("-y", action="store_true", dest="yes", help="do not ask for confirmation")
    p.add_argument(
        "--log-only", action="store_true", help="record the reverts without running the scripts"
    )
    p.add_argument("--lock-timeout", type=float, default=DEFAULT_LOCK_TIMEOUT, metavar="SECONDS")
    p.set_defaults(func=cmd_revert)

    p = subparsers.add_parser(
        "verify",
        help="verify deployed changes (Sqitch-compatible)",
        description="Check the registry against the plan and run the "
        "verify scripts, as `sqitch verify` does.",
    )
    _common(p)
    p.add_argument(
        "args", nargs="*", metavar="TARGET|CHANGE", help="target URI, from and to changes"
    )
    p.add_argument("--from", "--from-change", dest="from_change", metavar="CHANGE")
    p.add_argument("--to", "--to-change", dest="to", metavar="CHANGE")
    p.add_argument(
        "--no-probe",
        action="store_true",
        help="do not run the next undeployed change's verify script",
    )
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser(
        "status",
        help="show what is deployed (Sqitch-compatible)",
        description="Show the registry state and the undeployed changes.",
    )
    _common(p)
    p.add_argument("args", nargs="*", metavar="TARGET", help="target URI")
    p.add_argument("--project", help="project to report on (default: the plan's)")
    p.add_argument("--show-changes", action="store_true")
    p.add_argument("--show-tags", action="store_true")
    p.add_argument("--date-format", "--date", default="iso")
    p.add_argument(
        "--no-probe",
        action="store_true",
        help="do not run the next undeployed change's verify script",
    )
    p.set_defaults(func=cmd_status)

    p = subparsers.add_parser("log", help="show the registry's event history (Sqitch-compatible)")
    _common(p, format_is_f=True)
    p.add_argument("args", nargs="*", metavar="TARGET", help="target URI")
    p.add_argument(
        "--event", action="append", default=[], choices=("deploy", "revert", "fail", "merge")
    )
    p.add_argument("--change-pattern", "--change", dest="change_pattern", metavar="REGEX")
    p.add_argument("--project-pattern", "--project", dest="project_pattern", metavar="REGEX")
    p.add_argument("--committer-pattern", "--committer", dest="committer_pattern", metavar="REGEX")
    p.add_argument("-n", "--max-count", type=int)
    p.add_argument("--skip", type=int)
    p.add_argument("--reverse", action="store_true")
    p.add_argument(
        "-f", "--format", default="medium", help=f"{', '.join(LOG_FORMATS)} or format:..."
    )
    p.add_argument("--date-format", "--date", default="iso")
    p.add_argument("--no-headers", action="store_true")
    p.set_defaults(func=cmd_log)

    p = subparsers.add_parser("plan", help="show the Sqitch plan (Sqitch-compatible)")
    _common(p, format_is_f=True)
    p.add_argument("--event", choices=("deploy", "revert"))
    p.add_argument("--change-pattern", "--change", dest="change_pattern", metavar="REGEX")
    p.add_argument("--planner-pattern", "--planner", dest="planner_pattern", metavar="REGEX")
    p.add_argument("-n", "--max-count", type=int)
    p.add_argument("--skip", type=int)
    p.add_argument("--reverse", action="store_true")
    p.add_argument(
        "-f", "--format", default="medium", help=f"{', '.join(PLAN_FORMATS)} or format:..."
    )
    p.add_argument("--date-format", "--date", default="iso")
    p.add_argument("--no-headers", action="store_true")
    p.set_defaults(func=cmd_plan)


# ----------------------------------------------------------------- helpers
def _split_args(args: argparse.Namespace) -> list[str]:
    """Sqitch-style positional args: a URI/conninfo or known target is the target."""
    rest: list[str] = []
    for arg in getattr(args, "args", []) or []:
        if looks_like_connection(arg) or _is_target_name(args.chdir, arg):
            if args.target and args.target != arg:
                raise CommandError(f"two targets given: {args.target} and {arg}", 2)
            args.target = arg
        else:
            rest.append(arg)
    return rest


def _is_target_name(chdir: str, name: str) -> bool:
    try:
        cfg = load_config(Path(chdir).resolve())
    except SqitchError:
        return False
    return cfg.has_section(f"target.{name}")


def _engine(args: argparse.Namespace) -> Engine:
    project = Project.open(
        args.chdir, db=args.db, target=args.target, plan_file=args.plan_file, registry=args.registry
    )
    reporter = Reporter(verbosity=0 if args.quiet else 1)
    return Engine(
        project,
        reporter=reporter,
        variables=dict(args.variables),
        lock_timeout=getattr(args, "lock_timeout", DEFAULT_LOCK_TIMEOUT),
    )


def _run(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except SqitchError as exc:
        raise CommandError(" ".join(str(exc).split()), exc.exit_code) from exc
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps interpreter exit quiet
        return 0


def _confirm_tty(question: str) -> bool:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CommandError(
            "refusing to revert without confirmation: stdin is not a terminal (use -y)", 1
        )
    for _ in range(3):
        answer = input(f"{question} [Yes] ").strip()
        if answer == "" or "yes".startswith(answer.lower()):
            return True
        if "no".startswith(answer.lower()):
            return False
        print('Please answer "y" or "n".')
    raise CommandError("No valid answer after 3 attempts; aborting", 1)


# ---------------------------------------------------------------- commands
def cmd_deploy(args: argparse.Namespace) -> int:
    def go() -> int:
        changes = _split_args(args)
        if args.to and changes:
            raise CommandError(f"change given twice: --to {args.to} and {changes[0]}", 2)
        if len(changes) > 1:
            raise CommandError(f"too many changes: {' '.join(changes)}", 2)
        to = args.to or (changes[0] if changes else None)
        _engine(args).deploy(to, mode=args.mode, verify=args.verify, log_only=args.log_only)
        return 0

    return _run(go)


def cmd_revert(args: argparse.Namespace) -> int:
    def go() -> int:
        changes = _split_args(args)
        if args.to and changes:
            raise CommandError(f"change given twice: --to {args.to} and {changes[0]}", 2)
        if len(changes) > 1:
            raise CommandError(f"too many changes: {' '.join(changes)}", 2)
        to = args.to or (changes[0] if changes else None)
        engine = _engine(args)
        confirm = None
        if not args.yes:
            no_prompt = engine.project.config.get_bool("revert.no_prompt")
            confirm = None if no_prompt else _confirm_tty
        engine.revert(to, confirm=confirm, log_only=args.log_only)
        return 0

    return _run(go)


def cmd_verify(args: argparse.Namespace) -> int:
    def go() -> int:
        changes = _split_args(args)
        from_change = args.from_change or (changes.pop(0) if changes else None)
        to = args.to or (changes.pop(0) if changes else None)
        if changes:
            raise CommandError(f"too many changes: {' '.join(changes)}", 2)
        _engine(args).verify(from_change, to, probe=not args.no_probe)
        return 0

    return _run(go)


def cmd_status(args: argparse.Namespace) -> int:
    def go() -> int:
        if _split_args(args):
            raise CommandError("status takes no change argument", 2)
        engine = _engine(args)
        rep = engine.reporter
        report = engine.status(probe=not args.no_probe, project=args.project)
        rep.emit(f"# On database {report.destination}")
        if not report.registry_exists:
            for note in report.notes:
                rep.warn(note)
            raise CommandError(
                f"Database {report.destination} has not been initialized for Sqitch "
                "(no registry): nothing is recorded as deployed",
                1,
            )
        cur = report.current
        if cur is None:
            for note in report.notes:
                rep.warn(note)
            raise CommandError("No changes deployed", 1)
        fmt = args.date_format
        rep.emit(f"# Project:  {report.project}")
        rep.emit(f"# Change:   {cur.id}")
        rep.emit(f"# Name:     {cur.name}")
        if cur.tags:
            rep.emit(f"# {'Tag: ' if len(cur.tags) == 1 else 'Tags:'}     {', '.join(cur.tags)}")
        rep.emit(f"# Deployed: {format_date(cur.committed_at, fmt)}")
        rep.emit(f"# By:       {cur.committer_name} <{cur.committer_email}>")
        if args.show_changes and report.deployed:
            rep.emit("# ")
            rep.emit("# Change:" if len(report.deployed) == 1 else "# Changes:")
            width = max(len(c.name) for c in report.deployed)
            for c in reversed(report.deployed):
                rep.emit(
                    f"#   {c.name.ljust(width)} - {format_date(c.committed_at, fmt)} - "
                    f"{c.committer_name} <{c.committer_email}>"
                )
        if args.show_tags:
            rep.emit("# ")
            if not report.tags:
                rep.emit("# Tags: None.")
            else:
                rep.emit("# Tag:" if len(report.tags) == 1 else "# Tags:")
                width = max(len(t["tag"]) for t in report.tags)
                for t in report.tags:
                    rep.emit(
                        f"#   {t['tag'].ljust(width)} - {format_date(t['committed_at'], fmt)}"
                        f" - {t['committer_name']} <{t['committer_email']}>"
                    )
        rep.emit("# ")
        if report.problems and report.project == engine.project.plan.project:
            if engine.project.plan.change_by_id(cur.id) is None:
                # Sqitch fails here too: the newest deployed change is not in the plan.
                raise CommandError(report.problems[0], 1)
            for problem in report.problems:
                rep.warn(problem)
        if report.project != engine.project.plan.project:
            rep.emit(f'Status unknown. Use --plan-file to assess "{report.project}" status')
            return 0
        rep.emit(
            f"# Recorded in the registry: {len(report.deployed)} of "
            f"{len(report.deployed) + len(report.pending)} planned change(s)"
        )
        if not report.pending:
            rep.emit("Nothing to deploy (up-to-date)")
        else:
            rep.emit("Undeployed change:" if len(report.pending) == 1 else "Undeployed changes:")
            for change in report.pending:
                rep.emit(f"  * {change.format_name_with_tags()}")
        for note in report.notes:
            rep.warn(note)
        return 0

    return _run(go)


def cmd_log(args: argparse.Namespace) -> int:
    def go() -> int:
        if _split_args(args):
            raise CommandError("log takes no change argument", 2)
        fmt = resolve_format(args.format, LOG_FORMATS)
        engine = _engine(args)
        events = engine.log(
            events=args.event,
            change=args.change_pattern,
            committer_pattern=args.committer_pattern,
            project=args.project_pattern,
            limit=args.max_count,
            skip=args.skip,
            reverse=args.reverse,
        )
        if not args.no_headers:
            engine.reporter.emit(f"On database {engine.destination}")
        for ev in events:
            text = format_item(fmt, vars(ev), date_format=args.date_format)
            sys.stdout.write(text + "\n")  # Sqitch "say"s each item
        return 0

    return _run(go)


def cmd_plan(args: argparse.Namespace) -> int:
    def go() -> int:
        # The plan needs no database; a target only matters for its plan_file setting.
        project = Project.open(
            args.chdir,
            plan_file=args.plan_file,
            db=args.db or (None if args.target else "db:pg:"),
            target=args.target,
            registry=args.registry,
        )
        plan = project.plan
        fmt = resolve_format(args.format, PLAN_FORMATS)
        changes = list(plan.changes)
        if args.change_pattern:
            changes = [c for c in changes if re.search(args.change_pattern, c.name)]
        if args.planner_pattern:
            changes = [c for c in changes if re.search(args.planner_pattern, c.planner_name)]
        if args.event:
            want_revert = args.event == "revert"
            changes = [c for c in changes if (c.operator == "-") == want_revert]
        if args.reverse:
            changes.reverse()
        if args.skip:
            changes = changes[args.skip :]
        if args.max_count is not None:
            changes = changes[: args.max_count]
        if not args.no_headers:
            print(f"# Project: {plan.project}")
            print(f"# File:    {plan.file}")
            print()
        for c in changes:
            item = {
                "event": "revert" if c.operator == "-" else "deploy",
                "change_id": c.id,
                "change": c.name,
                "project": plan.project,
                "note": c.note,
                "requires": [d.as_string(plan.project) for d in c.requires],
                "conflicts": [d.as_string(plan.project) for d in c.conflicts],
                "tags": [t.format_name for t in c.tags],
                "planner_name": c.planner_name,
                "planner_email": c.planner_email,
                "planned_at": c.planned_at,
            }
            text = format_item(fmt, item, date_format=args.date_format)
            sys.stdout.write(text + "\n")  # Sqitch "say"s each item
        return 0

    return _run(go)
