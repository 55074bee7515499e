"""Deploy failures, modes, dependency checks, revert refusals and verify semantics.

Each scenario that Sqitch can also run is run by both tools on twin databases,
and the registry events they leave are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from zkeb_sqitch_testkit import (
    Result,
    ScratchDB,
    deployed_names,
    events,
    registry_snapshot,
    run_sqitch,
    run_zkeb,
)

pytestmark = pytest.mark.sqitch

C = "2024-01-02T03:04:05Z Ann <ann@example.com>"


def zk(cmd: str, project: Path, db: ScratchDB, *args: str, check: bool = True) -> Result:
    return run_zkeb(cmd, "--chdir", str(project), "--db", db.conninfo, *args, check=check)


def break_script(project: Path, rel: str, statement: str = "SELECT 1/0;") -> str:
    path = project / rel
    original = path.read_text()
    path.write_text(original.replace("COMMIT;", f"{statement}\nCOMMIT;"))
    return original


def one_line_failure(res: Result, command: str) -> str:
    err = res.err.strip().splitlines()
    assert res.rc != 0
    assert err, "no reason given"
    last = err[-1]
    assert last.startswith(f"zkeb-db {command}: ")
    return last


def test_failing_script_records_nothing_and_a_later_deploy_resumes(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    ours, theirs = scratch_db(), scratch_db()
    for db in (ours, theirs):
        run_sqitch(interop_project, "deploy", "--to", "@v1.0", db.sqitch_target)
    original = break_script(interop_project, "deploy/counters.sql")

    res = zk("deploy", interop_project, ours, check=False)
    reason = one_line_failure(res, "deploy")
    assert "deploy/counters.sql" in reason and "division by zero" in reason
    ref = run_sqitch(interop_project, "deploy", theirs.sqitch_target, check=False)
    assert ref.rc != 0
    # Mode "all": what this run deployed is reverted; counters has a fail event.
    assert deployed_names(ours) == ["appschema", "users", "widgets"]
    assert events(ours)[-5:] == [("deploy", "funcs/greet"), ("deploy", "users"),
                                 ("fail", "counters"), ("revert", "users"),
                                 ("revert", "funcs/greet")]
    assert registry_snapshot(ours) == registry_snapshot(theirs)
    assert ours.scalar("SELECT to_regclass('zkeb_interop_app.counters')") is None

    (interop_project / "deploy/counters.sql").write_text(original)
    out = zk("deploy", interop_project, ours).out
    assert "+ counters" in out and "+ appschema" not in out
    assert deployed_names(ours)[-3:] == ["users", "counters", "gadgets"]
    assert "Verify successful" in zk("verify", interop_project, ours).out


@pytest.mark.parametrize(("mode", "left"), [
    ("change", ["appschema", "users", "widgets", "funcs/greet", "users", "counters"]),
    ("tag", ["appschema", "users", "widgets", "funcs/greet", "users"]),
])
def test_deploy_modes_match_sqitch(
    mode: str, left: list[str], interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    ours, theirs = scratch_db(), scratch_db()
    for db in (ours, theirs):
        zk("deploy", interop_project, db, "--to", "@v1.0")
    break_script(interop_project, "deploy/gadgets.sql")
    res = zk("deploy", interop_project, ours, "--mode", mode, check=False)
    one_line_failure(res, "deploy")
    assert run_sqitch(interop_project, "deploy", "--mode", mode, theirs.sqitch_target,
                      check=False).rc != 0
    assert deployed_names(ours) == left
    assert registry_snapshot(ours) == registry_snapshot(theirs)


def test_verify_failure_during_deploy_reverts_the_change(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    ours, theirs = scratch_db(), scratch_db()
    (interop_project / "verify/counters.sql").write_text("SELECT 1/0;\n")
    res = zk("deploy", interop_project, ours, "--verify", "--mode", "change", check=False)
    reason = one_line_failure(res, "deploy")
    assert "verify/counters.sql" in reason
    run_sqitch(interop_project, "deploy", "--verify", "--mode", "change", theirs.sqitch_target,
               check=False)
    assert deployed_names(ours) == ["appschema", "users", "widgets", "funcs/greet", "users"]
    assert events(ours)[-1] == ("fail", "counters")
    # The change's revert script ran: its table is gone.
    assert ours.scalar("SELECT to_regclass('zkeb_interop_app.counters')") is None
    assert registry_snapshot(ours) == registry_snapshot(theirs)


def _project(tmp_path: Path, name: str, plan_body: str, scripts: dict[str, str]) -> Path:
    proj = tmp_path / name
    for kind in ("deploy", "revert", "verify"):
        (proj / kind).mkdir(parents=True)
    (proj / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (proj / "sqitch.plan").write_text(f"%syntax-version=1.0.0\n%project={name}\n\n{plan_body}")
    for change, table in scripts.items():
        (proj / "deploy" / f"{change}.sql").write_text(
            f"BEGIN;\nCREATE TABLE public.{table} (x int);\nCOMMIT;\n")
        (proj / "revert" / f"{change}.sql").write_text(
            f"BEGIN;\nDROP TABLE public.{table};\nCOMMIT;\n")
        (proj / "verify" / f"{change}.sql").write_text(
            f"SELECT x FROM public.{table} WHERE false;\n")
    return proj


def test_dependencies_and_conflicts_are_checked_before_anything_runs(
    tmp_path: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    conflict = _project(tmp_path, "conflicting", f"a {C}\nb [!a] {C}\n",
                        {"a": "t_a", "b": "t_b"})
    res = zk("deploy", conflict, db, check=False)
    assert "Conflicts with previously deployed change: a" in one_line_failure(res, "deploy")
    assert db.scalar("SELECT to_regclass('public.t_a')") is None  # nothing ran
    assert db.scalar("SELECT count(*) FROM sqitch.events") == 0

    missing = _project(tmp_path, "missing", f"a {C}\nb [a other:thing] {C}\n",
                       {"a": "t_a", "b": "t_b"})
    res = zk("deploy", missing, db, check=False)
    assert "Missing required change: other:thing" in one_line_failure(res, "deploy")
    assert db.scalar("SELECT to_regclass('public.t_a')") is None
    assert db.scalar("SELECT count(*) FROM sqitch.events") == 0
    # Sqitch refuses the same plans.
    assert run_sqitch(conflict, "deploy", db.sqitch_target, check=False).rc != 0
    assert run_sqitch(missing, "deploy", db.sqitch_target, check=False).rc != 0

    # Deployed conflicts count too: deploy a, then a plan where c conflicts with it.
    zk("deploy", conflict, db, "--to", "a")
    (conflict / "sqitch.plan").write_text(
        (conflict / "sqitch.plan").read_text().replace(f"b [!a] {C}\n", f"c [!a] {C}\n"))
    _project(tmp_path, "scratch", "", {"c": "t_c"})
    for kind in ("deploy", "revert", "verify"):
        (conflict / kind / "c.sql").write_text((tmp_path / "scratch" / kind / "c.sql").read_text())
    res = zk("deploy", conflict, db, check=False)
    assert "Conflicts with previously deployed change: a" in one_line_failure(res, "deploy")
    assert db.scalar("SELECT to_regclass('public.t_c')") is None


def test_revert_refuses_when_a_remaining_change_requires_a_reverted_one(
    interop_project: Path, tmp_path: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    zk("deploy", interop_project, db)
    other = _project(tmp_path, "consumer", f"uses_users [zkeb_interop:users@v1.0] {C}\n",
                     {"uses_users": "t_consumer"})
    zk("deploy", other, db)
    before = registry_snapshot(db)
    res = zk("revert", interop_project, db, "-y", "--to", "appschema", check=False)
    reason = one_line_failure(res, "revert")
    assert 'Change "users" required by currently deployed change: consumer:uses_users' in reason
    assert registry_snapshot(db) == before  # nothing reverted
    assert run_sqitch(interop_project, "revert", "-y", "--to", "appschema", db.sqitch_target,
                      check=False).rc != 0
    # Reverting only above users@v1.0 is fine.
    zk("revert", interop_project, db, "-y", "--to", "widgets")
    assert deployed_names(db)[-1] == "uses_users"


def test_revert_without_y_refuses_without_a_terminal(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    zk("deploy", interop_project, db)
    res = zk("revert", interop_project, db, check=False)
    assert "use -y" in one_line_failure(res, "revert")
    assert len(deployed_names(db)) == 7


def test_verify_semantics(interop_project: Path, scratch_db: Callable[[], ScratchDB]) -> None:
    db = scratch_db()
    zk("deploy", interop_project, db)
    # Earlier instances of reworked changes are not verified (their objects changed since).
    (interop_project / "verify/users@v1.0.sql").write_text("SELECT 1/0;\n")
    # A missing verify script only warns.
    (interop_project / "verify/counters.sql").unlink()
    res = zk("verify", interop_project, db)
    assert "Verify script verify/counters.sql does not exist" in res.err
    assert "Verify successful" in res.out
    assert "Verify successful" in run_sqitch(interop_project, "verify", db.sqitch_target).out

    # A failing verify script fails the run with a one-line reason.
    (interop_project / "verify/gadgets.sql").write_text("SELECT 1/0;\n")
    res = zk("verify", interop_project, db, check=False)
    assert "not ok" in res.out
    assert "Verify failed" in one_line_failure(res, "verify")


def test_verify_reports_registry_and_plan_disagreements(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    zk("deploy", interop_project, db)
    # Out of order: swap the commit times of two changes.
    db.query("""
        WITH a AS (SELECT committed_at FROM sqitch.changes WHERE change = 'counters'),
             b AS (SELECT committed_at FROM sqitch.changes WHERE change = 'gadgets')
        UPDATE sqitch.changes c SET committed_at = CASE c.change
            WHEN 'counters' THEN (SELECT committed_at FROM b)
            ELSE (SELECT committed_at FROM a) END
         WHERE c.change IN ('counters', 'gadgets')""")
    res = zk("verify", interop_project, db, check=False)
    assert "Out of order" in res.out
    one_line_failure(res, "verify")
    assert run_sqitch(interop_project, "verify", db.sqitch_target, check=False).rc != 0
    res = zk("deploy", interop_project, db, check=False)
    assert "out of order" in one_line_failure(res, "deploy")
    assert "(out of order)" in zk("status", interop_project, db).err  # said, like Sqitch: exit 0

    # A change missing before the newest deployed one.
    db2 = scratch_db()
    zk("deploy", interop_project, db2)
    db2.query("DELETE FROM sqitch.tags WHERE tag = '@v1.0';"
              " DELETE FROM sqitch.changes WHERE change = 'widgets'")
    res = zk("verify", interop_project, db2, check=False)
    assert "widgets @v1.0 .." in res.out and "Not deployed" in res.out
    one_line_failure(res, "verify")
    assert run_sqitch(interop_project, "verify", db2.sqitch_target, check=False).rc != 0

    # A deployed change that is not in the plan (its plan line was edited).
    plan = interop_project / "sqitch.plan"
    plan.write_text(plan.read_text().replace("is not a newline.", "is not a newline!"))
    res = zk("verify", interop_project, db2, check=False)
    assert "Not present in the plan" in res.out
    one_line_failure(res, "verify")
    res = zk("status", interop_project, db2, check=False)
    assert "Cannot find this change" in one_line_failure(res, "status")
