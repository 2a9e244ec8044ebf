"""Export flows to files in Windmill's layout.

    manage.py export_flows DIR [--path-prefix f/folder] [--yaml] [--include-path]

Writes ``DIR/<path>.flow.json`` (``DIR/f/folder/name.flow.json``), or ``.flow.yaml`` with
``--yaml``: the OpenFlow object exactly as saved. The path is given by the file's location
(``import_flows`` reads it back from there); ``--include-path`` also writes it as a ``"path"`` key.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand

from editor.models import Flow


class Command(BaseCommand):
    help = "Export flows as DIR/<path>.flow.json (or .flow.yaml)."

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")
        parser.add_argument("--path-prefix", default="", help="only flows whose path starts with this")
        parser.add_argument("--yaml", action="store_true", help="write .flow.yaml instead of .flow.json")
        parser.add_argument("--include-path", action="store_true", help='also write the path as a "path" key')

    def handle(self, *args, **options):
        root = Path(options["directory"])
        flows = Flow.objects.filter(path__startswith=options["path_prefix"]).order_by("path")
        total = flows.count()
        width = len(str(total))
        for index, flow in enumerate(flows.iterator(), 1):
            document = flow.as_openflow() if options["include_path"] else dict(flow.openflow)
            suffix = ".flow.yaml" if options["yaml"] else ".flow.json"
            target = root / f"{flow.path}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if options["yaml"]:
                text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
            else:
                text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            target.write_text(text, encoding="utf-8")
            self.stdout.write(f"[{index:>{width}}/{total}] {flow.path} -> {target}")
        self.stdout.write(f"exported {total} flow(s) to {root}")
