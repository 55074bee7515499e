"""The output of ``zkeb-db bench``: targets, the rich table, JSON and Markdown files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["evaluate_targets", "markdown", "render_table", "write_outputs"]

TARGET_CLIENTS = (1, 16)
"""The client counts at which the issue sets the ratio targets."""


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _results(document: dict[str, Any], workload: str) -> dict[int, dict[str, Any]]:
    return {r["clients"]: r for r in document.get("results", []) if r["workload"] == workload}


def _target(name: str, goal: str, value: float | None, met: bool | None,
            note: str = "") -> dict[str, Any]:
    return {"target": name, "goal": goal, "value": value, "met": met, "note": note}


def _ratio_targets(document: dict[str, Any], workload: str, label: str, floor: float,
                   levels: Iterable[int] | None = None) -> list[dict[str, Any]]:
    by_clients = _results(document, workload)
    wanted = list(levels) if levels is not None else sorted(by_clients)
    out = []
    for clients in wanted:
        entry = by_clients.get(clients)
        if entry is None:
            out.append(_target(f"{label} at {clients} clients", f">= {floor}x raw", None, None,
                               "not measured in this run"))
            continue
        ratio = entry["ratio"]
        out.append(_target(f"{label} at {clients} clients", f">= {floor}x raw", ratio,
                           None if ratio is None else ratio >= floor))
    return out


def evaluate_targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    targets: list[dict[str, Any]] = []
    targets += _ratio_targets(document, "create_backup", "create_backup", 0.6, TARGET_CLIENTS)
    targets += _ratio_targets(document, "list_backups_heavy", "list_backups (heavy user)", 0.7,
                              TARGET_CLIENTS)
    targets += _ratio_targets(document, "list_backups_small", "list_backups (small user)", 0.7,
                              TARGET_CLIENTS)
    heavy = _results(document, "list_backups_heavy")
    small = _results(document, "list_backups_small")
    for clients in TARGET_CLIENTS:
        h, s = heavy.get(clients), small.get(clients)
        name = f"list_backups p50 heavy / small at {clients} clients"
        if h is None or s is None or not h["api"]["p50_ms"] or not s["api"]["p50_ms"]:
            targets.append(_target(name, "<= 1.5", None, None, "not measured in this run"))
            continue
        value = round(h["api"]["p50_ms"] / s["api"]["p50_ms"], 3)
        targets.append(_target(name, "<= 1.5", value, value <= 1.5,
                               f"{h['api']['p50_ms']} ms vs {s['api']['p50_ms']} ms"))
    targets += _ratio_targets(document, "get_backup", "get_backup", 0.5)
    cleanup = document.get("cleanup")
    if cleanup:
        # A batch skips the rows of accounts an API call holds at that instant, so
        # under load the 10,000 rows take more than one batch: the target is met
        # when every round cleared them all, first batch to last, within 1 s.
        rounds = cleanup["rounds"]
        cleared = all(r["all_deleted_during"] for r in rounds)
        seconds = cleanup["seconds_during"]
        targets.append(_target(
            f"cleanup of {cleanup['rows']:,} expired rows under API load", "< 1 s", seconds,
            None if seconds is None else cleared and seconds < 1.0,
            f"first batch {cleanup['batch_seconds']} s deleting {cleanup['deleted_in_batch']}; "
            f"{cleanup['calls_during']} batches; "
            + ("all rows gone in every round" if cleared
               else "some rows were still there when the load stopped")))
        ratio = cleanup["p95_ratio"]
        targets.append(_target(
            f"API p95 during cleanup / without ({cleanup['clients']} clients)", "<= 2x", ratio,
            None if ratio is None else ratio <= 2.0,
            f"{cleanup['p95_during_ms']} ms vs {cleanup['p95_without_ms']} ms"))
    mixed = document.get("mixed")
    if mixed:
        p95 = mixed["api"]["p95_ms"]
        note = "" if mixed["clients"] >= 100 else f"only {mixed['clients']} clients in this run"
        targets.append(_target(f"mixed workload p95 at {mixed['clients']} clients", "< 50 ms",
                               p95, None if p95 is None else p95 < 50.0, note))
    return targets


def _rows(document: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for r in document.get("results", []):
        api, raw = r["api"], r["raw"]
        rows.append([
            r["label"], str(r["clients"]),
            _fmt(api["tps"], 0), _fmt(api["p50_ms"]), _fmt(api["p95_ms"]), _fmt(api["p99_ms"]),
            _fmt(raw["tps"], 0), _fmt(raw["p50_ms"]), _fmt(raw["p95_ms"]), _fmt(raw["p99_ms"]),
            _fmt(r["ratio"]), r["twin"],
        ])
    mixed = document.get("mixed")
    if mixed:
        api, raw = mixed["api"], mixed["raw"]
        rows.append([
            "mixed 70/20/5/5", str(mixed["clients"]),
            _fmt(api["tps"], 0), _fmt(api["p50_ms"]), _fmt(api["p95_ms"]), _fmt(api["p99_ms"]),
            _fmt(raw["tps"], 0), _fmt(raw["p50_ms"]), _fmt(raw["p95_ms"]), _fmt(raw["p99_ms"]),
            _fmt(mixed["ratio"]), "the raw twins in the same mix",
        ])
    cleanup = document.get("cleanup")
    if cleanup:
        w, wo = cleanup["with"], cleanup["without"]
        rows.append([
            f"cleanup {cleanup['rows']:,} rows ({_fmt(cleanup['batch_seconds'], 3)} s): "
            "list/create during vs without", str(cleanup["clients"]),
            _fmt(w["tps"], 0), _fmt(cleanup["p50_during_ms"]), _fmt(cleanup["p95_during_ms"]),
            _fmt(cleanup["p99_during_ms"]),
            _fmt(wo["tps"], 0), _fmt(wo["p50_ms"]), _fmt(wo["p95_ms"]), _fmt(wo["p99_ms"]),
            _fmt(cleanup["p95_ratio"]),
            "same API load without the cleanup (ratio = p95 during / without)",
        ])
    return rows


HEADERS = [
    "workload", "clients", "API tps", "API p50 ms", "API p95 ms", "API p99 ms",
    "raw tps", "raw p50 ms", "raw p95 ms", "raw p99 ms", "ratio", "raw twin",
]


def render_table(document: dict[str, Any], console: Console) -> None:
    """The one results table, then the targets, on the console."""
    table = Table(title="zkeb-db bench: API vs raw SQL (medians of "
                  f"{document['params']['rounds']} rounds of {document['params']['duration']} s)")
    for header in HEADERS[:-1]:
        table.add_column(header, justify="left" if header == "workload" else "right")
    for row in _rows(document):
        table.add_row(*row[:-1])
    console.print(table)
    for t in document.get("targets", []):
        label, style = {True: ("met", "green"), False: ("MISSED", "red"),
                        None: ("n/a", "yellow")}[t["met"]]
        value = t["value"] if t["value"] is not None else "-"
        note = f" ({t['note']})" if t["note"] else ""
        console.print(f"  [{style}]{label:<6}[/{style}] {t['target']}: {value} "
                      f"(goal {t['goal']}){note}", highlight=False)
    after = document.get("after")
    if after:
        console.print(
            f"after the run: verify_audit_chain ok={after['audit_chain']['ok']} "
            f"({after['audit_chain']['checked_count']} events); check_invariants: "
            f"{len(after['violations_elsewhere'])} violations on API accounts, "
            f"{after['violations_on_raw_twin_accounts']} on raw-twin accounts (expected: "
            "raw INSERTs charge no quota)", highlight=False)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if i in (0, len(headers) - 1) else "---:"
                          for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(out)


def markdown(document: dict[str, Any]) -> str:
    """The run as a Markdown report (the table, targets, load, machine, server)."""
    m = document["machine"]
    server = document.get("server", {})
    load = document.get("load", {})
    lines = [
        "# zkeb-db bench results",
        "",
        f"Run {document['started_at']} .. {document.get('finished_at', '?')}: "
        f"`{document['command']}`",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), "
        f"{(m['memory_bytes'] or 0) / 2**30:.1f} GiB RAM, Linux {m['kernel']}. "
        f"Server: {server.get('version', '?')}"
        + (" (private cluster owned by the bench)" if server.get("embedded") else ""),
        "",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in sorted(server.get("settings", {}).items())),
        "",
    ]
    for note in server.get("notes", []):
        lines.append(f"- {note}")
    if load:
        checks = load["checks"]
        lines += [
            "",
            f"Data: heavy user {load['heavy_backups']:,} backups, {load['accounts'] - 1:,} other "
            f"accounts x {load['per_user_backups']:,}; {load['backup_rows']:,} rows, average "
            f"ciphertext {load['avg_ciphertext_bytes']:,} B, table + TOAST + indexes "
            f"{load['table_bytes']['total'] / 2**30:.2f} GiB; loaded in {load['seconds']:.0f} s. "
            f"After the load: check_invariants() {len(checks['invariant_violations'])} rows, "
            f"verify_audit_chain() ok={checks['audit_chain']['ok']} "
            f"({checks['audit_chain']['checked_count']} events).",
        ]
    lines += [
        "",
        f"Medians of {document['params']['rounds']} rounds of {document['params']['duration']} s, "
        "API and raw twin interleaved (A B A B); ratio = median over rounds of API tps / raw tps.",
        "",
        _md_table(HEADERS, _rows(document)),
        "",
        "## Targets",
        "",
        _md_table(["target", "goal", "value", "met", "note"], [
            [t["target"], t["goal"], "-" if t["value"] is None else str(t["value"]),
             {True: "yes", False: "**no**", None: "n/a"}[t["met"]], t["note"]]
            for t in document.get("targets", [])]),
    ]
    mixed = document.get("mixed")
    if mixed:
        title = f"## Mixed workload by operation ({mixed['clients']} clients, last round)"
        lines += ["", title, ""]
        ops = []
        for name, entry in mixed["api_by_operation"].items():
            raw = mixed["raw_by_operation"].get(name, {})
            ops.append([name, str(mixed["weights"][name]), str(entry["transactions"]),
                        _fmt(entry["p50_ms"]), _fmt(entry["p95_ms"]), _fmt(entry["p99_ms"]),
                        _fmt(raw.get("p95_ms"))])
        lines.append(_md_table(["operation", "weight %", "API calls", "API p50 ms", "API p95 ms",
                                "API p99 ms", "raw p95 ms"], ops))
    cleanup = document.get("cleanup")
    if cleanup:
        lines += ["", "## Cleanup rounds", ""]
        lines.append(_md_table(
            ["round", "planted", "1st batch: deleted", "1st batch s", "batches during",
             "deleted during", "s during", "API p95 without ms", "API p95 during ms",
             "API calls during", "batches after"],
            [[str(i + 1), f"{r['planted']:,}", f"{r['deleted_in_batch']:,}",
              f"{r['batch_seconds']:.3f}", str(r["calls_during"]), f"{r['deleted_during']:,}",
              f"{r['seconds_during']:.2f}", _fmt(r["p95_without_ms"]), _fmt(r["p95_during_ms"]),
              str(r["transactions_during"]), str(r["extra_calls_after"])]
             for i, r in enumerate(cleanup["rounds"])]))
    after = document.get("after")
    if after:
        lines += [
            "",
            f"After the run: verify_audit_chain() ok={after['audit_chain']['ok']} "
            f"({after['audit_chain']['checked_count']} events); check_invariants(): "
            f"{len(after['violations_elsewhere'])} rows for accounts the API wrote, "
            f"{after['violations_on_raw_twin_accounts']} for the raw-twin accounts (expected: "
            "the raw INSERT twin charges no quota).",
        ]
    return "\n".join(lines) + "\n"


def write_outputs(document: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``bench-<time>.json`` and ``.md`` into ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(document["started_at"]).strftime("%Y%m%d-%H%M%S")
    json_path = out_dir / f"bench-{stamp}.json"
    md_path = out_dir / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(document))
    return [json_path, md_path]
