"""``./openflow bench`` (= ``python -m bench``): every scenario of issue 7, a table, docs/benchmarks.md.

Options: ``--reps N`` (default 5; the 10 × fibo(33) scenario uses min(N, 3)), ``--only a,b`` (scenario
names: steps, loop, heavy, throughput, ws, js, editor,
profile), ``--no-write`` (print only), ``--out PATH``.
"""

from __future__ import annotations

import sys

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
