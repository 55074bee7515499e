"""A Sqitch-compatible deployer for PostgreSQL.

It reads the same ``sqitch.plan`` and ``sqitch.conf``, writes the same
``sqitch`` registry with the same change and tag ids, and runs scripts through
``psql`` the way Sqitch 1.3.1 does, so this package and real Sqitch can take
over each other's databases. See docs/sqitch-compat.md for the facts it
follows.

Python API (each raises a :class:`SqitchError` subclass with a one-line
message on failure)::

    from zkeb_db.sqitch import deploy_project, revert_project, verify_project, status
    deploy_project(Path("."), "postgresql://postgres@127.0.0.1/app", verify=True)

``dsn`` may be a ``postgresql://`` URI, a libpq conninfo string, a Sqitch
``db:pg:`` URI or a target name from sqitch.conf; None means ``ZKEB_DB_URI``,
then sqitch.conf's target, then libpq's ``PG*`` defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zkeb_db.sqitch.engine import (
    Engine,
    LoggingReporter,
    Project,
    Reporter,
    StatusReport,
    VerifyReport,
)
from zkeb_db.sqitch.errors import (
    ConfigError,
    DependencyError,
    DeployError,
    LockError,
    NotFoundError,
    PlanError,
    RegistryError,
    RevertError,
    ScriptError,
    SqitchError,
    VerifyError,
)
from zkeb_db.sqitch.plan import Change, Dependency, Plan, Tag, load_plan, parse_plan, render_plan

__all__ = [
    "Change",
    "ConfigError",
    "Dependency",
    "DependencyError",
    "DeployError",
    "Engine",
    "LockError",
    "NotFoundError",
    "Plan",
    "PlanError",
    "Project",
    "RegistryError",
    "Reporter",
    "RevertError",
    "ScriptError",
    "SqitchError",
    "StatusReport",
    "Tag",
    "VerifyError",
    "VerifyReport",
    "deploy_project",
    "load_plan",
    "parse_plan",
    "render_plan",
    "revert_project",
    "status",
    "verify_project",
]


def _engine(
    project_dir: Path | str,
    dsn: str | None,
    *,
    variables: Mapping[str, str] | None,
    registry: str | None,
    plan_file: str | None,
    reporter: Reporter | None,
) -> Engine:
    project = Project.open(project_dir, db=dsn, registry=registry, plan_file=plan_file)
    return Engine(project, reporter=reporter or LoggingReporter(), variables=dict(variables or {}))


def deploy_project(
    project_dir: Path | str,
    dsn: str | None,
    *,
    to: str | None = None,
    verify: bool = False,
    mode: str | None = None,
    variables: Mapping[str, str] | None = None,
    registry: str | None = None,
    plan_file: str | None = None,
    log_only: bool = False,
    reporter: Reporter | None = None,
) -> None:
    """Deploy the project's plan (up to ``to``); raises on failure, nothing half-recorded."""
    engine = _engine(
        project_dir,
        dsn,
        variables=variables,
        registry=registry,
        plan_file=plan_file,
        reporter=reporter,
    )
    engine.deploy(to, mode=mode, verify=verify, log_only=log_only)


def revert_project(
    project_dir: Path | str,
    dsn: str | None,
    *,
    to: str | None = None,
    variables: Mapping[str, str] | None = None,
    registry: str | None = None,
    plan_file: str | None = None,
    log_only: bool = False,
    reporter: Reporter | None = None,
) -> None:
    """Revert every change deployed after ``to`` (everything when None), without asking."""
    engine = _engine(
        project_dir,
        dsn,
        variables=variables,
        registry=registry,
        plan_file=plan_file,
        reporter=reporter,
    )
    engine.revert(to, log_only=log_only)


def verify_project(
    project_dir: Path | str,
    dsn: str | None,
    *,
    variables: Mapping[str, str] | None = None,
    registry: str | None = None,
    plan_file: str | None = None,
    reporter: Reporter | None = None,
) -> VerifyReport:
    """Verify the deployed changes; raises :class:`VerifyError` when any check fails."""
    engine = _engine(
        project_dir,
        dsn,
        variables=variables,
        registry=registry,
        plan_file=plan_file,
        reporter=reporter,
    )
    return engine.verify()


def status(
    project_dir: Path | str,
    dsn: str | None,
    *,
    registry: str | None = None,
    plan_file: str | None = None,
    probe: bool = True,
    variables: Mapping[str, str] | None = None,
) -> StatusReport:
    """What is recorded in the registry, what is pending, and what looks applied."""
    engine = _engine(
        project_dir,
        dsn,
        variables=variables,
        registry=registry,
        plan_file=plan_file,
        reporter=LoggingReporter(),
    )
    return engine.status(probe=probe)
