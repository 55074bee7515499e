"""``zkeb-db demo`` end to end on a clone of the template, and proof that it can fail.

The demo must exit non-zero when a planted bug leaks a secret into the
database or lets one user read another's backup; each planted bug is checked
to be in place before the demo runs, so these tests cannot pass vacuously.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from zkeb_db.cli import main
from zkeb_db.demo import (
    ALICE_FILES,
    DEMO_KDF_PARAMS,
    derive_keys,
    needle_variants,
    scan_for_secrets,
    username_hash,
)

SCAN_STEP = "Searching the whole database"
CROSS_TENANT_STEP = "Bob tries to reach Alice's backups"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    # A wide console so that rich does not wrap the lines we look for.
    monkeypatch.setenv("COLUMNS", "400")
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out + out.err


def failed_lines(output: str) -> list[str]:
    """The lines of the final summary ("N of M checks FAILED:" and below)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\d+ of \d+ checks FAILED", line):
            return lines[i + 1 :]
    return []


def test_demo_runs_clean(db: Any, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    rc, output = run_cli(["demo", "--db", db.dsn], capsys, monkeypatch)
    assert rc == 0, "\n".join(failed_lines(output)) or output
    assert re.search(r"All \d+ checks passed", output)
    assert "none of them is anywhere in the database" in output
    assert "Bob cannot read Alice's backup" in output
    assert "scrypt N=2^10" in output  # the low KDF cost is said on screen
    # The demo's login roles (named after the run's suffix) are gone again.
    m = re.search(r"alice\.([0-9a-f]{8})@example\.org", output)
    assert m is not None
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)",
            [[f"zkeb_demo_app_{m.group(1)}", f"zkeb_demo_maint_{m.group(1)}"]],
        ).fetchone()
    assert left == (0,)


def test_demo_fails_when_a_plaintext_is_planted(
    db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server-side "preview" bug: one of Alice's file contents ends up in a jsonb column.
    name, content = ALICE_FILES[0]
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE zkeb_private.settings SET default_kdf_params = "
            "default_kdf_params || jsonb_build_object('preview', %s::text)",
            [content.decode()],
        )
    rc, output = run_cli(["demo", "--db", db.dsn], capsys, monkeypatch)
    assert rc == 1
    failures = failed_lines(output)
    assert any(SCAN_STEP in line for line in failures), failures
    assert f"zkeb_private.settings.default_kdf_params contains alice's file {name}" in output


def test_demo_fails_when_the_server_stores_an_auth_key(
    db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "debug logging" bug: register_user puts the auth key it receives into the
    # audit metadata (hex).  Everything else keeps working; only the scan can tell.
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_catalog.pg_get_functiondef("
            "'zkeb_api.register_user(bytea, bytea, bytea, jsonb)'::regprocedure)"
        ).fetchone()
        assert row is not None
        original: str = row[0]
        leaky, n = re.subn(
            r"zkeb_private\.audit\(_uid, 'register', true, '\{\}'::jsonb\)",
            "zkeb_private.audit(_uid, 'register', true, pg_catalog.jsonb_build_object("
            "'debug_auth_key', pg_catalog.encode(register_user.auth_key, 'hex')))",
            original,
        )
        assert n == 1, "the planted bug no longer applies to register_user's body"
        conn.execute(leaky.encode())
    rc, output = run_cli(["demo", "--db", db.dsn], capsys, monkeypatch)
    assert rc == 1
    failures = failed_lines(output)
    assert any(SCAN_STEP in line for line in failures), failures
    assert re.search(r"zkeb\.audit_logs\.metadata contains (alice|bob)'s auth key \(hex\)",
                     output)


def test_demo_fails_when_get_backup_crosses_tenants(
    db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # get_backup without its user filter AND row level security no longer forced on
    # the tables it reads: Bob's call now returns Alice's ciphertext.
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_catalog.pg_get_functiondef("
            "'zkeb_api.get_backup(bytea, uuid)'::regprocedure)"
        ).fetchone()
        assert row is not None
        broken, n = re.subn(r"\b[a-z]\.user_id = _uid\b", "true", row[0])
        assert n >= 1, "the planted bug no longer applies to get_backup's body"
        conn.execute(broken.encode())
        for table in ("encrypted_backups", "devices"):
            conn.execute(f"ALTER TABLE zkeb.{table} NO FORCE ROW LEVEL SECURITY")
    rc, output = run_cli(["demo", "--db", db.dsn], capsys, monkeypatch)
    assert rc == 1
    failures = failed_lines(output)
    assert any(
        CROSS_TENANT_STEP in line and "Bob cannot read Alice's backup" in line
        for line in failures
    ), failures


# ---------------------------------------------------------------------------
# The scanner on its own, with planted data
# ---------------------------------------------------------------------------


def _plant_user(conn: psycopg.Connection[Any], verifier: bytes, kdf_params: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO zkeb.users (username_hash, auth_salt, auth_verifier, kdf_params, "
        "storage_quota_bytes) VALUES (%s, %s, %s, %s, 1000)",
        [username_hash(f"planted-{uuid.uuid4()}"), b"\x01" * 32, verifier, Jsonb(kdf_params)],
    )


@pytest.mark.parametrize("encoding", ["raw", "hex", "base64"])
def test_scanner_finds_a_key_stored_in_any_encoding(db: Any, encoding: str) -> None:
    keys = derive_keys("a passphrase for the scanner test", b"\x02" * 32, DEMO_KDF_PARAMS)
    conn = db.connect()
    if encoding == "raw":
        # the server keeps the auth key itself instead of a verifier
        _plant_user(conn, keys.auth_key, {"alg": "scrypt"})
        where = ("zkeb.users", "auth_verifier")
    else:
        text = needle_variants(keys.encryption_key)[encoding].decode()
        _plant_user(conn, b"\x03" * 32, {"alg": "scrypt", "note": text})
        where = ("zkeb.users", "kdf_params")
    result = scan_for_secrets(
        conn, {"auth key": keys.auth_key, "encryption key": keys.encryption_key}
    )
    found = {(f.table, f.column, f.encoding) for f in result.findings}
    assert (*where, encoding) in found
    assert result.columns > 50 and result.tables >= 8


def test_scanner_finds_a_plaintext_fragment_and_nothing_on_a_clean_database(db: Any) -> None:
    conn = db.connect()
    content = ALICE_FILES[2][1]
    secrets = {"file": content, "fragment": content[40:64]}
    clean = scan_for_secrets(conn, secrets)
    assert clean.findings == ()
    # Only a fragment of the plaintext, JSON-escaped inside a jsonb value.
    _plant_user(conn, b"\x04" * 32, {"alg": "scrypt", "excerpt": content[30:80].decode()})
    found = scan_for_secrets(conn, secrets)
    assert [(f.table, f.column, f.secret) for f in found.findings] == [
        ("zkeb.users", "kdf_params", "fragment")
    ]


def test_scanner_refuses_a_role_that_cannot_see_every_row(db: Any) -> None:
    with pytest.raises(PermissionError):
        scan_for_secrets(db.connect("app"), {"x": b"0123456789abcdef"})
