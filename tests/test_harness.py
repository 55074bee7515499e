"""The test harness itself: the fixtures of tests/conftest.py, README and .ci/run.

The first tests use the real fixtures on the repository's plan.  The
``test_fixtures_*`` tests run tests/conftest.py, unchanged, in a separate
pytest process on a tiny Sqitch project of their own, so the fixture
mechanics are checked whatever state the project plan is in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

REPO = Path(__file__).resolve().parent.parent
GROUPS = {"app": "zkeb_app", "maint": "zkeb_maintainer", "auditor": "zkeb_auditor"}


def public_database_privileges(conn: psycopg.Connection[Any], dbname: str) -> set[str]:
    """What PUBLIC holds on a database (NULL datacl means the defaults)."""
    row = conn.execute(
        "SELECT datacl IS NULL FROM pg_catalog.pg_database WHERE datname = %s", [dbname]
    ).fetchone()
    assert row is not None, f"no database {dbname}"
    if row[0]:
        return {"CONNECT", "TEMPORARY"}
    return {
        r[0]
        for r in conn.execute(
            "SELECT a.privilege_type FROM pg_catalog.pg_database d, "
            "pg_catalog.aclexplode(d.datacl) a WHERE d.datname = %s AND a.grantee = 0",
            [dbname],
        )
    }


# --------------------------------------------------------------------------
# The real fixtures, on the project's plan
# --------------------------------------------------------------------------


def test_template_is_a_marked_template(pg_server: str, template_db: Any) -> None:
    assert re.fullmatch(rf"zkeb_test_tpl_{os.getpid()}_\d+", template_db.name)
    with psycopg.connect(pg_server) as conn:
        row = conn.execute(
            "SELECT datistemplate FROM pg_catalog.pg_database WHERE datname = %s",
            [template_db.name],
        ).fetchone()
    assert row == (True,)


def test_clone_has_temporary_revoked(db: Any) -> None:
    conn = db.connect()
    assert conn.execute("SELECT current_database()").fetchone() == (db.name,)
    assert "TEMPORARY" not in public_database_privileges(conn, db.name)
    app = db.connect("app")
    assert app.execute(
        "SELECT pg_catalog.has_database_privilege(current_database(), 'TEMPORARY')"
    ).fetchone() == (False,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("CREATE TEMPORARY TABLE shadow (x int)")


@pytest.mark.parametrize("role", ["super", "app", "maint", "auditor"])
def test_roles_connect(db: Any, role: str) -> None:
    conn = db.connect(role)
    assert conn.autocommit is True
    user, is_super = conn.execute(
        "SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    if role == "super":
        assert is_super is True
        return
    assert user == f"zkeb_test_{role}"
    assert is_super is False
    assert conn.execute(
        "SELECT pg_catalog.pg_has_role(current_user, %s, 'MEMBER')", [GROUPS[role]]
    ).fetchone() == (True,)


def test_connect_options_and_unknown_role(db: Any) -> None:
    conn = db.connect("app", autocommit=False)
    assert conn.autocommit is False
    conn.rollback()
    with pytest.raises(ValueError, match="unknown role"):
        db.dsn_for("owner")
    assert db.sqitch_target.startswith("db:pg://")
    assert db.dsn.startswith("postgresql://")


# --------------------------------------------------------------------------
# The fixtures on a tiny project, in a pytest process of their own
# --------------------------------------------------------------------------

_PLAN = """\
%syntax-version=1.0.0
%project=zkeb_harness

roles 2026-01-01T00:00:00Z Harness <harness@example.invalid> # The group roles the fixtures use.
privileges [roles] 2026-01-01T00:01:00Z Harness <harness@example.invalid> # Database privileges.
seed 2026-01-01T00:02:00Z Harness <harness@example.invalid> # A table with one row.
"""

_SCRIPTS = {
    "roles": (
        """
        BEGIN;
        DO $$
        DECLARE _role text;
        BEGIN
            FOREACH _role IN ARRAY ARRAY['zkeb_app', 'zkeb_maintainer', 'zkeb_auditor'] LOOP
                IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = _role) THEN
                    BEGIN
                        EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END;
                END IF;
            END LOOP;
        END $$;
        COMMIT;
        """,
        "SELECT 1;",  # roles are shared by the cluster: never dropped here
    ),
    "privileges": (
        """
        BEGIN;
        DO $$
        BEGIN
            EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO zkeb_app, zkeb_maintainer, '
                           'zkeb_auditor', current_database());
        END $$;
        COMMIT;
        """,
        "SELECT 1;",
    ),
    "seed": (
        """
        BEGIN;
        CREATE SCHEMA harness;
        CREATE TABLE harness.seed (note text NOT NULL);
        INSERT INTO harness.seed VALUES ('from the template');
        GRANT USAGE ON SCHEMA harness TO zkeb_app;
        GRANT SELECT ON harness.seed TO zkeb_app;
        COMMIT;
        """,
        "DROP SCHEMA harness CASCADE;",
    ),
}

_INNER_TESTS = '''
import os
import subprocess
import time

import psycopg
import pytest
from hypothesis import settings

OUT = os.environ["ZKEB_HARNESS_OUT"]
STATE = {}


def record(kind, value):
    with open(OUT, "a") as fh:
        fh.write(f"{kind} {value}\\n")


def recorded(kind):
    with open(OUT) as fh:
        return [line.split(" ", 1)[1].strip() for line in fh if line.startswith(kind + " ")]


def databases(conn):
    return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_profile():
    record("max_examples", settings.default.max_examples)


@pytest.mark.slow
def test_marked_slow():
    record("slow", "ran")


def test_clone_of_the_template(db, template_db, project_dir):
    record("template", template_db.name)
    record("clone", db.name)
    assert (project_dir / "sqitch.plan").read_text().startswith("%syntax-version")
    conn = db.connect()
    assert conn.execute("SELECT current_database()").fetchone() == (db.name,)
    assert conn.execute("SELECT note FROM harness.seed").fetchall() == [("from the template",)]
    assert conn.execute(
        "SELECT datistemplate FROM pg_database WHERE datname = %s", [template_db.name]
    ).fetchone() == (True,)
    # the template ACL was copied: PUBLIC holds nothing, the group roles CONNECT
    acl = conn.execute(
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type "
        "FROM pg_database d, aclexplode(d.datacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE d.datname = current_database() AND r.rolname IS DISTINCT FROM 'postgres'"
    ).fetchall()
    assert sorted(acl) == [("zkeb_app", "CONNECT"), ("zkeb_auditor", "CONNECT"),
                           ("zkeb_maintainer", "CONNECT")]
    conn.execute("CREATE TABLE harness.scratch (x int)")


@pytest.mark.parametrize("role,login,group", [
    ("app", "zkeb_test_app", "zkeb_app"),
    ("maint", "zkeb_test_maint", "zkeb_maintainer"),
    ("auditor", "zkeb_test_auditor", "zkeb_auditor"),
])
def test_login_roles(db, role, login, group):
    record("clone", db.name)
    conn = db.connect(role)
    assert conn.execute("SELECT current_user, pg_has_role(current_user, %s, 'MEMBER'), "
                        "has_database_privilege(current_database(), 'TEMPORARY')",
                        [group]).fetchone() == (login, True, False)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("CREATE TEMPORARY TABLE shadow (x int)")
    if role == "app":
        assert conn.execute("SELECT count(*) FROM harness.seed").fetchone() == (1,)


def test_fresh_clone_and_a_leftover_backend(db):
    previous = recorded("clone")
    assert previous and db.name not in previous
    record("clone", db.name)
    conn = db.connect()
    # earlier clones are dropped, or retired (no connections) and waiting to be dropped
    left = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s) "
                        "AND datallowconn", [previous]).fetchall()
    assert left == [], "earlier clones still accept connections"
    assert conn.execute("SELECT to_regclass('harness.scratch')").fetchone() == (None,)
    # a backend the test forgets: dropping the clone must end it
    STATE["psql"] = subprocess.Popen(
        ["psql", "-X", "-q", "-d", db.dsn, "-c", "SELECT pg_sleep(600)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid() AND query = 'SELECT pg_sleep(600)'",
                        [db.name]).fetchone()[0]:
            break
        assert STATE["psql"].poll() is None, "psql exited early"
        time.sleep(0.05)
    else:
        raise AssertionError("the psql backend never showed up")


def test_leftover_backend_was_ended(db):
    proc = STATE.pop("psql")
    assert proc.wait(timeout=120) != 0  # its backend was terminated by DROP ... WITH (FORCE)
    previous = recorded("clone")[-1]
    record("clone", db.name)
    assert db.connect().execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [previous]
    ).fetchone() == (0,)
'''

_INNER_INI = """\
[pytest]
addopts = -p no:cacheprovider --strict-markers
filterwarnings = error
markers =
    slow: long-running tests, only with --slow
    sqitch: needs the real sqitch binary
    pgbouncer: needs the real pgbouncer binary
"""


def make_project(root: Path) -> Path:
    """A tiny Sqitch project with a copy of tests/conftest.py; returns the out file."""
    (root / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (root / "sqitch.plan").write_text(_PLAN)
    for change, (deploy, revert) in _SCRIPTS.items():
        for kind, body in (("deploy", deploy), ("revert", revert),
                           ("verify", "SELECT 1;")):
            (root / kind).mkdir(exist_ok=True)
            (root / kind / f"{change}.sql").write_text(textwrap.dedent(body).lstrip())
    tests = root / "tests"
    tests.mkdir()
    shutil.copy(REPO / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "test_inner.py").write_text(_INNER_TESTS)
    (root / "pytest.ini").write_text(_INNER_INI)
    return root / "out.txt"


def run_inner(root: Path, env_updates: dict[str, str | None],
              *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    out = root / "out.txt"
    out.touch()
    env = dict(os.environ)
    env["ZKEB_HARNESS_OUT"] = str(out)
    for key, value in env_updates.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args, "tests"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    records: dict[str, list[str]] = {}
    for line in out.read_text().splitlines():
        kind, _, value = line.partition(" ")
        records.setdefault(kind, []).append(value)
    return proc, records


def assert_inner_passed(proc: subprocess.CompletedProcess[str], passed: int,
                        skipped: int = 0) -> None:
    report = f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.returncode == 0, report
    summary = proc.stdout.strip().splitlines()[-1]
    expected = f"{passed} passed" + (f", {skipped} skipped" if skipped else "")
    assert summary.startswith(expected), report


def assert_nothing_left(server: str, records: dict[str, list[str]]) -> None:
    names = set(records.get("template", [])) | set(records.get("clone", []))
    assert names, "the inner run recorded no database"
    with psycopg.connect(server) as conn:
        left = {
            r[0] for r in conn.execute(
                "SELECT datname FROM pg_catalog.pg_database WHERE datname = ANY(%s)",
                [sorted(names)],
            )
        }
    assert left == set()


@pytest.mark.sqitch
def test_fixtures_on_a_tiny_project(pg_server: str, tmp_path: Path) -> None:
    make_project(tmp_path)
    proc, records = run_inner(
        tmp_path, {"ZKEB_TEST_DSN": pg_server, "ZKEB_TEST_DEPLOYER": "sqitch"}
    )
    assert_inner_passed(proc, passed=7, skipped=1)
    assert records["max_examples"] == ["50"]  # the 'ci' hypothesis profile
    assert "slow" not in records
    assert len(set(records["clone"])) == 6  # one fresh clone per test
    assert_nothing_left(pg_server, records)


def _python_deployer_available() -> bool:
    proc = subprocess.run([sys.executable, "-m", "zkeb_db", "deploy", "--help"],
                          capture_output=True, text=True, cwd=REPO)
    return proc.returncode == 0


def test_fixtures_fall_back_to_a_throwaway_server_with_the_python_deployer(
    tmp_path: Path,
) -> None:
    if not _python_deployer_available():
        pytest.skip("`zkeb-db deploy` does not exist yet")
    make_project(tmp_path)
    proc, records = run_inner(
        tmp_path,
        {"ZKEB_TEST_DSN": None, "ZKEB_TEST_SERVER": "embedded", "ZKEB_TEST_DEPLOYER": None,
         **{var: None for var in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE")}},
        "-k", "clone_of_the_template or login_roles",
    )
    assert_inner_passed(proc, passed=4)
    assert len(records["template"]) == 1 and len(records["clone"]) == 4


def test_slow_option_and_profile(tmp_path: Path) -> None:
    make_project(tmp_path)
    proc, records = run_inner(tmp_path, {}, "--slow", "-k", "profile or slow")
    assert_inner_passed(proc, passed=2)
    assert records["slow"] == ["ran"]
    assert records["max_examples"] == ["1000"]  # the 'slow' hypothesis profile


# --------------------------------------------------------------------------
# README and .ci/run
# --------------------------------------------------------------------------


def readme_commands() -> list[str]:
    """The single-line commands of the README's sh code blocks."""
    text = (REPO / "README.md").read_text()
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_and_ci_run_agree_on_the_test_command() -> None:
    text = (REPO / "README.md").read_text()
    marker = text.index("<!-- test-command:")
    block = re.search(r"```sh\n(.*?)\n```", text[marker:], re.S)
    assert block is not None, "no sh block after the test-command marker"
    readme_command = block.group(1).strip()
    assert "\n" not in readme_command, "the README test command must be one line"
    assert re.search(r"(^|&& )pytest( |$)", readme_command)
    printed = subprocess.run(
        ["bash", str(REPO / ".ci" / "run"), "--print-test-command"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert printed == readme_command
    script = (REPO / ".ci" / "run").read_text()
    assert 'bash -c "$test_command"' in script  # what it prints is what it runs
    assert "-eq 5" in script  # pytest's "no tests collected" fails CI


def test_readme_has_the_two_fresh_machine_commands() -> None:
    commands = readme_commands()
    assert "pip install -e . && zkeb-db demo" in commands
    assert "pip install -e '.[test]' && pytest" in commands


def test_ci_run_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(REPO / ".ci" / "run")], check=True)
