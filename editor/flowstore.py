"""Saving flows: path rules, validation, versioning and version diffs.

Shared by the REST API (``editor.api``), the import command and the admin, so every way of
saving a flow applies the same rules: the OpenFlow object is validated with
``editor.openflow.validate_flow`` and, when it is valid, the flow row and a new
``FlowVersion`` are written in one transaction. A rejected save writes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from editor.models import Flow, FlowVersion
from editor.openflow import FlowError, iter_modules, validate_flow
from openflow_site.storable import nul_message, nul_path

#: ``u/<user>/...``, ``f/<folder>/...`` or ``g/<group>/...`` with at least one name below.
PATH_RE = re.compile(r"^(u|f|g)/[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)+$")

#: Names of sub-resources in the API (``/api/flows/<path>/versions`` ...): no path segment below
#: the folder may be one of them, so URLs are never ambiguous.
RESERVED_NAMES = frozenset({"versions", "diff", "share", "runs", "restore"})

MAX_PATH_LENGTH = 255

#: Deepest JSON nesting accepted in a saved document. 100 levels of nested containers need
#: about 400; Python's JSON encoder and decoder recurse per level and stop near 1000 (minus the
#: frames of the request), so a document between the two would validate and then fail to save.
MAX_JSON_DEPTH = 600


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a JSON value (scalars 0), computed without recursion; stops counting
    once past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def storage_errors(value: Any) -> list[FlowError]:
    """Why a document can't be stored at all: nested too deep, or text with a NUL character."""
    if json_depth(value) > MAX_JSON_DEPTH:
        return [FlowError("", f"the document is nested more than {MAX_JSON_DEPTH} levels deep; flatten it")]
    if (where := nul_path(value)) is not None:
        return [FlowError(where, nul_message(where))]
    return []


def path_errors(path: Any, user=None, *, pointer: str = "/path", noun: str = "flow") -> list[FlowError]:
    """Problems with a path someone wants to save to (syntax, reserved names, ownership).

    ``user`` None skips the ownership rule (management commands run as the operator).
    """
    if path is None or path == "":
        return [FlowError(pointer, f"a {noun} needs a path like 'f/folder/name' or 'u/username/name'")]
    if not isinstance(path, str):
        return [FlowError(pointer, f"the path must be a string, got {type(path).__name__}")]
    if path.startswith("hub/"):
        return [FlowError(pointer, f"hub/ paths belong to the Windmill hub; save the {noun} under f/, u/ or g/")]
    if len(path) > MAX_PATH_LENGTH:
        return [FlowError(pointer, f"the path is longer than {MAX_PATH_LENGTH} characters")]
    if not PATH_RE.match(path):
        return [
            FlowError(
                pointer,
                "the path must look like 'f/folder/name', 'u/username/name' or 'g/group/name' "
                "(letters, digits, '_', '-' and '.' in names)",
            )
        ]
    if any(segment in RESERVED_NAMES for segment in path.split("/")[2:]):
        reserved = ", ".join(sorted(RESERVED_NAMES))
        return [FlowError(pointer, f"these names are reserved and cannot be used below the folder: {reserved}")]
    if user is not None and not user.is_staff:
        kind, owner_name = path.split("/")[:2]
        if kind == "u" and owner_name != user.get_username():
            return [
                FlowError(
                    pointer,
                    f"u/{owner_name}/ is another user's folder; save under u/{user.get_username()}/ or f/",
                )
            ]
    return []


def js_checker():
    """``runs.expressions.syntax_error`` when mini-racer is usable here, else None."""
    try:
        from runs.expressions import syntax_error
    except Exception:  # noqa: BLE001 - optional dependency; validation works without it
        return None
    return syntax_error


def validate_openflow(openflow: Any) -> list[FlowError]:
    """validate_flow with JavaScript syntax checking when it is available, after the storage
    checks (a document that can't be stored is not validated further)."""
    unstorable = storage_errors(openflow)
    if unstorable:
        return unstorable
    return validate_flow(openflow, check_js=js_checker())


def json_copy(value: Any) -> Any:
    """A deep copy through JSON (no Python recursion per nesting level, unlike copy.deepcopy)."""
    return json.loads(json.dumps(value))


def split_path(body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``(path, openflow without "path")`` from a request body."""
    openflow = {k: v for k, v in body.items() if k != "path"}
    return body.get("path"), openflow


def summary_of(openflow: dict[str, Any]) -> str:
    summary = openflow.get("summary")
    return summary[:1000] if isinstance(summary, str) else ""


class FlowRejected(Exception):
    """A save that did not happen; ``errors`` say why (JSON pointers into the OpenFlow object)."""

    def __init__(self, errors: list[FlowError], status: int = 400) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors[:5]))
        self.errors = errors
        self.status = status


def next_version_number(flow: Flow) -> int:
    current = flow.versions.aggregate(n=Max("number"))["n"]
    return (current or 0) + 1


def latest_version_number(flow: Flow) -> int | None:
    return flow.versions.aggregate(n=Max("number"))["n"]


@transaction.atomic
def create_flow(
    path: str, openflow: dict[str, Any], owner, *, path_user=None, created_by=None, message: str = ""
) -> Flow:
    """Validate and create a flow with version 1. Raises FlowRejected.

    ``path_user``: apply the ownership rule of ``path_errors`` for this user (API saves).
    """
    errors = path_errors(path, path_user) + validate_openflow(openflow)
    if errors:
        raise FlowRejected(errors)
    if Flow.objects.filter(path=path).exists():
        raise FlowRejected([FlowError("/path", f"a flow already exists at '{path}'")], status=409)
    try:
        with transaction.atomic():
            flow = Flow.objects.create(path=path, openflow=openflow, summary=summary_of(openflow), owner=owner)
    except IntegrityError as exc:  # a concurrent create of the same path won
        raise FlowRejected([FlowError("/path", f"a flow already exists at '{path}'")], status=409) from exc
    FlowVersion.objects.create(
        flow=flow, number=1, openflow=openflow, created_by=created_by or owner, message=message
    )
    return flow


@transaction.atomic
def update_flow(flow: Flow, openflow: dict[str, Any], user, *, message: str = "") -> FlowVersion:
    """Validate, replace the flow's OpenFlow object and add a version. Raises FlowRejected."""
    errors = validate_openflow(openflow)
    if errors:
        raise FlowRejected(errors)
    # Lock the row so two concurrent saves get consecutive version numbers.
    locked = Flow.objects.select_for_update().get(pk=flow.pk)
    locked.openflow = openflow
    locked.summary = summary_of(openflow)
    locked.save(update_fields=["openflow", "summary", "updated_at"])
    version = FlowVersion.objects.create(
        flow=locked,
        number=next_version_number(locked),
        openflow=openflow,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        message=message,
    )
    flow.openflow, flow.summary, flow.updated_at = locked.openflow, locked.summary, locked.updated_at
    return version


# --------------------------------------------------------------------------------------------
# diff of two versions, by module id

_CHILD_KEYS = ("modules", "default", "branches", "failure_module", "preprocessor_module")


def _own_content(module: dict[str, Any]) -> dict[str, Any]:
    """A module with nested modules replaced by their ids, so a change inside a container's
    body is reported on the inner module only, while adding/removing/reordering children
    still changes the container."""
    out = {k: v for k, v in module.items() if k != "value"}
    value = module.get("value")
    if not isinstance(value, dict):
        out["value"] = value
        return out
    own = dict(value)
    kind = value.get("type")

    def ids(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [m.get("id") if isinstance(m, dict) else m for m in items]

    if kind in ("forloopflow", "whileloopflow"):
        own["modules"] = ids(value.get("modules"))
    elif kind in ("branchone", "branchall"):
        branches = value.get("branches")
        if isinstance(branches, list):
            own["branches"] = [
                {**b, "modules": ids(b.get("modules"))} if isinstance(b, dict) else b for b in branches
            ]
        if "default" in value:
            own["default"] = ids(value.get("default"))
    out["value"] = own
    return out


def _modules_by_id(openflow: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for pointer, module, _ in iter_modules(openflow.get("value")):
        mid = module.get("id")
        if isinstance(mid, str) and mid not in out:
            out[mid] = (pointer, module)
    return out


def _changed_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


_MISSING = object()


@dataclass
class FlowDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed, "fields": self.fields}


def diff_openflows(old: dict[str, Any], new: dict[str, Any]) -> FlowDiff:
    """What changed between two OpenFlow objects.

    * ``added`` / ``removed``: ``{"id", "path", "type"}`` (``path`` = JSON pointer in the
      version that has the module);
    * ``changed``: ``{"id", "from_path", "to_path", "moved", "fields"}`` for modules present in
      both whose own content (nested modules excluded) or position changed; ``fields`` lists the
      module's changed top-level keys and ``value/<key>`` for changed keys of its value;
    * ``fields``: changed top-level fields of the OpenFlow object (and of ``value``, other than
      the module lists): ``{"path", "from", "to"}`` (absent = null).
    """
    diff = FlowDiff()
    before, after = _modules_by_id(old), _modules_by_id(new)
    for mid, (pointer, module) in after.items():
        if mid not in before:
            diff.added.append({"id": mid, "path": pointer, "type": _type_of(module)})
    for mid, (pointer, module) in before.items():
        if mid not in after:
            diff.removed.append({"id": mid, "path": pointer, "type": _type_of(module)})
    for mid, (new_ptr, new_mod) in after.items():
        if mid not in before:
            continue
        old_ptr, old_mod = before[mid]
        a, b = _own_content(old_mod), _own_content(new_mod)
        if a == b and old_ptr == new_ptr:
            continue
        changed = [k for k in _changed_keys(a, b) if k != "value"]
        va, vb = a.get("value"), b.get("value")
        if isinstance(va, dict) and isinstance(vb, dict):
            changed += [f"value/{k}" for k in _changed_keys(va, vb)]
        elif va != vb:
            changed.append("value")
        diff.changed.append(
            {
                "id": mid,
                "from_path": old_ptr,
                "to_path": new_ptr,
                "moved": old_ptr != new_ptr,
                "type": _type_of(new_mod),
                "fields": changed,
            }
        )
    for key in _changed_keys(old, new):
        if key == "value":
            continue
        diff.fields.append({"path": f"/{key}", "from": old.get(key), "to": new.get(key)})
    vo, vn = old.get("value"), new.get("value")
    if isinstance(vo, dict) and isinstance(vn, dict):
        for key in _changed_keys(vo, vn):
            if key in _CHILD_KEYS:
                continue
            diff.fields.append({"path": f"/value/{key}", "from": vo.get(key), "to": vn.get(key)})
    return diff


def _type_of(module: dict[str, Any]) -> Any:
    value = module.get("value")
    return value.get("type") if isinstance(value, dict) else None
