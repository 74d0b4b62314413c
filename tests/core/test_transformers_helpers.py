"""Helpers of the transformers backend that multi-turn decoders share: left padding and the
chat template's glue between turns (used by gar's lockstep decoder)."""

from __future__ import annotations

import pytest
import torch

from reprolab.inference.transformers_backend import ChatGlue, pad_left, stop_token_ids
from reprolab.models import load_model


def test_left_padding_aligns_the_last_positions():
    ids, valid = pad_left([[5, 6, 7], [9]], pad=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 9]]
    assert valid.tolist() == [[True, True, True], [False, False, True]]
    assert ids.dtype == torch.long and valid.dtype == torch.bool


@pytest.fixture(scope="module")
def loaded(tiny_model):
    return load_model(tiny_model)


def test_glue_continues_the_template_exactly(loaded):
    _, tokenizer = loaded
    glue = ChatGlue(tokenizer)
    rendered = tokenizer.apply_chat_template(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "a"},
         {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
        tokenize=False, add_generation_prompt=True,
    )  # fmt: skip
    assert glue.first("S", "a") + "b" + glue.next("c", reply_closed=False) == rendered
    # After a reply that emitted its own stop token (ChatML closes a reply with its eos), the
    # glue starts past that token.
    eos = tokenizer.eos_token
    assert glue.between.startswith(eos)
    assert eos + glue.next("c", reply_closed=True) == glue.next("c", reply_closed=False)


def test_stop_tokens_include_the_eos(loaded):
    model, tokenizer = loaded
    assert tokenizer.eos_token_id in stop_token_ids(model, tokenizer)
