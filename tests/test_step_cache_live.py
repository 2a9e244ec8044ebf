"""cache_ttl through the API and a real worker (runs/step_cache.py): a success is reused for the
same flow, step, code and arguments until it expires; failures and other inputs run the script."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from runs import step_cache
from runs.models import CachedResult, Run
from tests.conftest import wait_for

pytestmark = pytest.mark.worker

RANDOM = "import random\ndef main(x):\n    return {'x': x, 'draw': random.random()}\n"


def cached_flow(content: str = RANDOM, ttl: int = 60) -> dict:
    return {"summary": "cached", "schema": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "value": {"modules": [{"id": "a", "cache_ttl": ttl, "value": {
                "type": "rawscript", "language": "python3", "content": content,
                "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.x"}}}}]}}


def run(api, flow: dict, args: dict) -> tuple[Run, str]:
    response = api.post("/api/runs/", {"flow": flow, "args": args}, format="json")
    assert response.status_code == 201, response.json()
    run_id = response.json()["id"]
    done = wait_for(lambda: (r := Run.objects.get(pk=run_id)).is_final and r, timeout=60, message="the run to end")
    logs = next(s for s in api.get(f"/api/runs/{run_id}").json()["steps"] if s["key"] == "a")["logs"]
    return done, logs


def test_same_inputs_reuse_the_cached_result_and_other_inputs_run_the_script(live, api):
    first, logs = run(api, cached_flow(), {"x": 1})
    assert first.status == "success" and "step cache" not in logs
    again, logs = run(api, cached_flow(), {"x": 1})
    assert again.result == first.result
    assert "result from the step cache" in logs
    other, _ = run(api, cached_flow(), {"x": 2})
    assert other.result["x"] == 2 and other.result["draw"] != first.result["draw"]
    changed, _ = run(api, cached_flow(RANDOM + "# edited\n"), {"x": 1})
    assert changed.result["draw"] != first.result["draw"]


def test_failures_are_not_cached(live, api):
    failing = "import random\ndef main(x):\n    raise RuntimeError(f'draw {random.random()}')\n"
    first, _ = run(api, cached_flow(failing), {"x": 1})
    second, logs = run(api, cached_flow(failing), {"x": 1})
    assert first.status == second.status == "failure"
    assert first.result["error"]["message"] != second.result["error"]["message"]
    assert "step cache" not in logs


def test_an_expired_entry_runs_the_script_again_and_the_sweep_purges_it(live, api):
    first, _ = run(api, cached_flow(ttl=1), {"x": 7})
    time.sleep(1.2)
    second, logs = run(api, cached_flow(ttl=1), {"x": 7})
    assert second.result["draw"] != first.result["draw"] and "step cache" not in logs
    CachedResult.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert step_cache.purge_expired() >= 1
    assert not CachedResult.objects.exists()


def test_inline_flows_of_different_users_do_not_share_a_cache(live, api, django_user_model):
    first, _ = run(api, cached_flow(), {"x": 3})
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(get_user_model().objects.create_user("someone-else", password="x" * 12))
    theirs, logs = run(other, cached_flow(), {"x": 3})
    assert theirs.result["draw"] != first.result["draw"] and "step cache" not in logs
