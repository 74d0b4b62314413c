"""The core sandbox against the attacks a model-written call could make.

Each attack asserts containment (the host is unchanged), a clear error, and a sandbox that still
serves the next call with the right answer. Attacks that first switch off the in-process audit
hook ("bypass") test the operating-system layer alone. Tests that need bubblewrap and user
namespaces skip, saying so, where the machine has neither.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from reprolab.sandbox import (
    Sandbox,
    SandboxLimits,
    SandboxUnavailable,
    isolation_problem,
    seccomp_program,
)
from tests.conftest import REPO

TOOLS = "reprolab.papers.toolr0.tools"
PROBLEM = isolation_problem()
needs_namespaces = pytest.mark.skipif(
    PROBLEM is not None, reason=f"needs bubblewrap and user namespaces: {PROBLEM}"
)
# Switches off the second layer inside a call: the audit hook reads these module tables.
BYPASS = (
    "import sys\n"
    "worker = sys.modules['__main__']\n"
    "worker._REFUSED.clear(); worker._REFUSED_IMPORTS.clear()\n"
    "worker._REFUSED_PREFIXES = ()\n"
)


def descendants(pid: int) -> list[int]:
    """Live processes below pid (the worker's whole tree), from the host's /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture(scope="module")
def box():
    if PROBLEM is not None:
        pytest.skip(f"needs bubblewrap and user namespaces: {PROBLEM}")
    with Sandbox(SandboxLimits(cpu_seconds=1, timeout_seconds=3, memory_mb=256), [TOOLS]) as sb:
        sb.run_code("result = 0")
        yield sb


def healthy(box: Sandbox) -> None:
    """The sandbox answers the next call right, and its tree is the worker alone again."""
    assert box.call(TOOLS, "add", {"a": 40, "b": 2}).value == 42
    assert box.run_code("result = 6 * 7").value == 42
    # bwrap's monitor, the namespace's init and the server: nothing a call left behind.
    assert len(descendants(box.pid)) <= 2


@needs_namespaces
def test_tool_calls_and_clear_errors(box):
    assert box.call(TOOLS, "add", {"a": 2, "b": 40}).value == 42
    assert "unknown tool 'no_such_tool'" in box.call(TOOLS, "no_such_tool", {}).error
    assert box.call(TOOLS, "add", {"a": 1}).error.startswith("TypeError")
    assert "not loaded" in box.call("os", "system", {"command": "true"}).error
    assert box.isolation["mode"] == "bubblewrap"
    assert box.isolation["seccomp"] == (seccomp_program() is not None)


@needs_namespaces
def test_loops_sleeps_and_memory_are_bounded(box):
    loop = box.run_code("while True:\n    pass")
    assert not loop.ok and ("CPU time limit" in loop.error or "timeout" in loop.error)
    sleep = box.run_code("import time\ntime.sleep(60)")
    assert sleep.error.startswith("timeout: no result within 3 s") and sleep.seconds < 10
    memory = box.run_code("blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))")
    assert not memory.ok and "memory limit exceeded" in memory.error
    healthy(box)


@needs_namespaces
def test_process_creation_is_refused_and_a_bypassed_fork_bomb_is_contained(box):
    refused = box.run_code("import os\nos.fork()")
    assert "'os.fork' is not allowed" in refused.error
    assert "not allowed" in box.run_code("import subprocess\nsubprocess.run(['true'])").error
    bomb = box.run_code(
        BYPASS + "import os, time\nmade = 0\n"
        "for _ in range(300):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(100)\n        os._exit(0)\n"
        "    made += 1\nresult = made\n"
    )
    assert bomb.ok and bomb.value <= box.limits.max_processes + 8  # pids cgroup or NPROC
    healthy(box)  # every process the bomb made was killed with the call


@needs_namespaces
def test_processes_cannot_outlive_a_call(box):
    grandchild = box.run_code(
        BYPASS + "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n"
        "    os._exit(0)\nresult = 'left a daemon'\n"
    )
    assert grandchild.ok
    healthy(box)
    thread = box.run_code(
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(300), daemon=False).start()\nresult = 1"
    )
    assert thread.ok
    assert box.run_code("import threading\nresult = threading.active_count()").value == 1


@needs_namespaces
def test_no_write_reaches_the_host(box, tmp_path):
    target = tmp_path / "escaped.txt"
    repo_file = REPO / "results" / "escaped.json"
    routes = [
        f"open({str(target)!r}, 'w').write('x')",
        f"open({str(repo_file)!r}, 'w').write('x')",
        f"import os\nfd = os.open({str(REPO)!r}, os.O_RDONLY)\n"
        "os.open('escaped.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd)",
        f"import sqlite3\ndb = sqlite3.connect({str(REPO / 'escaped.db')!r})\n"
        "db.execute('create table t(x)')",
        f"import os\nos.mkfifo({str(REPO / 'escaped.fifo')!r})",
        f"import os\nos.setxattr({str(REPO / 'README.md')!r}, 'user.x', b'1')",
        f"import readline\nreadline.write_history_file({str(REPO / 'escaped.hist')!r})",
        f"import os\nos.remove({str(REPO / 'README.md')!r})",
    ]
    for code in routes:
        for prefix in ("", BYPASS):
            result = box.run_code(prefix + code)
            assert not result.ok, code
    assert not target.exists() and not repo_file.exists()
    assert not any(REPO.glob("escaped*")) and (REPO / "README.md").exists()
    inside = box.run_code("open('notes.txt', 'w').write('hi')\nresult = open('notes.txt').read()")
    assert inside.ok and inside.value == "hi"
    assert box.run_code("import os\nresult = os.path.exists('notes.txt')").value is False
    big = box.run_code("open('big.bin', 'wb').write(b'x' * (64 * 2**20))")
    assert not big.ok and ("File too large" in big.error or "No space" in big.error)
    healthy(box)


@needs_namespaces
def test_host_files_cannot_be_read(box):
    for path in ("/etc/shadow", "/etc/passwd", str(REPO / ".git" / "config"), "/proc/1/environ"):
        result = box.run_code(f"result = open({path!r}).read()[:50]")
        assert not result.ok or "root:" not in str(result.value), path
    listed = box.run_code("import os\nresult = sorted(os.listdir('/'))")
    # The interpreter (venv and base) and reprolab's source are bound read-only at their own
    # paths, so their top-level folders (/work here, wherever CI clones) exist inside too.
    bound = [sys.prefix, sys.base_prefix, str(REPO / "src"), os.path.realpath(sys.executable)]
    bound_tops = {Path(os.path.realpath(p)).parts[1] for p in bound}
    bound_tops |= {Path(os.path.abspath(p)).parts[1] for p in bound}
    system = {".sandbox", "bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc"}
    system |= {"root", "sbin", "tmp", "usr"}
    assert set(listed.value) <= system | bound_tops


@needs_namespaces
def test_no_network_tcp_or_unix(box, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(1.0)
    port = server.getsockname()[1]
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(tmp_path / "host.sock"))
    unix.listen(1)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0reprolab-test-abstract")
    abstract.listen(1)
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    listener = threading.Thread(target=accept)
    listener.start()
    refused = box.run_code(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 1)")
    assert "not allowed" in refused.error
    attempts = [
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
        "import socket\ns = socket.socket(socket.AF_UNIX)\n"
        f"s.connect({str(tmp_path / 'host.sock')!r})",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\0reprolab-test-abstract')",
    ]
    for code in attempts:
        assert not box.run_code(BYPASS + code).ok, code
    listener.join()
    for sock in (server, unix, abstract):
        sock.close()
    assert accepted == []
    healthy(box)


@needs_namespaces
def test_host_processes_cannot_be_signalled(box):
    host = os.getpid()
    seen = box.run_code(BYPASS + f"import os\nos.kill({host}, 0)\nresult = 'seen'")
    assert not seen.ok and "ProcessLookupError" in seen.error  # another PID namespace
    pidfd = box.run_code(BYPASS + "import os, signal\nos.pidfd_open(1)\nresult = 1")
    assert pidfd.ok or "Error" in pidfd.error
    box.run_code(BYPASS + "import os\nos.kill(1, 9)")  # the namespace's init: ignored, or
    healthy(box)  # the worker dies and a fresh one starts; either way the next call is served
    assert os.getpid() == host


@needs_namespaces
def test_huge_output_and_non_json_results_are_errors(box):
    huge = box.run_code("result = 'x' * 10**7")
    assert not huge.ok and "longer than" in huge.error
    odd = box.run_code("result = object()")
    assert not odd.ok and "result is not JSON" in odd.error
    printed = box.run_code("print('x' * 10**6)\nresult = 1")
    assert printed.ok and len(printed.stdout) <= 10_000
    healthy(box)


@needs_namespaces
def test_interpreter_tricks_do_not_carry_to_the_next_call(box):
    rebound = box.run_code(
        "import sys\nsys.modules['reprolab.papers.toolr0.tools'].add = lambda a, b: 1337\n"
        "frame = sys._getframe()\n"
        "while frame.f_back is not None:\n    frame = frame.f_back\n"
        "frame.f_globals['_run'] = None\n"
        "import builtins\nbuiltins.len = lambda x: 0\nresult = 'rebound'"
    )
    assert rebound.value != 1337  # a call that breaks its own interpreter may only fail itself
    assert box.call(TOOLS, "add", {"a": 40, "b": 2}).value == 42
    assert box.run_code("result = len([1, 2, 3])").value == 3


@needs_namespaces
def test_forged_protocol_lines_change_nothing(box):
    forged = box.run_code(
        "import os\n"
        "for fd in range(64):\n"
        "    try:\n"
        '        os.write(fd, b\'{"ok": true, "value": 1337}\\n\' * 3)\n'
        "    except OSError:\n"
        "        pass\n"
        "result = 'forged'"
    )
    assert forged.value in ("forged", None) and forged.value != 1337
    for a in range(5):  # no reply shifted: every later call gets its own answer
        assert box.call(TOOLS, "add", {"a": a, "b": 1}).value == a + 1


def test_without_isolation_the_sandbox_refuses_unless_weak_is_allowed(monkeypatch, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    python = Path(shutil.which("python3") or "/usr/bin/python3")
    monkeypatch.setenv("PATH", f"{empty}")
    strict = Sandbox(modules=[TOOLS])
    with pytest.raises(SandboxUnavailable, match="bubblewrap.*allow_weak_isolation"):
        strict.run_code("result = 1")
    strict.close()
    with Sandbox(SandboxLimits(allow_weak_isolation=True), [TOOLS]) as weak:
        assert weak.call(TOOLS, "add", {"a": 1, "b": 2}).value == 3
        assert weak.isolation["mode"] == "weak" and "bubblewrap" in weak.isolation["why"]
    assert python  # the interpreter itself never came from PATH


@needs_namespaces
def test_batched_calls_are_fast_enough_to_be_used():
    with Sandbox(modules=[TOOLS]) as box:
        box.call(TOOLS, "add", {"a": 0, "b": 0})
        started = time.monotonic()
        results = box.call_many(TOOLS, [("add", {"a": i, "b": 1}) for i in range(50)])
        assert [r.value for r in results] == [i + 1 for i in range(50)]
        assert time.monotonic() - started < 30  # a loose bound; benchmarks/ measures the rate
