"""The command line (output shapes next to Sqitch's, one-line failures) and the Python API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from zkeb_sqitch_testkit import ScratchDB, deployed_names, run_sqitch, run_zkeb

from zkeb_db.sqitch import (
    DeployError,
    RegistryError,
    VerifyError,
    deploy_project,
    revert_project,
    status,
    verify_project,
)


def failure(res: object, command: str) -> str:
    err = res.err.strip().splitlines()  # type: ignore[attr-defined]
    assert res.rc != 0, res.out  # type: ignore[attr-defined]
    assert err and err[-1].startswith(f"zkeb-db {command}: ")
    return str(err[-1])


@pytest.mark.sqitch
@pytest.mark.parametrize("fmt", ["raw", "medium", "format:%H %n %o%t"])
def test_plan_output_equals_sqitchs(interop_project: Path, fmt: str,
                                    sq_env: dict[str, str]) -> None:
    ours = run_zkeb("plan", "--chdir", str(interop_project), "--format", fmt).out
    theirs = run_sqitch(interop_project, "plan", "--format", fmt).out
    assert ours == theirs


@pytest.mark.sqitch
def test_log_output_equals_sqitchs(interop_project: Path,
                                   scratch_db: Callable[[], ScratchDB]) -> None:
    db = scratch_db()
    args = ("--chdir", str(interop_project), "--db", db.sqitch_target)
    run_zkeb("deploy", *args)
    run_zkeb("revert", "-y", "--to", "@v1.1", *args)
    for fmt in ("raw", "medium"):
        ours = run_zkeb("log", "--format", fmt, *args).out
        theirs = run_sqitch(interop_project, "log", "--format", fmt, db.sqitch_target).out
        assert ours == theirs
    reverts = run_zkeb("log", "--event", "revert", "--format", "oneline", *args).out
    # Newest first; like Sqitch, a revert event carries the note decoded a second time,
    # so the literal "\n" of gadgets' note became a line break.
    assert reverts.splitlines()[1:] == [
        "b1b2eb2d28ccf25c937f1872ae8c6a7f9ce0b56f revert zkeb_interop:counters 0",
        "68f708aa10567f2a6e8dc466efffbec85bee7e5b revert zkeb_interop:gadgets Gadgets #1 ",
    ]


@pytest.mark.sqitch
def test_status_output_keeps_sqitchs_lines(interop_project: Path,
                                           scratch_db: Callable[[], ScratchDB]) -> None:
    db = scratch_db()
    args = ("--chdir", str(interop_project), "--db", db.sqitch_target)
    run_zkeb("deploy", "--to", "@v1.0", *args)
    ours = run_zkeb("status", "--show-tags", *args).out.splitlines()
    theirs = run_sqitch(interop_project, "status", "--show-tags", db.sqitch_target).out
    assert [ln for ln in ours if not ln.startswith("# Recorded")] == theirs.splitlines()


def test_failures_are_one_line(interop_project: Path, scratch_db: Callable[[], ScratchDB],
                               tmp_path: Path) -> None:
    db = scratch_db()
    args = ("--chdir", str(interop_project), "--db", db.conninfo)
    assert "No registry found" in failure(run_zkeb("verify", *args, check=False), "verify")
    assert "No registry found" in failure(run_zkeb("revert", "-y", *args, check=False), "revert")
    assert "not been initialized" in failure(run_zkeb("status", *args, check=False), "status")
    assert 'Unknown change: "nope"' in failure(
        run_zkeb("deploy", "--to", "nope", *args, check=False), "deploy")
    assert "ambiguous" in failure(run_zkeb("deploy", "--to", "users", *args, check=False),
                                  "deploy")
    assert "Cannot connect" in failure(run_zkeb(
        "deploy", "--chdir", str(interop_project), "--db",
        "host=127.0.0.1 port=1 dbname=x connect_timeout=2", check=False), "deploy")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sqitch.plan").write_text("%project=p\n\na 2024-01-02T03:04:05Z\n")
    msg = failure(run_zkeb("deploy", "--chdir", str(bad), "--db", db.conninfo, check=False,
                           process=True), "deploy")
    assert "line 3" in msg and "Missing planner" in msg
    assert "Plan file" in failure(run_zkeb("plan", "--chdir", str(tmp_path), check=False), "plan")
    run_zkeb("deploy", *args)
    assert "Nothing to deploy (up-to-date)" in run_zkeb("deploy", *args).out
    assert "earlier change" in failure(
        run_zkeb("deploy", "--to", "appschema", *args, check=False), "deploy")
    assert 'No changes deployed since: "gadgets"' in run_zkeb(
        "revert", "-y", "--to", "gadgets", *args).out
    run_zkeb("revert", "-y", "--to", "@v1.1.1", *args)
    assert 'Change not deployed: "gadgets"' in failure(
        run_zkeb("revert", "-y", "--to", "gadgets", *args, check=False), "revert")
    assert 'Unknown change: "zzz"' in failure(
        run_zkeb("revert", "-y", "--to", "zzz", *args, check=False), "revert")


def test_python_api(interop_project: Path, scratch_db: Callable[[], ScratchDB]) -> None:
    db = scratch_db()
    with pytest.raises(RegistryError):
        verify_project(interop_project, db.conninfo)
    deploy_project(interop_project, db.conninfo, to="@v1.0", verify=True)
    report = status(interop_project, db.conninfo)
    assert report.current is not None and report.current.name == "widgets"
    assert [c.name for c in report.pending] == ["funcs/greet", "users", "counters", "gadgets"]
    assert report.notes == [] and report.problems == []
    deploy_project(interop_project, db.conninfo)
    assert status(interop_project, db.conninfo).up_to_date
    assert verify_project(interop_project, db.conninfo).ok
    (interop_project / "verify/gadgets.sql").write_text("SELECT 1/0;\n")
    with pytest.raises(VerifyError, match="1 error"):
        verify_project(interop_project, db.conninfo)
    revert_project(interop_project, db.conninfo, to="@v1.0")
    assert deployed_names(db) == ["appschema", "users", "widgets"]
    (interop_project / "deploy/counters.sql").write_text("SELECT 1/0;\n")
    with pytest.raises(DeployError, match=r"deploy/counters\.sql"):
        deploy_project(interop_project, db.conninfo)
    assert deployed_names(db) == ["appschema", "users", "widgets"]
    revert_project(interop_project, db.conninfo)
    assert deployed_names(db) == []
