"""The closure mask: zero attention outside W, no NaN rows, full attention when W covers all."""

from __future__ import annotations

import pytest
import torch

from reprolab.models import load_model
from reprolab.papers.gar.mask import NEVER, additive_mask, allowed_keys, crossover_turn


@pytest.fixture(scope="module")
def eager_model(tiny_model):
    model, tokenizer = load_model(tiny_model, attn="eager")
    return model.eval(), tokenizer


def _positions(batch: int, length: int) -> torch.Tensor:
    return torch.arange(length).repeat(batch, 1)


def _run(model, ids, allowed, positions):
    with torch.no_grad():
        return model(
            input_ids=ids,
            attention_mask=additive_mask(allowed),
            position_ids=positions,
            output_attentions=True,
        )


def test_key_outside_the_window_gets_exactly_zero_attention(eager_model):
    model, _ = eager_model
    ids = torch.randint(3, 200, (2, 12), generator=torch.Generator().manual_seed(0))
    pos = _positions(2, 12)
    allowed = allowed_keys(pos, torch.ones_like(ids, dtype=torch.bool), pos, window=4)
    out = _run(model, ids, allowed, pos)
    for layer in out.attentions:
        for i in range(12):
            for j in range(12):
                weight = layer[:, :, i, j]
                if 0 <= i - j < 4:
                    assert bool((weight > 0).all())
                else:
                    assert bool((weight == 0).all()), (i, j)


def test_padding_rows_give_no_nan_and_padding_keys_no_weight(eager_model):
    model, tokenizer = eager_model
    ids = torch.randint(3, 200, (2, 8), generator=torch.Generator().manual_seed(1))
    valid = torch.ones_like(ids, dtype=torch.bool)
    valid[0, :3] = False  # left padding of row 0
    pos = (torch.cumsum(valid.long(), 1) - 1).clamp(min=0)
    allowed = allowed_keys(pos, valid, pos, window=3)
    out = _run(model, ids, allowed, pos)
    assert not torch.isnan(out.logits).any()
    for layer in out.attentions:
        assert not torch.isnan(layer).any()
        assert bool((layer[0, :, 3:, :3] == 0).all())  # real queries never see the padding


def test_a_window_covering_everything_equals_full_attention(eager_model):
    model, _ = eager_model
    ids = torch.randint(3, 200, (2, 10), generator=torch.Generator().manual_seed(2))
    pos = _positions(2, 10)
    allowed = allowed_keys(pos, torch.ones_like(ids, dtype=torch.bool), pos, window=10)
    masked = _run(model, ids, allowed, pos).logits
    with torch.no_grad():
        plain = model(input_ids=ids).logits
    assert torch.allclose(masked, plain, atol=1e-5)
    narrow = allowed_keys(pos, torch.ones_like(ids, dtype=torch.bool), pos, window=2)
    assert not torch.allclose(_run(model, ids, narrow, pos).logits, plain, atol=1e-3)


def test_sinks_stay_visible_and_hidden_spans_vanish_after_their_end():
    pos = _positions(1, 10)
    valid = torch.ones((1, 10), dtype=torch.bool)
    sink = pos < 2
    allowed = allowed_keys(pos, valid, pos, window=3, key_sink=sink)[0]
    assert allowed[9, 0] and allowed[9, 1] and not allowed[9, 2] and allowed[9, 7]
    hidden = torch.full((1, 10), NEVER)
    hidden[0, 3:5] = 5  # keys 3 and 4 hidden from position 5 on
    allowed = allowed_keys(pos, valid, pos, key_sink=None, hidden_from=hidden)[0]
    assert allowed[4, 3] and not allowed[5, 3] and not allowed[9, 4] and allowed[9, 5]


def test_per_row_windows_and_cached_queries():
    pos = _positions(2, 6)
    valid = torch.ones((2, 6), dtype=torch.bool)
    allowed = allowed_keys(pos, valid, pos[:, -1:], window=torch.tensor([2, NEVER]))
    assert allowed[0, 0].tolist() == [False, False, False, False, True, True]
    assert allowed[1, 0].all()


def test_bad_inputs_are_refused():
    pos = _positions(1, 4)
    valid = torch.ones((1, 4), dtype=torch.bool)
    with pytest.raises(ValueError, match="window"):
        allowed_keys(pos, valid, pos, window=0)
    with pytest.raises(TypeError, match="bool"):
        additive_mask(torch.ones((1, 4, 4)))


def test_additive_mask_is_zero_or_the_dtype_minimum():
    mask = additive_mask(torch.tensor([[[True, False]]]), torch.float32)
    assert mask.shape == (1, 1, 1, 2)
    assert mask[0, 0, 0, 0] == 0 and mask[0, 0, 0, 1] == torch.finfo(torch.float32).min


def test_crossover_formula_by_hand():
    # Goal ends at 100; replies start at 130, 180, 230, 280. W=100: 230-100=130 >= 100 -> turn 3.
    starts = [130, 180, 230, 280]
    assert crossover_turn(starts, 100, 100) == 3
    assert crossover_turn(starts, 100, 30) == 1  # 130 - 100 = 30 >= 30
    assert crossover_turn(starts, 100, 180) == 4
    assert crossover_turn(starts, 100, 181) is None
