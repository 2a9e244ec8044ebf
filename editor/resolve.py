"""Gather everything a flow needs to run: saved scripts and sub-flows it references by path.

``resolve_flow(openflow, user)`` returns a copy of the OpenFlow object with::

    "_resolved": {"scripts": {path: {"language", "content"}},
                  "flows":   {path: <OpenFlow object of the saved flow, with "path">}}

covering every ``script`` and ``flow`` module, including those inside sub-flows (one flat map,
so the engine can run a sub-flow's steps without another lookup), and the list of problems.
Only objects visible to ``user`` are used: an invisible script is reported exactly like a
missing one, so paths do not leak.

Error pointers: problems in the given flow point into it (``/value/modules/0/value/path``);
problems inside a sub-flow point into its copy under ``_resolved`` in the returned document
(``/_resolved/flows/f~1lib~1child/value/modules/2/value/path``) and their message names the
sub-flow.
"""

from __future__ import annotations

import json
from typing import Any

from editor.models import Flow, Script
from editor.openflow import FlowError, iter_modules

HUB_MESSAGE = "hub {noun}s are not available offline; import the {noun} into this instance"


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _path_problem(noun: str, path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return f"no {noun} selected: the path is empty"
    if path.startswith("hub/"):
        return HUB_MESSAGE.format(noun=noun)
    return None


def resolve_flow(openflow: dict[str, Any], user) -> tuple[dict[str, Any], list[FlowError]]:
    resolved = json.loads(json.dumps(openflow))
    resolved.pop("_resolved", None)
    scripts: dict[str, dict[str, Any]] = {}
    flows: dict[str, dict[str, Any]] = {}
    errors: list[FlowError] = []
    visible_scripts = Script.objects.visible_to(user)
    visible_flows = Flow.objects.visible_to(user)
    missing_scripts: set[str] = set()
    missing_flows: set[str] = set()

    root_path = openflow.get("path") if isinstance(openflow.get("path"), str) else None
    # Work list of (document, pointer prefix of that document, chain of flow paths above it).
    pending: list[tuple[dict[str, Any], str, tuple[str, ...], str | None]] = [
        (resolved, "", (root_path,) if root_path else (), None)
    ]
    while pending:
        doc, prefix, chain, doc_path = pending.pop()
        where = f" (in sub-flow '{doc_path}')" if doc_path else ""
        for pointer, module, _ in iter_modules(doc.get("value")):
            value = module.get("value")
            if not isinstance(value, dict) or value.get("type") not in ("script", "flow"):
                continue
            kind = value["type"]
            noun = "script" if kind == "script" else "flow"
            path = value.get("path")
            at = f"{prefix}{pointer}/value/path"
            problem = _path_problem(noun, path)
            if problem:
                errors.append(FlowError(at, problem + where))
                continue
            if kind == "script":
                if path in scripts:
                    continue
                if path not in missing_scripts:
                    script = visible_scripts.filter(path=path).only("language", "content").first()
                    if script is not None:
                        scripts[path] = {"language": script.language, "content": script.content}
                        continue
                    missing_scripts.add(path)
                errors.append(FlowError(at, f"no script at '{path}' in this instance{where}"))
                continue
            if path in chain:
                cycle = " → ".join((*chain, path))
                errors.append(FlowError(at, f"sub-flow cycle: {cycle}{where}"))
                continue
            if path in flows:
                # Already resolved elsewhere; its own references were followed then. A cycle
                # through it from this branch is still possible, so check its chain too.
                _check_cycles(flows, path, chain, at, where, errors)
                continue
            if path in missing_flows:
                errors.append(FlowError(at, f"no flow at '{path}' in this instance{where}"))
                continue
            flow = visible_flows.filter(path=path).only("path", "openflow").first()
            if flow is None:
                missing_flows.add(path)
                errors.append(FlowError(at, f"no flow at '{path}' in this instance{where}"))
                continue
            sub = json.loads(json.dumps(flow.as_openflow()))
            sub.pop("_resolved", None)
            flows[path] = sub
            pending.append((sub, f"/_resolved/flows/{_esc(path)}", (*chain, path), path))
    resolved["_resolved"] = {"scripts": scripts, "flows": flows}
    return resolved, errors


def _sub_flow_paths(openflow: dict[str, Any]) -> list[str]:
    out = []
    for _, module, _ in iter_modules(openflow.get("value")):
        value = module.get("value")
        if isinstance(value, dict) and value.get("type") == "flow" and isinstance(value.get("path"), str):
            out.append(value["path"])
    return out


def _check_cycles(
    flows: dict[str, dict[str, Any]],
    start: str,
    chain: tuple[str, ...],
    at: str,
    where: str,
    errors: list[FlowError],
) -> None:
    """Report a cycle reachable from the already-resolved flow ``start`` back into ``chain``."""
    stack: list[tuple[str, tuple[str, ...]]] = [(start, (*chain, start))]
    seen: set[str] = set()
    while stack:
        path, trail = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        for child in _sub_flow_paths(flows.get(path, {})):
            if child in chain:
                errors.append(FlowError(at, f"sub-flow cycle: {' → '.join((*trail, child))}{where}"))
                return
            if child in flows:
                stack.append((child, (*trail, child)))
