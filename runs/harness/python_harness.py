"""Python script harness for runs.sandbox. Runs in the sandbox process, standard library only.

Cold use:   python -I -u python_harness.py JOB_DIR
Warm use:   python -I -u python_harness.py --serve FD [lean|async [CGROUP_PARENT [PLAN_JSON]]]   (see serve())

The job dir holds ``main.py`` (the user's script) and ``args.json``. The harness imports the script,
calls ``main`` with the arguments its signature names, awaits it if it is a coroutine and writes
``{"success": bool, "result": ...}`` to ``.ofs_result.json``. stdout / stderr stay the user's logs.
Failures become the Windmill error object ``{"error": {"name", "message", "stack", "step_id"?, "extra"?}}``.
"""

from __future__ import annotations

import json
import os
import resource  # imported here, not in the child: ~1-2 ms per job measured when done after fork
import sys
import traceback
import types

RESULT_FILE = ".ofs_result.json"


def _json_safe(value):
    return json.loads(json.dumps(value, default=repr))


def _error_object(exc: BaseException) -> dict:
    # The stack starts at the user's code: the harness's own frames are noise.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    err = {
        "name": type(exc).__name__,
        "message": str(exc),
        "stack": "".join(traceback.format_exception(type(exc), exc, tb)),
    }
    # Windmill names the failing step in the error, so error handlers can say which one broke
    if step_id := os.environ.get("WM_FLOW_STEP_ID"):
        err["step_id"] = step_id
    extra = getattr(exc, "__dict__", None)
    if extra:
        try:
            err["extra"] = _json_safe(extra)
        except Exception:  # noqa: BLE001 - extras are best effort
            pass
    return {"error": err}


class _Param:
    __slots__ = ("name", "positional_only", "has_default", "default", "var_keyword", "var_positional")

    def __init__(self, name, positional_only=False, has_default=False, default=None,
                 var_keyword=False, var_positional=False):
        self.name, self.positional_only = name, positional_only
        self.has_default, self.default = has_default, default
        self.var_keyword, self.var_positional = var_keyword, var_positional


def _parameters(main) -> list[_Param]:
    """main's parameters. Read from __code__ for plain functions: `inspect` costs ~6 ms to import
    and this runs on every cold start; anything else (partials, callable objects) uses inspect."""
    code = getattr(main, "__code__", None)
    if code is None or not hasattr(main, "__defaults__"):
        import inspect

        out = []
        for p in inspect.signature(main).parameters.values():
            out.append(_Param(p.name, p.kind == p.POSITIONAL_ONLY, p.default is not p.empty,
                              None if p.default is p.empty else p.default,
                              p.kind == p.VAR_KEYWORD, p.kind == p.VAR_POSITIONAL))
        return out
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames[:n_pos + n_kw]
    defaults = main.__defaults__ or ()
    kwdefaults = main.__kwdefaults__ or {}
    first_default = n_pos - len(defaults)
    params = []
    for i, name in enumerate(names):
        if i < n_pos:
            has = i >= first_default
            params.append(_Param(name, i < code.co_posonlyargcount, has,
                                 defaults[i - first_default] if has else None))
        else:
            params.append(_Param(name, False, name in kwdefaults, kwdefaults.get(name)))
    index = n_pos + n_kw
    if code.co_flags & 0x04:  # CO_VARARGS
        params.append(_Param(code.co_varnames[index], var_positional=True))
        index += 1
    if code.co_flags & 0x08:  # CO_VARKEYWORDS
        params.append(_Param(code.co_varnames[index], var_keyword=True))
    return params


def _call_arguments(main, args: dict) -> tuple[list, dict]:
    """Windmill's rule: only names in main's signature; null/missing keeps a default, else None.
    A ``**kwargs`` main also receives every argument its signature does not name."""
    positional: list = []
    keyword: dict = {}
    params = _parameters(main)
    named = set()
    for p in params:
        if p.var_keyword or p.var_positional:
            continue
        named.add(p.name)
        value = args.get(p.name)
        if value is None and p.has_default:
            if p.positional_only:
                positional.append(p.default)
            continue
        if p.positional_only:
            positional.append(value)
        else:
            keyword[p.name] = value
    if any(p.var_keyword for p in params):
        for name, value in args.items():
            if name not in named:
                keyword[name] = value
    return positional, keyword


def run_job(job_dir: str) -> None:
    """Run main.py's main in `job_dir` and write the outcome file. Never raises."""
    try:
        with open(os.path.join(job_dir, "args.json"), encoding="utf-8") as f:
            args = json.load(f)
        sys.path.insert(0, job_dir)
        # A plain module executed from source, as importing main.py would do, minus the import
        # machinery's spec lookups and its attempt to write __pycache__/main.*.pyc into the job dir
        # (a mkdir and a file write per job, for a file that runs once).
        path = os.path.join(job_dir, "main.py")
        with open(path, "rb") as f:
            source = f.read()
        module = types.ModuleType("main")
        module.__file__ = path
        sys.modules["main"] = module
        exec(compile(source, path, "exec", dont_inherit=True), module.__dict__)
        main = getattr(module, "main", None)
        if not callable(main):
            raise NameError("the script defines no main function")
        positional, keyword = _call_arguments(main, args)
        result = main(*positional, **keyword)
        if hasattr(result, "__await__"):
            import asyncio  # ~40 ms to import: only for async mains

            result = asyncio.run(_await(result))
        try:
            text = json.dumps({"success": True, "result": result}, allow_nan=False)
        except (TypeError, ValueError) as e:
            text = json.dumps({"success": False, "result": {"error": {
                "name": "SerializationError",
                "message": f"main returned a value that is not JSON-serialisable: {e}",
            }}})
    except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are user errors too
        try:
            text = json.dumps({"success": False, "result": _error_object(e)})
        except BaseException as e2:  # noqa: BLE001
            text = json.dumps({"success": False, "result": {"error": {"name": type(e).__name__,
                                                                     "message": repr(e2)}}})
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    tmp = os.path.join(job_dir, RESULT_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, os.path.join(job_dir, RESULT_FILE))  # all or nothing: no half-written result


async def _await(awaitable):
    return await awaitable


# ------------------------------------------------------------------------------------------------
# Warm fork server
# ------------------------------------------------------------------------------------------------

def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: become the sandboxed script process, then run the job. Never returns."""
    code = 0
    try:
        if os.getsid(0) != os.getpid():  # a spare did it already
            os.setsid()  # own session and process group: the parent kills the whole group
        cgroup_procs = request.get("cgroup_procs") or []
        for path in cgroup_procs:
            if os.path.dirname(path) == _SPARE_CGROUP:
                continue  # the server put this spare there before the job existed
            with open(path, "w") as f:
                f.write(str(os.getpid()))
        for name, value in request["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        stdout_fd, stderr_fd = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        for fd in (devnull, stdout_fd, stderr_fd):
            os.close(fd)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False,
                          buffering=1, newline="\n")
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False,
                          buffering=1, newline="\n")
        sys.stdout.reconfigure(write_through=True)
        sys.stderr.reconfigure(write_through=True)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["job_dir"])
        sys.argv = [os.path.join(request["job_dir"], "main.py")]
        run_job(request["job_dir"])
    except BaseException:  # noqa: BLE001
        code = 70
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


# The pids cgroup the server created for the current spare (set in the server before each fork).
_SPARE_CGROUP: str | None = None


def _spare_cgroup(parent: str | None, flavour: str, pid: int) -> str | None:
    """Create the spare's own pids cgroup under the client's parent and move the spare into it.

    Off the job's clock: mkdir + the move into the cgroup (~0.3 ms measured when the child did it
    at job time). ``pids.max`` starts at 1 (the spare alone; it cannot fork), so a spare whose
    limit the client did not raise fails closed; the client writes the job's ``max_processes``
    before it sends the job. Returns the directory, or None (the job then joins the client's).
    """
    if not parent:
        return None
    path = os.path.join(parent, f"spare-{flavour}-{pid}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write("1")
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(pid))
    except OSError:
        try:
            os.rmdir(path)
        except OSError:
            pass
        return None
    return path


_WARM_UP_SOURCE = (
    "def _helper(n):\n    return n if n < 2 else _helper(n - 1) + _helper(n - 2)\n\n"
    "def main(a, b=2, *, c=None):\n    return {'a': a, 'b': b, 'c': c, 'h': _helper(5), 's': f'{a}-{b}'}\n"
)


def _warm_up() -> None:
    """Run the job's path once on a dummy script: compile, exec, argument binding, JSON both ways.

    Measured in a forked child: the first compile() costs 0.5-6 ms (lazy initialisation, then
    copy-on-write faults on the allocator's pages), the second 0.05 ms. Done in the server (the
    lazy part, inherited) and again in each spare before it waits (its own page copies), so a job
    starts with all of that already paid. Nothing of it is visible to the job: own namespace,
    not in sys.modules.
    """
    try:
        namespace: dict = {"__name__": "__ofs_warm_up__"}
        exec(compile(_WARM_UP_SOURCE, "<ofs-warm-up>", "exec", dont_inherit=True), namespace)
        main = namespace["main"]
        positional, keyword = _call_arguments(main, json.loads('{"a": 1, "b": null, "x": [1.5, "y", true]}'))
        json.dumps({"success": True, "result": main(*positional, **keyword)}, allow_nan=False)
    except Exception:  # noqa: BLE001 - an optimisation only
        pass


def _spare(chan, taken_w: int, server_fds: list[int]) -> None:
    """A pre-forked child waiting for its job on `chan`. Never returns.

    Everything that does not depend on the job happens here, before the job exists: the fork
    itself, the new session, the preloaded modules, the warm-up. When the job arrives it tells
    the server (one byte on `taken_w`), which forks the next spare at once, while this job runs.
    On EOF (the client or the server went away) it just exits.
    """
    import socket  # already loaded by serve()

    for fd in server_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.setsid()  # own session and process group: the client kills the whole group
        _warm_up()
        data, fds, _flags, _addr = socket.recv_fds(chan, 1 << 20, 4)
        os.write(taken_w, b"1")
        os.close(taken_w)
    except BaseException:  # noqa: BLE001
        os._exit(0)
    chan.close()
    if not data or len(fds) != 2:
        os._exit(0)
    _child(json.loads(data), fds)


def _confine_server(plan_json: str) -> None:
    """Confine this server once; every spare it forks inherits that (see serve()).

    isolation.py is loaded by path: ``-I`` keeps this dir off sys.path, and so do we (a script
    importing a module named ``isolation`` must not get ours).
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_ofs_isolation", os.path.join(os.path.dirname(os.path.abspath(__file__)), "isolation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.confine(json.loads(plan_json))
    # Scripts are uid-0-without-capabilities too (or the same user): without this they could
    # ptrace the server that forks them and holds the worker's socket.
    module.make_undumpable()


def serve(sock_fd: int, flavour: str = "lean", cgroup_parent: str = "", plan_json: str = "") -> None:
    """Fork server on the inherited SOCK_SEQPACKET socket: one idle spare child always ahead.

    Messages to the client:
    * ``{"spare": pid, "cgroups": [...]}`` with one fd attached: the client end of a socketpair to
      a forked child that waits (setsid, warm-up and cgroup done) for one job message (JSON
      request + stdout/stderr fds);
    * ``{"pid": pid, "status": returncode}`` once a child exited (negative for a signal, as
      subprocess reports it).
    A new spare is forked as soon as the previous one *takes* its job (it reports that on a
    pipe), so its fork, warm-up and cgroup move overlap the running job. That matters: moving a
    task into a cgroup (v1 here) waits for an RCU grace period, ~10 ms measured when jobs are
    spaced out (0.6 s fibo(33) steps), which was on the job's clock when done after the previous
    job's exit. The server never reads from the client: EOF on the socket ends it (its idle
    spare also sees EOF on its channel and exits).

    `flavour` "async" preloads asyncio (and inspect) for async mains; "lean" does not, because a
    bigger parent makes every fork and, above all, every child exit slower (measured: exit + reap
    0.7 ms lean vs 1.5 ms with asyncio loaded).

    `cgroup_parent`: the client's pids cgroup directory; each spare gets its own cgroup under it
    (see _spare_cgroup). `plan_json`: the confinement (``isolation.confine``) the server applies
    to itself once, before the first fork: spares and jobs inherit the private mounts and the
    missing capabilities for free (confining each spare instead cost ~0.5 ms per job measured on
    2 cores, the next spare's set-up competing with the running job). The server still makes
    the spares' cgroups: cgroup v1 lets uid 0 do that without capabilities (owner of the files).
    A server that can't apply a required plan exits; the client then falls back to a cold
    start, which reports why.
    """
    import gc
    import selectors
    import socket

    if flavour == "async":
        import asyncio  # noqa: F401 - preloaded once here, free for every forked child
        import inspect  # noqa: F401

    sock = socket.socket(fileno=sock_fd)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, ("client", 0))
    # Objects that exist now are never collected in the children: their GC passes then don't
    # write to (and so copy) the parent's pages.
    _warm_up()
    if plan_json:
        _confine_server(plan_json)
    gc.collect()
    gc.freeze()
    children: dict[int, str | None] = {}  # pid -> cgroup of every child not yet reported
    try:
        _serve_loop(sock, sel, flavour, cgroup_parent, children)
    finally:
        # The client is gone (or unreachable): nobody else will kill these or remove their cgroups.
        for pid, cgroup in children.items():
            _end_child(pid, cgroup)


def _serve_loop(sock, sel, flavour: str, cgroup_parent: str, children: dict[int, str | None]) -> None:
    global _SPARE_CGROUP
    import selectors
    import socket

    idle: int | None = None
    while True:
        if idle is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            taken_r, taken_w = os.pipe()
            # The child's pid is only known after the fork, but the child must know its cgroup's
            # name: it is derived from the pid on both sides.
            pid = os.fork()
            if pid == 0:  # never returns into the server's code (its cleanup is not ours)
                try:
                    _SPARE_CGROUP = (os.path.join(cgroup_parent, f"spare-{flavour}-{os.getpid()}")
                                     if cgroup_parent else None)
                    ours.close()
                    os.close(taken_r)
                    _spare(theirs, taken_w, [sock.fileno(), sel.fileno(), *sel.get_map()])
                finally:
                    os._exit(70)
            theirs.close()
            os.close(taken_w)
            cgroup = _spare_cgroup(cgroup_parent, flavour, pid)
            children[pid] = cgroup
            message = {"spare": pid, "cgroups": [cgroup] if cgroup else []}
            try:
                socket.send_fds(sock, [json.dumps(message).encode()], [ours.fileno()])
            except OSError:
                ours.close()
                return
            ours.close()  # only the client holds it now: its close means EOF for the spare
            sel.register(taken_r, selectors.EVENT_READ, ("taken", pid))
            idle = pid
        for key, _ in sel.select():
            kind, pid = key.data
            if kind == "client":  # the client never writes: readable means it went away
                return
            sel.unregister(key.fd)
            os.close(key.fd)
            if kind == "taken":  # it has its job (or exited): watch for its exit, make the next
                if idle == pid:
                    idle = None
                sel.register(os.pidfd_open(pid), selectors.EVENT_READ, ("exit", pid))
            else:
                _, status = os.waitpid(pid, 0)
                try:
                    sock.send(json.dumps({"pid": pid, "status": os.waitstatus_to_exitcode(status)}).encode())
                except OSError:
                    return
                # Reported: from here the client owns the job's cgroup (kills stragglers, removes it).
                children.pop(pid, None)


def _end_child(pid: int, cgroup: str | None) -> None:
    """Kill a child of a server whose client is gone (its group and its cgroup), reap it and
    remove its cgroup, so neither a spare nor an orphaned job outlives the worker."""
    import time

    for kill in (lambda: os.killpg(pid, 9), lambda: os.kill(pid, 9)):
        try:
            kill()
        except OSError:
            pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass
    if not cgroup:
        return
    for _ in range(200):
        try:
            with open(os.path.join(cgroup, "cgroup.procs")) as f:
                for member in f.read().split():
                    try:
                        os.kill(int(member), 9)
                    except OSError:
                        pass
            os.rmdir(cgroup)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.005)  # exiting tasks linger for a moment


if __name__ == "__main__":
    if 3 <= len(sys.argv) <= 6 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), *sys.argv[3:])
    elif len(sys.argv) == 2:
        job = os.path.abspath(sys.argv[1])
        os.chdir(job)
        sys.argv = [os.path.join(job, "main.py")]
        run_job(job)
    else:
        sys.exit("usage: python_harness.py JOB_DIR | --serve FD")
