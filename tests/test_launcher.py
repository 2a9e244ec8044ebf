"""./openflow up fails fast with a message that says what to do (issue 2), never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from openflow_site.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent.parent


def launch(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, "OPENFLOW_VAR_DIR": str(tmp_path), **env}
    for key, value in env.items():
        if value is None:
            full.pop(key)
    return subprocess.run([sys.executable, "-m", "openflow_site.launcher", "up"], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=60)


def test_taken_http_port_fails_fast_and_says_which_port(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        started = time.monotonic()
        done = launch(tmp_path, OPENFLOW_PORT=str(port))
    assert done.returncode == 2
    assert time.monotonic() - started < 20
    assert f"port {port}" in done.stderr and "OPENFLOW_PORT=" in done.stderr
    assert "Traceback" not in done.stderr


def test_redis_url_pointing_at_nothing_fails_fast_with_advice(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    done = launch(tmp_path, REDIS_URL=f"redis://127.0.0.1:{dead}/0", OPENFLOW_PORT="0")
    assert done.returncode == 2
    assert "does not answer" in done.stderr and "unset REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_setting_value_is_one_clear_line(tmp_path):
    done = launch(tmp_path, DEBUG="maybe")
    assert done.returncode == 2
    assert "DEBUG='maybe' is not a boolean" in done.stderr
    assert "Traceback" not in done.stderr


def test_taken_embedded_redis_port_fails_fast(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = launch(tmp_path, REDIS_URL=None, OPENFLOW_REDIS_PORT=str(port), OPENFLOW_PORT="0")
    assert done.returncode == 2
    assert f"port {port}" in done.stderr and "OPENFLOW_REDIS_PORT" in done.stderr


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


def test_up_serves_healthy_app_and_ctrl_c_leaves_no_process_behind(tmp_path):
    import signal
    import urllib.request

    port, redis_port = free_port(), free_port()
    env = {**os.environ, "OPENFLOW_VAR_DIR": str(tmp_path), "OPENFLOW_PORT": str(port),
           "OPENFLOW_REDIS_PORT": str(redis_port), "WORKER_CONCURRENCY": "1"}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "openflow_site.launcher", "up"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if "log in as" in line:
                break
        assert any(f"running at http://127.0.0.1:{port}/" in line for line in output), "".join(output)
        assert "password" in output[-1]
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    status = response.status
            except Exception:
                time.sleep(0.5)
        assert status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(40)
    time.sleep(1)
    assert _processes_mentioning(str(tmp_path)) == []
    assert _processes_mentioning(f"-p {port} ") == []
    assert _processes_mentioning(f"--port {redis_port}") == []
