"""The scenarios of issue 7. Each returns a list of samples (or a dict of them); the runner takes medians.

Times come from the timestamps the system records (the engine's ``now`` is ``time.time()`` in the
worker that produced the event; ``Step.started_at`` is when a worker claimed the job), so polling
the database to notice the end adds no error to the numbers, only to the wall time of the bench.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import time
import uuid
from typing import Any
from urllib.parse import urlparse

FIBO = "def fibo(n):\n    return n if n < 2 else fibo(n - 1) + fibo(n - 2)\n\n"


def fibo(n: int) -> int:
    return n if n < 2 else fibo(n - 1) + fibo(n - 2)


# ---------------------------------------------------------------------------------------------
# flows
# ---------------------------------------------------------------------------------------------

def script(mid: str, content: str, transforms: dict | None = None) -> dict:
    return {"id": mid, "value": {"type": "rawscript", "language": "python3", "content": content,
                                 "input_transforms": transforms or {}}}


def sequential_flow(n_steps: int, fib_n: int) -> dict:
    body = FIBO + f"def main():\n    return fibo({fib_n})\n"
    return {"summary": f"{n_steps} x fibo({fib_n})", "value": {"modules": [script(f"m{i}", body) for i in range(n_steps)]}}


def timed_flow(n_steps: int, fib_n: int) -> dict:
    """Steps that also report their own compute time (perf_counter around fibo)."""
    body = FIBO + ("import time\n\ndef main():\n    t = time.perf_counter()\n"
                   f"    fibo({fib_n})\n    return time.perf_counter() - t\n")
    return {"summary": f"{n_steps} x fibo({fib_n}) timed", "value": {"modules": [script(f"m{i}", body) for i in range(n_steps)]}}


def loop_flow(n_items: int, fib_n: int) -> dict:
    body = FIBO + f"def main(x):\n    return fibo({fib_n})\n"
    return {"summary": f"for loop over {n_items} x fibo({fib_n})", "value": {"modules": [{
        "id": "loop", "value": {
            "type": "forloopflow", "parallel": False, "skip_failures": False,
            "iterator": {"type": "javascript", "expr": f"Array.from({{length: {n_items}}}, (_, i) => i)"},
            "modules": [script("body", body, {"x": {"type": "javascript", "expr": "flow_input.iter.value"}})],
        }}]}}


def identity_flow(n_steps: int = 3) -> dict:
    return {"summary": f"{n_steps} identity steps", "value": {"modules": [
        {"id": f"i{i}", "value": {"type": "identity"}} for i in range(n_steps)]}}


def python_identity_flow() -> dict:
    return {"summary": "3 python identity steps", "value": {"modules": [
        script(f"p{i}", "def main(x):\n    return x\n", {"x": {"type": "javascript", "expr": "flow_input.x" if i == 0
                                                             else "previous_result"}}) for i in range(3)]}}


def big_editor_flow(n: int) -> dict:
    mods = [script(f"m{i}", f"def main(x):\n    return x + {i}\n",
                   {"x": {"type": "javascript", "expr": "previous_result" if i else "flow_input.x"}}) for i in range(n)]
    return {"summary": f"{n} modules", "value": {"modules": mods},
            "schema": {"type": "object", "properties": {"x": {"type": "number"}}}}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

class Api:
    """A keep-alive HTTP client for the API (Token auth), so connection setup is not measured."""

    def __init__(self, base_url: str, token: str) -> None:
        self.netloc = urlparse(base_url).netloc
        self.token = token
        self.conn = http.client.HTTPConnection(self.netloc, timeout=30)

    def post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        try:
            self.conn.request("POST", path, data, headers)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn = http.client.HTTPConnection(self.netloc, timeout=30)
            self.conn.request("POST", path, data, headers)
            resp = self.conn.getresponse()
        payload = json.loads(resp.read() or b"null")
        if resp.status >= 300:
            raise RuntimeError(f"POST {path} -> {resp.status}: {payload}")
        return payload


def wait_final(run_id: str, timeout: float = 120.0, interval: float = 0.005):
    from runs.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Run.objects.filter(pk=run_id).values("status").first()
        if row and row["status"] in Run.FINAL:
            return Run.objects.get(pk=run_id)
        time.sleep(interval)
    raise RuntimeError(f"run {run_id} did not finish within {timeout} s")


def post_and_wait(api: Api, flow: dict, args: dict | None = None) -> tuple[float, Any]:
    """Seconds from just before the POST to the run's recorded finish, and the run."""
    t0 = time.time()
    run_id = api.post("/api/runs/", {"flow": flow, "args": args or {}})["id"]
    run = wait_final(run_id)
    if run.status != "success":
        raise RuntimeError(f"run {run_id} ended {run.status}: {json.dumps(run.result)[:500]}")
    return run.finished_at.timestamp() - t0, run


def step_gaps(run) -> list[float]:
    """Seconds from each leaf step's recorded end to the next leaf step's claim by a worker."""
    from runs import engine
    from runs.models import Step

    ends = {s["key"]: s.get("finished_at") for s in engine.run_view(run.snapshot, run.state)["steps"]}
    rows = sorted(Step.objects.filter(run=run).values("key", "started_at"), key=lambda r: r["started_at"])
    gaps = []
    for prev, nxt in zip(rows, rows[1:], strict=False):
        end = ends.get(prev["key"])
        if end is not None:
            gaps.append(nxt["started_at"].timestamp() - end)
    return gaps


def raw_hop(n: int = 40, reps: int = 5) -> float:
    """Median seconds per hop of a self-enqueuing Celery chain of ``n`` tasks."""
    from bench.hop import hop
    from openflow_site.redis_client import redis_connection

    redis = redis_connection()
    samples = []
    for _ in range(reps):
        key = f"bench:hop:{uuid.uuid4().hex}"
        t0 = time.time()
        hop.apply_async((n, key))
        _, end = redis.blpop(key, timeout=30)
        samples.append((float(end) - t0) / (n + 1))
    return statistics.median(samples)


def resolved(flow: dict, user) -> dict:
    from runs.api import _resolve

    return _resolve(flow, user)


# ---------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------

def forty_steps(api: Api, reps: int) -> dict[str, list[float]]:
    flow = sequential_flow(40, 10)
    post_and_wait(api, flow)  # warm-up (first expression context, fork server, DB caches)
    totals, gaps = [], []
    for _ in range(reps):
        total, run = post_and_wait(api, flow)
        totals.append(total)
        gaps.extend(step_gaps(run))
    return {"total": totals, "gaps": gaps}


def forty_identity(api: Api, reps: int) -> dict[str, list[float]]:
    """40 identity steps: the orchestration cost per step with no script process at all."""
    flow = identity_flow(40)
    post_and_wait(api, flow)
    return {"total": [post_and_wait(api, flow)[0] for _ in range(reps)]}


def forty_loop(api: Api, reps: int) -> dict[str, list[float]]:
    flow = loop_flow(40, 10)
    post_and_wait(api, flow)
    totals, gaps = [], []
    for _ in range(reps):
        total, run = post_and_wait(api, flow)
        assert len(run.result) == 40, run.result
        totals.append(total)
        gaps.extend(step_gaps(run))
    return {"total": totals, "gaps": gaps}


def heavy(api: Api, reps: int) -> dict[str, list[float]]:
    """10 × fibo(33): total minus compute, compute measured in-process here and inside each script."""
    flow = timed_flow(10, 33)
    overhead_inproc, overhead_inscript, totals = [], [], []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(10):
            fibo(33)
        inproc = time.perf_counter() - t
        total, run = post_and_wait(api, flow)
        inscript = sum(float(s["result"]) for s in _view_steps(run))
        totals.append(total)
        overhead_inproc.append(total - inproc)
        overhead_inscript.append(total - inscript)
    return {"total": totals, "overhead_inproc": overhead_inproc, "overhead_inscript": overhead_inscript}


def _view_steps(run) -> list[dict]:
    from runs import engine

    return [s for s in engine.run_view(run.snapshot, run.state)["steps"] if s.get("type") == "rawscript"]


def throughput(user, flow: dict, n: int, timeout: float = 120.0) -> dict[str, float]:
    """Create ``n`` queued runs, enqueue them all, and time until the last one finishes."""
    from runs.models import Run
    from runs.tasks import start_run

    snapshot = resolved(flow, user)
    runs = Run.objects.bulk_create([Run(snapshot=snapshot, args={"x": i}, created_by=user) for i in range(n)])
    ids = [str(r.pk) for r in runs]
    t0 = time.time()
    for rid in ids:
        start_run.apply_async((rid,))
    # Polled cheaply and rarely: this process shares the 2 cores with the workers it measures (a
    # COUNT over n ids every 50 ms took ~60 % of a core). The rate comes from the recorded
    # finished_at times, not from when this loop notices.
    batch = Run.objects.filter(created_at__gte=min(r.created_at for r in runs), created_by=user)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if not batch.exclude(status__in=Run.FINAL).exists():
            break
    ok = Run.objects.filter(pk__in=ids, status="success")
    done = ok.count()
    last = max((r.finished_at.timestamp() for r in ok.only("finished_at")), default=t0)
    return {"runs_per_s": done / max(last - t0, 1e-9), "lost": float(n - done), "seconds": last - t0}


def ws_latency(base_url: str, session_key: str, user, reps: int, steps: int = 40) -> list[float]:
    """Seconds from a step's recorded finish in the worker to its ``step`` message in a WebSocket client."""
    from runs.models import Run
    from runs.tasks import start_run

    flow = resolved(sequential_flow(steps, 10), user)
    samples: list[float] = []

    async def one() -> None:
        from websockets.asyncio.client import connect

        run = await asyncio.to_thread(lambda: Run.objects.create(snapshot=flow, args={}, created_by=user))
        uri = base_url.replace("http", "ws", 1) + f"/ws/runs/{run.pk}/"
        async with connect(uri, origin=base_url, additional_headers={"Cookie": f"sessionid={session_key}"}) as ws:
            await asyncio.sleep(0.05)  # group_add has happened once accept() has; leave a margin anyway
            start_run.apply_async((str(run.pk),))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                now = time.time()
                if msg.get("type") == "step" and msg["step"].get("status") == "success":
                    finished = msg["step"].get("finished_at")
                    if finished:
                        from datetime import datetime

                        samples.append(now - datetime.fromisoformat(finished).timestamp())
                if msg.get("type") == "run" and msg["run"].get("status") in Run.FINAL:
                    return

    for _ in range(reps):
        asyncio.run(one())
    return samples


def expressions(n: int = 2000) -> dict[str, float]:
    from bench.bench_expressions import bench, make_scope

    scope = make_scope()
    return {
        "template": bench("template  `Hello ${flow_input.name}`", "`Hello ${flow_input.name}`", scope, n,
                          "Hello World") / 1e6,
        "map": bench("results.a.items.map(x => x.id) (10 KB scope)", "results.a.items.map(x => x.id)", scope, n,
                     list(range(170))) / 1e6,
        "fast": bench("fast path  flow_input.name", "flow_input.name", scope, n, "World") / 1e6,
        "fast_deep": bench("fast path  results.a.items[3].name", "results.a.items[3].name", scope, n,
                           "item-3") / 1e6,
    }


EDITOR_PROBE = """
(() => {
  const t = () => {
    if (window.__nodesVisibleAt) return;
    const n = document.querySelector('[data-testid=flow-graph] .react-flow__node');
    if (n && n.offsetWidth > 0 && getComputedStyle(n).visibility !== 'hidden') {
      window.__nodesVisibleAt = performance.now();
      window.__nodeCount = document.querySelectorAll('.react-flow__node').length;
      return;
    }
    requestAnimationFrame(t);
  };
  new MutationObserver(t).observe(document, {subtree: true, childList: true, attributes: true});
  requestAnimationFrame(t);
})();
"""


def editor(base_url: str, session_key: str, user, reps: int, modules: int = 300) -> dict[str, Any]:
    """Milliseconds from navigation start to the graph's first node being visible, in headless Chromium."""
    from pathlib import Path

    from editor.models import Flow

    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        return {"error": "no /usr/bin/chromium"}
    path = f"f/bench/big_{uuid.uuid4().hex[:6]}"
    openflow = big_editor_flow(modules)
    Flow.objects.create(path=path, owner=user, summary=openflow["summary"], openflow=openflow)
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage"]
    samples, counts = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": session_key, "url": base_url}])
            context.add_init_script(EDITOR_PROBE)
            for i in range(reps + 1):  # the first load fills the HTTP cache: reported apart
                page = context.new_page()
                page.goto(f"{base_url}/flows/{path}/edit")
                if "/login" in page.url:
                    return {"error": "not logged in"}
                try:
                    page.wait_for_function("window.__nodesVisibleAt !== undefined", timeout=20_000)
                except Exception:
                    return {"error": "no graph node became visible within 20 s (editor not ready?)"}
                at, count = page.evaluate("[window.__nodesVisibleAt, window.__nodeCount]")
                if i == 0:
                    cold = at / 1000
                else:
                    samples.append(at / 1000)
                counts.append(count)
                page.close()
        finally:
            browser.close()
    return {"samples": samples, "cold": cold, "nodes": max(counts)}
