"""Progress as log lines (reprolab.progress) from every backend, and no library bars in logs."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from reprolab import progress as progress_module
from reprolab.inference import SamplingParams, get_backend
from reprolab.progress import Progress, format_duration, quiet_progress_bars
from tests.conftest import REPO


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def messages(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0s"), (36.2, "36s"), (259, "4m19s"), (3600, "1h00m"), (11_100, "3h05m")],
)
def test_durations_read_short(seconds, text):
    assert format_duration(seconds) == text
    assert format_duration(float("nan")) == "?"


def test_lines_give_count_rate_and_eta_at_most_every_interval(caplog):
    clock = Clock()
    logger = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress = Progress("generate", 100, "replies", logger, interval=10.0, clock=clock)
        clock.now += 5
        progress.update(10)  # 5 s in: too soon for a line
        clock.now += 5
        progress.update(10)  # 10 s in: 20 done, 2/s, 80 left
        clock.now += 1
        progress.update(10)
        clock.now += 39
        progress.update(70)  # the last: always a line
        progress.close()  # already said: no second final line
    assert messages(caplog, "test.progress") == [
        "generate: 20/100 replies (20.0%), 2.0/s, ETA 40s",
        "generate: 100/100 replies (100.0%), 2.0/s, in 50s",
    ]


def test_close_reports_a_call_that_ended_early_and_nothing_for_no_items(caplog):
    clock = Clock()
    logger = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        with Progress("score", 10, "texts", logger, clock=clock) as progress:
            clock.now += 2
            progress.update(4)
        Progress("score", 0, "texts", logger, clock=clock).close()
    assert messages(caplog, "test.progress") == ["score: 4/10 texts (40.0%), 2.0/s, ETA 3s"]


def test_updates_from_many_threads_are_all_counted(caplog):
    logger = logging.getLogger("test.progress")
    progress = Progress("generate", 800, "replies", logger, interval=3600.0)

    def work() -> None:
        for _ in range(100):
            progress.update()

    with caplog.at_level(logging.INFO, logger="test.progress"):
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        progress.close()
    assert progress.done == 800
    (line,) = messages(caplog, "test.progress")
    assert line.startswith("generate: 800/800 replies (100.0%)")


def test_the_transformers_backend_reports_through_progress(tiny_model, caplog, monkeypatch):
    monkeypatch.setattr(progress_module, "INTERVAL", 0.0)  # a line per batch
    backend = get_backend("transformers", str(tiny_model), batch_size=2)
    name = "reprolab.inference.transformers_backend"
    conversations = [[{"role": "user", "content": f"q{i}"}] for i in range(5)]
    with caplog.at_level(logging.INFO, logger=name):
        backend.generate(conversations, SamplingParams(max_new_tokens=2))
        backend.score(conversations[:3], ["a", "b", "c"])
    lines = messages(caplog, name)
    assert [line.split(" (")[0] for line in lines] == [
        "generate: 2/5 replies",
        "generate: 4/5 replies",
        "generate: 5/5 replies",
        "score: 2/3 texts",
        "score: 3/3 texts",
    ]
    assert "ETA" in lines[0] and lines[2].split(", ")[-1].startswith("in ")


class FakeLLM:
    """vllm.LLM's generate and get_tokenizer, enough for the backend: each output names the
    prompt's token ids and its sampling seed."""

    calls: list[tuple[int, object]] = []

    def __init__(self, **kwargs) -> None:
        pass

    def get_tokenizer(self):
        class Tokenizer:
            def apply_chat_template(self, conversation, tokenize, **kwargs):
                return conversation[-1]["content"]

            def __call__(self, text, add_special_tokens):
                return {"input_ids": [ord(c) for c in text]}

        return Tokenizer()

    def generate(self, prompts, sampling, use_tqdm=True):
        FakeLLM.calls.append((len(prompts), use_tqdm))
        params = sampling if isinstance(sampling, list) else [sampling] * len(prompts)
        return [
            SimpleNamespace(outputs=[SimpleNamespace(text=f"{p['prompt_token_ids']}@{s.seed}")])
            for p, s in zip(prompts, params, strict=True)
        ]


def test_vllm_requests_go_in_chunks_with_a_progress_line_after_each(caplog, monkeypatch):
    fake = SimpleNamespace(LLM=FakeLLM, SamplingParams=lambda **kw: SimpleNamespace(**kw))
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setattr(progress_module, "INTERVAL", 0.0)
    conversations = [[{"role": "user", "content": chr(97 + i)}] for i in range(5)]
    params = SamplingParams(max_new_tokens=2, seed=3)
    whole = get_backend("vllm", "m").generate(conversations, params)
    FakeLLM.calls = []
    name = "reprolab.inference.vllm_backend"
    with caplog.at_level(logging.INFO, logger=name):
        chunked = get_backend("vllm", "m", progress_chunk=2).generate(conversations, params)
    # Same replies, same per-request seeds, in input order; vLLM's own bar stays off.
    assert chunked == whole == [f"[{97 + i}]@{3 + i}" for i in range(5)]
    assert FakeLLM.calls == [(2, False), (2, False), (1, False)]
    assert [line.split(" (")[0] for line in messages(caplog, name)] == [
        "generate: 2/5 replies",
        "generate: 4/5 replies",
        "generate: 5/5 replies",
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def unset_quiet_env(monkeypatch) -> None:
    """The switches' variables unset now, and unset again after the test (setenv records the
    original absence, so whatever quiet_progress_bars sets is removed)."""
    for name in progress_module.QUIET_ENV:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_bars_stay_on_a_terminal(monkeypatch):
    unset_quiet_env(monkeypatch)
    assert quiet_progress_bars(Terminal()) is False
    assert not any(name in os.environ for name in progress_module.QUIET_ENV)


def test_libraries_already_imported_are_switched_off(monkeypatch):
    import datasets
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as transformers_logging

    unset_quiet_env(monkeypatch)
    try:
        assert quiet_progress_bars(io.StringIO()) is True
        assert not transformers_logging.is_progress_bar_enabled()
        assert not datasets.is_progress_bar_enabled()
        assert hub_utils.are_progress_bars_disabled()
    finally:
        transformers_logging.enable_progress_bar()
        datasets.enable_progress_bars()
        hub_utils.enable_progress_bars()


def test_a_user_who_asks_for_bars_keeps_them(monkeypatch):
    unset_quiet_env(monkeypatch)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "0")
    assert quiet_progress_bars(io.StringIO()) is False
    assert "TQDM_DISABLE" not in os.environ


def test_a_step_job_log_gets_no_carriage_returns(tmp_path):
    """`reprolab prepare-model` as rules/models.smk runs it, stderr to its log: transformers
    writes the shards with a bar, which must not reach the file."""
    command = [sys.executable, "-m", "reprolab.cli", "prepare-model", "tiny-random-llama"]
    command += ["--out", str(tmp_path / "m"), "--config-dir", str(REPO / "config")]
    text = job_log(command, tmp_path / "prepare_model.log", cwd=tmp_path)
    assert b"prepared model tiny-random-llama" in text
    assert b"\r" not in text, text


def job_log(command: list[str], log: Path, cwd: Path) -> bytes:
    """Run a command as Snakemake runs a job, stderr to its log (`2> {log}`: not a terminal),
    without the quieting variables of this process; the log's bytes (read_text would turn each
    '\\r' into a newline)."""
    env = {k: v for k, v in os.environ.items() if k not in progress_module.QUIET_ENV}
    with log.open("w") as stderr:
        subprocess.run(
            command,
            stderr=stderr,
            check=True,
            timeout=300,
            cwd=cwd,
            env={**env, "PYTHONPATH": str(REPO / "src")},
        )
    return log.read_bytes()


# What a job does with the libraries that drew bars into logs: a datasets map (TRL's
# tokenizing), transformers' weight loading and shard writing, a plain tqdm loop.
LIBRARY_WORK = """
import sys
if sys.argv[1] == "quiet":
    from reprolab.progress import quiet_progress_bars
    assert quiet_progress_bars()
import datasets, tqdm
from transformers import AutoModelForCausalLM
datasets.Dataset.from_list([{"x": i} for i in range(8)]).map(lambda row: row, desc="Tokenizing")
model = AutoModelForCausalLM.from_pretrained(sys.argv[2])
model.save_pretrained(sys.argv[3])
for _ in tqdm.tqdm(range(3)):
    pass
print("done", file=sys.stderr)
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["quiet", "default"])
def test_a_job_log_gets_no_carriage_returns_once_bars_are_quiet(mode, tiny_model, tmp_path):
    command = [sys.executable, "-c", LIBRARY_WORK, mode, str(tiny_model), str(tmp_path / "saved")]
    text = job_log(command, tmp_path / "job.log", cwd=REPO)
    assert text.rstrip().endswith(b"done")
    if mode == "quiet":
        assert b"\r" not in text, text
    else:  # the control: without the switches these libraries do write bars
        assert text.count(b"\r") >= 3


def test_training_lines_give_the_rate_of_this_process_and_the_eta(tmp_path, caplog):
    """A resumed run (from step 10) counts only its own steps in the rate."""
    import time

    from reprolab.training.trainers import LogCallback

    callback = LogCallback(tmp_path / "train_log.jsonl")
    callback.on_train_begin(None, SimpleNamespace(global_step=10), None)
    callback.started = time.monotonic() - 4.0  # two steps in 4 s: 0.5 steps/s, 8 left
    state = SimpleNamespace(global_step=12, max_steps=20, is_world_process_zero=True)
    with caplog.at_level(logging.INFO, logger="reprolab.training.trainers"):
        callback.on_log(None, state, None, logs={"loss": 0.5, "epoch": 1})
    (line,) = messages(caplog, "reprolab.training.trainers")
    assert line == "step 12/20 (4s, 0.50 steps/s, ETA 16s): loss=0.5"
