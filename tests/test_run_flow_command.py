"""manage.py run_flow: --local runs in-process; without it the run goes through the real workers."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import FLOWS_DIR


@pytest.mark.django_db
def test_local_run_shows_steps_and_prints_the_exact_result(capsys, django_user_model):
    django_user_model.objects.create_superuser("root", "r@example.com", "root-password-1")
    case = json.loads((FLOWS_DIR / "expected.json").read_text())["for_loop_sequential"][0]
    call_command("run_flow", str(FLOWS_DIR / "for_loop_sequential.json"), "--local", "--args", json.dumps(case["args"]))
    out = capsys.readouterr().out
    assert "✔" in out
    printed = out[out.rindex("\n[") + 1:] if "\n[" in out else out[out.index("["):]
    assert json.loads(printed) == case["result"]


@pytest.mark.django_db
def test_local_run_of_a_failing_flow_exits_non_zero(django_user_model, tmp_path):
    django_user_model.objects.create_superuser("root", "r@example.com", "root-password-1")
    flow = {"summary": "boom", "value": {"modules": [{"id": "a", "value": {
        "type": "rawscript", "language": "python3", "content": "def main():\n    raise ValueError('nope')",
        "input_transforms": {}}}]}}
    path = tmp_path / "boom.json"
    path.write_text(json.dumps(flow))
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_flow", str(path), "--local")
    assert exit_info.value.code == 1


@pytest.mark.django_db
def test_bad_args_json_is_a_clear_command_error(django_user_model):
    django_user_model.objects.create_superuser("root", "r@example.com", "root-password-1")
    with pytest.raises(CommandError, match="--args is not JSON"):
        call_command("run_flow", str(FLOWS_DIR / "identity_chain.json"), "--local", "--args", "{nope")


@pytest.mark.django_db
def test_unknown_flow_path_is_a_clear_command_error(django_user_model):
    django_user_model.objects.create_superuser("root", "r@example.com", "root-password-1")
    with pytest.raises(CommandError, match="no saved flow"):
        call_command("run_flow", "f/nothing/here", "--local")


@pytest.mark.worker
def test_run_through_workers_of_a_saved_flow_prints_its_result(live, user, capsys):
    from editor.models import Flow

    user.is_superuser = True
    user.save()
    flow = json.loads((FLOWS_DIR / "identity_chain.json").read_text())
    Flow.objects.create(path="f/cli/ids", owner=user, summary="ids", openflow={k: v for k, v in flow.items() if k != "path"})
    call_command("run_flow", "f/cli/ids", "--args", '{"x": 7}', "--user", user.username, "--timeout", "60")
    out = capsys.readouterr().out
    assert "queued" in out
    assert json.loads(out[out.index("{", out.index("queued")):]) == {"x": 7}
