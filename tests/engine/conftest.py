"""Engine test fixtures: the test evaluator and a recording variant."""

from __future__ import annotations

import pytest

from .jseval import Recorder, evaluate


@pytest.fixture
def evaluate_fn():
    return evaluate


@pytest.fixture
def recorder():
    return Recorder()
