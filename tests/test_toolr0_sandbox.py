"""The core sandbox holds against the attacks a model-written call could make, host unharmed."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

import pytest

from reprolab.sandbox import Sandbox, SandboxLimits

TOOLS = "reprolab.papers.toolr0.tools"


def group_members(pgid: int) -> list[int]:
    """Live processes in a process group (the worker's session), from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


@pytest.fixture(scope="module")
def box():
    with Sandbox(SandboxLimits(cpu_seconds=1, timeout_seconds=3, memory_mb=256), [TOOLS]) as sb:
        yield sb


def attack(box: Sandbox, code: str):
    """Run code; return the result and the worker's pid for host checks."""
    if box.pid is None:
        box.run_code("result = 0")
    pid = box.pid
    return box.run_code(code), pid


def assert_host_unharmed(box: Sandbox, pid: int) -> None:
    assert group_members(pid) == [] or box.pid == pid  # a killed worker leaves nothing behind
    if box.pid == pid:  # the worker survived: only it is in its group
        assert group_members(pid) == [pid]
    ok = box.run_code("result = 6 * 7")  # the sandbox still serves calls afterwards
    assert ok.ok and ok.value == 42


def test_a_tool_call_runs_and_returns_its_value(box):
    result = box.call(TOOLS, "add", {"a": 2, "b": 40})
    assert result.ok and result.value == 42 and result.error is None


def test_bad_calls_are_clear_errors(box):
    missing = box.call(TOOLS, "no_such_tool", {})
    assert not missing.ok and "unknown tool 'no_such_tool'" in missing.error
    wrong = box.call(TOOLS, "add", {"a": 1})
    assert not wrong.ok and wrong.error.startswith("TypeError")
    other = box.call("os", "system", {"command": "true"})
    assert not other.ok and "not loaded" in other.error


def test_infinite_loop_is_stopped(box):
    result, pid = attack(box, "while True:\n    pass")
    assert not result.ok
    assert "CPU time limit exceeded" in result.error or "timeout" in result.error
    assert result.seconds < 4
    assert_host_unharmed(box, pid)


def test_sleeping_call_hits_the_wall_clock_timeout(box):
    result, pid = attack(box, "import time\ntime.sleep(60)")
    assert not result.ok and result.error.startswith("timeout: no result within 3 s")
    assert group_members(pid) == []
    assert_host_unharmed(box, pid)


def test_memory_bomb_is_refused(box):
    result, pid = attack(box, "blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))")
    assert not result.ok and "memory limit exceeded" in result.error
    assert_host_unharmed(box, pid)


def test_fork_bomb_is_refused(box):
    result, pid = attack(box, "import os\nwhile True:\n    os.fork()")
    assert not result.ok and "'os.fork' is not allowed" in result.error
    assert_host_unharmed(box, pid)
    spawn, pid = attack(box, "import subprocess\nsubprocess.run(['sh', '-c', 'sleep 100'])")
    assert not spawn.ok and "not allowed" in spawn.error
    system, pid = attack(box, "import os\nos.system('sleep 100 &')")
    assert not system.ok and "'os.system' is not allowed" in system.error
    assert_host_unharmed(box, pid)


def test_writes_outside_the_private_directory_are_refused(box, tmp_path):
    target = tmp_path / "escaped.txt"
    result, pid = attack(box, f"open({str(target)!r}, 'w').write('x')")
    assert not result.ok and "outside its directory" in result.error
    relative, _ = attack(box, "import os\nopen('../../escaped.txt', 'w').write('x')")
    assert not relative.ok and "outside its directory" in relative.error
    removal, _ = attack(box, f"import os\nos.remove({str(Path(__file__))!r})")
    assert not removal.ok and "outside its directory" in removal.error
    assert not target.exists() and Path(__file__).exists()
    inside = box.run_code("open('notes.txt', 'w').write('hi')\nresult = open('notes.txt').read()")
    assert inside.ok and inside.value == "hi"
    big = box.run_code("open('big.bin', 'wb').write(b'x' * (64 * 2**20))")
    assert not big.ok and "File too large" in big.error
    assert_host_unharmed(box, pid)


def test_network_connections_are_refused(box):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    listener = threading.Thread(target=accept)
    listener.start()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
    result, pid = attack(box, code)
    listener.join()
    server.close()
    assert not result.ok and "socket" in result.error and "not allowed" in result.error
    assert accepted == []  # nothing reached the host's listener
    assert_host_unharmed(box, pid)


def test_the_worker_is_a_fresh_interpreter_in_its_own_session(box):
    box.run_code("result = 0")
    assert box.pid != os.getpid()
    assert os.getpgid(box.pid) == box.pid != os.getpgid(0)
    assert set(box.isolation) == {"network_namespace"}  # whether a namespace could be made
    workdir = box.workdir
    assert workdir.is_dir() and "reprolab-sandbox-" in str(workdir)
    box.close()
    assert not workdir.exists()
