"""zkeb-db and real Sqitch on the same databases: each takes over the other's work."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from zkeb_sqitch_testkit import (
    COMMITTER,
    CROSSCHECK,
    ScratchDB,
    deployed_names,
    install_psql_logger,
    registry_snapshot,
    run_sqitch,
    run_zkeb,
    script_calls,
)

from zkeb_db.sqitch.plan import load_plan

pytestmark = pytest.mark.sqitch

ALL = ["appschema", "users", "widgets", "funcs/greet", "users", "counters", "gadgets"]


def test_zkeb_deploys_then_sqitch_takes_over(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    out = run_zkeb("deploy", "--chdir", str(interop_project), "--db", db.conninfo).out
    assert "Adding registry tables" in out and "+ gadgets" in out
    assert deployed_names(db) == ALL

    status = run_sqitch(interop_project, "status", db.sqitch_target).out
    assert "Nothing to deploy (up-to-date)" in status
    assert load_plan(interop_project / "sqitch.plan").changes[-1].id in status
    assert "Verify successful" in run_sqitch(interop_project, "verify", db.sqitch_target).out
    run_sqitch(interop_project, "revert", "-y", db.sqitch_target)
    assert deployed_names(db) == []
    assert db.scalar("SELECT count(*) FROM sqitch.tags") == 0
    run_sqitch(interop_project, "deploy", db.sqitch_target)
    assert deployed_names(db) == ALL
    assert "Verify successful" in run_zkeb(
        "verify", "--chdir", str(interop_project), "--db", db.conninfo).out


def test_sqitch_deploys_then_zkeb_takes_over(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    run_sqitch(interop_project, "deploy", "--to", "@v1.0", db.sqitch_target)
    args = ("--chdir", str(interop_project), "--db", db.conninfo)
    status = run_zkeb("status", *args).out
    assert "Undeployed changes:" in status and "* funcs/greet" in status
    assert "# Tag:      @v1.0" in status
    run_zkeb("deploy", *args)
    assert deployed_names(db) == ALL
    assert "Verify successful" in run_zkeb("verify", *args).out
    assert "Nothing to deploy (up-to-date)" in run_zkeb("status", *args).out
    # Our revert uses the registry written by both tools, @tag script names included.
    run_zkeb("revert", "-y", "--to", "@v1.0", *args)
    assert deployed_names(db) == ALL[:3]
    assert "Verify successful" in run_sqitch(interop_project, "verify", db.sqitch_target).out
    run_zkeb("revert", "-y", *args)
    assert deployed_names(db) == []
    assert db.scalar("SELECT to_regnamespace('zkeb_interop_app')") is None
    run_sqitch(interop_project, "deploy", db.sqitch_target)
    assert "Nothing to deploy (up-to-date)" in run_zkeb("status", *args).out


def test_both_tools_write_identical_registry_rows(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    ours, theirs = scratch_db(), scratch_db()
    run_zkeb("deploy", "--chdir", str(interop_project), "--db", ours.conninfo)
    run_sqitch(interop_project, "deploy", theirs.sqitch_target)
    mine, ref = registry_snapshot(ours), registry_snapshot(theirs)
    assert mine == ref
    plan = load_plan(interop_project / "sqitch.plan")
    assert [r[0] for r in mine["changes"]] == [c.id for c in plan.changes]
    assert {r[0] for r in mine["tags"]} == {t.id for t in plan.tags}
    assert mine["releases"] == [(1.1, *COMMITTER)]
    assert mine["projects"] == [("zkeb_interop", "https://example.com/zkeb-interop/", *COMMITTER)]
    # Revert events too, each tool reverting its own deployment.
    run_zkeb("revert", "-y", "--to", "appschema", "--chdir", str(interop_project),
             "--db", ours.conninfo)
    run_sqitch(interop_project, "revert", "-y", "--to", "appschema", theirs.sqitch_target)
    assert registry_snapshot(ours) == registry_snapshot(theirs)


def test_registry_schema_is_what_sqitch_creates(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    ours, theirs = scratch_db(), scratch_db()
    run_zkeb("deploy", "--to", "appschema", "--chdir", str(interop_project), "--db", ours.conninfo)
    run_sqitch(interop_project, "deploy", "--to", "appschema", theirs.sqitch_target)

    def dump(db: ScratchDB) -> str:
        proc = subprocess.run(["pg_dump", "--schema-only", "--schema", "sqitch", db.name],
                              capture_output=True, text=True, check=True, env=db.env)
        return "\n".join(ln for ln in proc.stdout.splitlines()
                         if not ln.startswith(("\\restrict", "\\unrestrict", "-- Dumped")))

    assert dump(ours) == dump(theirs)
    assert "COMMENT ON COLUMN sqitch.events.planner_email" in dump(ours)


def test_existing_sqitch_registry_is_used_as_is(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    run_sqitch(interop_project, "deploy", "--to", "appschema", db.sqitch_target)
    before = db.query("SELECT version, installed_at FROM sqitch.releases")
    run_zkeb("deploy", "--chdir", str(interop_project), "--db", db.conninfo)
    assert db.query("SELECT version, installed_at FROM sqitch.releases") == before
    assert db.scalar("SELECT count(*) FROM sqitch.projects") == 1


@pytest.mark.skipif(not CROSSCHECK.exists(), reason=f"acceptance tool not found at {CROSSCHECK}")
def test_sqitch_crosscheck_passes_on_a_zkeb_deployed_database(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    run_zkeb("deploy", "--to", "@v1.1", "--chdir", str(interop_project), "--db", db.conninfo)
    proc = subprocess.run([str(CROSSCHECK), "--full", str(interop_project), db.sqitch_target],
                          capture_output=True, text=True, env=db.env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RESULT: PASS" in proc.stdout
    assert "FAIL" not in proc.stdout


def test_scripts_run_exactly_as_sqitch_runs_them(
    interop_project: Path, scratch_db: Callable[[], ScratchDB], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = interop_project / "sqitch.conf"
    conf.write_text(conf.read_text() + '[deploy "variables"]\n\tlevel = deploy\n'
                    '[verify "variables"]\n\tlevel = verify\n')
    ours_log, theirs_log = tmp_path / "ours.jsonl", tmp_path / "theirs.jsonl"
    ours, theirs = scratch_db(), scratch_db()
    install_psql_logger(interop_project)
    monkeypatch.setenv("ZKEB_PSQL_LOG", str(ours_log))
    # The same target for both tools: the server from PG*, the database named in the URI.
    run_zkeb("deploy", "--verify", "--chdir", str(interop_project), "--db", ours.sqitch_target,
             "--set", "extra=x y")
    run_zkeb("verify", "--chdir", str(interop_project), "--db", ours.sqitch_target)
    monkeypatch.setenv("ZKEB_PSQL_LOG", str(theirs_log))
    run_sqitch(interop_project, "deploy", "--verify", theirs.sqitch_target, "--set", "extra=x y")
    run_sqitch(interop_project, "verify", theirs.sqitch_target)

    def normalise(calls: list[tuple[str, list[str]]], name: str) -> list[tuple[str, list[str]]]:
        return [(cwd, [a.replace(name, "DB") for a in argv]) for cwd, argv in calls]

    mine = normalise(script_calls(ours_log), ours.name)
    ref = normalise(script_calls(theirs_log), theirs.name)
    assert mine == ref
    first_cwd, first_argv = mine[0]
    assert first_cwd == str(interop_project)
    assert first_argv[:2] == ["--dbname", "dbname=DB"]
    assert first_argv[-2:] == ["--file", "deploy/appschema.sql"]
    assert "--set" in first_argv and "app_schema=zkeb_interop_app" in first_argv
    assert first_argv[-6:-2] == ["--set", "ON_ERROR_STOP=1", "--set", "registry=sqitch"]
    files = [argv[-1] for _cwd, argv in mine]
    assert "deploy/users@v1.0.sql" in files and "deploy/funcs/greet.sql" in files
    # The standalone verify (after the last deploy) skips the earlier instance of users.
    standalone = files[files.index("verify/gadgets.sql") + 1 :]
    assert standalone[:2] == ["verify/appschema.sql", "verify/widgets.sql"]
