"""Deploy, revert, verify, status and log: Sqitch 1.3.1's engine for PostgreSQL.

The control flow follows App::Sqitch::Engine step for step, so a database can
pass back and forth between this deployer and real Sqitch:

* scripts run through ``psql`` in the project directory with the relative
  script path, Sqitch's variables and options (no outer transaction);
* the whole run holds ``pg_advisory_lock(75474063)``; each change's registry
  transaction holds ``LOCK TABLE sqitch.changes IN EXCLUSIVE MODE`` while its
  script runs;
* dependencies and conflicts are checked before anything runs; a failed
  change gets a ``fail`` event and, by mode, the run is rolled back;
* revert works from the registry, newest first; verify checks every deployed
  change against the plan.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

import psycopg

from zkeb_db.sqitch.config import Config, load_config
from zkeb_db.sqitch.errors import (
    ConfigError,
    DependencyError,
    DeployError,
    LockError,
    NotFoundError,
    RegistryError,
    RevertError,
    ScriptError,
    SqitchError,
    VerifyError,
)
from zkeb_db.sqitch.ids import script_hash
from zkeb_db.sqitch.plan import (
    Change,
    Dependency,
    Plan,
    decode_note,
    load_plan,
    split_offset,
)
from zkeb_db.sqitch.registry import (
    REGISTRY_RELEASE,
    DeployedChange,
    EventRow,
    LoggedChange,
    Registry,
    TagRow,
)
from zkeb_db.sqitch.target import Target, committer, resolve_target

DEFAULT_LOCK_TIMEOUT = 60.0
MODES = ("all", "tag", "change")
_SHA1_RE = re.compile(r"\A[0-9a-f]{40}\Z")


# --------------------------------------------------------------------- output
class Reporter:
    """Where progress and results go. The default writes like Sqitch does.

    A closed output (``zkeb-db deploy | head``) silences the reporter instead of
    interrupting a deploy between a script and its registry write.
    """

    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, *, verbosity: int = 1
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.verbosity = verbosity

    def _write(self, stream: TextIO, text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, ValueError):
            devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the reporter
            if stream is self.out:
                self.out = devnull
            else:
                self.err = devnull

    def info(self, text: str) -> None:
        """A progress line (hidden with --quiet)."""
        if self.verbosity >= 1:
            self._write(self.out, text + "\n")

    def partial(self, text: str) -> None:
        """The start of a progress line (``  + change ..``); :meth:`info` ends it."""
        if self.verbosity >= 1:
            self._write(self.out, text)

    def emit(self, text: str) -> None:
        """A result line (always shown)."""
        self._write(self.out, text + "\n")

    def warn(self, text: str) -> None:
        self._write(self.err, text + "\n")

    def script_output(self, text: str) -> None:
        if self.verbosity >= 1:
            self._write(self.out, text)

    def script_errors(self, text: str) -> None:
        self._write(self.err, text)


class LoggingReporter(Reporter):
    """For the Python API: everything goes to the ``zkeb_db.sqitch`` logger."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        super().__init__()
        self.logger = logger or logging.getLogger("zkeb_db.sqitch")
        self._partial = ""

    def info(self, text: str) -> None:
        self.logger.info("%s", self._partial + text)
        self._partial = ""

    def partial(self, text: str) -> None:
        self._partial += text

    def emit(self, text: str) -> None:
        self.info(text)

    def warn(self, text: str) -> None:
        self.logger.warning("%s", text)

    def script_output(self, text: str) -> None:
        for line in text.splitlines():
            self.logger.debug("psql: %s", line)

    def script_errors(self, text: str) -> None:
        for line in text.splitlines():
            self.logger.warning("psql: %s", line)


# -------------------------------------------------------------------- project
@dataclass
class Project:
    """A Sqitch project directory with its configuration and chosen target."""

    dir: Path
    config: Config
    target: Target
    _plan: Plan | None = None

    @classmethod
    def open(
        cls,
        project_dir: Path | str = ".",
        *,
        db: str | None = None,
        target: str | None = None,
        plan_file: str | None = None,
        registry: str | None = None,
    ) -> Project:
        pdir = Path(project_dir).resolve()
        if not pdir.is_dir():
            raise ConfigError(f"No such project directory: {project_dir}")
        config = load_config(pdir)
        tgt = resolve_target(
            config, pdir, db=db, target=target, registry=registry, plan_file=plan_file
        )
        return cls(dir=pdir, config=config, target=tgt)

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            path = self.target.plan_file
            try:
                shown = str(path.relative_to(self.dir))
            except ValueError:
                shown = str(path)
            self._plan = load_plan(path, display_name=shown)
        return self._plan

    def variables(self, command: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """psql variables for a command, later sources winning (Sqitch's order)."""
        result: dict[str, str] = {}
        result.update(self.config.get_section("core.variables"))
        result.update(self.config.get_section("deploy.variables"))
        if command in ("revert", "verify"):
            result.update(self.config.get_section(f"{command}.variables"))
        result.update(self.target.variables)
        result.update(extra or {})
        return result


# -------------------------------------------------------------------- results
@dataclass
class StatusReport:
    destination: str
    project: str
    registry_exists: bool
    current: DeployedChange | None = None
    deployed: list[DeployedChange] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)
    plan_file: str = ""
    problems: list[str] = field(default_factory=list)  # registry and plan disagree
    notes: list[str] = field(default_factory=list)  # recorded vs applied observations
    tags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.current is not None and not self.pending and not self.problems


@dataclass
class VerifyReport:
    destination: str
    errors: int = 0
    checked: int = 0
    lines: list[str] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass
class _Item:
    """A change to deploy or revert, with what the registry rows need."""

    logged: LoggedChange
    label: str  # "name @tag ..."
    deploy: PurePosixPath
    revert: PurePosixPath
    verify: PurePosixPath
    plan_change: Change | None = None


def _first_error_line(stderr: str, returncode: int) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r"\b(ERROR|FATAL|PANIC):|psql: error:", ln):
            return ln
    if lines:
        return lines[-1]
    return f"psql exited with status {returncode}"


# --------------------------------------------------------------------- engine
class Engine:
    def __init__(
        self,
        project: Project,
        *,
        reporter: Reporter | None = None,
        variables: dict[str, str] | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.project = project
        self.target = project.target
        self.reporter = reporter or Reporter()
        self.extra_vars = dict(variables or {})
        self.lock_timeout = lock_timeout
        self._committer: tuple[str, str] | None = None
        self._vars: dict[str, str] = {}
        self._max_len = 0

    # ------------------------------------------------------------- plumbing
    @property
    def destination(self) -> str:
        return self.target.destination

    @property
    def committer(self) -> tuple[str, str]:
        if self._committer is None:
            self._committer = committer(self.project.config)
        return self._committer

    @contextmanager
    def registry(self, project: str | None = None) -> Iterator[Registry]:
        try:
            conn = psycopg.connect(
                self.target.conn.conninfo(), autocommit=True, client_encoding="UTF8"
            )
        except psycopg.OperationalError as exc:
            msg = " ".join(str(exc).split())
            raise SqitchError(f"Cannot connect to {self.destination}: {msg}") from exc
        try:
            conn.execute("SET client_min_messages = WARNING")
            name = project if project is not None else self.project.plan.project
            yield Registry(conn, self.target.registry, name, self.committer)
        except psycopg.Error as exc:
            raise RegistryError(f"Database error on {self.destination}: {_one_line(exc)}") from exc
        finally:
            conn.close()

    def psql_command(self, variables: dict[str, str]) -> list[str]:
        cmd = [self.target.client]
        dbname = self.target.conn.psql_dbname()
        if dbname:
            cmd += ["--dbname", dbname]
        for key in sorted(variables):
            cmd += ["--set", f"{key}={variables[key]}"]
        cmd += [
            "--quiet",
            "--no-psqlrc",
            "--no-align",
            "--tuples-only",
            "--set",
            "ON_ERROR_STOP=1",
            "--set",
            f"registry={self.target.registry}",
        ]
        return cmd

    def _psql(
        self, args: Sequence[str], variables: dict[str, str]
    ) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ)
        if self.target.conn.password:
            env["PGPASSWORD"] = self.target.conn.password
        cmd = self.psql_command(variables) + list(args)
        try:
            return subprocess.run(
                cmd, cwd=self.project.dir, env=env, capture_output=True, check=False
            )
        except FileNotFoundError as exc:
            raise ConfigError(f"Cannot run {self.target.client}: not found on PATH") from exc
        except OSError as exc:
            raise ConfigError(f"Cannot run {self.target.client}: {exc}") from exc

    def run_script(self, kind: str, path: PurePosixPath, *, capture: bool = False) -> None:
        """Run one script like Sqitch: ``psql ... --file <relative path>`` in the project dir."""
        proc = self._psql(["--file", str(path)], self._vars)
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if stdout and not capture:
            self.reporter.script_output(stdout)
        if stderr:
            self.reporter.script_errors(stderr)
        if proc.returncode != 0:
            reason = _first_error_line(stderr, proc.returncode)
            raise ScriptError(
                f'{kind} script "{path}" failed: {reason}', script=str(path), output=stderr
            )

    def _initialize(self, reg: Registry) -> None:
        ref = resources.files("zkeb_db.sqitch").joinpath("registry.sql")
        with resources.as_file(ref) as sql_path:
            proc = self._psql(
                [
                    "--set",
                    f"registry={self.target.registry}",
                    "--set",
                    "tableopts=",
                    "--file",
                    str(sql_path),
                ],
                {},
            )
        if proc.returncode != 0:
            reason = _first_error_line(proc.stderr.decode("utf-8", "replace"), proc.returncode)
            raise RegistryError(f"Cannot create the registry in {self.destination}: {reason}")
        reg.register_release()

    def _lock(self, reg: Registry) -> None:
        if reg.try_lock():
            return
        self.reporter.info(
            f"Blocked by another instance of Sqitch working on {self.destination}; "
            f"waiting {self.lock_timeout:g} seconds..."
        )
        if not reg.wait_lock(self.lock_timeout):
            raise LockError(
                f"Timed out waiting {self.lock_timeout:g} seconds for another instance of Sqitch "
                f"to finish work on {self.destination}"
            )

    # ------------------------------------------------------ change helpers
    def _plan_item(self, change: Change) -> _Item:
        plan = self.project.plan
        rework = [t.name for t in change.rework_tags]
        return _Item(
            logged=LoggedChange(
                id=change.id,
                name=change.name,
                note=change.note,
                planned_at=change.planned_at,
                planner_name=change.planner_name,
                planner_email=change.planner_email,
                tags=[t.format_name for t in change.tags],
                requires=[d.as_string(plan.project) for d in change.requires],
                conflicts=[d.as_string(plan.project) for d in change.conflicts],
            ),
            label=change.format_name_with_tags(),
            deploy=self.target.script_path("deploy", change.name, rework),
            revert=self.target.script_path("revert", change.name, rework),
            verify=self.target.script_path("verify", change.name, rework),
            plan_change=change,
        )

    def _registry_items(self, rows: Sequence[DeployedChange]) -> list[_Item]:
        """Deployed changes as items; script names from the plan (``@tag`` files)."""
        plan = self.project.plan
        items = []
        for i, row in enumerate(rows):
            planned = plan.change_by_id(row.id)
            if planned is not None:
                rework = [t.name for t in planned.rework_tags]
            else:
                rework = _registry_rework_tags(rows, i)
            items.append(
                _Item(
                    logged=LoggedChange(
                        # Sqitch rebuilds a change from its row, which trims and unescapes the
                        # note a second time: its revert events carry that text.
                        id=row.id,
                        name=row.name,
                        note=decode_note(row.note),
                        planned_at=row.planned_at,
                        planner_name=row.planner_name,
                        planner_email=row.planner_email,
                        tags=list(row.tags),
                    ),
                    label=row.format_name_with_tags(),
                    deploy=self.target.script_path("deploy", row.name, rework),
                    revert=self.target.script_path("revert", row.name, rework),
                    verify=self.target.script_path("verify", row.name, rework),
                    plan_change=planned,
                )
            )
        return items

    def _start(self, sign: str, label: str) -> None:
        self.reporter.partial(f"  {sign} {label} .." + "." * (self._max_len - len(label)) + " ")

    def _verify_item(self, item: _Item) -> None:
        path = item.verify
        if (self.project.dir / path).exists():
            try:
                self.run_script("verify", path, capture=True)
            except ScriptError as exc:
                raise VerifyError(str(exc)) from exc
            return
        self.reporter.warn(f"Verify script {path} does not exist")

    # ------------------------------------------------------------- deploy
    def deploy(
        self,
        to: str | None = None,
        *,
        mode: str | None = None,
        verify: bool | None = None,
        log_only: bool = False,
    ) -> list[str]:
        """Deploy up to ``to`` (default: the whole plan); returns the names deployed."""
        cfg = self.project.config
        mode = mode or cfg.get("deploy.mode") or "all"
        if mode not in MODES:
            raise ConfigError(f'Unknown deployment mode: "{mode}" (use all, tag or change)')
        with_verify = verify if verify is not None else bool(cfg.get_bool("deploy.verify"))
        self._vars = self.project.variables("deploy", self.extra_vars)
        plan = self.project.plan
        if not plan.changes:
            raise DeployError("Nothing to deploy (empty plan)")
        with self.registry() as reg:
            self._lock(reg)
            position, start_at = self._sync_plan(reg, plan)
            to_index = len(plan.changes) - 1
            if to is not None:
                idx = plan.index_of(to)
                if idx is None:
                    raise NotFoundError(f'Unknown change: "{to}"')
                to_index = idx
                if to_index == position:
                    self.reporter.info(f'Nothing to deploy (already at "{to}")')
                    return []
            if position == to_index:
                self.reporter.info("Nothing to deploy (up-to-date)")
                return []
            if position == -1:
                if reg.initialized():
                    reg.check_release(self.destination)
                else:
                    self.reporter.info(f"Adding registry tables to {self.destination}")
                    self._initialize(reg)
                reg.register_project(plan.uri_string)
            else:
                if to_index < position:
                    raise DeployError('Cannot deploy to an earlier change; use "revert" instead')
                reg.check_release(self.destination)
            if to is not None:
                self.reporter.info(
                    f"Deploying changes through {plan.changes[to_index].format_name_with_tags()}"
                    f" to {self.destination}"
                )
            else:
                self.reporter.info(f"Deploying changes to {self.destination}")
            batch = plan.changes[position + 1 : to_index + 1]
            resolved = self._check_deploy_dependencies(reg, plan, batch)
            self._max_len = max(len(c.format_name_with_tags()) for c in batch)
            deployed: list[str] = []
            run: list[Change] = []
            last_tagged: Change | None = None
            try:
                for change in batch:
                    self._deploy_change(reg, change, resolved, with_verify, log_only)
                    deployed.append(change.name)
                    run.append(change)
                    if mode == "tag" and change.tags:
                        run = []
                        last_tagged = change
            except SqitchError as exc:
                if mode == "change":
                    raise DeployError(f"Deploy failed: {exc}") from exc
                self.reporter.warn(str(exc))
                self._rollback(reg, last_tagged, start_at, run, log_only)
                undone = f"; reverted {len(run)} change(s) this run deployed" if run else ""
                raise DeployError(f"Deploy failed: {exc}{undone}") from exc
            return deployed

    def _sync_plan(self, reg: Registry, plan: Plan) -> tuple[int, str | None]:
        """Where the registry stands in the plan; adds tags planned on the latest change."""
        if not reg.initialized():
            return -1, None
        state = reg.current_state()
        if state is None:
            return -1, None
        change = plan.change_by_id(state.id)
        if change is None:
            raise RegistryError(
                f"Cannot find change {state.id} ({state.format_name_with_tags()}) in "
                f"{plan.file}: the registry has a deployed change the plan does not contain"
            )
        self._check_prefix(reg, plan)
        if change.tags:
            reg.log_new_tags(
                change.id,
                [
                    TagRow(
                        id=t.id,
                        name=t.format_name,
                        note=t.note,
                        planned_at=t.planned_at,
                        planner_name=t.planner_name,
                        planner_email=t.planner_email,
                    )
                    for t in change.tags
                ],
            )
            return change.index, change.name + change.tags[-1].format_name
        return change.index, change.name

    def _check_prefix(self, reg: Registry, plan: Plan) -> None:
        deployed = reg.deployed_changes()
        for i, row in enumerate(deployed):
            planned = plan.changes[i] if i < len(plan.changes) else None
            if planned is not None and planned.id == row.id:
                continue
            where = plan.change_by_id(row.id)
            if where is not None:
                raise RegistryError(
                    f"Registry and plan disagree: deployed change #{i + 1} is "
                    f"{row.format_name_with_tags()} ({row.id}), which is change #{where.index + 1} "
                    "of the plan (deployed out of order); run verify for details"
                )
            raise RegistryError(
                f"Registry and plan disagree: deployed change #{i + 1} "
                f"{row.format_name_with_tags()} ({row.id}) is not in the plan;"
                " run verify for details"
            )

    def _dep_plan_id(self, plan: Plan, dep: Dependency) -> str | None:
        """Sqitch's Depend->id: the plan's id for an own-project dependency."""
        if dep.id is not None:
            return dep.id
        if dep.is_external(plan.project):
            return None
        try:
            found = plan.find(dep.key_name)
        except NotFoundError:
            found = None
        if found is None:
            raise DependencyError(f'Unable to find change "{dep.key_name}" in plan {plan.file}')
        return found.id

    def _registry_dep_id(
        self, reg: Registry, plan: Plan, dep: Dependency, plan_id: str | None
    ) -> str | None:
        ids = reg.change_ids_for(
            change_id=plan_id,
            change=dep.change,
            tag=dep.tag,
            project=dep.project or plan.project,
            first=True,
        )
        return ids[0] if ids else None

    def _check_deploy_dependencies(
        self, reg: Registry, plan: Plan, batch: Sequence[Change]
    ) -> dict[tuple[int, int], str]:
        seen: dict[str, Change] = {}
        conflicts: list[str] = []
        missing: list[str] = []
        resolved: dict[tuple[int, int], str] = {}
        for change in batch:
            for dep in change.conflicts:
                pid = self._dep_plan_id(plan, dep)
                if (pid is not None and pid in seen) or self._registry_dep_id(reg, plan, dep, pid):
                    conflicts.append(dep.as_string(plan.project))
            for i, dep in enumerate(change.requires):
                pid = self._dep_plan_id(plan, dep)
                if pid is not None and pid in seen:
                    rid: str | None = seen[pid].id
                else:
                    rid = self._registry_dep_id(reg, plan, dep, pid)
                if rid is None:
                    missing.append(dep.as_string(plan.project))
                else:
                    resolved[(change.index, i)] = rid
            seen[change.id] = change
        msgs = []
        conflicts = list(dict.fromkeys(conflicts))
        missing = list(dict.fromkeys(missing))
        if conflicts:
            noun = "change" if len(conflicts) == 1 else "changes"
            msgs.append(f"Conflicts with previously deployed {noun}: {' '.join(conflicts)}")
        if missing:
            noun = "change" if len(missing) == 1 else "changes"
            msgs.append(f"Missing required {noun}: {' '.join(missing)}")
        if msgs:
            raise DependencyError("; ".join(msgs))
        already = reg.are_deployed([c.id for c in batch])
        if already:
            by_id = {c.id: c for c in batch}
            listed = ", ".join(f"{by_id[i].format_name_with_tags()} ({i})" for i in already)
            if len(already) == 1:
                raise DependencyError(f'Change "{listed}" has already been deployed')
            raise DependencyError(f"Changes have already been deployed: {listed}")
        return resolved

    def _deploy_change(
        self,
        reg: Registry,
        change: Change,
        resolved: dict[tuple[int, int], str],
        with_verify: bool,
        log_only: bool,
    ) -> None:
        item = self._plan_item(change)
        plan = self.project.plan
        self._start("+", item.label)
        reg.begin_work()
        try:
            try:
                if not log_only:
                    self.run_script("deploy", item.deploy)
                try:
                    if with_verify:
                        self._verify_item(item)
                    deps: list[tuple[str, str, str | None]] = [
                        ("require", d.as_string(plan.project), resolved[(change.index, i)])
                        for i, d in enumerate(change.requires)
                    ]
                    deps += [
                        ("conflict", d.as_string(plan.project), None) for d in change.conflicts
                    ]
                    reg.log_deploy_change(
                        item.logged,
                        script_hash(self.project.dir / item.deploy),
                        deps,
                        [
                            TagRow(
                                id=t.id,
                                name=t.format_name,
                                note=t.note,
                                planned_at=t.planned_at,
                                planner_name=t.planner_name,
                                planner_email=t.planner_email,
                            )
                            for t in change.tags
                        ],
                    )
                    self.reporter.info("ok")
                except (SqitchError, psycopg.Error) as exc:
                    self.reporter.info("not ok")
                    self.reporter.warn(_one_line(exc))
                    reg.rollback_work()
                    try:
                        reg.begin_work()
                        if not log_only:
                            self.run_script("revert", item.revert)
                    except (SqitchError, psycopg.Error) as rexc:
                        self.reporter.warn(_one_line(rexc))
                    raise DeployError(
                        f"{change.format_name_with_tags()}: {_one_line(exc)}"
                    ) from exc
            finally:
                reg.finish_work()
        except (SqitchError, psycopg.Error) as exc:
            if not isinstance(exc, DeployError):
                self.reporter.info("not ok")
            reg.rollback_work()
            reg.log_fail_change(item.logged)
            if isinstance(exc, SqitchError):
                raise
            raise DeployError(f"{change.format_name_with_tags()}: {_one_line(exc)}") from exc

    def _rollback(
        self,
        reg: Registry,
        tagged: Change | None,
        start_at: str | None,
        run: Sequence[Change],
        log_only: bool,
    ) -> None:
        if not run:
            return
        label = tagged.format_name_with_tags() if tagged is not None else start_at
        self.reporter.warn(f"Reverting to {label}" if label else "Reverting all changes")
        try:
            for change in reversed(run):
                self._revert_item(reg, self._plan_item(change), log_only)
        except (SqitchError, psycopg.Error) as exc:
            self.reporter.warn(_one_line(exc))
            self.reporter.warn("The schema will need to be manually repaired")

    # ------------------------------------------------------------- revert
    def revert(
        self,
        to: str | None = None,
        *,
        confirm: Callable[[str], bool] | None = None,
        log_only: bool = False,
    ) -> list[str]:
        """Revert to ``to`` (default: everything); ``confirm`` may refuse. Returns names."""
        self._vars = self.project.variables("revert", self.extra_vars)
        plan = self.project.plan
        with self.registry() as reg:
            reg.check_release(self.destination)
            self._lock(reg)
            if to is not None:
                change_id = self._change_id_for_key(reg, to)
                row = reg.load_change(change_id) if change_id else None
                if row is None:
                    try:
                        known = plan.find(to) is not None
                    except NotFoundError:
                        known = False
                    if known:
                        raise RevertError(f'Change not deployed: "{to}"')
                    raise NotFoundError(f'Unknown change: "{to}"')
                rows = reg.deployed_changes(since_id=row.id)
                if not rows:
                    self.reporter.info(f'No changes deployed since: "{to}"')
                    return []
                question = (
                    f"Revert changes to {row.format_name_with_tags()} from {self.destination}?"
                )
                announce = (
                    f"Reverting changes to {row.format_name_with_tags()} from {self.destination}"
                )
            else:
                rows = reg.deployed_changes()
                if not rows:
                    self.reporter.info("Nothing to revert (nothing deployed)")
                    return []
                question = f"Revert all changes from {self.destination}?"
                announce = f"Reverting all changes from {self.destination}"
            if confirm is not None and not confirm(question):
                raise RevertError("Nothing reverted")
            self.reporter.info(announce)
            items = list(reversed(self._registry_items(rows)))
            self._check_revert_dependencies(reg, items)
            self._max_len = max(len(i.label) for i in items)
            for item in items:
                self._revert_item(reg, item, log_only)
            return [i.logged.name for i in items]

    def _change_id_for_key(self, reg: Registry, key: str) -> str | None:
        base, offset = split_offset(key)
        cname, sep, tag = base.partition("@")
        if sep and tag:
            ids = reg.change_ids_for(change=cname or None, tag=tag)
        elif _SHA1_RE.match(cname):
            ids = reg.change_ids_for(change_id=cname)
        elif cname in ("HEAD", "ROOT"):
            ids = reg.change_ids_for(tag=cname)
        else:
            ids = reg.change_ids_for(change=cname)
        if len(ids) > 1:
            raise NotFoundError(
                f'Change "{key}" is ambiguous; specify a tag-qualified change ({len(ids)} deployed)'
            )
        if not ids:
            return None
        return reg.change_id_offset_from_id(ids[0], offset)

    def _check_revert_dependencies(self, reg: Registry, items: Sequence[_Item]) -> None:
        seen: set[str] = set()
        msgs = []
        project = self.project.plan.project
        for item in items:
            seen.add(item.logged.id)
            requiring = [
                r for r in reg.changes_requiring(item.logged.id) if r["change_id"] not in seen
            ]
            if not requiring:
                continue
            names = " ".join(
                ("" if r["project"] == project else f"{r['project']}:")
                + r["change"]
                + (r["asof_tag"] or "")
                for r in requiring
            )
            noun = "change" if len(requiring) == 1 else "changes"
            msgs.append(f'Change "{item.label}" required by currently deployed {noun}: {names}')
        if msgs:
            raise RevertError("; ".join(msgs))

    def _revert_item(self, reg: Registry, item: _Item, log_only: bool) -> None:
        self._start("-", item.label)
        reg.begin_work()
        try:
            if not log_only:
                self.run_script("revert", item.revert)
            try:
                reg.log_revert_change(item.logged)
                self.reporter.info("ok")
            except psycopg.Error as exc:
                reg.rollback_work()
                raise RevertError(f"Revert failed: {_one_line(exc)}") from exc
        except (SqitchError, psycopg.Error):
            self.reporter.info("not ok")
            raise
        finally:
            reg.finish_work()

    # ------------------------------------------------------------- verify
    def verify(
        self, from_change: str | None = None, to_change: str | None = None, *, probe: bool = True
    ) -> VerifyReport:
        """Check every deployed change against the plan and run its verify script."""
        self._vars = self.project.variables("verify", self.extra_vars)
        plan = self.project.plan
        report = VerifyReport(destination=self.destination)
        with self.registry() as reg:
            reg.check_release(self.destination)
            self.reporter.info(f"Verifying {self.destination}")
            rows = reg.deployed_changes()
            if not rows:
                msg = (
                    "No changes deployed"
                    if plan.changes
                    else "Nothing to verify (no planned or deployed changes)"
                )
                self.reporter.info(msg)
                report.notes.append(msg)
                self._probe_pending(reg, plan, -1, report.notes, probe)
                return report
            if not plan.changes:
                raise VerifyError("There are deployed changes, but none planned!")
            items = self._registry_items(rows)
            from_idx = 0
            if from_change is not None:
                from_idx = self._trim_to(reg, plan, from_change, items, pop=False)
            if to_change is not None:
                to_idx = self._trim_to(reg, plan, to_change, items, pop=True)
            else:
                latest = reg.current_state()
                found = plan.change_by_id(latest.id) if latest else None
                to_idx = found.index if found is not None else len(plan.changes) - 1
            labels = [i.label for i in items] + [
                plan.changes[k].format_name_with_tags() for k in range(from_idx, to_idx + 1)
            ]
            self._max_len = max(len(x) for x in labels)
            seen: set[int] = set()
            for i, item in enumerate(items):
                errs: list[str] = []
                planned = plan.change_by_id(item.logged.id)
                reworked = False
                if planned is not None:
                    seen.add(planned.index)
                    if planned.index != from_idx + i:
                        errs.append("Out of order")
                    reworked = planned.is_reworked
                else:
                    errs.append("Not present in the plan")
                if not reworked:
                    try:
                        self._verify_item(item)
                    except (SqitchError, psycopg.Error) as exc:
                        errs.append(_one_line(exc))
                report.checked += 1
                line = f"  * {item.label} .." + "." * (self._max_len - len(item.label)) + " "
                line += "ok" if not errs else "not ok # " + "; ".join(errs)
                report.lines.append(line)
                self.reporter.emit(line)
                report.errors += len(errs)
            for k in range(from_idx, to_idx + 1):
                if k in seen:
                    continue
                label = plan.changes[k].format_name_with_tags()
                line = (
                    f"  * {label} .."
                    + "." * (self._max_len - len(label))
                    + " not ok # Not deployed"
                )
                report.lines.append(line)
                self.reporter.emit(line)
                report.errors += 1
            if to_change is None and to_idx < len(plan.changes) - 1:
                report.pending = plan.changes[to_idx + 1 :]
                noun = "change" if len(report.pending) == 1 else "changes"
                self.reporter.emit(f"Undeployed {noun}:")
                for change in report.pending:
                    self.reporter.emit(f"  * {change.format_name_with_tags()}")
            self._probe_pending(reg, plan, to_idx, report.notes, probe and to_change is None)
            for note in report.notes:
                self.reporter.warn(note)
            summary = (
                f"Recorded in the registry: {len(rows)} change(s); plan: "
                f"{len(plan.changes)} change(s)"
            )
            if report.errors:
                self.reporter.emit("")
                self.reporter.emit("Verify Summary Report")
                self.reporter.emit("---------------------")
                self.reporter.emit(f"Changes: {max(len(items), to_idx - from_idx + 1)}")
                self.reporter.emit(f"Errors:  {report.errors}")
                self.reporter.emit(summary)
                raise VerifyError(f"Verify failed: {report.errors} error(s)", problems=report.lines)
            self.reporter.emit(summary)
            self.reporter.emit("Verify successful")
            return report

    def _trim_to(
        self, reg: Registry, plan: Plan, key: str, items: list[_Item], *, pop: bool
    ) -> int:
        change_id = self._change_id_for_key(reg, key)
        if not change_id:
            try:
                known = plan.find(key) is not None
            except NotFoundError:
                known = False
            if known:
                raise VerifyError(f'Change "{key}" has not been deployed')
            raise NotFoundError(f'Cannot find "{key}" in the database or the plan')
        planned = plan.change_by_id(change_id)
        if planned is None:
            raise VerifyError(f'Change "{key}" is deployed, but not planned')
        if pop:
            while items and items[-1].logged.id != change_id:
                items.pop()
        else:
            while items and items[0].logged.id != change_id:
                items.pop(0)
        return planned.index

    def _probe_pending(
        self, reg: Registry, plan: Plan, position: int, notes: list[str], probe: bool
    ) -> None:
        """Say plainly what is recorded and what looks applied for the next change."""
        if position + 1 >= len(plan.changes):
            return
        nxt = plan.changes[position + 1]
        holders = reg.lock_holders()
        if holders:
            notes.append(
                "Another deployer holds the Sqitch lock (backend pid "
                f"{', '.join(map(str, holders))}):"
                " a deploy or revert is in progress, so the registry may be about to change"
            )
        if reg.initialized():
            event = reg.last_event(nxt.id)
            if event is not None and event["event"] == "fail":
                notes.append(
                    f"The last attempt to deploy {nxt.name} failed "
                    f"({event['committed_at']:%Y-%m-%d %H:%M:%S %z}, by {event['committer_name']});"
                    " it is not recorded as deployed"
                )
        if not probe:
            return
        item = self._plan_item(nxt)
        if not (self.project.dir / item.verify).exists():
            return
        proc = self._psql(["--file", str(item.verify)], self._vars)
        if proc.returncode == 0:
            notes.append(
                f"{nxt.name} is NOT recorded in the registry, but its verify script "
                f"{item.verify} passes: it looks applied. A deploy was probably interrupted after "
                "its script committed and before the registry write (Sqitch has the same window)."
                f" If it is fully applied, record it with `deploy --log-only --to {nxt.name}`;"
                " otherwise undo it by hand and deploy again"
            )

    # ------------------------------------------------------------- status
    def status(self, *, probe: bool = True, project: str | None = None) -> StatusReport:
        plan = self.project.plan
        name = project or plan.project
        self._vars = self.project.variables("verify", self.extra_vars)
        with self.registry(name) as reg:
            report = StatusReport(
                destination=self.destination,
                project=name,
                registry_exists=reg.initialized(),
                plan_file=plan.file,
            )
            if not report.registry_exists:
                self._probe_pending(reg, plan, -1, report.notes, probe and name == plan.project)
                return report
            reg.check_release(self.destination)
            report.current = reg.current_state(name)
            report.deployed = reg.deployed_changes() if name == plan.project else []
            report.tags = reg.current_tags(name)
            if name != plan.project:
                return report
            position = -1
            if report.current is not None:
                found = plan.change_by_id(report.current.id)
                if found is None:
                    report.problems.append(
                        f"Cannot find this change in {plan.file}: make sure you are connected to"
                        " the proper database for this project"
                    )
                    return report
                position = found.index
                for i, row in enumerate(report.deployed):
                    if i >= len(plan.changes) or plan.changes[i].id != row.id:
                        where = plan.change_by_id(row.id)
                        report.problems.append(
                            f"Recorded change #{i + 1} {row.format_name_with_tags()} ({row.id}) is "
                            + (
                                f"plan change #{where.index + 1} (out of order)"
                                if where
                                else "not in the plan"
                            )
                        )
                        break
            report.pending = plan.changes[position + 1 :]
            self._probe_pending(reg, plan, position, report.notes, probe)
            return report

    # ---------------------------------------------------------------- log
    def log(
        self,
        *,
        events: Sequence[str] = (),
        change: str | None = None,
        committer_pattern: str | None = None,
        project: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        reverse: bool = False,
    ) -> list[EventRow]:
        with self.registry(project or "") as reg:
            if not reg.initialized():
                raise RegistryError(
                    f"Database {self.destination} has not been initialized for Sqitch"
                )
            return reg.events(
                project=project,
                events=events,
                change=change,
                committer=committer_pattern,
                limit=limit,
                offset=skip,
                reverse=reverse,
            )


def _registry_rework_tags(rows: Sequence[DeployedChange], index: int) -> list[str]:
    """Rework tags of a deployed change the plan does not know, from registry tags."""
    name = rows[index].name
    later = next((k for k in range(index + 1, len(rows)) if rows[k].name == name), None)
    if later is None:
        return []
    tags: list[str] = []
    for k in range(later - 1, index - 1, -1):
        for tag in rows[k].tags:
            bare = tag[1:] if tag.startswith("@") else tag
            if bare not in tags:
                tags.append(bare)
    return tags


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        text = exc.diag.message_primary
    return " ".join(text.split()) or type(exc).__name__


__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "MODES",
    "REGISTRY_RELEASE",
    "Engine",
    "LoggingReporter",
    "Project",
    "Reporter",
    "StatusReport",
    "VerifyReport",
]
