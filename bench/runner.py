"""Run the scenarios against a freshly started stack, print the table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from bench.stack import ROOT, Stack

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SCENARIOS = ("steps", "loop", "heavy", "throughput", "ws", "js", "editor", "profile")


@dataclass
class Row:
    scenario: str
    ours: float | None  # seconds (or runs/s for throughput)
    unit: str  # "s", "ms", "us", "runs/s"
    target: str
    anchor: str = "—"
    anchor_value: float | None = None  # same unit as ours
    hop: float | None = None  # seconds
    note: str = ""

    def fmt(self, v: float | None) -> str:
        if v is None:
            return "—"
        if self.unit == "s":
            return f"{v:.3f} s"
        if self.unit == "ms":
            return f"{v * 1e3:.2f} ms"
        if self.unit == "us":
            return f"{v * 1e6:.0f} µs"
        return f"{v:.0f} runs/s"

    def met(self) -> str:
        m = re.match(r"([≤≥])\s*([\d.]+)\s*(s|ms|µs|runs/s)", self.target)
        if not m or self.ours is None:
            return ""
        scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "runs/s": 1}[m.group(3)]
        limit = float(m.group(2)) * scale
        ok = self.ours <= limit if m.group(1) == "≤" else self.ours >= limit
        return "yes" if ok else "**no**"

    def ratio(self) -> str:
        if self.ours is None or not self.anchor_value:
            return "—"
        if self.unit == "runs/s":
            return f"{self.ours / self.anchor_value:.1f}× more"
        return f"{self.anchor_value / self.ours:.1f}× faster" if self.ours < self.anchor_value else \
            f"{self.ours / self.anchor_value:.1f}× slower"

    def cells(self) -> list[str]:
        return [self.scenario, self.fmt(self.ours), self.target, self.met(), self.anchor, self.ratio(),
                "—" if self.hop is None else f"{self.hop * 1e3:.2f} ms", self.note]


HEADER = ["scenario", "our median", "target", "met", "published anchor", "ratio", "raw Celery hop (same run)",
          "notes"]


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def pct(xs: list[float], p: float) -> float | None:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * p))] if xs else None


def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "?"


def machine() -> str:
    from importlib.metadata import version

    import celery
    import django
    import kombu
    from django.db import connection

    from openflow_site.redis_client import redis_connection

    mem = next((ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")),
               "0")
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            db = f"SQLite {cur.fetchone()[0]} (WAL)"
        else:
            cur.execute("show server_version")
            db = f"PostgreSQL {cur.fetchone()[0]}"
    chromium = _cmd(["/usr/bin/chromium", "--version"]).splitlines()
    return "\n".join([
        f"- when: {time.strftime('%Y-%m-%d %H:%M %Z')}; git {_cmd(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'])}"
        + (" (+ uncommitted changes)" if _cmd(['git', '-C', str(ROOT), 'status', '--porcelain', '--', 'runs',
                                                'openflow_site', 'bench']) else ""),
        f"- CPU: {_cmd(['nproc'])} cores ({cpu}); memory {int(mem) / 1024 / 1024:.1f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}; Django {django.__version__}; Celery {celery.__version__}; "
        f"kombu {kombu.__version__}; channels {version('channels')}; channels-redis {version('channels-redis')}; "
        f"daphne {version('daphne')}; mini-racer {version('mini-racer')}",
        f"- Redis {redis_connection().info().get('redis_version')}; {db}; {chromium[-1] if chromium else '?'}",
    ])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="openflow bench")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--throughput-runs", type=int, default=1000)
    opts = parser.parse_args(argv)
    only = set(opts.only.split(","))
    started = time.monotonic()

    stack = Stack.prepare()
    rows: list[Row] = []
    try:
        import django

        django.setup()
        stack.migrate()
        user, token, session_key = _bench_user()
        stack.start_web()
        from bench import scenarios as sc

        api = sc.Api(stack.url, token)
        reps = max(1, opts.reps)

        if only & {"steps", "loop", "heavy", "ws"}:
            print("== one worker process (-c 1)", flush=True)
            stack.start_workers(1)
            hop1 = sc.raw_hop()
            print(f"raw Celery hop: {hop1 * 1e3:.2f} ms", flush=True)
            if "steps" in only:
                r = _guard(lambda: sc.forty_steps(api, reps))
                rows.append(Row("40 × python fibo(10), 40 steps, POST → success", med(r.get("total", [])), "s",
                                "≤ 0.5 s", "Windmill 4.30 s / Hatchet 1.22 s", 1.22, hop1, r.get("error", "")))
                total = med(r.get("total", []))
                r_id = _guard(lambda: sc.forty_identity(api, reps))
                ident = med(r_id.get("total", []))
                rows.append(Row("40 identity steps, POST → success", ident, "s", "—", hop=hop1,
                                note=r_id.get("error", "") or (
                                    f"{ident / 40 * 1e3:.2f} ms per identity step; "
                                    f"python fibo(10) step {total / 40 * 1e3:.2f} ms" if ident and total else "")))
                gaps = r.get("gaps", [])
                g = med(gaps)
                rows.append(Row("step gap p50 (step end → next step claimed)", g, "ms",
                                f"≤ 5 ms and ≤ 3× hop ({3 * hop1 * 1e3:.1f} ms)", "Windmill ≈60 ms", 0.060, hop1,
                                f"p95 {pct(gaps, 0.95) * 1e3:.1f} ms; {g / hop1:.1f}× hop" if g else ""))
            if "loop" in only:
                r = _guard(lambda: sc.forty_loop(api, reps))
                rows.append(Row("40 × python fibo(10), for loop over 40 items", med(r.get("total", [])), "s",
                                "≤ 0.5 s", "Windmill 4.30 s / Hatchet 1.22 s", 1.22, hop1,
                                r.get("error", "") or (f"iteration gap p50 {med(r['gaps']) * 1e3:.1f} ms"
                                                       if r.get("gaps") else "")))
            if "heavy" in only:
                r = _guard(lambda: sc.heavy(api, min(reps, 3)))
                rows.append(Row("10 × fibo(33): total − in-process compute", med(r.get("overhead_inproc", [])), "s",
                                "≤ 0.1 s", hop=hop1, note=r.get("error", "") or (
                                    f"total {med(r['total']):.2f} s; total − compute timed inside the scripts "
                                    f"{med(r['overhead_inscript']) * 1e3:.0f} ms (less noisy)")))
            if "ws" in only:
                r = _guard(lambda: {"s": sc.ws_latency(stack.url, session_key, user, reps)})
                s = r.get("s", [])
                rows.append(Row("step finished in worker → browser WebSocket, p50", med(s), "ms", "≤ 20 ms",
                                "raw group_send → ws 2.1 ms (stack-notes §5)", 0.0021, hop1,
                                r.get("error", "") or f"p95 {pct(s, 0.95) * 1e3:.1f} ms, n={len(s)}"))
        if "throughput" in only:
            print("== two worker processes (-c 2)", flush=True)
            stack.start_workers(2)
            hop2 = sc.raw_hop()
            print(f"raw Celery hop: {hop2 * 1e3:.2f} ms", flush=True)
            for label, flow, n in (("identity modules", sc.identity_flow(), opts.throughput_runs),
                                   ("python `return x` steps", sc.python_identity_flow(), opts.throughput_runs // 4)):
                r = _guard(lambda flow=flow, n=n: _throughput(sc, user, flow, n, min(reps, 3)))
                rows.append(Row(f"3-step {label}, 2 worker processes", med(r.get("runs_per_s", [])), "runs/s",
                                "≥ 250 runs/s" if label.startswith("identity") else "—", hop=hop2,
                                note=r.get("error", "") or f"{n} runs per rep, lost {int(sum(r['lost']))}"))
        stack.stop_workers()
        if "js" in only:
            r = _guard(sc.expressions)
            rows.append(Row("JS input transform (10 KB scope, `.map`)", r.get("map"), "us", "≤ 500 µs",
                            "mini-racer 380 µs (stack-notes §3)", 380e-6,
                            note=r.get("error", "") or f"template `Hello ${{…}}` {r['template'] * 1e6:.0f} µs"))
            rows.append(Row("JS input transform, fast path (`flow_input.name`)", r.get("fast"), "us", "≤ 50 µs",
                            note=f"`results.a.items[3].name` {r['fast_deep'] * 1e6:.1f} µs" if "fast_deep" in r else ""))
        if "editor" in only:
            r = _guard(lambda: sc.editor(stack.url, session_key, user, reps))
            rows.append(Row("editor: 300-module flow, navigation → graph nodes visible", med(r.get("samples", [])),
                            "s", "≤ 1 s", note=r.get("error", "") or
                            f"first (cold cache) load {r['cold']:.2f} s; {r['nodes']} nodes rendered"))
        prof = ""
        if "profile" in only:
            from bench import profile_step

            r = _guard(lambda: {"p": profile_step.profile(user)})
            prof = profile_step.markdown(r["p"]) if "p" in r else r["error"]
        table = markdown(rows)
        if prof:
            table += "\n\nIn-process profile of one step (no queue hop; `bench/profile_step.py`):\n\n" + prof
        desc = machine()
    finally:
        stack.stop()
    elapsed = time.monotonic() - started
    print()
    print(table)
    print(f"\nbench took {elapsed:.0f} s")
    if not opts.no_write:
        _write(Path(opts.out), table, desc, elapsed, opts)
        print(f"written to {opts.out}")
    return 0


def _throughput(sc, user, flow: dict, n: int, reps: int) -> dict[str, list[float]]:
    sc.throughput(user, flow, min(n, 100))  # warm-up
    out: dict[str, list[float]] = {"runs_per_s": [], "lost": []}
    for _ in range(reps):
        r = sc.throughput(user, flow, n)
        out["runs_per_s"].append(r["runs_per_s"])
        out["lost"].append(r["lost"])
    return out


def _guard(fn) -> dict:
    """A failing scenario becomes a row with its error, so one problem never hides the others."""
    try:
        return fn()
    except Exception as exc:
        traceback.print_exc()
        return {"error": f"failed: {exc.__class__.__name__}: {str(exc)[:200]}"}


def _bench_user():
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    token, _ = Token.objects.get_or_create(user=user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return user, token.key, session.session_key


def _write(path: Path, table: str, desc: str, elapsed: float, opts) -> None:
    db = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    block = (f"{BEGIN}\n## Latest run (`./openflow bench --reps {opts.reps}`, {db}, {elapsed:.0f} s)\n\n"
             f"{desc}\n\n{table}\n{END}")
    text = path.read_text() if path.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
