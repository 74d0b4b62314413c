"""The openai backend's retries, timeouts and connection reuse against a local server that
injects failures (tests/core/http_faults.py); no model, no llama.cpp."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from reprolab.inference import SamplingParams, get_backend
from reprolab.inference import openai_backend as ob
from tests.core.http_faults import FaultyServer

QUESTIONS = ["one", "two", "three", "four"]
PARAMS = SamplingParams(max_new_tokens=4)


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The seconds the backend would have slept between attempts, slept instantly."""
    slept: list[float] = []
    monkeypatch.setattr(ob, "_sleep", slept.append)
    return slept


def backend(server: FaultyServer, **options):
    options = {"max_concurrency": 1, "jitter": 0.0, **options}
    return get_backend("openai", "m", base_url=server.url, **options)


def test_503_429_and_a_dropped_connection_are_retried_and_the_replies_come_back_right(waits):
    faults = [503, (429, {"Retry-After": "7"}), "drop"]
    with FaultyServer(faults) as server:
        replies = backend(server, backoff=0.5).generate([ask(q) for q in QUESTIONS], PARAMS)
    assert replies == [f"re: {q}" for q in QUESTIONS]
    # Three failed attempts, then the four requests: the first request took four tries.
    assert len(server.requests) == 3 + len(QUESTIONS)
    assert [r["body"]["messages"][0]["content"] for r in server.requests[:4]] == ["one"] * 4
    # Backoff 0.5 s doubled per retry; the 429's Retry-After (7 s) instead of 1 s.
    assert waits == [0.5, 7.0, 2.0]


def test_waits_double_up_to_the_cap_with_jitter_below_each_step(waits):
    with FaultyServer([503] * 5) as server:
        reply = backend(server, max_attempts=6, backoff=1.0, backoff_max=5.0, jitter=0.5)
        assert reply.generate([ask("x")], PARAMS) == ["re: x"]
    assert len(server.requests) == 6
    assert len(waits) == 5
    for got, full in zip(waits, [1.0, 2.0, 4.0, 5.0, 5.0], strict=True):
        assert full * 0.5 <= got <= full


def test_retry_after_is_capped_by_backoff_max(waits):
    with FaultyServer([(503, {"Retry-After": "3600"})]) as server:
        assert backend(server, backoff_max=30.0).generate([ask("x")], PARAMS) == ["re: x"]
    assert waits == [30.0]


def test_a_read_timeout_is_retried(waits):
    with FaultyServer([("slow", 1.5)]) as server:
        replies = backend(server, timeout=0.3).generate([ask("x")], PARAMS)
    assert replies == ["re: x"]
    assert len(server.requests) == 2 and waits == [1.0]


def test_a_400_fails_at_once_naming_the_url_status_and_body(waits):
    with FaultyServer([400, 503]) as server, pytest.raises(ob.ServerError) as error:
        backend(server).generate([ask("x")], PARAMS)
    assert len(server.requests) == 1 and waits == []
    assert error.value.status == 400 and error.value.attempts == 1
    message = str(error.value)
    assert f"{server.url}/chat/completions" in message
    assert "HTTP 400" in message and "injected 400" in message


def test_attempts_exhausted_gives_a_clear_error(waits):
    with FaultyServer([502] * 3 + ["drop"]) as server:
        with pytest.raises(ob.ServerError) as http_error:
            backend(server, max_attempts=3).generate([ask("x")], PARAMS)
        assert len(server.requests) == 3 and waits == [1.0, 2.0]
        message = str(http_error.value)
        assert f"POST {server.url}/chat/completions answered HTTP 502 after 3 attempts" in message
        assert "injected 502" in message
        # A server that drops every connection: the error names the transport failure.
        with pytest.raises(ob.ServerError) as dropped:
            backend(server, max_attempts=1).generate([ask("y")], PARAMS)
    assert dropped.value.status is None
    assert f"POST {server.url}/chat/completions failed" in str(dropped.value)
    assert "RemoteProtocolError" in str(dropped.value)


def test_nothing_listening_is_a_connection_error_retried_then_raised(waits):
    with FaultyServer([]) as server:
        url = server.url
    dead = get_backend("openai", "m", base_url=url, max_attempts=2, jitter=0.0, backoff=0.25)
    with pytest.raises(ob.ServerError, match="ConnectError") as error:
        dead.generate([ask("x")], PARAMS)
    assert error.value.attempts == 2 and waits == [0.25]


def test_one_connection_serves_every_request_in_turn(waits):
    with FaultyServer([]) as server:
        client = backend(server)
        client.generate([ask(q) for q in QUESTIONS], PARAMS)
        client.generate([ask("again")], PARAMS)
    assert len(server.requests) == len(QUESTIONS) + 1
    assert len(server.connections) == 1  # one client port: the connection was kept


def test_concurrent_requests_keep_their_order_and_each_is_retried(waits):
    many = [f"q{i}" for i in range(24)]
    with FaultyServer([503, 429, "drop", 500, 503, 504]) as server:
        client = backend(server, max_concurrency=6, max_attempts=10)
        replies = client.generate([ask(q) for q in many], PARAMS)
    assert replies == [f"re: {q}" for q in many]
    assert len(server.requests) == len(many) + 6 and len(waits) == 6
    assert len(server.connections) <= 6 + 2  # pooled: at most one per worker, plus the reopened


def test_a_failure_cancels_the_requests_not_yet_sent(waits):
    with FaultyServer([400]) as server, pytest.raises(ob.ServerError):
        backend(server).generate([ask(q) for q in QUESTIONS * 5], PARAMS)
    # The failed request, and at most the one its worker had already taken up.
    assert len(server.requests) <= 2


def test_scoring_refused_by_the_server_is_not_implemented_but_a_busy_server_is_an_error(waits):
    with FaultyServer([422, 503, 503]) as server:
        client = backend(server, max_attempts=2, tokenizer="unused")
        client._prompt = lambda conversation: conversation[-1]["content"]
        with pytest.raises(NotImplementedError, match="cannot score text"):
            client.score([ask("x")], ["y"])
        with pytest.raises(ob.ServerError, match="HTTP 503 after 2 attempts"):
            client.score([ask("x")], ["y"])


def test_progress_lines_count_the_replies(waits, caplog):
    with FaultyServer([]) as server, caplog.at_level(logging.INFO, logger=ob.__name__):
        backend(server).generate([ask(q) for q in QUESTIONS], PARAMS)
    lines = [r.getMessage() for r in caplog.records if r.name == ob.__name__]
    assert lines[-1].startswith("generate: 4/4 replies (100.0%), ")
    assert "\r" not in caplog.text


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 01 Jan 2031 00:00:30 GMT", 30.0),
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    now = datetime(2031, 1, 1, tzinfo=UTC)
    assert ob.retry_after(header, now=now) == seconds


def test_options_out_of_range_are_refused():
    with pytest.raises(ValueError, match="max_attempts"):
        get_backend("openai", "m", max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        get_backend("openai", "m", jitter=2.0)
