"""The chaos command (python -m chaos, docs/reliability.md) stays runnable: its CLI and its
figures table, without starting a stack (the real run takes minutes)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chaos import __main__ as chaos


def test_chaos_help_lists_every_scenario():
    done = subprocess.run([sys.executable, "-m", "chaos", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for name in chaos.SCENARIOS:
        assert name in done.stdout


def test_unknown_scenario_is_refused_before_anything_starts():
    with pytest.raises(SystemExit) as exc:
        chaos.main(["--only", "meteor"])
    assert exc.value.code == 2


def test_figures_replace_the_marked_section_only(tmp_path, monkeypatch):
    doc = tmp_path / "reliability.md"
    doc.write_text(f"intro\n\n{chaos.BEGIN}\nold\n{chaos.END}\n\ntail\n")
    monkeypatch.setattr(chaos, "DOC", doc)
    figures = {"started": 3, "completed": 3, "wrong": 0, "lost": 0, "double_commits": 0, "seconds": 9}
    chaos.write_doc({"kill9": figures}, 12.0)
    text = doc.read_text()
    assert text.startswith("intro") and text.rstrip().endswith("tail")
    assert "old" not in text
    assert "| 3 | 3 | 0 | 0 | 0 | seconds: 9 |" in text
