"""Fixtures and helpers for the flows / scripts API tests (import them in the test modules).

``user`` / ``other_user`` / ``api`` come from tests/conftest.py (alice, bob, an APIClient
logged in as alice).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

FLOWS_DIR = Path(__file__).parent / "flows"
NOT_FLOWS = {"expected.json", "resources.json"}


def example_names() -> list[str]:
    """Names of every example OpenFlow file in tests/flows/ (invalid ones excluded)."""
    return sorted(p.stem for p in FLOWS_DIR.glob("*.json") if p.name not in NOT_FLOWS)


def load_example(name: str) -> dict:
    return json.loads((FLOWS_DIR / f"{name}.json").read_text())


def invalid_names() -> list[str]:
    return sorted(p.stem for p in (FLOWS_DIR / "invalid").glob("*.json") if not p.name.endswith(".errors.json"))


def minimal_flow(**extra) -> dict:
    """A small valid OpenFlow object: one python step, one identity step reading its result."""
    flow = {
        "summary": "Minimal",
        "description": "",
        "value": {
            "modules": [
                {
                    "id": "a",
                    "value": {
                        "type": "rawscript",
                        "language": "python3",
                        "content": "def main(x: int = 1):\n    return x + 1\n",
                        "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.x"}},
                    },
                },
                {
                    "id": "b",
                    "value": {
                        "type": "rawscript",
                        "language": "python3",
                        "content": "def main(y):\n    return y\n",
                        "input_transforms": {"y": {"type": "javascript", "expr": "results.a"}},
                    },
                },
            ]
        },
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"x": {"type": "integer"}},
            "required": [],
        },
    }
    flow.update(extra)
    return flow


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def js_checking_available() -> bool:
    try:
        from runs.expressions import syntax_error

        return syntax_error("1 +") is not None
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Creating users with the production hasher costs a second each; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("root", "root@example.com", "root-password-1", is_staff=True)


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.com", "carol-password-1")


@pytest.fixture
def bob_api(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def staff_api(staff_user) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def example_resources(user):
    """The scripts and flows tests/flows/resources.json says the reference examples need."""
    from editor.flowstore import create_flow
    from editor.models import Script

    resources = json.loads((FLOWS_DIR / "resources.json").read_text())
    for path, spec in resources["scripts"].items():
        Script.objects.create(path=path, owner=user, **spec)
    for path, name in resources["flows"].items():
        openflow = {k: v for k, v in load_example(name).items() if k != "path"}
        create_flow(path, openflow, user)
    return resources
