"""Run untrusted tool calls and code isolated by the operating system.

Model-written tool calls and code never run in the process that holds the model. A `Sandbox`
starts a worker (`python -m reprolab.sandbox_worker`) inside bubblewrap (Debian package
`bubblewrap`):

    with Sandbox(SandboxLimits(timeout_seconds=2), modules=["mypkg.tools"]) as box:
        box.call("mypkg.tools", "add", {"a": 1, "b": 2})   # SandboxResult(ok=True, value=3)
        box.run_code("result = sum(range(10))")            # value 45

Isolation, first layer (the kernel): new user, PID, network, IPC, UTS and cgroup namespaces (no
network at all; no host process visible or signalable; nothing outlives the worker), a
read-only view of only the interpreter, the system libraries and the allowed modules' folders
(no host file, no repository, no socket of the host), a private size-limited tmpfs as the only
writable place, a seccomp filter refusing the kernel calls a tool never needs (ptrace, mount,
namespaces, kernel keys, bpf, ...), a pids cgroup where the host allows one, rlimits (CPU time,
memory, file size, processes) per call, and a wall-clock timeout. Every call runs in a fresh
process forked from a pristine server, which alone writes the protocol (see sandbox_worker), so
nothing carries from one call to the next and no call can forge another's result. Second layer:
an audit hook in each call refusing sockets, process creation, signals and native code.

Where bubblewrap or user namespaces are missing the sandbox refuses to run untrusted code and
says why, unless `SandboxLimits(allow_weak_isolation=True)` (config: `sandbox:
{allow_weak_isolation: true}`) accepts a fresh interpreter with rlimits and the audit hook only;
that choice is logged and recorded in `Sandbox.isolation`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
# How every sandbox this process started was isolated: reprolab.steps records it in the step's
# MLflow run, so that a run made in weak isolation says so beside its results.
ISOLATIONS_USED: list[dict] = []


@dataclass(frozen=True)
class SandboxLimits:
    """Per-call limits. cpu_seconds binds CPU time; timeout_seconds binds wall-clock time."""

    cpu_seconds: float = 2.0
    timeout_seconds: float = 5.0
    memory_mb: int = 512
    file_size_mb: int = 4
    tmp_size_mb: int = 64
    max_processes: int = 64
    max_result_chars: int = 100_000
    # A worker is replaced after this many calls (each call is a fresh process anyway).
    calls_per_worker: int = 5000
    allow_weak_isolation: bool = False


@dataclass
class SandboxResult:
    """What a call gave: ok and its value, or not ok and an error that says why."""

    ok: bool
    value: Any = None
    error: str | None = None
    stdout: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


# The only writable place inside: a private tmpfs at a path no host folder uses (a repository
# under /work or a test's module under /tmp must stay visible, read-only, at its own path).
SANDBOX_DIR = "/.sandbox"


class SandboxUnavailable(RuntimeError):
    """OS isolation cannot be set up here, and weak isolation was not allowed."""


# x86_64 system calls a tool or snippet never needs; refused with EPERM by the seccomp filter.
_DENIED_SYSCALLS_X86_64 = {
    "ptrace": 101,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "init_module": 175,
    "delete_module": 176,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "bpf": 321,
    "userfaultfd": 323,
    "pidfd_send_signal": 424,
    "pivot_root": 155,
}


def seccomp_program() -> bytes | None:
    """A classic-BPF seccomp filter (the bytes bwrap --seccomp reads): other architectures are
    killed, x32 calls and the denied calls get EPERM, everything else is allowed. None off
    x86_64 (the namespaces still hold; isolation records that no filter was applied)."""
    if platform.machine() != "x86_64":
        return None

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("<HBBI", code, jt, jf, k)

    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny, kill = 0x7FFF0000, 0x00050000 | 1, 0x80000000  # ALLOW, ERRNO(EPERM), KILL
    numbers = sorted(_DENIED_SYSCALLS_X86_64.values())
    n = len(numbers)
    # 0 ld arch; 1 jeq x86_64 else -> kill; 2 ld nr; 3 jge x32 -> deny; 4.. jeq nr -> deny;
    # then ret allow; ret deny; ret kill.
    program = [op(ld, 4), op(jeq, 0xC000003E, 0, n + 4), op(ld, 0)]
    program.append(op(jge, 0x40000000, n + 1, 0))
    for i, number in enumerate(numbers):
        program.append(op(jeq, number, n - i, 0))
    program += [op(ret, allow), op(ret, deny), op(ret, kill)]
    return b"".join(program)


def _filesystem_args() -> list[str]:
    """bwrap arguments for what the worker may read: the system libraries (top-level symlinks
    such as /lib64 -> usr/lib64 kept as symlinks, the ELF loader's path among them), the
    interpreter (venv and base), reprolab's own source folder and the folders of the PYTHONPATH
    (where tool modules live). Nothing else of the host exists inside."""
    args: list[str] = []
    for top in ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    package_root = str(Path(__file__).resolve().parents[1])
    paths = ["/etc/ld.so.cache", "/etc/alternatives", sys.prefix, sys.base_prefix, package_root]
    paths += [os.path.dirname(os.path.realpath(sys.executable))]
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    seen = {"/usr"}
    for path in paths:
        for candidate in {os.path.abspath(path), os.path.realpath(path)}:
            covered = any(candidate == s or candidate.startswith(s + "/") for s in seen)
            if os.path.exists(candidate) and not covered:
                seen.add(candidate)
                args += ["--ro-bind", candidate, candidate]
    return args


def _pids_cgroup(limit: int) -> Path | None:
    """A pids cgroup (v2, else v1) holding at most `limit` processes, where this process may
    make one (root on most machines); None elsewhere (RLIMIT_NPROC binds non-root users)."""
    for base in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids")):
        if not (base / "cgroup.procs").exists():
            continue
        if base == Path("/sys/fs/cgroup") and "pids" not in (
            (base / "cgroup.controllers").read_text()
            if (base / "cgroup.controllers").exists()
            else ""
        ):
            continue
        group = base / f"reprolab-sandbox-{os.getpid()}-{time.monotonic_ns()}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            with contextlib.suppress(OSError):
                group.rmdir()
    return None


def isolation_problem() -> str | None:
    """Why OS isolation cannot be set up here, or None when it can."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    probe = subprocess.run(
        ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[-300:]}"
    return None


class Sandbox:
    """A worker serving tool calls and code snippets, each isolated (see module doc)."""

    def __init__(self, limits: SandboxLimits | None = None, modules: list[str] | tuple = ()):
        self.limits = limits or SandboxLimits()
        self.modules = list(modules)
        self._proc: subprocess.Popen | None = None
        self._root: Path | None = None
        self._cgroup: Path | None = None
        self._calls = 0
        self._buffer = b""
        self.workers_started = 0
        # How the current worker is isolated: {"mode": "bubblewrap" | "weak", ...}.
        self.isolation: dict = {}

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _command(self, config: dict) -> tuple[list[str], dict, tuple[int, ...]]:
        """bwrap's command line, the worker's environment and the descriptors it inherits."""
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": SANDBOX_DIR,
            "TMPDIR": SANDBOX_DIR,
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).resolve().parents[1])]
                + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            ),
        }
        worker = [sys.executable, "-m", "reprolab.sandbox_worker", json.dumps(config)]
        problem = None if self.limits.allow_weak_isolation else isolation_problem()
        if self.limits.allow_weak_isolation and isolation_problem() is not None:
            problem = isolation_problem()
            log.warning("sandbox: weak isolation (allowed by the config): %s", problem)
            self.isolation = {"mode": "weak", "why": problem}
            config["workdir"] = str(self._root / "work")
            env["HOME"] = env["TMPDIR"] = config["workdir"]
            worker[-1] = json.dumps(config)
            return worker, env, ()
        if problem is not None:
            raise SandboxUnavailable(
                f"the sandbox cannot isolate untrusted code: {problem}. Install bubblewrap, or "
                "set sandbox.allow_weak_isolation: true to accept a weaker sandbox"
            )
        command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
        command += ["--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
        command += _filesystem_args()
        command += ["--proc", "/proc", "--dev", "/dev"]
        command += ["--size", str(self.limits.tmp_size_mb * 1024 * 1024), "--tmpfs", SANDBOX_DIR]
        command += ["--remount-ro", "/", "--chdir", SANDBOX_DIR]
        fds: tuple[int, ...] = ()
        program = seccomp_program()
        if program is not None:
            read, write = os.pipe()
            os.write(write, program)
            os.close(write)
            command += ["--seccomp", str(read)]
            fds = (read,)
        self.isolation = {"mode": "bubblewrap", "seccomp": program is not None}
        config["pid_namespace"] = True
        worker[-1] = json.dumps(config)
        return command + ["--", *worker], env, fds

    def _start(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="reprolab-sandbox-"))
        (self._root / "work").mkdir()
        config = {
            "workdir": SANDBOX_DIR,
            "modules": self.modules,
            "memory_mb": self.limits.memory_mb,
            "file_size_mb": self.limits.file_size_mb,
            "max_processes": self.limits.max_processes,
            "pid_namespace": False,
        }
        command, env, fds = self._command(config)
        if self.isolation.get("mode") == "bubblewrap":
            self._cgroup = _pids_cgroup(self.limits.max_processes + 8)
        if self._cgroup is not None:
            # Joined before bwrap starts, so every process of the sandbox is counted.
            procs = self._cgroup / "cgroup.procs"
            command = ["/bin/sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *command]
        self.isolation["pids_cgroup"] = self._cgroup is not None
        stderr = (self._root / "stderr").open("wb")
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=self._root / "work",
            env=env,
            start_new_session=True,
            pass_fds=fds,
        )
        for fd in fds:
            os.close(fd)
        stderr.close()
        self._buffer = b""
        self._calls = 0
        self.workers_started += 1
        ready = self._read_message(time.monotonic() + 60.0)
        if not ready or not ready.get("ready"):
            detail = self._stderr_tail()
            self._kill()
            raise RuntimeError(f"sandbox worker failed to start: {detail or ready}")
        if self.workers_started == 1:  # the job log records how its calls were isolated
            log.info("sandbox isolation: %s", self.isolation)
            ISOLATIONS_USED.append(dict(self.isolation))

    def _kill(self) -> None:
        """Kill the worker (its PID namespace dies with it) and remove its folders."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self._proc.wait()
            self._proc = None
        if self._cgroup is not None:
            for _ in range(50):  # the namespace's processes leave the group as they die
                with contextlib.suppress(OSError):
                    self._cgroup.rmdir()
                    break
                time.sleep(0.02)
            self._cgroup = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def close(self) -> None:
        self._kill()

    # -- protocol --------------------------------------------------------------------------
    def _stderr_tail(self) -> str:
        if self._root is None:
            return ""
        path = self._root / "stderr"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text.strip().splitlines()[-1] if text.strip() else ""

    def _read_message(self, deadline: float) -> dict | None:
        """One JSON object line from the worker's server, or None on timeout or end of stream."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _request(self, request: dict) -> SandboxResult:
        if self._proc is None or self._calls >= self.limits.calls_per_worker:
            self._kill()
            self._start()
        self._calls += 1
        request = {
            **request,
            "cpu_seconds": self.limits.cpu_seconds,
            "timeout_seconds": self.limits.timeout_seconds,
            "max_result_chars": self.limits.max_result_chars,
        }
        try:
            payload = (json.dumps(request) + "\n").encode()
        except (TypeError, ValueError) as err:
            return SandboxResult(False, error=f"request is not JSON-serialisable: {err}")
        started = time.monotonic()
        try:
            self._proc.stdin.write(payload)
            self._proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return SandboxResult(False, error="sandbox worker died before the call")
        # The server enforces the call's timeout; this one only guards against a dead server.
        reply = self._read_message(started + self.limits.timeout_seconds + 10.0)
        seconds = time.monotonic() - started
        if reply is None or not isinstance(reply.get("ok"), bool):
            detail = self._stderr_tail()
            self._kill()
            error = "sandbox worker ended or answered out of protocol" + (
                f": {detail}" if detail else ""
            )
            return SandboxResult(False, error=error, seconds=seconds)
        return SandboxResult(
            ok=reply["ok"],
            value=reply.get("value"),
            error=reply.get("error"),
            stdout=reply.get("stdout", ""),
            seconds=seconds,
        )

    # -- API -------------------------------------------------------------------------------
    def call(self, module: str, function: str, arguments: dict) -> SandboxResult:
        """Call module.function(**arguments) in a fresh call process; module must be loaded."""
        if module not in self.modules:
            return SandboxResult(False, error=f"module '{module}' is not loaded in this sandbox")
        if not isinstance(arguments, dict):
            return SandboxResult(False, error="arguments must be a JSON object")
        return self._request(
            {"op": "call", "module": module, "function": function, "arguments": arguments}
        )

    def call_many(self, module: str, calls: list[tuple[str, dict]]) -> list[SandboxResult]:
        """Many calls through the same worker, each in its own process with its own limits."""
        return [self.call(module, name, arguments) for name, arguments in calls]

    def run_code(self, code: str) -> SandboxResult:
        """exec(code) in a fresh namespace; the value is the variable `result` if set."""
        return self._request({"op": "code", "code": code})
