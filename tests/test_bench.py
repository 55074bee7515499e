"""``zkeb-db bench`` end to end at a tiny size (the benchmark itself never runs in the suite).

One ``--quick`` run with a few thousand rows, one round of one second at 1
and 2 clients: it proves that the load leaves the data consistent, that every
pgbench workload (API and raw twin) runs without a failed transaction, and
that the command writes a valid JSON document and a Markdown report. It
asserts no timing and no target: a benchmark's figures are not a test.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from zkeb_db.bench import config_from_args, parse_clients
from zkeb_db.bench_pgbench import percentile
from zkeb_db.cli import build_parser, main

ARGS = ["--quick", "--backups", "2000", "--users", "5", "--per-user", "50",
        "--duration", "1", "--rounds", "1", "--clients", "1,2"]

WORKLOADS = {"create_backup", "list_backups_heavy", "list_backups_small", "get_backup",
             "sync_push", "login"}


def test_bench_quick_end_to_end(pg_server: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "results"
    rc = main(["bench", "--db", pg_server, *ARGS, "--out", str(out)])
    output = capsys.readouterr()
    assert rc == 0, output.err[-3000:]

    json_files = list(out.glob("bench-*.json"))
    assert len(json_files) == 1, output.out[-2000:]
    md_files = list(out.glob("bench-*.md"))
    assert len(md_files) == 1
    doc = json.loads(json_files[0].read_text())
    assert doc["command"].startswith(
        "zkeb-db bench --db URI --quick --backups 2000 --users 5 --per-user 50 --clients 1,2 "
        "--rounds 1 --duration 1 --warmup 0")

    # The load went through the API and the bulk path and left the data consistent.
    load = doc["load"]
    assert load["backup_rows"] == 2000 + 5 * 50
    assert load["checks"]["invariant_violations"] == []
    assert load["checks"]["audit_chain"]["ok"] is True
    assert load["checks"]["audit_chain"]["checked_count"] > 0
    assert 1024 <= load["avg_ciphertext_bytes"] <= 4096

    # Every workload ran on both sides at both client counts, with real numbers.
    seen = {(r["workload"], r["clients"]) for r in doc["results"]}
    assert seen == {(w, c) for w in WORKLOADS for c in (1, 2)}
    for r in doc["results"]:
        for side in ("api", "raw"):
            summary = r[side]
            assert summary["tps"] > 0 and summary["transactions"] > 0, (r["workload"], side)
            assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
        assert r["ratio"] is not None and r["ratio"] > 0

    cleanup = doc["cleanup"]
    assert cleanup["rows"] == 10_000
    assert cleanup["rounds"][0]["planted"] == 10_000
    assert cleanup["batch_seconds"] > 0
    assert cleanup["without"]["tps"] > 0 and cleanup["with"]["tps"] > 0

    mixed = doc["mixed"]
    assert mixed["clients"] == 2
    assert mixed["api"]["tps"] > 0 and mixed["raw"]["tps"] > 0
    assert set(mixed["api_by_operation"]) == {"list_heavy", "list_small", "get", "create",
                                              "sync", "trash"}

    # The API never broke an invariant; only the raw twins' own accounts drift.
    assert doc["after"]["violations_elsewhere"] == []
    assert doc["after"]["audit_chain"]["ok"] is True

    assert {t["target"] for t in doc["targets"]} >= {
        "create_backup at 1 clients", "get_backup at 2 clients",
        "mixed workload p95 at 2 clients"}
    assert "| workload |" in md_files[0].read_text()
    assert "create_backup" in output.out and "wrote" in output.out

    # The scratch database and the login roles are gone.
    server = doc["server"]
    assert server["database"].startswith("zkeb_bench_")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        db_left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                               (server["database"],)).fetchone()
        roles_left = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)",
                                  (server["roles"],)).fetchone()
    assert db_left == (0,) and roles_left == (0,)


def test_bench_options() -> None:
    assert parse_clients("16,1,100,16") == (1, 16, 100)
    parser = build_parser()
    quick = config_from_args(parser.parse_args(["bench", "--quick"]))
    assert (quick.backups, quick.users, quick.rounds) == (20_000, 20, 1)
    full = config_from_args(parser.parse_args(["bench", "--users", "50"]))
    assert (full.backups, full.users, full.per_user, full.clients) == (
        1_000_000, 50, 1000, (1, 16, 100))
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    assert percentile([], 95) is None
