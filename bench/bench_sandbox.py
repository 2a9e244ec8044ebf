"""Micro-benchmark of runs.sandbox.run_script (no Django, no queue): the per-script cost.

    .venv/bin/python -m bench.bench_sandbox [--reps N] [--lang python3,deno,bash] [--cold]

Prints medians (and p10/p90) of:
* a trivial python script (``return 1``),
* fibo(10) (the issue-7 step body), and the compute of fibo(10) in-process for reference,
* 40 sequential fibo(10) runs (total), i.e. the sandbox share of the 40-step target,
plus the deno / bash trivial scripts with ``--lang``. Settings as the worker uses them
(timeout 900 s, 512 MB, 2 MB output cap). The box is shared: the load average is printed before and
after; repeat and compare medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs import sandbox  # noqa: E402

FIBO = "def fibo(n):\n    return n if n < 2 else fibo(n - 1) + fibo(n - 2)\n\n"
TRIVIAL = {
    "python3": "def main():\n    return 1\n",
    "deno": "export function main() { return 1 }\n",
    "bash": "echo 1\n",
}
FIBO10 = FIBO + "def main():\n    return fibo(10)\n"
OPTIONS = {"timeout": 900.0, "env": {"WM_WORKSPACE": "bench"}, "memory_mb": 512, "output_limit": 2_000_000}


def _once(language: str, content: str) -> float:
    t = time.perf_counter()
    r = sandbox.run_script(language, content, {}, **OPTIONS)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t
    if not r.success:
        raise SystemExit(f"{language} run failed: {r.result}")
    return elapsed


def _stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=10) if len(ms) >= 2 else [ms[0]] * 9
    return f"median {statistics.median(ms):7.2f} ms   p10 {q[0]:7.2f}   p90 {q[-1]:7.2f}   n={len(ms)}"


def _measure(fn: Callable[[], float], reps: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(reps)]


def _fibo(n: int) -> int:
    return n if n < 2 else _fibo(n - 1) + _fibo(n - 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=60, help="samples per single-script measurement")
    parser.add_argument("--seq-reps", type=int, default=7, help="repetitions of the 40-run sequence")
    parser.add_argument("--lang", default="python3", help="comma list: python3,deno,bash")
    parser.add_argument("--cold", action="store_true", help="python without the warm fork server")
    opts = parser.parse_args()
    if opts.cold:
        os.environ["OPENFLOW_SANDBOX_WARM"] = "0"
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (2-core box, shared)")
    langs = [x.strip() for x in opts.lang.split(",") if x.strip()]
    if "python3" in langs:
        print(f"python trivial        {_stats(_measure(lambda: _once('python3', TRIVIAL['python3']), opts.reps))}")
        print(f"python fibo(10)       {_stats(_measure(lambda: _once('python3', FIBO10), opts.reps))}")
        t = time.perf_counter()
        for _ in range(1000):
            _fibo(10)
        print(f"  (fibo(10) compute in-process: {(time.perf_counter() - t):.3f} ms per call)")

        def forty() -> float:
            t0 = time.perf_counter()
            for _ in range(40):
                _once("python3", FIBO10)
            return time.perf_counter() - t0

        seq = _measure(forty, opts.seq_reps, warmup=1)
        print(f"40 x fibo(10) total   {_stats(seq)}   (per run {statistics.median(seq) / 40 * 1000:.2f} ms)")
    for lang in ("deno", "bash"):
        if lang in langs:
            reps = max(5, opts.reps // 4) if lang == "deno" else opts.reps
            print(f"{lang:5} trivial         {_stats(_measure(lambda lang=lang: _once(lang, TRIVIAL[lang]), reps))}")
    sandbox.shutdown_warm_runner()
    print(f"load average after:  {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
