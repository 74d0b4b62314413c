"""The sandbox's worker process (started by reprolab.sandbox; not imported by anything else).

Start-up order matters: open the protocol pipes, leave the network (a new user + network
namespace where the kernel allows it), import the allowed modules, set the resource limits, and
only then install the audit hook, which can never be removed. After that the worker reads one JSON
request a line and answers one JSON line, until its input closes.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import resource
import signal
import sys
import traceback

# Audit events refused outright: process creation, signals, native code, network, new hooks.
_REFUSED_PREFIXES = ("socket.", "ctypes.", "_ctypes.", "subprocess.", "pty.")
_REFUSED = {
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.exec",
    "os.system",
    "os.spawn",
    "os.startfile",
    "os.kill",
    "os.killpg",
    "os.setuid",
    "os.setgid",
    "_thread.start_new_thread",
    "sys.addaudithook",
    "resource.prlimit",
    "signal.pthread_kill",
}
_REFUSED_IMPORTS = {"ctypes", "_ctypes", "multiprocessing", "_posixsubprocess", "socket", "_socket"}
# Events whose path arguments must lie inside the private directory (they change the filesystem).
_PATH_EVENTS = {
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.rename": 2,
    "os.replace": 2,
    "os.link": 2,
    "os.symlink": 2,
    "os.chmod": 1,
    "os.chown": 1,
    "os.truncate": 1,
    "os.utime": 1,
    "shutil.rmtree": 1,
    "shutil.copyfile": 2,
    "shutil.move": 2,
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class SandboxViolation(PermissionError):
    """An action the sandbox refuses."""


def _leave_network() -> bool:
    """A fresh user + network namespace: no interface but a down loopback. Best effort."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        clone_newuser, clone_newnet = 0x10000000, 0x40000000
        return libc.unshare(clone_newuser | clone_newnet) == 0
    except (OSError, AttributeError):
        return False


def _make_hook(workdir: str, state: dict):
    root = os.path.realpath(workdir)
    allowed_devices = {"/dev/null", "/dev/urandom"}

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        real = os.path.realpath(os.fspath(path))
        return real == root or real.startswith(root + os.sep) or real in allowed_devices

    def hook(event: str, args: tuple) -> None:
        if state["trusted"]:
            return
        if event in _REFUSED or event.startswith(_REFUSED_PREFIXES):
            raise SandboxViolation(f"sandbox: '{event}' is not allowed")
        if event == "import" and args and args[0] in _REFUSED_IMPORTS:
            raise SandboxViolation(f"sandbox: importing '{args[0]}' is not allowed")
        if event == "resource.setrlimit":
            raise SandboxViolation("sandbox: changing resource limits is not allowed")
        if event == "open" and args:
            path, mode, flags = (tuple(args) + (None, None))[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writes and path is not None and not inside(path):
                raise SandboxViolation(f"sandbox: writing '{path}' outside its directory")
        elif event in _PATH_EVENTS:
            for path in args[: _PATH_EVENTS[event]]:
                if path is not None and not inside(path):
                    raise SandboxViolation(f"sandbox: '{event}' on '{path}' outside its directory")

    return hook


def _set_limits(config: dict) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (config["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_size_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Does not bind root; the audit hook refuses process creation for everyone.
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    total = int(config["cpu_total_seconds"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (total, total))
    # A write past the file-size limit raises OSError (EFBIG) instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _cpu_limit(seconds: float, state: dict) -> None:
    """Soft CPU limit = CPU used so far + this call's allowance (SIGXCPU beyond it)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = min(int(spent + seconds + 1), hard)
    state["trusted"] = True
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    finally:
        state["trusted"] = False


def _handle(request: dict, modules: dict) -> dict:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        if request["op"] == "call":
            module = modules[request["module"]]
            func = getattr(module, request["function"], None)
            exports = getattr(module, "SANDBOX_EXPORTS", None)
            if (
                request["function"].startswith("_")
                or not callable(func)
                or (exports is not None and request["function"] not in exports)
            ):
                return {"ok": False, "error": f"unknown tool '{request['function']}'"}
            value = func(**request["arguments"])
        else:
            namespace: dict = {"__name__": "__sandbox__"}
            exec(compile(request["code"], "<sandbox>", "exec"), namespace)
            value = namespace.get("result")
    return {"ok": True, "value": value, "stdout": stdout.getvalue()[-10_000:]}


def main() -> None:
    config = json.loads(sys.argv[1])
    os.chdir(config["workdir"])
    # The protocol gets private descriptors; the called code's fd 0/1 point at /dev/null.
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    isolated = _leave_network() if config["network_namespace"] else False
    modules = {name: importlib.import_module(name) for name in config["modules"]}
    _set_limits(config)
    state = {"trusted": False}
    sys.addaudithook(_make_hook(config["workdir"], state))
    replies.write(json.dumps({"ready": True, "isolation": {"network_namespace": isolated}}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        _cpu_limit(request["cpu_seconds"], state)
        try:
            reply = _handle(request, modules)
            text = json.dumps(reply)
        except MemoryError:
            text = json.dumps({"ok": False, "error": "MemoryError: memory limit exceeded"})
        except RecursionError:
            text = json.dumps({"ok": False, "error": "RecursionError: recursion too deep"})
        except TypeError as err:
            if "JSON serializable" in str(err):
                text = json.dumps({"ok": False, "error": f"result is not JSON: {err}"})
            else:
                text = json.dumps({"ok": False, "error": f"TypeError: {err}"})
        except BaseException as err:  # noqa: BLE001 - every failure becomes an error result
            last = traceback.extract_tb(err.__traceback__)[-1:]
            where = f" (line {last[0].lineno})" if last and last[0].filename == "<sandbox>" else ""
            text = json.dumps({"ok": False, "error": f"{type(err).__name__}: {err}{where}"})
        if len(text) > request["max_result_chars"]:
            limit = request["max_result_chars"]
            text = json.dumps({"ok": False, "error": f"result longer than {limit} characters"})
        replies.write(text + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
