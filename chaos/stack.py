"""The stack the chaos scenarios break: its own Redis, a TCP proxy in front of PostgreSQL (so the
database can "go away" without touching the shared server), daphne, two Celery workers and beat.

Everything listens on 127.0.0.1 and lives under one temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from openflow_site.embedded_redis import free_port
from openflow_site.launcher import wait_http

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


class TcpProxy:
    """127.0.0.1:<port> -> target. ``cut()`` drops every connection and refuses new ones until
    ``restore()``: what the app sees when its database server stops."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.up = threading.Event()
        self.up.set()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = False
        self._listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.settimeout(0.2)
        self._listener = sock

    def _accept(self) -> None:
        while not self._stop:
            if not self.up.is_set():
                time.sleep(0.05)
                continue
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()
            with self._lock:
                self._conns.difference_update((a, b))

    def cut(self) -> None:
        self.up.clear()
        self._listener.close()  # new connections: refused
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self._listen()
        self.up.set()

    def stop(self) -> None:
        self._stop = True
        self.cut()


@dataclass
class Stack:
    dir: Path
    env: dict[str, str]
    url: str
    redis_port: int
    proxy: TcpProxy
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    # -- processes ------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> None:
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.dir)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop_redis(self) -> None:
        """Like a crash of an in-memory Redis: every queued message is gone."""
        self.kill("redis")

    def start_worker(self, name: str) -> None:
        self._spawn(name, [PY, "-m", "celery", "-A", "openflow_site", "worker", "-l", "INFO", "-c", "2",
                           "--pool", "prefork", "--without-gossip", "--without-mingle", "-n", f"{name}@%h"])
        self._wait_log(name, b" ready.")

    def start_beat(self) -> None:
        self._spawn("beat", [PY, "-m", "celery", "-A", "openflow_site", "beat", "-l", "INFO",
                             "--schedule", str(self.dir / "beat-schedule")])

    def start_web(self) -> None:
        port = int(self.url.rsplit(":", 1)[1])
        self._spawn("web", [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "openflow_site.asgi:application"])
        if not wait_http(self.url + "/login/", 30):
            raise RuntimeError("daphne did not start:\n" + (self.dir / "web.log").read_text()[-2000:])

    def _wait_log(self, name: str, marker: bytes, timeout: float = 60) -> None:
        path = self.dir / f"{name}.log"
        start = path.stat().st_size if path.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in path.read_bytes()[start:]:
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} died:\n{path.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready in {timeout} s")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM if name != "redis" else signal.SIGKILL)
        self.proxy.stop()


def start(workdir: Path, database: str) -> Stack:
    """Create the database ``database`` on the local PostgreSQL, migrate it and start everything."""
    import psycopg

    workdir.mkdir(parents=True, exist_ok=True)
    admin = os.environ.get("CHAOS_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    host = admin.split("@", 1)[1].split("/", 1)[0]
    pg_host, pg_port = host.split(":") if ":" in host else (host, "5432")
    proxy = TcpProxy((pg_host, int(pg_port)))
    redis_port = free_port()
    user = admin.split("//", 1)[1].split("@", 1)[0]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "CELERY"))},
        "DATABASE_URL": f"postgres://{user}@127.0.0.1:{proxy.port}/{database}",
        "DIRECT_DATABASE_URL": f"postgres://{user}@{pg_host}:{pg_port}/{database}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "OPENFLOW_VAR_DIR": str(workdir / "var"),
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
        "STEP_STALE_SECONDS": "4",
        "STEP_HEARTBEAT_SECONDS": "1",
        "SWEEP_INTERVAL_SECONDS": "1",
        "DB_CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
    }
    stack = Stack(workdir, env, f"http://127.0.0.1:{free_port()}", redis_port, proxy)
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True,
                   env={**env, "DATABASE_URL": env["DIRECT_DATABASE_URL"]})
    stack.start_redis()
    stack.start_web()
    stack.start_worker("w1")
    stack.start_worker("w2")
    stack.start_beat()
    return stack
