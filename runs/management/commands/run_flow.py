"""``manage.py run_flow <path|file.json> --args JSON [--local]``: run a flow from the terminal.

Without ``--local`` the run goes through the real workers (like the API) and the steps are shown as
they change; with ``--local`` the engine, V8 and the script sandbox run in this process, with no Redis
or worker. Prints the result as JSON; exits 1 when the run does not succeed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

STATUS_MARK = {"success": "✔", "failure": "✘", "running": "…", "suspended": "⏸", "skipped": "↷",
               "canceled": "⊘", "waiting": " "}


class Command(BaseCommand):
    help = "Run a saved flow (by path) or an OpenFlow JSON file and print its result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("flow", help="a saved flow's path (f/folder/name) or a .json / .yaml file")
        parser.add_argument("--args", dest="flow_args", default="{}", help="the flow input as a JSON object")
        parser.add_argument("--local", action="store_true", help="run in this process, without Redis or workers")
        parser.add_argument("--user", help="run as this user (default: the first superuser)")
        parser.add_argument("--timeout", type=float, default=3600, help="give up waiting after N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            flow_args = json.loads(options["flow_args"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--args is not JSON: {exc}") from None
        user = self._user(options.get("user"))
        openflow, saved = self._load(options["flow"], user)
        from editor.openflow import validate_args

        errors = validate_args(openflow.get("schema"), flow_args)
        if errors:
            raise CommandError("invalid args:\n" + "\n".join(f"  {e.path}: {e.message}" for e in errors))
        if options["local"]:
            view = self._run_local(openflow, flow_args, user)
        else:
            view = self._run_workers(openflow, flow_args, user, saved, options["timeout"])
        self.stdout.write(json.dumps(view.get("result"), indent=2, default=str))
        if view.get("status") != "success":
            self.stderr.write(f"run ended with status {view.get('status')}")
            sys.exit(1)

    def _user(self, username: str | None):
        users = get_user_model().objects
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError(f"no user {username!r}" if username else "no superuser; pass --user")
        return user

    def _load(self, ref: str, user) -> tuple[dict, Any]:
        from editor.models import Flow

        path = Path(ref)
        if path.suffix in (".json", ".yaml", ".yml") and path.exists():
            text = path.read_text()
            if path.suffix == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
            from editor.openflow import validate_flow
            from runs.expressions import syntax_error

            errors = validate_flow(data, check_js=syntax_error)
            if errors:
                raise CommandError("invalid flow:\n" + "\n".join(f"  {e.path}: {e.message}" for e in errors))
            return data, None
        flow = Flow.objects.visible_to(user).filter(path=ref).first()
        if flow is None:
            raise CommandError(f"no saved flow {ref!r} and no such file")
        return flow.as_openflow(), flow

    def _show(self, view: dict, seen: dict[str, str]) -> None:
        for step in view.get("steps", []):
            if seen.get(step["key"]) != step["status"]:
                seen[step["key"]] = step["status"]
                mark = STATUS_MARK.get(step["status"], "?")
                self.stdout.write(f"  {mark} {step['key']:<30} {step['status']}")

    def _run_local(self, openflow: dict, flow_args: Any, user) -> dict:
        from editor.resolve import resolve_flow
        from runs import sandbox
        from runs.local import run_locally
        from runs.orchestrator import evaluate

        snapshot, errors = resolve_flow({k: v for k, v in openflow.items() if k != "path"}, user)
        if errors:
            raise CommandError("\n".join(f"  {e.path}: {e.message}" for e in errors))
        seen: dict[str, str] = {}

        def run_script(action: dict) -> tuple[bool, Any]:
            from django.conf import settings

            from runs.tasks import script_isolation

            out = sandbox.run_script(action["language"], action["content"], action.get("args") or {},
                                     timeout=float(action.get("timeout") or settings.SCRIPT_TIMEOUT),
                                     env={"WM_FLOW_STEP_ID": action.get("module_id", "")},
                                     memory_mb=settings.SCRIPT_MEMORY_MB, output_limit=settings.SCRIPT_OUTPUT_LIMIT,
                                     result_limit=settings.SCRIPT_RESULT_LIMIT, isolation=script_isolation(),
                                     on_log=lambda line: self.stdout.write(f"    | {line.rstrip()}"))
            return out.success, out.result

        return run_locally(snapshot, flow_args, evaluate=evaluate, run_script=run_script,
                           on_update=lambda view: self._show(view, seen))

    def _run_workers(self, openflow: dict, flow_args: Any, user, saved, timeout: float) -> dict:
        from runs import engine
        from runs.api import InvalidRequest, create_run
        from runs.models import Run

        try:
            run = create_run(user=user, openflow=openflow, args=flow_args, flow=saved)
        except InvalidRequest as exc:
            raise CommandError("\n".join(f"  {e['path']}: {e['message']}" for e in exc.errors)) from None
        self.stdout.write(f"run {run.pk} queued")
        seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = Run.objects.get(pk=run.pk)
            if run.state is not None:
                view = engine.run_view(run.snapshot, run.state)
                self._show(view, seen)
                if run.is_final:
                    return view
                if view.get("status") == "suspended" and view.get("suspended"):
                    s = view["suspended"]
                    if seen.get("__suspended") != s["step"]:
                        seen["__suspended"] = s["step"]
                        self.stdout.write(f"  waiting for approval of {s['step']}: see /runs/{run.pk}")
            time.sleep(0.1)
        raise CommandError(f"run {run.pk} did not finish within {timeout:.0f} s")
