"""The sandbox's worker (started by reprolab.sandbox inside bubblewrap; imported by nothing else).

Two processes inside the sandbox. The *server* never runs untrusted code: it imports the tool
modules once, then for every request forks a *call* process, which drops to the call's limits,
closes the protocol descriptors, installs the audit hook, runs the tool call or code, and writes
one length-prefixed JSON result on a pipe of its own before it exits. The server reads that
result (malformed becomes an error for this call only), kills whatever the call left running in
the sandbox's PID namespace, wipes the call's directory, and answers the host with one JSON line
on a descriptor no call can reach. So nothing a call does (threads, rebinding modules, forged
output, changed globals) survives into the next call, and no call can write the protocol.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time
import traceback

# Audit events refused in a call (the second layer; the namespace sandbox is the first).
_REFUSED_PREFIXES = ("socket.", "ctypes.", "_ctypes.", "subprocess.", "pty.")
_REFUSED = {
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.exec",
    "os.system",
    "os.spawn",
    "os.kill",
    "os.killpg",
    "os.setuid",
    "os.setgid",
    "sys.addaudithook",
    "resource.prlimit",
    "resource.setrlimit",
    "signal.pthread_kill",
}
_REFUSED_IMPORTS = {"ctypes", "_ctypes", "multiprocessing", "_posixsubprocess", "socket", "_socket"}
_SIGNAL_ERRORS = {
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGXFSZ: "file size limit exceeded",
}


class SandboxViolation(PermissionError):
    """An action the sandbox refuses."""


def _hook(event: str, args: tuple) -> None:
    if event in _REFUSED or event.startswith(_REFUSED_PREFIXES):
        raise SandboxViolation(f"sandbox: '{event}' is not allowed")
    if event == "import" and args and args[0] in _REFUSED_IMPORTS:
        raise SandboxViolation(f"sandbox: importing '{args[0]}' is not allowed")


def _run(request: dict, modules: dict) -> dict:
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


def _call_process(request: dict, modules: dict, config: dict, result_fd: int, keep: set) -> None:
    """The forked call: limits, no protocol descriptors, the hook, the call, one framed result."""
    os.setpgid(0, 0)
    for fd in keep:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    mb = 1024 * 1024
    cpu = max(1, int(request["cpu_seconds"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU first, SIGKILL a second on
    resource.setrlimit(resource.RLIMIT_AS, (config["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_size_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Binds where the sandbox's user is not root outside; a pids cgroup limits root's (host side).
    resource.setrlimit(resource.RLIMIT_NPROC, (config["max_processes"],) * 2)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death past the file limit
    sys.addaudithook(_hook)
    try:
        reply = _run(request, modules)
        text = json.dumps(reply)
    except MemoryError:
        text = json.dumps({"ok": False, "error": "MemoryError: memory limit exceeded"})
    except RecursionError:
        text = json.dumps({"ok": False, "error": "RecursionError: recursion too deep"})
    except TypeError as err:
        kind = "result is not JSON" if "JSON serializable" in str(err) else "TypeError"
        text = json.dumps({"ok": False, "error": f"{kind}: {err}"})
    except BaseException as err:  # noqa: BLE001 - every failure becomes an error result
        last = traceback.extract_tb(err.__traceback__)[-1:]
        where = f" (line {last[0].lineno})" if last and last[0].filename == "<sandbox>" else ""
        text = json.dumps({"ok": False, "error": f"{type(err).__name__}: {err}{where}"})
    data = text.encode()
    try:
        os.write(result_fd, struct.pack(">Q", len(data)) + data)
    finally:
        os._exit(0)


def _in_own_pid_namespace() -> bool:
    """Whether pid 1 here is bubblewrap's init: only then is every other process a call's."""
    try:
        with open("/proc/1/cmdline", "rb") as init:
            return b"bwrap" in init.read() and os.getpid() != 1
    except OSError:
        return False


def _strays() -> list[int]:
    """The live processes of this PID namespace but its init (bwrap, pid 1) and the server."""
    me, alive = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, me):
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":  # a zombie is dead
                    alive.append(int(entry))
    return alive


def _kill_strays(grace_seconds: float = 2.0) -> int:
    """Kill every process of this PID namespace but its init and the server, and wait until
    they are gone: SIGKILL is delivered asynchronously, and the next call must start alone.
    Only ever called inside the sandbox's own PID namespace (never in weak isolation)."""
    killed, deadline = 0, time.monotonic() + grace_seconds
    while (alive := _strays()) and time.monotonic() < deadline:
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.01)
    return killed


def _read_result(fd: int, deadline: float, limit: int) -> tuple[bytes | None, str | None]:
    """The call's framed result, read by its length (processes the call forked may hold the
    pipe open, so end-of-file never comes): (bytes, None), or (None, why)."""
    buffer = b""
    size = None
    while size is None or len(buffer) < 8 + size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "timeout"
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            return None, "timeout"
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None, "no result" if len(buffer) == 0 else "malformed result frame"
        buffer += chunk
        if size is None and len(buffer) >= 8:
            (size,) = struct.unpack(">Q", buffer[:8])
            if size > limit + 64:
                return None, f"result longer than {limit} characters"
    if len(buffer) != 8 + size:
        return None, "malformed result frame"
    return buffer[8:], None


def _serve(request: dict, modules: dict, config: dict, protocol: set) -> dict:
    workdir = os.path.join(config["workdir"], "call")
    if not os.path.isdir(workdir):
        os.mkdir(workdir)
    os.chdir(workdir)
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _call_process(request, modules, config, write_fd, protocol)
    os.close(write_fd)
    limit = request["max_result_chars"]
    data, problem = _read_result(read_fd, started + request["timeout_seconds"], limit)
    os.close(read_fd)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if config["kill_strays"]:  # only in its own PID namespace is every other process the call's
        _kill_strays()
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    os.chdir(config["workdir"])
    if os.listdir(workdir):  # the next call starts in an empty folder
        shutil.rmtree(workdir, ignore_errors=True)
    if data is None:
        if os.WIFSIGNALED(status) and problem == "no result":  # it died before answering
            reason = _SIGNAL_ERRORS.get(os.WTERMSIG(status), f"signal {os.WTERMSIG(status)}")
            return {"ok": False, "error": f"call ended: {reason}"}
        if problem == "timeout":
            return {
                "ok": False,
                "error": f"timeout: no result within {request['timeout_seconds']:g} s",
            }
        return {"ok": False, "error": problem or "no result"}
    try:
        reply = json.loads(data)
    except ValueError:
        return {"ok": False, "error": "malformed result: not JSON"}
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return {"ok": False, "error": "malformed result: not a result object"}
    return reply


def _no_ptrace() -> None:
    """PR_SET_DUMPABLE 0: no call (same uid) may ptrace the server or read its memory."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main() -> None:
    config = json.loads(sys.argv[1])
    os.chdir(config["workdir"])
    # Private protocol descriptors; calls close them (their 0/1/2 point at /dev/null).
    requests_fd, replies_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    requests = os.fdopen(requests_fd, "r")
    replies = os.fdopen(replies_fd, "w")
    modules = {name: importlib.import_module(name) for name in config["modules"]}
    config["kill_strays"] = config["pid_namespace"] and _in_own_pid_namespace()
    _no_ptrace()
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        reply = _serve(request, modules, config, {requests_fd, replies_fd})
        text = json.dumps(reply)
        replies.write(text + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
