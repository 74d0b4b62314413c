"""sgd_rlvr's measurements against cases whose answers are known by hand."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from reprolab.papers.sgd_rlvr import evaluate as ev


def weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "model.embed_tokens.weight": torch.randn(10, 8, generator=g),
        "model.layers.0.mlp.up_proj.weight": torch.randn(16, 8, generator=g),
        "model.layers.1.mlp.up_proj.weight": torch.randn(16, 8, generator=g),
        "model.norm.weight": torch.ones(8),
    }


def test_planted_sparse_update_is_counted_exactly():
    base = weights()
    tuned = {k: v.clone() for k, v in base.items()}
    tuned["model.layers.0.mlp.up_proj.weight"][0, :3] += 0.5  # 3 clearly updated entries
    tuned["model.layers.1.mlp.up_proj.weight"][2, 0] -= 1.0  # 1 more
    result = ev.update_sparsity(base, tuned, atol=1e-5)
    n = 80 + 128 + 128 + 8
    assert result["parameters"] == n
    assert result["updated_fraction_bf16"] == pytest.approx(4 / n)
    assert result["updated_fraction_fp32"] == pytest.approx(4 / n)
    assert result["exact_zero_fraction"] == pytest.approx((n - 4) / n)
    assert result["per_layer"]["layer000"]["updated_fraction_bf16"] == pytest.approx(3 / 128)
    assert result["per_layer"]["layer001"]["updated_fraction_bf16"] == pytest.approx(1 / 128)
    assert result["per_layer"]["embedding"]["updated_fraction_bf16"] == 0.0


def test_bf16_absorbs_small_updates_that_fp32_sees():
    # 1 + 1e-3 rounds to 1 in bf16 (its spacing near 1 is 2**-7), but is a visible fp32 change.
    base = {"model.layers.0.w": torch.ones(4, 4)}
    tuned = {"model.layers.0.w": torch.ones(4, 4) + 1e-3}
    result = ev.update_sparsity(base, tuned, atol=1e-5)
    assert result["updated_fraction_bf16"] == 0.0
    assert result["updated_fraction_fp32"] == 1.0


def test_tied_output_embedding_counted_once(tmp_path):
    base = weights()
    tied = dict(base, **{"lm_head.weight": base["model.embed_tokens.weight"].clone()})
    save_file(tied, str(tmp_path / "model.safetensors"))
    loaded = ev.load_weights(tmp_path)
    assert "lm_head.weight" not in loaded
    assert sum(t.numel() for t in loaded.values()) == 344


def test_untied_output_embedding_is_kept(tmp_path):
    base = weights()
    untied = dict(base, **{"lm_head.weight": torch.zeros(10, 8)})
    save_file(untied, str(tmp_path / "model.safetensors"))
    assert "lm_head.weight" in ev.load_weights(tmp_path)


def test_effective_rank_of_planted_low_rank_update():
    q, _ = torch.linalg.qr(torch.randn(32, 32, generator=torch.Generator().manual_seed(1)))
    # Rank 3 with equal singular values: 3 directions are needed for 99% of the energy.
    delta = q[:, :3] @ q[:3, :] * 2.0
    assert ev.effective_rank(delta, 0.99) == 3
    # Singular values 10, 1, 0.01: 100 / 101.0001 = 0.990099 >= 0.99, so one direction is enough.
    planted = 10 * torch.outer(q[:, 0], q[:, 0]) + torch.outer(q[:, 1], q[:, 1])
    planted += 0.01 * torch.outer(q[:, 2], q[:, 2])
    assert ev.effective_rank(planted, 0.99) == 1
    assert ev.effective_rank(planted, 0.995) == 2
    assert ev.effective_rank(torch.zeros(5, 4), 0.99) == 0


def test_update_ranks_cover_layer_matrices_only():
    base = weights()
    tuned = {k: v.clone() for k, v in base.items()}
    tuned["model.layers.0.mlp.up_proj.weight"] += torch.outer(torch.ones(16), torch.ones(8))
    result = ev.update_ranks(base, tuned, 0.99)
    assert set(result["per_matrix"]) == {
        "model.layers.0.mlp.up_proj.weight",
        "model.layers.1.mlp.up_proj.weight",
    }
    assert result["per_matrix"]["model.layers.0.mlp.up_proj.weight"] == {"rank": 1, "full_rank": 8}
    assert result["effective_rank_mean"] == 0.5  # ranks 1 and 0
    assert result["effective_rank_fraction"] == pytest.approx(1 / 16)


def test_summarize_derives_the_paper_comparisons():
    evals = {
        "grpo_sgd": {
            "accuracy": 0.5,
            "updated_fraction_bf16": 0.0,
            "parameters": 1000,
            "effective_rank_mean": 2,
        },
        "grpo_adamw": {
            "accuracy": 0.4,
            "updated_fraction_bf16": 0.5,
            "parameters": 1000,
            "effective_rank_mean": 7,
        },
        "sft_sgd": {"accuracy": 0.1},
        "sft_adamw": {"accuracy": 0.6},
    }
    metrics = ev.summarize(evals)
    assert metrics["grpo_sgd.accuracy"] == 0.5
    # SGD updated nothing: the ratio uses a floor of one parameter (1/1000).
    assert metrics["updated_fraction_ratio_adamw_over_sgd"] == pytest.approx(500.0)
    assert metrics["grpo_accuracy_gap_adamw_minus_sgd"] == pytest.approx(-0.1)
    assert metrics["sft_accuracy_gap_adamw_minus_sgd"] == pytest.approx(0.5)
    assert metrics["effective_rank_gap_adamw_minus_sgd"] == 5
