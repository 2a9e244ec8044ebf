"""Import OpenFlow files (Windmill's layout) into this instance.

    manage.py import_flows FILE_OR_DIR [--owner USER] [--dry-run] [--path-prefix f/folder]

Reads ``*.flow.json``, ``*.flow.yaml`` / ``*.flow.yml`` and ``*.json`` files. A flow's path
comes from a ``"path"`` key in the file, else from the file's location relative to DIR
(``DIR/f/folder/name.flow.json`` -> ``f/folder/name``), else from ``--path-prefix`` plus the
file name. Every flow is validated like an API save; valid ones are created, or updated with
a new version when they differ from what is saved. Exit code 1 when any file is rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from editor import flowstore
from editor.models import Flow
from editor.openflow import FlowError

SUFFIXES = (".flow.json", ".flow.yaml", ".flow.yml", ".json")


class _JsonSafeYamlLoader(yaml.SafeLoader):
    """SafeLoader without timestamps: dates stay strings, as JSON would have them."""


_JsonSafeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _stem(name: str) -> str | None:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def collect_files(target: Path) -> tuple[Path, list[Path]]:
    """``(base directory, files)`` to import."""
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file() and _stem(p.name) is not None)
        return target, files
    return target.parent, [target]


def load_document(file: Path) -> Any:
    text = file.read_text(encoding="utf-8")
    if file.name.endswith((".yaml", ".yml")):
        return yaml.load(text, Loader=_JsonSafeYamlLoader)  # noqa: S506 - a SafeLoader subclass
    return json.loads(text)


def path_from_location(base: Path, file: Path, prefix: str | None) -> str | None:
    stem = _stem(file.name) or file.stem
    relative = file.parent.relative_to(base).parts + (stem,) if file.is_relative_to(base) else (stem,)
    candidate = "/".join(relative)
    if flowstore.PATH_RE.match(candidate):
        return candidate
    # A single file deep in a Windmill export: .../f/folder/name.flow.json
    parts = file.parent.parts + (stem,)
    for i in range(len(parts) - 3, -1, -1):
        if parts[i] in ("u", "f", "g"):
            candidate = "/".join(parts[i:])
            if flowstore.PATH_RE.match(candidate):
                return candidate
            break
    if prefix:
        return prefix.strip("/") + "/" + "/".join(relative)
    return None


class Command(BaseCommand):
    help = "Import OpenFlow .flow.json / .flow.yaml / .json files (a file or a folder in Windmill's layout)."

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="FILE_OR_DIR")
        parser.add_argument("--owner", help="username that owns new flows (default: the u/<user>/ of the path, "
                            "else the first superuser)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, save nothing")
        parser.add_argument("--path-prefix", help="folder for files whose path cannot be told otherwise, e.g. f/imported")

    def handle(self, *args, **options):
        target = Path(options["target"])
        if not target.exists():
            raise CommandError(f"{target} does not exist")
        users = get_user_model().objects
        default_owner = None
        if options["owner"]:
            default_owner = users.filter(username=options["owner"]).first()
            if default_owner is None:
                raise CommandError(f"no user named {options['owner']!r}")
        fallback_owner = default_owner or users.filter(is_superuser=True).order_by("pk").first()
        dry_run = options["dry_run"]
        base, files = collect_files(target)
        if not files:
            raise CommandError(f"no .flow.json, .flow.yaml or .json files in {target}")

        counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        total = len(files)
        width = len(str(total))
        for index, file in enumerate(files, 1):
            label = str(file.relative_to(base)) if file.is_relative_to(base) else str(file)
            outcome, path, errors = self.import_one(base, file, options["path_prefix"], default_owner,
                                                    fallback_owner, dry_run)
            counts[outcome] += 1
            verb = f"would be {outcome}" if dry_run and outcome in ("created", "updated") else outcome
            line = f"[{index:>{width}}/{total}] {label} -> {path or '?'}: {verb}"
            if outcome == "rejected":
                self.stdout.write(self.style.ERROR(line))
                for error in errors:
                    self.stdout.write(f"    {error.path or '/'}: {error.message}")
            else:
                self.stdout.write(line)

        summary = ", ".join(f"{name} {counts[name]}" for name in ("created", "updated", "unchanged", "rejected"))
        if dry_run:
            summary += " (dry run: nothing was saved)"
        self.stdout.write(summary)
        if counts["rejected"]:
            raise CommandError(f"{counts['rejected']} of {total} file(s) rejected")

    def import_one(self, base, file, prefix, default_owner, fallback_owner, dry_run):
        try:
            document = load_document(file)
        except RecursionError:
            return "rejected", None, [FlowError("", "the document is nested too deeply")]
        except (ValueError, yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            return "rejected", None, [FlowError("", f"cannot read the file: {str(exc)[:300]}")]
        if not isinstance(document, dict):
            return "rejected", None, [FlowError("", "the file does not hold an OpenFlow object")]
        path, openflow = flowstore.split_path(document)
        if path is None:
            path = path_from_location(base, file, prefix)
            if path is None:
                return "rejected", None, [
                    FlowError("/path", "cannot tell this flow's path: add a \"path\" key, put the file at "
                              "DIR/f/<folder>/<name>.flow.json, or pass --path-prefix")
                ]
        errors = flowstore.path_errors(path, None) + flowstore.validate_openflow(openflow)
        if errors:
            return "rejected", path if isinstance(path, str) else None, errors
        existing = Flow.objects.filter(path=path).first()
        if existing is not None:
            if existing.openflow == openflow:
                return "unchanged", path, []
            if not dry_run:
                flowstore.update_flow(existing, openflow, default_owner, message=f"imported from {file.name}")
            return "updated", path, []
        owner = default_owner
        if owner is None and path.startswith("u/"):
            owner = get_user_model().objects.filter(username=path.split("/")[1]).first()
        owner = owner or fallback_owner
        if owner is None:
            return "rejected", path, [FlowError("", "no owner for a new flow: pass --owner USER (no superuser exists)")]
        if not dry_run:
            try:
                flowstore.create_flow(path, openflow, owner, created_by=default_owner,
                                      message=f"imported from {file.name}")
            except flowstore.FlowRejected as exc:
                return "rejected", path, exc.errors
        return "created", path, []
