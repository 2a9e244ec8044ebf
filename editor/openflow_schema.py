"""JSON Schema (Draft 2020-12) of the OpenFlow format as Windmill defines it.

Two flavours are built from the same definitions:

* ``OPENFLOW_SCHEMA`` -- the complete, recursive schema (nested module lists refer back to
  ``FlowModule``).  Published for the API docs and the front end; usable as-is by any
  Draft 2020-12 validator (module kinds are selected with ``if``/``then`` on ``type`` because
  validators ignore OpenAPI discriminators).
* ``shallow_validator(name)`` -- the same definitions, but nested module lists are plain arrays
  and a module's ``value`` is a plain object.  ``editor.openflow`` walks the module tree itself
  (iteratively, so 100 nesting levels cannot hit the recursion limit) and validates each node
  against its own shallow schema, which keeps error paths exact and messages readable.

Required fields: a field is required only when *both* Windmill's OpenAPI spec and its Rust
deserializer require it (plus the module ``id``).  Real exports omit fields the backend
defaults (``input_transforms``, ``skip_failures``, ``parallel`` ...), and those must import
unchanged.  Every object allows additional properties: Windmill adds fields over time and
validation never strips anything.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Module ``value.type`` values Windmill knows.  ``aiagent`` is accepted but cannot run here.
MODULE_TYPES: tuple[str, ...] = (
    "identity",
    "rawscript",
    "script",
    "flow",
    "forloopflow",
    "whileloopflow",
    "branchone",
    "branchall",
    "aiagent",
)

#: Module kinds allowed as the flow's error handler (``value.failure_module``): Windmill's OpenAPI
#: spec admits only a script there (spec §1.1).  ``preprocessor_module`` has no such rule.
FAILURE_MODULE_TYPES: tuple[str, ...] = ("rawscript", "script")

#: $defs name of each module kind's schema.
KIND_DEFS: dict[str, str] = {
    "identity": "Identity",
    "rawscript": "RawScript",
    "script": "PathScript",
    "flow": "PathFlow",
    "forloopflow": "ForloopFlow",
    "whileloopflow": "WhileloopFlow",
    "branchone": "BranchOne",
    "branchall": "BranchAll",
    "aiagent": "AiAgent",
}

#: Module ids become keys of ``results`` and parts of step keys (``loop/3/b``), hence the
#: conservative alphabet.
MODULE_ID_PATTERN = r"^[A-Za-z0-9_-]+$"

_REF = "#/$defs/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _u(bits: int) -> dict[str, Any]:
    """Unsigned integer of the given width (Windmill stores these fields as Rust uN)."""
    return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}


def _i(bits: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": -(2 ** (bits - 1)), "maximum": 2 ** (bits - 1) - 1}


def _transform_map() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": _ref("InputTransform")}


def _number_or_transform(bits_schema: dict[str, Any]) -> dict[str, Any]:
    """A field Windmill reads with ``raw_value_to_input_transform``: a bare integer or a transform."""
    # minimum/maximum only constrain numbers, so one flat schema gives a single clear error.
    return {
        "type": ["integer", "object"],
        "minimum": bits_schema["minimum"],
        "maximum": bits_schema["maximum"],
        "if": {"type": "object"},
        "then": _ref("InputTransform"),
    }


def _build_defs(shallow: bool) -> dict[str, Any]:
    """Definitions shared by both flavours; ``shallow`` cuts the recursion at module lists."""
    module_list: dict[str, Any] = (
        {"type": "array"} if shallow else {"type": "array", "items": _ref("FlowModule")}
    )
    module_or_absent: dict[str, Any] = {"type": "object"} if shallow else _ref("FlowModule")
    # Shallow flavour: editor.openflow_checks reports a wrong kind itself, with a clearer message.
    failure_module: dict[str, Any] = (
        module_or_absent
        if shallow
        else {
            "allOf": [
                _ref("FlowModule"),
                {"properties": {"value": {"properties": {"type": {"enum": list(FAILURE_MODULE_TYPES)}}}}},
            ]
        }
    )

    stop_after_if = {
        "type": "object",
        "required": ["expr"],
        "properties": {
            "expr": {"type": "string"},
            "skip_if_stopped": {"type": "boolean"},
            "error_message": {"type": ["string", "null"]},
            "error_include_result": {"type": "boolean"},
        },
    }
    retry = {
        "type": "object",
        "properties": {
            "constant": {
                "type": "object",
                "properties": {"attempts": _u(32), "seconds": _u(16)},
            },
            "exponential": {
                "type": "object",
                "properties": {
                    "attempts": _u(32),
                    "multiplier": _u(16),
                    "seconds": _u(16),
                    "random_factor": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
                },
            },
            "retry_if": {
                "type": "object",
                "required": ["expr"],
                "properties": {"expr": {"type": "string"}},
            },
        },
    }
    suspend = {
        "type": "object",
        "properties": {
            "required_events": _u(32),
            "timeout": _u(32),
            "resume_form": {
                "type": "object",
                "properties": {"schema": {"type": "object"}},
            },
            "user_auth_required": {"type": "boolean"},
            "user_groups_required": _ref("InputTransform"),
            "self_approval_disabled": {"type": "boolean"},
            "hide_cancel": {"type": "boolean"},
            "continue_on_disapprove_timeout": {"type": "boolean"},
        },
    }
    module_value = (
        {"type": "object"}
        if shallow
        else {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": list(MODULE_TYPES)}},
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                    "then": _ref(name),
                }
                for kind, name in KIND_DEFS.items()
            ],
        }
    )

    defs: dict[str, Any] = {
        "OpenFlow": {
            "type": "object",
            "required": ["summary", "value"],
            "properties": {
                "summary": {"type": "string"},
                "description": {"type": ["string", "null"]},
                "value": _ref("FlowValue"),
                # The backend stores null for "no schema"; treat it like an absent schema.
                "schema": {"type": ["object", "null"]},
            },
        },
        "FlowValue": {
            "type": "object",
            "required": ["modules"],
            "properties": {
                "modules": module_list,
                "failure_module": failure_module,
                "preprocessor_module": module_or_absent,
                "same_worker": {"type": "boolean"},
                "skip_expr": {"type": "string"},
                "flow_env": {"type": "object"},
                "early_return": {"type": "string"},
                "concurrent_limit": {"type": ["number", "null"]},
                "concurrency_key": {"type": ["string", "null"]},
                "concurrency_time_window_s": {"type": ["number", "null"]},
                "debounce_delay_s": {"type": ["number", "null"]},
                "debounce_key": {"type": ["string", "null"]},
                "cache_ttl": _u(32),
                "cache_ignore_s3_path": {"type": "boolean"},
                "priority": _i(16),
                "delete_after_use": {"type": "boolean"},
                "delete_after_secs": _i(32),
                "chat_input_enabled": {"type": "boolean"},
                "preserve_step_tags": {"type": "boolean"},
                "notes": {"type": "array"},
            },
        },
        "FlowModule": {
            "type": "object",
            "required": ["id", "value"],
            "properties": {
                "id": {"type": "string", "pattern": MODULE_ID_PATTERN},
                "value": module_value,
                "summary": {"type": ["string", "null"]},
                "stop_after_if": _ref("StopAfterIf"),
                "stop_after_all_iters_if": _ref("StopAfterIf"),
                "skip_if": {
                    "type": "object",
                    "required": ["expr"],
                    "properties": {"expr": {"type": "string"}},
                },
                "sleep": _ref("InputTransform"),
                "suspend": _ref("Suspend"),
                "retry": _ref("Retry"),
                "continue_on_error": {"type": "boolean"},
                "timeout": _number_or_transform(_i(32)),
                "cache_ttl": _u(32),
                "cache_ignore_s3_path": {"type": "boolean"},
                "mock": {
                    "type": "object",
                    "properties": {"enabled": {"type": "boolean"}, "return_value": {}},
                },
                "priority": _i(16),
                "delete_after_use": {"type": "boolean"},
                "delete_after_secs": _i(32),
                "apply_preprocessor": {"type": "boolean"},
                "pass_flow_input_directly": {"type": "boolean"},
                "debouncing": {"type": "object"},
            },
        },
        "StopAfterIf": stop_after_if,
        "Retry": retry,
        "Suspend": suspend,
        "InputTransform": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["static", "javascript", "ai"]},
                "value": {},
                "expr": {"type": "string"},
            },
        },
        "Identity": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"const": "identity"}, "flow": {"type": "boolean"}},
        },
        "RawScript": {
            "type": "object",
            "required": ["type", "content", "language"],
            "properties": {
                "type": {"const": "rawscript"},
                "content": {"type": "string"},
                "language": {"type": "string"},
                "input_transforms": _transform_map(),
                "lock": {"type": ["string", "null"]},
                "path": {"type": ["string", "null"]},
                "tag": {"type": ["string", "null"]},
                "concurrent_limit": {"type": ["number", "null"]},
                "concurrency_time_window_s": {"type": ["number", "null"]},
                "custom_concurrency_key": {"type": ["string", "null"]},
                "is_trigger": {"type": "boolean"},
                "assets": {"type": ["array", "null"]},
            },
        },
        "PathScript": {
            "type": "object",
            "required": ["type", "path"],
            "properties": {
                "type": {"const": "script"},
                "path": {"type": "string"},
                "hash": {"type": ["string", "null"]},
                "input_transforms": _transform_map(),
                "tag_override": {"type": ["string", "null"]},
                "is_trigger": {"type": "boolean"},
                "pass_flow_input_directly": {"type": "boolean"},
            },
        },
        "PathFlow": {
            "type": "object",
            "required": ["type", "path"],
            "properties": {
                "type": {"const": "flow"},
                "path": {"type": "string"},
                "input_transforms": _transform_map(),
                "pass_flow_input_directly": {"type": "boolean"},
            },
        },
        "ForloopFlow": {
            "type": "object",
            "required": ["type", "iterator", "modules"],
            "properties": {
                "type": {"const": "forloopflow"},
                "iterator": _ref("InputTransform"),
                "modules": module_list,
                "skip_failures": {"type": "boolean"},
                "parallel": {"type": "boolean"},
                "parallelism": _number_or_transform(_u(16)),
                "squash": {"type": "boolean"},
            },
        },
        "WhileloopFlow": {
            "type": "object",
            "required": ["type", "modules"],
            "properties": {
                "type": {"const": "whileloopflow"},
                "modules": module_list,
                "skip_failures": {"type": "boolean"},
                # Listed by the OpenAPI spec, ignored by the engine.
                "parallel": {"type": "boolean"},
                "parallelism": _number_or_transform(_u(16)),
                "squash": {"type": "boolean"},
            },
        },
        "BranchOne": {
            "type": "object",
            "required": ["type", "branches", "default"],
            "properties": {
                "type": {"const": "branchone"},
                "branches": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["modules"],
                        "properties": {
                            "summary": {"type": ["string", "null"]},
                            "expr": {"type": "string"},
                            "modules": module_list,
                        },
                    },
                },
                "default": module_list,
            },
        },
        "BranchAll": {
            "type": "object",
            "required": ["type", "branches"],
            "properties": {
                "type": {"const": "branchall"},
                "branches": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["modules"],
                        "properties": {
                            "summary": {"type": ["string", "null"]},
                            "skip_failure": {"type": "boolean"},
                            "modules": module_list,
                        },
                    },
                },
                "parallel": {"type": "boolean"},
            },
        },
        "AiAgent": {
            "type": "object",
            "required": ["type", "tools"],
            "properties": {
                "type": {"const": "aiagent"},
                "input_transforms": _transform_map(),
                "tools": {"type": "array"},
                "parallel": {"type": "boolean"},
            },
        },
    }
    return defs


OPENFLOW_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "$id": "https://openflow-studio.local/schemas/openflow.json",
    "title": "OpenFlow",
    "$ref": _REF + "OpenFlow",
    "$defs": _build_defs(shallow=False),
}

_SHALLOW_DEFS = _build_defs(shallow=True)


def openflow_schema() -> dict[str, Any]:
    """Return a deep copy of the full OpenFlow JSON Schema (callers may mutate it)."""
    return copy.deepcopy(OPENFLOW_SCHEMA)


@cache
def shallow_validator(name: str) -> Draft202012Validator:
    """Validator for one definition (e.g. ``"RawScript"``) that does not descend into modules."""
    return Draft202012Validator({"$schema": SCHEMA_DIALECT, "$defs": _SHALLOW_DEFS, "$ref": _REF + name})
