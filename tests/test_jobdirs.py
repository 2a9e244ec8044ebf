"""Job dirs (runs/sandbox/jobdirs.py): a private root per user, dirs of killed workers swept."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from runs import sandbox
from runs.sandbox import jobdirs


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_default_root_is_per_user():
    for language in ("python3", "deno"):
        assert os.path.basename(jobdirs.default_root(language)) == f"openflow-sandbox-{os.geteuid()}"


def test_private_root_is_created_0700_and_refuses_a_symlink_or_another_users_dir(tmp_path):
    root = jobdirs.private_root(str(tmp_path / "mine"))
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    with pytest.raises(PermissionError, match="not a directory of this user"):
        jobdirs.private_root(str(tmp_path / "link"))
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 65534, 65534)
        with pytest.raises(PermissionError, match="not a directory of this user"):
            jobdirs.private_root(str(theirs))


def test_first_job_in_a_root_sweeps_the_dirs_of_dead_workers_only(tmp_path):
    root = tmp_path / "root"
    root.mkdir(mode=0o700)
    live = subprocess.Popen(["sleep", "30"])
    try:
        dead_dir = root / f"job-{_dead_pid()}-abc"
        live_dir = root / f"job-{live.pid}-def"
        own_dir = root / f"job-{os.getpid()}-ghi"
        other = root / "deno-cache"
        for d in (dead_dir, live_dir, own_dir, other):
            (d / "tmp").mkdir(parents=True)
        new = jobdirs.make_job_dir(str(root))
        assert os.path.basename(new).startswith(f"job-{os.getpid()}-")
        assert not dead_dir.exists()
        assert live_dir.exists() and own_dir.exists() and other.exists()
    finally:
        live.kill()
        live.wait()
    # Only the first use sweeps: a later job does not pay for a listing.
    (root / f"job-{_dead_pid()}-later").mkdir()
    jobdirs.make_job_dir(str(root))
    assert (root / [e for e in os.listdir(root) if e.endswith("-later")][0]).exists()


def test_a_root_we_cannot_use_fails_the_step_instead_of_the_worker(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path)
    out = sandbox.run_script("python3", "def main():\n    return 1\n", {}, timeout=10, env={}, memory_mb=256,
                             output_limit=10_000, workdir_root=str(tmp_path / "link"))
    assert not out.success
    assert out.result["error"]["name"] == "ExecutionErr"
    assert "could not create the job dir" in out.result["error"]["message"]


def test_job_dirs_are_removed_when_the_job_ends(tmp_path):
    out = sandbox.run_script("python3", "import os\ndef main():\n    return os.getcwd()\n", {}, timeout=10, env={},
                             memory_mb=256, output_limit=10_000, workdir_root=str(tmp_path))
    assert out.success
    assert os.path.dirname(out.result) == str(tmp_path)
    assert not os.path.exists(out.result)
