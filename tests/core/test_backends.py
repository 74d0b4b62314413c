"""The cluster backends' registration and the parts of them that run without a GPU or server."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys

import pytest
import yaml

from reprolab.config import load_config
from reprolab.inference import BACKENDS, get_backend
from reprolab.inference.openai_backend import _continuation_logprob
from tests.conftest import REPO


def test_cluster_backends_are_registered_and_importing_them_needs_no_vllm():
    assert {"transformers", "vllm", "openai"} <= set(BACKENDS)
    # Importing the interface, and even the vLLM backend's module, never imports vllm itself.
    code = (
        "import sys, importlib\n"
        "import reprolab.inference as inf\n"
        "for target in inf.BACKENDS.values():\n"
        "    mod, cls = target.split(':')\n"
        "    assert issubclass(getattr(importlib.import_module(mod), cls), inf.InferenceBackend)\n"
        "assert 'vllm' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_choosing_vllm_without_it_says_where_it_runs():
    with pytest.raises(ImportError, match="NVIDIA GPUs only.*environment.yml"):
        get_backend("vllm", "some/model")


# An echo as llama.cpp's server gives it for "<|im_start|>user\nhi<|im_end|>\n<|im_start|>
# assistant\nHello there" plus one generated token: special tokens empty or left out.
ECHO = {
    "tokens": ["user", "\n", "hi", "", "\n", "ass", "istant", "\n", "Hello", " there", ","],
    "token_logprobs": [None, -1.0, -2.0, -3.0, -0.1, -0.1, -0.1, -0.1, -0.5, -0.25, -9.0],
}


def test_continuation_logprob_sums_the_tokens_of_the_continuation():
    assert _continuation_logprob(ECHO, "Hello there", generated=1) == -0.75
    assert _continuation_logprob(ECHO, " there", generated=1) == -0.25
    assert _continuation_logprob(ECHO, "", generated=1) == 0.0
    # No generated token listed (the server stopped at once): the last token is the prompt's.
    assert _continuation_logprob(ECHO, " there,", generated=0) == -9.25
    # A token straddling the boundary counts with the continuation.
    assert _continuation_logprob(ECHO, "ello there", generated=1) == -0.75


def test_an_echo_that_does_not_end_with_the_continuation_is_an_error():
    with pytest.raises(ValueError, match="do not end with the continuation"):
        _continuation_logprob(ECHO, "Goodbye there", generated=1)


def test_a_server_without_prompt_logprobs_cannot_score():
    with pytest.raises(NotImplementedError, match="cannot score"):
        _continuation_logprob({"tokens": ["a"], "token_logprobs": None}, "a", 1)
    with pytest.raises(NotImplementedError):
        _continuation_logprob(None, "a", 1)


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_each_scale_chooses_a_backend_that_takes_its_options(scale):
    """A misspelt backend or option would otherwise surface only in a job on the cluster."""
    papers = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["papers"]
    for paper in papers:
        cfg = load_config(paper, scale, REPO / "config")
        # Any section of a paper's config may choose a backend (evaluate, judge, ...).
        chosen = [s for s in cfg.values() if isinstance(s, dict) and "backend" in s]
        assert chosen, f"{paper} at {scale} chooses no inference backend"
        for section in chosen:
            module, name = BACKENDS[section["backend"]].split(":")
            backend = getattr(importlib.import_module(module), name)
            inspect.signature(backend).bind("model", **section.get("backend_options", {}))
