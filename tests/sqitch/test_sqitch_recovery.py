"""A deploy killed midway, the script-committed-but-not-recorded window, and locking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from zkeb_sqitch_testkit import ScratchDB, deployed_names, events, run_sqitch, run_zkeb

pytestmark = pytest.mark.sqitch

LOCK_KEY = 75474063


def wait_for(predicate: Callable[[], bool], what: str, limit: float = 120.0) -> None:
    """Poll until ``predicate`` holds; the limit only guards against a hang."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def backends(db: ScratchDB, like: str = "%") -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in db.query(
        "SELECT pid, query FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_catalog.pg_backend_pid() AND query LIKE %s", [like])]


def test_deploy_killed_midway_is_reported_plainly_and_resumes(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    args = ("--chdir", str(interop_project), "--db", db.conninfo)
    run_zkeb("deploy", "--to", "@v1.0", *args)
    script = interop_project / "deploy/funcs/greet.sql"
    original = script.read_text()
    script.write_text(original.replace("COMMIT;", "SELECT pg_catalog.pg_sleep(300);\nCOMMIT;"))

    proc = subprocess.Popen([sys.executable, "-m", "zkeb_db", "deploy", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: bool(backends(db, "%pg_sleep%")), "the deploy script to start")
        # The run holds Sqitch's advisory lock and, in the registry transaction,
        # the exclusive lock on sqitch.changes.
        locks = db.query(
            "SELECT l.locktype, l.mode, l.objid, c.relname FROM pg_catalog.pg_locks l"
            " LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation"
            " WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid()"
            " AND (l.locktype = 'advisory' OR c.relname = 'changes')")
        assert any(t == "advisory" and o == LOCK_KEY for t, _m, o, _r in locks)
        assert any(r == "changes" and m == "ExclusiveLock" for _t, m, _o, r in locks)
        status = run_zkeb("status", "--no-probe", *args)
        assert "Another deployer holds the Sqitch lock" in status.err
        # Neither a second zkeb-db nor real sqitch can start meanwhile.
        blocked = run_zkeb("deploy", "--lock-timeout", "1", *args, check=False)
        assert blocked.rc != 0 and "Timed out waiting 1 seconds" in blocked.err
        theirs = run_sqitch(interop_project, "deploy", "--lock-timeout", "1", db.sqitch_target,
                            check=False)
        assert theirs.rc != 0 and "Timed out" in theirs.text
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # The psql backend of the killed run is still sleeping: end it, as a crash would.
    db.query("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
             " WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid()")
    wait_for(lambda: not backends(db), "the killed run's backends to go")

    assert deployed_names(db) == ["appschema", "users", "widgets"]
    assert ("fail", "funcs/greet") not in events(db)
    assert db.scalar("SELECT to_regprocedure('zkeb_interop_app.greet(text)')") is None
    status = run_zkeb("status", *args)
    assert "Recorded in the registry: 3 of 7 planned change(s)" in status.out
    assert "* funcs/greet" in status.out
    assert "Another deployer" not in status.err and "looks applied" not in status.err
    assert "Verify successful" in run_zkeb("verify", *args).out

    script.write_text(original)
    run_zkeb("deploy", *args)
    assert len(deployed_names(db)) == 7
    assert "Verify successful" in run_sqitch(interop_project, "verify", db.sqitch_target).out


def test_script_committed_but_not_recorded_is_said_plainly(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    args = ("--chdir", str(interop_project), "--db", db.conninfo)
    run_zkeb("deploy", "--to", "@v1.0", *args)
    # The window Sqitch has too: the script committed, the registry write never happened.
    subprocess.run(["psql", "--dbname", f"dbname={db.name}", "--no-psqlrc", "--quiet",
                    "--set", "ON_ERROR_STOP=1", "--set", "app_schema=zkeb_interop_app",
                    "--file", "deploy/funcs/greet.sql"], cwd=interop_project, check=True,
                   capture_output=True)
    status = run_zkeb("status", *args)
    assert "Recorded in the registry: 3 of 7" in status.out
    assert "funcs/greet is NOT recorded in the registry, but its verify script" in status.err
    verify = run_zkeb("verify", *args)
    assert "Verify successful" in verify.out and "looks applied" in verify.err

    again = run_zkeb("deploy", *args, check=False)
    assert again.rc != 0 and "already exists" in again.err.splitlines()[-1]
    assert "The last attempt to deploy funcs/greet failed" in run_zkeb("status", *args).err

    # Record it without running it, then carry on.
    run_zkeb("deploy", "--log-only", "--to", "funcs/greet", *args)
    run_zkeb("deploy", *args)
    assert len(deployed_names(db)) == 7
    assert "Verify successful" in run_sqitch(interop_project, "verify", db.sqitch_target).out


def test_waits_for_the_sqitch_lock_then_gives_up(
    interop_project: Path, scratch_db: Callable[[], ScratchDB]
) -> None:
    db = scratch_db()
    with psycopg.connect(db.conninfo, autocommit=True) as holder:
        holder.execute("SELECT pg_catalog.pg_advisory_lock(%s)", [LOCK_KEY])
        res = run_zkeb("deploy", "--lock-timeout", "0.5", "--chdir", str(interop_project),
                       "--db", db.conninfo, check=False)
    assert res.rc != 0
    assert res.err.strip().splitlines()[-1].startswith("zkeb-db deploy: Timed out waiting")
    assert "Blocked by another instance" in res.out
    assert db.scalar("SELECT to_regnamespace('zkeb_interop_app')") is None
