"""python -m chaos — break a real OpenFlow Studio stack and count what survives (issue 8, "Faults").

    .venv/bin/python -m chaos                       # every scenario, figures into docs/reliability.md
    .venv/bin/python -m chaos --only kill9,redis    # some of them
    .venv/bin/python -m chaos --scale 0.2           # fewer runs (quick look), figures only printed

It starts its own stack on 127.0.0.1 (chaos/stack.py): a fresh PostgreSQL database on the local
server (``CHAOS_POSTGRES``, default postgres://postgres@127.0.0.1:5432/postgres) reached through
a TCP proxy it can cut, its own in-memory Redis, daphne, two Celery workers and beat. Scenarios:

* kill9   — 100 runs of a 5-step flow; every 3 s one worker (process group) gets SIGKILL mid-step
            and is restarted while the other keeps going;
* redis   — 200 runs in flight; Redis is killed (an in-memory Redis: every queued message is lost)
            and restarted 3 s later;
* workers — runs sleeping 20 s and runs waiting on a 15 s suspend timeout; every worker and beat
            stopped for 60 s; timers must fire once when they are back;
* db      — 30 runs in flight and API / page traffic while the database is unreachable for 5 s.

Each scenario is bounded in runs and in time; the figures are printed and written to the
"Chaos figures" section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from chaos import stack as stack_mod

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- chaos:begin -->", "<!-- chaos:end -->"


# --- flows -----------------------------------------------------------------------------------------------

def step(i: int, markers: Path, delay: float, **extra) -> dict:
    content = (
        "import os, time, uuid\n"
        "def main(x):\n"
        f"    name = os.environ['WM_ROOT_FLOW_JOB_ID'] + '.' + os.environ['WM_FLOW_STEP_ID'] + '.' + uuid.uuid4().hex\n"
        f"    open(os.path.join({str(markers)!r}, name), 'w').close()\n"
        f"    time.sleep({delay})\n"
        "    return x + 1\n"
    )
    expr = "flow_input.n" if i == 1 else f"results.s{i - 1}"
    return {"id": f"s{i}", "value": {"type": "rawscript", "language": "python3", "content": content,
                                     "input_transforms": {"x": {"type": "javascript", "expr": expr}}}, **extra}


def chain(n_steps: int, markers: Path, delay: float) -> dict:
    return {"summary": f"{n_steps} steps", "value": {"modules": [step(i, markers, delay) for i in range(1, n_steps + 1)]}}


def sleeper(markers: Path) -> dict:
    return {"summary": "sleeps 20 s", "value": {"modules": [
        step(1, markers, 0.1, sleep={"type": "static", "value": 20}), step(2, markers, 0.1)]}}


def suspender(markers: Path) -> dict:
    return {"summary": "suspend times out after 15 s", "value": {"modules": [
        step(1, markers, 0.1, suspend={"required_events": 1, "timeout": 15, "continue_on_disapprove_timeout": True}),
        step(2, markers, 0.1)]}}


# --- client -------------------------------------------------------------------------------------------------

class Client:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.requests = 0
        self.server_errors = 0  # 5xx other than 503
        self.unavailable = 0  # 503 with a message
        self.refused = 0  # no HTTP answer at all
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> tuple[int, dict | str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json" if path.startswith("/api/") else "text/html")
        if auth:
            request.add_header("Authorization", f"Token {self.token}")
        with self._lock:
            self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError:
            with self._lock:
                self.refused += 1
            return 0, ""
        with self._lock:
            if status == 503:
                self.unavailable += 1
            elif status >= 500:
                self.server_errors += 1
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def start_run(self, flow: dict, args: dict) -> str | None:
        for _ in range(20):
            status, body = self.call("POST", "/api/runs/", {"flow": flow, "args": args})
            if status == 201:
                return body["id"]
            time.sleep(0.5)
        return None


# --- checks --------------------------------------------------------------------------------------------------

def runs_state(ids: list[str]) -> dict[str, object]:
    from runs.models import Run

    return {str(r.pk): r for r in Run.objects.filter(pk__in=ids)}


def wait_final(ids: list[str], deadline: float) -> dict:
    while time.monotonic() < deadline:
        runs = runs_state(ids)
        if all(r.is_final for r in runs.values()) and len(runs) == len(ids):
            break
        time.sleep(1)
    return runs_state(ids)


def executions(markers: Path) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for path in markers.iterdir():
        run_id, step_id, _ = path.name.split(".")
        counts[(run_id, step_id)] = counts.get((run_id, step_id), 0) + 1
    return counts


def tally(ids: list[str], runs: dict, expected, markers: Path | None = None) -> dict:
    from runs import engine

    figures = {"started": len(ids), "completed": 0, "wrong": 0, "lost": 0, "double_commits": 0}
    for run_id in ids:
        run = runs.get(run_id)
        if run is None or not run.is_final:
            figures["lost"] += 1
            continue
        if run.status == "success" and run.result == expected(run):
            figures["completed"] += 1
        else:
            figures["wrong"] += 1
        view = engine.run_view(run.snapshot, run.state)
        figures["double_commits"] += sum(1 for s in view["steps"] if (s.get("attempts") or 0) > 1)
    if markers is not None:
        counts = executions(markers)
        figures["step_executions"] = sum(counts.values())
        figures["steps_run_more_than_once"] = sum(1 for c in counts.values() if c > 1)
    return figures


# --- scenarios ------------------------------------------------------------------------------------------------

def scenario_kill9(stack, client: Client, scale: float, work: Path) -> dict:
    markers = work / "markers-kill9"
    markers.mkdir()
    n = max(2, int(100 * scale))
    flow = chain(5, markers, 0.4)
    ids = [client.start_run(flow, {"n": i}) for i in range(n)]
    kills = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        runs = runs_state(ids)
        if all(r.is_final for r in runs.values()):
            break
        time.sleep(3)
        victim = random.choice(["w1", "w2"])
        stack.kill(victim)  # SIGKILL the worker and its pool children, mid-step
        kills += 1
        stack.start_worker(victim)
    runs = wait_final(ids, time.monotonic() + 120)
    figures = tally(ids, runs, lambda r: r.args["n"] + 5, markers)
    figures["worker_kills"] = kills
    return figures


def scenario_redis(stack, client: Client, scale: float, work: Path) -> dict:
    markers = work / "markers-redis"
    markers.mkdir()
    n = max(2, int(200 * scale))
    flow = chain(3, markers, 0.2)
    ids = [client.start_run(flow, {"n": i}) for i in range(n)]
    time.sleep(2)
    runs = runs_state(ids)
    in_flight = sum(1 for r in runs.values() if not r.is_final)
    stack.stop_redis()
    time.sleep(3)
    stack.start_redis()
    runs = wait_final(ids, time.monotonic() + 300)
    figures = tally(ids, runs, lambda r: r.args["n"] + 3, markers)
    figures["in_flight_at_restart"] = in_flight
    return figures


def scenario_workers(stack, client: Client, scale: float, work: Path) -> dict:
    markers = work / "markers-workers"
    markers.mkdir()
    n = max(2, int(10 * scale))
    ids = [client.start_run(sleeper(markers), {"n": i}) for i in range(n)]
    ids += [client.start_run(suspender(markers), {"n": 100 + i}) for i in range(n)]

    def waiting() -> bool:
        runs = runs_state(ids)
        return all(r.status in ("running", "suspended") and r.state for r in runs.values())

    deadline = time.monotonic() + 60
    while not waiting() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # the first step of each run is done; timers are pending
    for name in ("beat", "w1", "w2"):
        stack.kill(name, signal.SIGTERM)
    stopped_at = time.monotonic()
    time.sleep(60)
    down = time.monotonic() - stopped_at
    stack.start_worker("w1")
    stack.start_worker("w2")
    stack.start_beat()
    runs = wait_final(ids, time.monotonic() + 180)
    figures = tally(ids, runs, lambda r: r.args["n"] + 2, markers)
    figures["workers down seconds"] = round(down)
    return figures


def scenario_db(stack, client: Client, scale: float, work: Path) -> dict:
    markers = work / "markers-db"
    markers.mkdir()
    n = max(2, int(30 * scale))
    flow = chain(5, markers, 0.3)
    ids = [client.start_run(flow, {"n": i}) for i in range(n)]
    time.sleep(2)
    before = (client.requests, client.server_errors, client.unavailable, client.refused)
    run_id = ids[0]
    stop = threading.Event()

    def traffic() -> None:
        paths = ["/api/runs/", f"/api/runs/{run_id}", "/api/flows/"]
        while not stop.is_set():
            client.call("GET", random.choice(paths))
            client.call("GET", "/flows/", auth=False)  # anonymous page: redirect, no DB
            time.sleep(0.05)

    threads = [threading.Thread(target=traffic) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1)
    stack.proxy.cut()
    time.sleep(5)
    stack.proxy.restore()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    after = (client.requests, client.server_errors, client.unavailable, client.refused)
    runs = wait_final(ids, time.monotonic() + 180)
    figures = tally(ids, runs, lambda r: r.args["n"] + 5, markers)
    figures.update({"requests": after[0] - before[0], "server_errors": after[1] - before[1],
                    "answered_503": after[2] - before[2], "no_answer": after[3] - before[3]})
    return figures


SCENARIOS = {"kill9": scenario_kill9, "redis": scenario_redis, "workers": scenario_workers, "db": scenario_db}
TITLES = {
    "kill9": "kill -9 of a worker mid-step, second worker alive (5-step flow)",
    "redis": "Redis killed (in-memory, queue lost) and restarted with runs in flight (3-step flow)",
    "workers": "all workers + beat stopped 60 s during 20 s sleeps and 15 s suspend timeouts",
    "db": "database unreachable for 5 s with runs in flight and API traffic (5-step flow)",
}


def write_doc(results: dict, elapsed: float) -> None:
    lines = [BEGIN, "", f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{elapsed:.0f} s in all, on this machine (`python -m chaos`).", "",
             "| fault | runs started | completed right | wrong | lost | step results committed twice | other |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, fig in results.items():
        other = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in fig.items()
                          if k not in ("started", "completed", "wrong", "lost", "double_commits"))
        lines.append(f"| {TITLES[name]} | {fig['started']} | {fig['completed']} | {fig['wrong']} | {fig['lost']} "
                     f"| {fig['double_commits']} | {other} |")
    lines += ["", END]
    text = DOC.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        text = text.split(BEGIN)[0] + block + text.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Chaos figures\n\n" + block + "\n"
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the run counts (figures are "
                        "written to docs/reliability.md only at 1.0)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    wanted = [s for s in args.only.split(",") if s]
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}")
    work = Path(tempfile.mkdtemp(prefix="openflow-chaos-"))
    database = "openflow_chaos"
    print(f"chaos: work dir {work}", flush=True)
    started = time.monotonic()
    stack = stack_mod.start(work, database)
    results: dict[str, dict] = {}
    try:
        os.environ.update({k: stack.env[k] for k in ("SECRET_KEY", "OPENFLOW_VAR_DIR", "REDIS_URL")})
        os.environ["DATABASE_URL"] = stack.env["DIRECT_DATABASE_URL"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openflow_site.settings")
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        user = get_user_model().objects.create_user("chaos", "chaos@example.com", "chaos-password-1")
        client = Client(stack.url, Token.objects.create(user=user).key)
        for name in wanted:
            t0 = time.monotonic()
            print(f"chaos: {name}: {TITLES[name]}", flush=True)
            results[name] = SCENARIOS[name](stack, client, args.scale, work)
            results[name]["seconds"] = round(time.monotonic() - t0)
            print(f"chaos: {name}: {json.dumps(results[name])}", flush=True)
    finally:
        stack.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    if args.scale == 1.0 and wanted == list(SCENARIOS):
        write_doc(results, elapsed)
        print(f"chaos: figures written to {DOC.relative_to(ROOT)}")
    bad = sum(f["lost"] + f["wrong"] + f["double_commits"] + f.get("server_errors", 0) for f in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
