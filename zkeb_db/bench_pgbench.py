"""Running ``pgbench`` for ``zkeb-db bench`` and reading its per-transaction logs.

One :func:`run_pgbench` call is one pgbench process: ``-n`` (no vacuum of
pgbench's own tables), ``-M prepared``, ``-T`` seconds, ``-P 1`` (progress on
stderr, forwarded to a callback), ``-l`` (one log line per transaction, read
back for the percentiles and, for the cleanup workload, the time window).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PgbenchError",
    "PgbenchRun",
    "Script",
    "find_pgbench",
    "percentile",
    "run_pgbench",
]

_TPS_RE = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_PROCESSED_RE = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_FAILED_RE = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
_PROGRESS_RE = re.compile(r"^progress: ([0-9.]+) s, ([0-9.]+) tps, lat ([0-9.]+) ms")


class PgbenchError(RuntimeError):
    """pgbench is missing, failed, or a client aborted on an error."""


@dataclass(frozen=True)
class Script:
    """A workload script file and its weight (``-f path@weight``)."""

    path: Path
    weight: int = 1

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass
class PgbenchRun:
    """What one pgbench process measured."""

    clients: int
    duration: int
    tps: float
    transactions: int
    failed: int
    # Per transaction, in log order: latency (microseconds), script index and end time
    # (Unix epoch seconds). Not serialised; summaries are.
    latencies_us: list[int] = field(repr=False, default_factory=list)
    scripts: list[int] = field(repr=False, default_factory=list)
    end_times: list[float] = field(repr=False, default_factory=list)

    def percentiles_ms(self, indices: Sequence[int] | None = None) -> dict[str, float | None]:
        """p50/p95/p99 in milliseconds over all transactions (or the given ones)."""
        if indices is None:
            values = sorted(self.latencies_us)
        else:
            values = sorted(self.latencies_us[i] for i in indices)
        return {
            "p50_ms": _ms(percentile(values, 50)),
            "p95_ms": _ms(percentile(values, 95)),
            "p99_ms": _ms(percentile(values, 99)),
        }

    def by_script(self, names: Sequence[str]) -> dict[str, dict[str, float | int | None]]:
        """Count and percentiles of each script of a weighted mix."""
        out: dict[str, dict[str, float | int | None]] = {}
        for index, name in enumerate(names):
            chosen = [i for i, s in enumerate(self.scripts) if s == index]
            entry: dict[str, float | int | None] = {"transactions": len(chosen)}
            entry.update(self.percentiles_ms(chosen))
            out[name] = entry
        return out

    def overlapping(self, start: float, end: float) -> list[int]:
        """Indices of the transactions that ran at some moment of [start, end]."""
        chosen = []
        for i, (lat, done) in enumerate(zip(self.latencies_us, self.end_times, strict=True)):
            began = done - lat / 1_000_000
            if began <= end and done >= start:
                chosen.append(i)
        return chosen


def _ms(value_us: float | None) -> float | None:
    return None if value_us is None else round(value_us / 1000.0, 3)


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def find_pgbench(extra_dirs: Sequence[Path] = ()) -> str:
    """The pgbench executable: next to the server binaries, on PATH, or Debian's."""
    for directory in extra_dirs:
        candidate = directory / "pgbench"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("pgbench")
    if found:
        return found
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        for major in sorted((p for p in debian.iterdir() if p.name.isdigit()),
                            key=lambda p: int(p.name), reverse=True):
            candidate = major / "bin" / "pgbench"
            if candidate.is_file():
                return str(candidate)
    raise PgbenchError(
        "pgbench not found (looked next to the server binaries, on PATH and in "
        "/usr/lib/postgresql/*/bin); install the PostgreSQL client tools"
    )


def run_pgbench(
    pgbench: str,
    conninfo: str,
    scripts: Sequence[Script],
    *,
    clients: int,
    duration: int,
    variables: Mapping[str, int | str],
    password: str | None = None,
    on_progress: Callable[[float, float, float], None] | None = None,
    on_start: Callable[[], None] | None = None,
    threads: int | None = None,
) -> PgbenchRun:
    """Run pgbench once and return its numbers.

    ``on_progress(elapsed_s, tps, latency_ms)`` is called for each ``-P 1``
    line; ``on_start()`` right after the process is spawned (the cleanup
    workload starts its batch from there). Raises :class:`PgbenchError` when
    pgbench exits non-zero or reports failed transactions.
    """
    jobs = threads or max(1, min(clients, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="zkeb-bench-log-") as tmp:
        prefix = Path(tmp) / "tx"
        cmd = [
            pgbench, "-n", "-M", "prepared",
            "-c", str(clients), "-j", str(jobs),
            "-T", str(duration), "-P", "1",
            "-l", f"--log-prefix={prefix}",
        ]
        for name, value in variables.items():
            cmd += ["-D", f"{name}={value}"]
        for script in scripts:
            cmd += ["-f", f"{script.path}@{script.weight}"]
        cmd.append(conninfo)
        env = dict(os.environ)
        if password is not None:
            env["PGPASSWORD"] = password
        env.setdefault("PGAPPNAME", "zkeb-db bench")
        try:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )
        except OSError as exc:
            raise PgbenchError(f"cannot run {pgbench}: {exc}") from exc
        errors: list[str] = []
        with proc:
            if on_start is not None:
                on_start()

            def read_stderr() -> None:
                assert proc.stderr is not None
                for line in proc.stderr:
                    match = _PROGRESS_RE.match(line)
                    if match:
                        if on_progress is not None:
                            on_progress(float(match.group(1)), float(match.group(2)),
                                        float(match.group(3)))
                    elif line.strip():
                        errors.append(line.rstrip())

            reader = threading.Thread(target=read_stderr, daemon=True)
            reader.start()
            assert proc.stdout is not None
            stdout = proc.stdout.read()
            rc = proc.wait()
            reader.join()
        failed_match = _FAILED_RE.search(stdout)
        failed = int(failed_match.group(1)) if failed_match else 0
        if rc != 0 or failed or any("aborted" in e for e in errors):
            detail = next((e for e in errors if "ERROR" in e or "error" in e), None)
            detail = detail or (errors[-1] if errors else f"exit code {rc}")
            names = ", ".join(s.name for s in scripts)
            raise PgbenchError(f"pgbench ({names}, {clients} clients) failed: {detail}")
        tps_match = _TPS_RE.search(stdout)
        processed = _PROCESSED_RE.search(stdout)
        if tps_match is None or processed is None:
            raise PgbenchError(f"cannot read pgbench's summary:\n{stdout.strip()}")
        run = PgbenchRun(
            clients=clients,
            duration=duration,
            tps=float(tps_match.group(1)),
            transactions=int(processed.group(1)),
            failed=failed,
        )
        for log in sorted(Path(tmp).glob("tx.*")):
            _read_log(log, run)
    return run


def _read_log(path: Path, run: PgbenchRun) -> None:
    # client_id transaction_no time script_no time_epoch time_us [...]
    with open(path, encoding="ascii", errors="replace") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) < 6 or not fields[2].isdigit():
                continue  # "skipped" / "failed" entries carry no latency
            run.latencies_us.append(int(fields[2]))
            run.scripts.append(int(fields[3]))
            run.end_times.append(int(fields[4]) + int(fields[5]) / 1_000_000)
