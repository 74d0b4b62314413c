"""The cluster backends' registration and the parts of them that run without a GPU or server."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from reprolab.inference import BACKENDS, get_backend
from reprolab.inference.openai_backend import _continuation_logprob


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


def test_continuation_logprob_sums_the_tokens_inside_the_continuation():
    # prompt "ab" + continuation "cde", echoed as tokens a|b|cd|e and then the generated token.
    echoed = {
        "text_offset": [0, 1, 2, 4, 5],
        "token_logprobs": [None, -1.0, -0.5, -0.25, -3.0],
    }
    assert _continuation_logprob(echoed, start=2, length=3) == -0.75
    assert _continuation_logprob(echoed, start=5, length=0) == 0.0


def test_a_server_without_prompt_logprobs_cannot_score():
    with pytest.raises(NotImplementedError, match="cannot score"):
        _continuation_logprob({"text_offset": [0], "token_logprobs": None}, 0, 1)
    with pytest.raises(NotImplementedError):
        _continuation_logprob(None, 0, 1)
