"""The generated SQL API reference: never stale, complete, and ``--check`` can fail."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from zkeb_db.apidoc import (
    API_SCHEMAS,
    ApiFunction,
    error_registry,
    generate,
    problems,
    read_functions,
)
from zkeb_db.cli import main
from zkeb_db.errors import REGISTRY


def catalog_functions(conn: Any) -> list[tuple[str, str, str | None]]:
    """(schema, name, comment) of every function in the API schemas, straight from
    the catalog (independent of zkeb_db.apidoc's own query)."""
    rows = conn.execute(
        "SELECT n.nspname, p.proname, obj_description(p.oid, 'pg_proc') "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname IN ('zkeb_api', 'zkeb_maint') ORDER BY 1, 2"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_api_reference_is_not_stale(db: Any, project_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "api-reference.md"
    rc = main(["apidoc", "--db", db.dsn, "--output", str(out)])
    assert rc == 0
    committed = (project_dir / "docs" / "api-reference.md").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        "docs/api-reference.md is stale: regenerate it with `zkeb-db apidoc` "
        "(or `zkeb-db apidoc --db <a freshly deployed database>`)"
    )


def test_every_function_is_listed_with_its_comment_and_errors(db: Any) -> None:
    conn = db.connect()
    text = generate(conn)
    functions = catalog_functions(conn)
    assert {s for s, _, _ in functions} == set(API_SCHEMAS)
    assert len(functions) >= 25
    codes = set(REGISTRY)
    for schema, name, comment in functions:
        assert comment, f"{schema}.{name} has no COMMENT ON FUNCTION"
        assert f"### `{schema}.{name}`" in text, f"{schema}.{name} missing from the reference"
        section = text.split(f"### `{schema}.{name}`", 1)[1].split("\n### ", 1)[0]
        head, _, errors = comment.partition("Errors:")
        assert errors, f"{schema}.{name}: the comment names no 'Errors:'"
        assert head.strip() in section
        named = {c for c in codes if c in errors}
        assert named, f"{schema}.{name}: no registered ZK code after 'Errors:'"
        for code in named:
            cls = REGISTRY[code].exception.__name__
            assert f"| `{code}` | `{cls}` |" in section, (schema, name, code)
    for entry in REGISTRY.values():
        assert f"| `{entry.code}` | {entry.meaning} | `{entry.exception.__name__}` |" in text


def test_the_deployed_comments_have_no_documentation_problems(db: Any) -> None:
    conn = db.connect()
    assert problems(read_functions(conn), error_registry()) == []


def test_problems_are_reported() -> None:
    fn = ApiFunction(
        schema="zkeb_api", name="f", identity_arguments="", arguments="", result="void",
        returns_set=False, out_columns=(), comment="Does f. Errors: ZK401 no session; ZK499 what",
        language="sql", volatility="volatile", security_definer=True,
        execute_granted_to=("zkeb_app",),
    )
    assert fn.summary == "Does f."
    assert fn.error_details() == {"ZK401": "no session", "ZK499": "what"}
    assert problems([fn], error_registry()) == ["zkeb_api.f: ZK499 is not in zkeb_db/errors.py"]
    bare = dataclasses.replace(fn, comment=None)
    assert problems([bare], error_registry()) == [
        "zkeb_api.f: no COMMENT ON FUNCTION sentence",
        "zkeb_api.f: the comment has no 'Errors:' part",
    ]


def test_check_fails_on_a_stale_file_and_passes_on_a_fresh_one(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "api-reference.md"
    out.write_text("# an old reference\n", encoding="utf-8")
    assert main(["apidoc", "--db", db.dsn, "--output", str(out), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "# an old reference\n"  # --check writes nothing
    assert main(["apidoc", "--db", db.dsn, "--output", str(out)]) == 0
    assert main(["apidoc", "--db", db.dsn, "--output", str(out), "--check"]) == 0
    # A changed comment makes the file stale again.
    db.connect().execute(
        "COMMENT ON FUNCTION zkeb_api.whoami(bytea) IS "
        "'Who am I, changed. Errors: ZK401 no valid session.'"
    )
    assert main(["apidoc", "--db", db.dsn, "--output", str(out), "--check"]) == 1
