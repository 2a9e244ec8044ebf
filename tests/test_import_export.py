"""manage.py import_flows / export_flows with the example library in tests/flows/."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from editor.models import Flow, FlowVersion
from tests.fixtures_flows import FLOWS_DIR, example_names, fast_passwords, load_example  # noqa: F401

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *map(str, args), stdout=out)
    return out.getvalue()


def run_failing(command: str, *args) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, *map(str, args), stdout=out)
    return out.getvalue(), excinfo.value


def example_path(name: str) -> str:
    return load_example(name).get("path") or f"f/examples/{name}"


@pytest.fixture
def library(tmp_path) -> Path:
    """The example flows in Windmill's layout: DIR/f/examples/<name>.flow.json."""
    root = tmp_path / "library"
    folder = root / "f" / "examples"
    folder.mkdir(parents=True)
    for name in example_names():
        shutil.copy(FLOWS_DIR / f"{name}.json", folder / f"{name}.flow.json")
    return root


@pytest.fixture
def imported(library, user):
    run("import_flows", library, "--owner", "alice")
    return library


def test_import_creates_every_example_unchanged(imported):
    for name in example_names():
        original = load_example(name)
        flow = Flow.objects.get(path=example_path(name))
        assert flow.openflow == {k: v for k, v in original.items() if k != "path"}, name


def test_import_prints_progress_and_summary(library, user):
    output = run("import_flows", library, "--owner", "alice")
    total = len(example_names())
    assert f"[ 1/{total}]" in output or f"[1/{total}]" in output
    assert output.strip().splitlines()[-1] == f"created {total}, updated 0, unchanged 0, rejected 0"


def test_import_gives_version_1_owned_by_the_owner(imported, user):
    flow = Flow.objects.get(path="f/examples/identity_chain")
    assert flow.owner == user
    assert list(flow.versions.values_list("number", flat=True)) == [1]


def test_reimport_reports_unchanged_and_adds_no_versions(imported):
    versions = FlowVersion.objects.count()
    output = run("import_flows", imported, "--owner", "alice")
    assert f"unchanged {len(example_names())}" in output
    assert FlowVersion.objects.count() == versions


def test_changed_file_is_updated_with_a_new_version(imported):
    file = imported / "f" / "examples" / "identity_chain.flow.json"
    document = json.loads(file.read_text())
    document["summary"] = "Changed on disk"
    file.write_text(json.dumps(document))
    output = run("import_flows", file, "--owner", "alice")
    assert "updated 1" in output
    flow = Flow.objects.get(path="f/examples/identity_chain")
    assert flow.summary == "Changed on disk"
    assert flow.versions.count() == 2


def test_export_writes_windmill_layout_json_equal_to_the_examples(imported, tmp_path):
    out = tmp_path / "out"
    output = run("export_flows", out)
    assert f"exported {len(example_names())} flow(s)" in output
    for name in example_names():
        exported = json.loads((out / f"{example_path(name)}.flow.json").read_text())
        assert exported == {k: v for k, v in load_example(name).items() if k != "path"}, name


def test_export_with_include_path_equals_the_windmill_exports_exactly(imported, tmp_path):
    run("export_flows", tmp_path / "out", "--include-path")
    for name in example_names():
        exported = json.loads((tmp_path / "out" / f"{example_path(name)}.flow.json").read_text())
        assert exported == {**load_example(name), "path": example_path(name)}, name


def test_export_path_prefix_filters(imported, tmp_path, user):
    from editor.flowstore import create_flow

    create_flow("f/other/x", {"summary": "x", "value": {"modules": []}}, user)
    run("export_flows", tmp_path / "out", "--path-prefix", "f/other")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json"))
    assert files == ["f/other/x.flow.json"]


def test_export_then_import_into_an_empty_instance_round_trips(imported, tmp_path, user):
    run("export_flows", tmp_path / "out")
    before = {f.path: f.openflow for f in Flow.objects.all()}
    Flow.objects.all().delete()
    run("import_flows", tmp_path / "out", "--owner", "alice")
    assert {f.path: f.openflow for f in Flow.objects.all()} == before


def test_yaml_export_and_import_round_trip(imported, tmp_path):
    run("export_flows", tmp_path / "yaml", "--yaml")
    file = tmp_path / "yaml" / "f" / "examples" / "nested_for_loops.flow.yaml"
    assert yaml.safe_load(file.read_text()) == load_example("nested_for_loops")
    output = run("import_flows", tmp_path / "yaml", "--owner", "alice")
    assert f"unchanged {len(example_names())}" in output


def test_yaml_dates_stay_strings(tmp_path, user):
    file = tmp_path / "f" / "x" / "dated.flow.yaml"
    file.parent.mkdir(parents=True)
    file.write_text("summary: s\nedited_at: 2024-01-02\nvalue:\n  modules: []\n")
    run("import_flows", tmp_path, "--owner", "alice")
    assert Flow.objects.get(path="f/x/dated").openflow["edited_at"] == "2024-01-02"


def test_path_key_inside_the_file_wins(tmp_path, user):
    file = tmp_path / "anything.json"
    file.write_text(json.dumps({"path": "f/keyed/flow", "summary": "s", "value": {"modules": []}}))
    run("import_flows", file, "--owner", "alice")
    assert Flow.objects.filter(path="f/keyed/flow").exists()


def test_path_prefix_names_files_outside_the_layout(tmp_path, user):
    shutil.copy(FLOWS_DIR / "identity_chain.json", tmp_path / "identity_chain.json")
    run("import_flows", tmp_path, "--owner", "alice", "--path-prefix", "f/imported")
    assert Flow.objects.filter(path="f/imported/identity_chain").exists()


def test_file_without_a_path_is_rejected_with_a_hint(tmp_path, user):
    shutil.copy(FLOWS_DIR / "identity_chain.json", tmp_path / "identity_chain.json")
    output, error = run_failing("import_flows", tmp_path, "--owner", "alice")
    assert "--path-prefix" in output
    assert error.returncode == 1


def test_invalid_flows_are_rejected_with_errors_and_exit_code_1(tmp_path, user):
    folder = tmp_path / "f" / "bad"
    folder.mkdir(parents=True)
    shutil.copy(FLOWS_DIR / "invalid" / "duplicate_ids_nested.json", folder / "dup.flow.json")
    shutil.copy(FLOWS_DIR / "identity_chain.json", folder / "good.flow.json")
    output, error = run_failing("import_flows", tmp_path, "--owner", "alice")
    assert error.returncode == 1
    assert "f/bad/dup: rejected" in output
    assert "duplicate module id" in output
    assert output.strip().splitlines()[-1] == "created 1, updated 0, unchanged 0, rejected 1"
    assert list(Flow.objects.values_list("path", flat=True)) == ["f/bad/good"]


def test_every_invalid_example_is_rejected(tmp_path, user):
    folder = tmp_path / "f" / "invalid"
    folder.mkdir(parents=True)
    for file in (FLOWS_DIR / "invalid").glob("*.json"):
        if not file.name.endswith(".errors.json"):
            shutil.copy(file, folder / file.name)
    output, _ = run_failing("import_flows", tmp_path, "--owner", "alice")
    count = len(list(folder.glob("*.json")))
    assert output.strip().splitlines()[-1] == f"created 0, updated 0, unchanged 0, rejected {count}"
    assert not Flow.objects.exists()


def test_malformed_json_file_is_rejected_not_a_crash(tmp_path, user):
    folder = tmp_path / "f" / "x"
    folder.mkdir(parents=True)
    (folder / "broken.flow.json").write_text('{"summary": ')
    output, _ = run_failing("import_flows", tmp_path, "--owner", "alice")
    assert "cannot read the file" in output


def test_rejected_update_leaves_the_saved_flow_alone(imported):
    file = imported / "f" / "examples" / "identity_chain.flow.json"
    before = Flow.objects.get(path="f/examples/identity_chain").openflow
    file.write_text(json.dumps({"summary": 1, "value": {"modules": "x"}}))
    run_failing("import_flows", file, "--owner", "alice")
    assert Flow.objects.get(path="f/examples/identity_chain").openflow == before


def test_dry_run_saves_nothing(library, user):
    output = run("import_flows", library, "--owner", "alice", "--dry-run")
    assert "would be created" in output
    assert "dry run" in output.splitlines()[-1]
    assert not Flow.objects.exists()


def test_unknown_owner_is_an_error(library, user):
    with pytest.raises(CommandError, match="no user named"):
        call_command("import_flows", str(library), "--owner", "nobody", stdout=StringIO())


def test_owner_defaults_to_the_user_of_a_u_path(tmp_path, user):
    folder = tmp_path / "u" / "alice"
    folder.mkdir(parents=True)
    (folder / "mine.flow.json").write_text(json.dumps({"summary": "s", "value": {"modules": []}}))
    run("import_flows", tmp_path)
    assert Flow.objects.get(path="u/alice/mine").owner == user


def test_missing_target_is_an_error():
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_flows", "/nonexistent/dir", stdout=StringIO())


def test_a_file_with_a_nul_character_is_rejected_naming_the_field(tmp_path, user):
    folder = tmp_path / "f" / "x"
    folder.mkdir(parents=True)
    flow = load_example("identity_chain")
    flow.pop("path", None)
    flow["summary"] = "bad\u0000summary"
    (folder / "nul.flow.json").write_text(json.dumps(flow))
    output, error = run_failing("import_flows", tmp_path, "--owner", "alice")
    assert "f/x/nul: rejected" in output
    assert "/summary" in output and "NUL" in output
    assert not Flow.objects.exists()
