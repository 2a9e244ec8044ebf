"""Benchmark runs.expressions: median microseconds per evaluation.

Run: .venv/bin/python bench/bench_expressions.py [N]
Targets: <= 500 us per JS evaluation, <= 50 us on the fast path.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.expressions import evaluate  # noqa: E402


def make_scope() -> dict:
    """About 10 KB of JSON: results.a.items holds ~170 small objects."""
    items = [{"id": i, "name": f"item-{i}", "ok": i % 2 == 0, "tag": "abcdefghij"} for i in range(170)]
    return {
        "flow_input": {"name": "World", "n": 3},
        "results": {"a": {"items": items}},
        "previous_result": {"x": 1},
    }


def bench(label: str, expr: str, scope: dict, n: int, expected: object) -> float:
    assert evaluate(expr, scope) == expected, (expr, evaluate(expr, scope))
    for _ in range(min(50, n)):  # warm-up (also builds the V8 context)
        evaluate(expr, scope)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        evaluate(expr, scope)
        samples.append(time.perf_counter() - t0)
    median_us = statistics.median(samples) * 1e6
    p95_us = sorted(samples)[int(len(samples) * 0.95)] * 1e6
    print(f"{label:<48} median {median_us:8.1f} us   p95 {p95_us:8.1f} us   (n={n})")
    return median_us


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    scope = make_scope()
    import json

    print(f"scope size: {len(json.dumps(scope))} bytes of JSON")
    bench("template  `Hello ${flow_input.name}`", "`Hello ${flow_input.name}`", scope, n, "Hello World")
    bench("results.a.items.map(x => x.id) (10 KB scope)", "results.a.items.map(x => x.id)", scope, n,
          list(range(170)))
    bench("fast path  results.a.items[3].name", "results.a.items[3].name", scope, n, "item-3")
    bench("fast path  flow_input.name", "flow_input.name", scope, n, "World")


if __name__ == "__main__":
    main()
