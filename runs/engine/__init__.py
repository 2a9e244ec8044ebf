"""Pure OpenFlow execution engine (see docs/engine-contract.md).

No Django, no I/O, no clock, no randomness: `advance(flow, state, event, evaluate=...)` returns
`(new_state, actions)`; `run_view(flow, state)` projects a state for the API and the UI.
"""

from .core import advance
from .errors import error_result
from .failure import MAX_RETRY_DELAY, retry_delay
from .scope import js_truthy, referenced_ids, with_iter
from .state import Evaluate
from .views import run_view, step_view, suspended_view

__all__ = [
    "Evaluate",
    "MAX_RETRY_DELAY",
    "advance",
    "error_result",
    "js_truthy",
    "referenced_ids",
    "retry_delay",
    "run_view",
    "step_view",
    "suspended_view",
    "with_iter",
]
