"""Timing cases and printing the results as a table.

A case is one request (or one unit of work) done the same way many times: a few
warm-up runs, one run with the queries captured (capturing costs time, so it is not
timed), then the timed runs.
"""

import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Case:
    name: str
    role: str
    run: Callable[[], object]
    # Rows the case's query matches, for judging how realistic the data is.
    matches: int | None = None
    note: str = ""


@dataclass
class Result:
    case: Case
    timings_ms: list[float]
    queries: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(case: Case, *, requests: int, warmup: int) -> Result:
    for _ in range(warmup):
        case.run()
    with CaptureQueriesContext(connection) as captured:
        case.run()
    # Read now: the next request clears the connection's query log.
    queries = [q["sql"] for q in captured.captured_queries]
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        case.run()
        timings.append((time.perf_counter() - started) * 1000)
    return Result(case, timings, queries)


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE of one captured query (SELECTs only; the rest is left alone)."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def table(results: list[Result], *, target_ms: float) -> str:
    header = ("case", "role", "matches", "median ms", "p95 ms", "queries", "")
    rows = [header]
    for r in results:
        verdict = "OK" if r.p95 < target_ms else f"SLOW (target p95 < {target_ms:g} ms)"
        rows.append(
            (
                r.case.name,
                r.case.role,
                "" if r.case.matches is None else str(r.case.matches),
                f"{r.median:.1f}",
                f"{r.p95:.1f}",
                str(len(r.queries)),
                verdict,
            )
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
