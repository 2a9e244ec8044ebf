"""Script harness files run inside the sandbox's subprocesses (package data, not imported by the app).

* ``python_harness.py`` -- runs a Python script's ``main``; also the warm fork server (``--serve``).
* ``deno_harness.ts`` -- runs a TypeScript / JavaScript ``main`` under deno.
"""
