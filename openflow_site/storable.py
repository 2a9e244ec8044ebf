"""What the database can store: PostgreSQL's jsonb and text columns refuse U+0000 (NUL), and
jsonb refuses NaN / Infinity.

Input from outside (API bodies, approval payloads) that holds one is refused with its JSON path;
values produced while a run executes (script results, expression values) fail their step with
that path; log text, which is for people, shows the character as U+FFFD instead. The same rules
apply on SQLite, so a flow behaves the same on both databases.
"""

from __future__ import annotations

import json
from typing import Any

NUL = "\x00"


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` without Python's extensions NaN / Infinity / -Infinity, which are not JSON
    and which PostgreSQL's jsonb refuses: they raise ValueError like any other invalid JSON."""
    return json.loads(text, parse_constant=_not_json)


def nul_path(value: Any) -> str | None:
    """JSON pointer of the first key or string holding a NUL character, or None.

    PostgreSQL's jsonb and text columns cannot store U+0000, so such input is refused up front
    with its path instead of failing the save with a database error."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return path
        elif isinstance(node, dict):
            for key, child in node.items():
                here = f"{path}/{_pointer_token(str(key))}"
                if NUL in str(key):
                    return here
                stack.append((child, here))
        elif isinstance(node, list):
            stack.extend((child, f"{path}/{index}") for index, child in enumerate(node))
    return None


def _pointer_token(key: str) -> str:
    # RFC 6901 escapes, and the NUL spelled out so the message itself stays printable.
    return key.replace("~", "~0").replace("/", "~1").replace(NUL, "\\u0000")


def nul_message(path: str) -> str:
    return f"text may not contain the NUL character (\\u0000); found at {path or 'the top level'}"


def printable_log(text: str) -> str:
    """Log text with NUL characters shown as U+FFFD (the replacement character)."""
    return text.replace(NUL, "\ufffd") if NUL in text else text
