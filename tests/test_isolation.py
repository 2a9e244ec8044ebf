"""Script confinement (runs/harness/isolation.py): hidden var dir, read-only project, no privileges.

Each check runs a real process: a probe script confines itself with the module, then tries the
attack and prints what happened as JSON. As root (this machine and CI) and, where ``setpriv`` and
a system Python readable by ``nobody`` exist, as an unprivileged user (the user-namespace path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from runs import sandbox
from runs.harness import isolation
from runs.sandbox import limits

PROBE = r"""
import importlib.util, json, os, subprocess, sys
spec = importlib.util.spec_from_file_location("iso", sys.argv[1])
iso = importlib.util.module_from_spec(spec)
spec.loader.exec_module(iso)
plan, hidden, readonly, holder = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
out = {"confined": iso.confine(plan)}

def attempt(name, fn):
    try:
        out[name] = ["ok", str(fn())[:80]]
    except Exception as e:
        out[name] = [type(e).__name__, getattr(e, "errno", None)]

attempt("read_hidden", lambda: open(os.path.join(hidden, "secret")).read())
attempt("list_hidden", lambda: os.listdir(hidden))
attempt("write_readonly", lambda: open(os.path.join(readonly, "new-file"), "w").write("x"))
attempt("read_readonly", lambda: open(os.path.join(readonly, "visible")).read())
attempt("holder_environ", lambda: open(f"/proc/{holder}/environ").read())
attempt("umount", lambda: subprocess.run(["umount", "-l", hidden], check=True, capture_output=True))
status = subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True).stdout
out["caps"] = {k: v.strip() for k, v in (line.split(":", 1) for line in status.splitlines())
               if k in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs")}
print(json.dumps(out))
"""

NOBODY = 65534


def _tree(tmp_path: Path, owner: int | None = None) -> tuple[Path, Path]:
    project = tmp_path / "project"
    var = project / "var"
    var.mkdir(parents=True)
    (var / "secret").write_text("s3cret")
    (project / "visible").write_text("code")
    if owner is not None:
        for path in (tmp_path, project, var, var / "secret", project / "visible"):
            os.chown(path, owner, owner)
    return project, var


def _confined(tmp_path: Path, *, as_nobody: bool = False) -> dict:
    project, var = _tree(tmp_path, NOBODY if as_nobody else None)
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    probe.chmod(0o644)
    plan = {"hide": [str(var)], "readonly": [str(project)], "required": True}
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if as_nobody else []
    python = "/usr/bin/python3" if as_nobody else sys.executable
    # A process of the prober's own uid holding a secret in its environment (like the worker).
    holder = subprocess.Popen([*prefix, "sleep", "60"], env={"SECRET_KEY": "needle-in-environ", "PATH": "/usr/bin:/bin"})
    try:
        done = subprocess.run([*prefix, python, "-I", str(probe), isolation.__file__, json.dumps(plan), str(var),
                               str(project), str(holder.pid)], capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _assert_confined(out: dict, tmp_path: Path) -> None:
    assert out["confined"] is True
    assert out["read_hidden"][0] == "PermissionError"
    assert out["list_hidden"][0] == "PermissionError"
    assert out["write_readonly"] == ["OSError", 30]  # EROFS
    assert out["read_readonly"] == ["ok", "code"]
    assert out["holder_environ"][0] == "PermissionError"
    assert out["umount"][0] == "CalledProcessError"
    assert out["caps"]["CapEff"] == out["caps"]["CapPrm"] == out["caps"]["CapBnd"] == "0" * 16
    assert out["caps"]["NoNewPrivs"] == "1"
    # The host is untouched: nothing hidden, nothing read-only, no mount left behind.
    assert (tmp_path / "project" / "var" / "secret").read_text() == "s3cret"
    assert not (tmp_path / "project" / "new-file").exists()
    assert str(tmp_path) not in Path("/proc/self/mounts").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="the root path; the test below covers an unprivileged user")
def test_confined_root_process_loses_the_var_dir_the_project_writes_and_every_capability(tmp_path):
    _assert_confined(_confined(tmp_path), tmp_path)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists("/usr/bin/python3"),
                    reason="needs root to become nobody (setpriv) and a system python3 nobody can run")
def test_confined_unprivileged_process_uses_a_user_namespace_with_the_same_effect():
    # Not pytest's tmp_path: its parent is private to root, and nobody must reach the files.
    base = Path(tempfile.mkdtemp(prefix="ofs-isolation-"))
    try:
        base.chmod(0o755)
        _assert_confined(_confined(base, as_nobody=True), base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_without_required_a_refused_namespace_still_drops_privileges(monkeypatch):
    calls = []
    monkeypatch.setattr(isolation, "_enter_namespaces", lambda: (_ for _ in ()).throw(OSError(1, "refused")))
    monkeypatch.setattr(isolation, "drop_privileges", lambda: calls.append("dropped"))
    assert isolation.confine({"hide": ["/x"], "readonly": [], "required": False}) is False
    assert calls == ["dropped"]
    with pytest.raises(isolation.IsolationUnavailable, match="required but unavailable: .*refused"):
        isolation.confine({"hide": ["/x"], "readonly": [], "required": True})
    assert isolation.confine(None) is False and calls == ["dropped"]


def test_job_plan_keeps_the_job_dirs_writable_even_inside_a_hidden_or_readonly_dir(tmp_path):
    root = tmp_path / "var" / "jobs"
    plan = limits.job_plan({"hide": [str(tmp_path / "var"), "/elsewhere/var"],
                            "readonly": [str(tmp_path), "/srv/project"], "required": False}, str(root))
    assert plan == {"hide": ["/elsewhere/var"], "readonly": ["/srv/project"], "required": False}
    assert limits.job_plan(None, str(root)) is None


def test_required_isolation_where_the_kernel_refuses_fails_the_step_naming_the_setting(monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "isolation_problem", lambda: "unshare: Operation not permitted")
    plan = {"hide": [str(tmp_path / "var")], "readonly": [], "required": True}
    out = sandbox.run_script("python3", "def main():\n    return 1\n", {}, timeout=10, env={}, memory_mb=256,
                             output_limit=10_000, isolation=plan)
    assert not out.success
    assert out.result["error"]["name"] == "ExecutionErr"
    assert "SCRIPT_ISOLATION=required" in out.result["error"]["message"]
    assert "Operation not permitted" in out.result["error"]["message"]
    # Not required: the job runs, with privileges dropped but nothing hidden.
    out = sandbox.run_script("python3", "def main():\n    return 1\n", {}, timeout=10, env={}, memory_mb=256,
                             output_limit=10_000, isolation={**plan, "required": False})
    assert out.success and out.result == 1


@pytest.mark.parametrize(("language", "warm"), [("python3", "1"), ("python3", "0"), ("bash", "1")])
def test_scripts_run_confined_on_the_warm_and_cold_paths(monkeypatch, tmp_path, language, warm):
    monkeypatch.setenv("OPENFLOW_SANDBOX_WARM", warm)
    project, var = _tree(tmp_path)
    plan = {"hide": [str(var)], "readonly": [str(project)], "required": True}
    secret, target = var / "secret", project / "new-file"
    if language == "python3":
        content = ("def main():\n    out = []\n"
                   f"    for f in (lambda: open({str(secret)!r}).read(), lambda: open({str(target)!r}, 'w')):\n"
                   "        try:\n            f(); out.append('ok')\n"
                   "        except OSError as e:\n            out.append(e.errno)\n"
                   "    return out\n")
        expected = [13, 30]
    else:
        content = (f"cat {secret} >/dev/null 2>&1; a=$?\ntouch {target} 2>/dev/null; b=$?\n"
                   "echo \"[$a, $b]\"\n")
        expected = [1, 1]
    out = sandbox.run_script(language, content, {}, timeout=20, env={}, memory_mb=256, output_limit=10_000,
                             isolation=plan, workdir_root=str(tmp_path / "jobs"))
    assert out.success, out.result
    assert out.result == expected
    assert not target.exists()
    # The same script unconfined reads and writes (the test can fail).
    out = sandbox.run_script(language, content, {}, timeout=20, env={}, memory_mb=256, output_limit=10_000,
                             workdir_root=str(tmp_path / "jobs"))
    assert out.result in (["ok", "ok"], [0, 0])
    target.unlink()


def test_bad_script_isolation_setting_is_refused_by_name(monkeypatch):
    from openflow_site.env import env_choice

    monkeypatch.setenv("SCRIPT_ISOLATION", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="SCRIPT_ISOLATION='sometimes' must be one of: auto, required, off"):
        env_choice("SCRIPT_ISOLATION", "auto", ("auto", "required", "off"))
    monkeypatch.setenv("SCRIPT_ISOLATION", " Required ")
    assert env_choice("SCRIPT_ISOLATION", "auto", ("auto", "required", "off")) == "required"
