"""A local HTTP server that fails the first requests as told, then answers or forwards.

Tests of the openai backend's retries put it on 127.0.0.1: alone, it answers like a tiny
OpenAI-compatible server (tests/core); in front of llama.cpp's server, it forwards
(tests/system). Each fault is used by one request, in arrival order:

    503, (429, {"Retry-After": "2"}), "drop" (close the connection without an answer),
    ("slow", 0.5) (answer correctly after 0.5 s, past a short read timeout).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Fault = int | str | tuple


def echo_reply(path: str, body: dict) -> dict:
    """The stand-alone server's answer: the request's last message (or prompt) echoed back."""
    if path.endswith("/chat/completions"):
        text = "re: " + body["messages"][-1]["content"]
        return {"choices": [{"message": {"role": "assistant", "content": text}}]}
    return {"choices": [{"text": "re: " + body["prompt"]}], "usage": {"completion_tokens": 1}}


class FaultyServer:
    """Serves on 127.0.0.1 in a thread; records every request (path, body, client port)."""

    def __init__(self, faults: list[Fault], upstream: str | None = None):
        self.faults = list(faults)
        self.upstream = upstream  # e.g. http://127.0.0.1:8080: forward there once faults run out
        self.requests: list[dict[str, Any]] = []
        self.connections: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self.answer: Callable[[str, dict], dict] = echo_reply
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FaultyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, path: str, body: dict, client: tuple[str, int]) -> Fault | None:
        with self._lock:
            self.requests.append({"path": path, "body": body, "client": client})
            self.connections.add(client)
            return self.faults.pop(0) if self.faults else None

    def _forward(self, path: str, raw: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.upstream + path, data=raw, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the client may reuse its connection

            def log_message(self, *args) -> None:
                pass

            def send(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up first (a "slow" fault)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                fault = outer._next_fault(self.path, body, self.client_address[:2])
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(fault, tuple) and fault[0] == "slow":
                    time.sleep(fault[1])
                    fault = None
                if isinstance(fault, int | tuple):
                    status, headers = (fault, {}) if isinstance(fault, int) else fault
                    error = {"error": {"message": f"injected {status}", "code": status}}
                    self.send(status, json.dumps(error).encode(), headers)
                    return
                if outer.upstream is not None:
                    self.send(*outer._forward(self.path, raw))
                    return
                self.send(200, json.dumps(outer.answer(self.path, body)).encode())

        return Handler
