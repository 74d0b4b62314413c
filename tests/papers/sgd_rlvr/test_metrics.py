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


def test_energy_ranks_cover_layer_matrices_only():
    base = weights()
    tuned = {k: v.clone() for k, v in base.items()}
    tuned["model.layers.0.mlp.up_proj.weight"] += torch.outer(torch.ones(16), torch.ones(8))
    result = ev.energy_ranks(base, tuned, 0.99)
    assert set(result["per_matrix"]) == {
        "model.layers.0.mlp.up_proj.weight",
        "model.layers.1.mlp.up_proj.weight",
    }
    assert result["per_matrix"]["model.layers.0.mlp.up_proj.weight"] == {"rank": 1, "full_rank": 8}
    assert result["effective_rank_mean"] == 0.5  # ranks 1 and 0
    assert result["effective_rank_fraction"] == pytest.approx(1 / 16)


# The authors' update rank (update_rank.py). Planted updates are integer outer products on
# integer weights: every value stays below 256, so it is exact in bf16 and the bf16 difference
# is the planted matrix itself, whose rank is known by construction.


def integer_base(seed=0):
    g = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return torch.randint(-8, 9, shape, generator=g).float()

    return {
        "model.embed_tokens.weight": draw(10, 8),
        "model.layers.0.input_layernorm.weight": draw(8),
        "model.layers.0.mlp.up_proj.weight": draw(16, 8),
        "model.layers.1.mlp.up_proj.weight": draw(16, 8),
        # No real model has a 2-D layernorm; it checks the script's name rule on its own.
        "model.layers.1.post_attention_layernorm.weight": draw(4, 8),
        "model.norm.weight": draw(8),
        "lm_head.weight": draw(10, 8),
    }


def planted_rank(rows, cols, r):
    """U V^T with U (rows x r), V (cols x r) integer and full column rank (an identity on
    top), so the product has rank exactly r; entries stay within +-r."""
    g = torch.Generator().manual_seed(rows * 100 + cols * 10 + r)
    u = torch.randint(-1, 2, (rows, r), generator=g).float()
    v = torch.randint(-1, 2, (cols, r), generator=g).float()
    u[:r], v[:r] = torch.eye(r), torch.eye(r)
    return u @ v.T


def test_authors_rank_of_planted_updates_by_hand():
    base = integer_base()
    tuned = {k: v.clone() for k, v in base.items()}
    tuned["model.embed_tokens.weight"] += planted_rank(10, 8, 2)  # 2 of 8
    tuned["model.layers.0.mlp.up_proj.weight"] += planted_rank(16, 8, 3)  # 3 of 8
    tuned["lm_head.weight"] += planted_rank(10, 8, 1)  # 1 of 8 (untied: counted)
    # Changed but never counted: 1-D tensors, and a tensor named 'layernorm'.
    tuned["model.layers.0.input_layernorm.weight"] += 1.0
    tuned["model.norm.weight"] -= 2.0
    tuned["model.layers.1.post_attention_layernorm.weight"] += planted_rank(4, 8, 4)
    result = ev.update_rank(base, tuned)
    assert result["per_tensor"] == {
        "lm_head.weight": {"rank": 1, "full_rank": 8},
        "model.embed_tokens.weight": {"rank": 2, "full_rank": 8},
        "model.layers.0.mlp.up_proj.weight": {"rank": 3, "full_rank": 8},
        "model.layers.1.mlp.up_proj.weight": {"rank": 0, "full_rank": 8},
    }
    # Mean of the per-tensor fractions, x100: (1 + 2 + 3 + 0) / 8 / 4 = 18.75%.
    assert result["update_rank_pct"] == pytest.approx(18.75)


def test_authors_rank_is_zero_below_bf16_resolution():
    # 1 + 1e-3 rounds to 1 in bf16 (spacing 2**-7 near 1): no update in bf16, rank 0, while the
    # fp32 update (a constant, rank 1) is what the energy rank sees.
    base = {"model.layers.0.mlp.up_proj.weight": torch.ones(16, 8)}
    tuned = {"model.layers.0.mlp.up_proj.weight": torch.ones(16, 8) + 1e-3}
    assert ev.update_rank(base, tuned)["update_rank_pct"] == 0.0
    assert ev.energy_ranks(base, tuned, 0.99)["effective_rank_mean"] == 1


def test_authors_rank_subtracts_in_bf16():
    # 256 - (-1.0078125) = 257.0078125 exactly; in bf16 (spacing 2 above 256) it rounds to 258.
    # The bf16 difference is all 258s (rank 1 of 2: 50%); an fp32 difference would be rank 2.
    base = {"model.layers.0.w": torch.tensor([[-1.0078125, 0.0], [0.0, 0.0]])}
    tuned = {"model.layers.0.w": torch.tensor([[256.0, 258.0], [258.0, 258.0]])}
    assert int(torch.linalg.matrix_rank(tuned["model.layers.0.w"] - base["model.layers.0.w"])) == 2
    assert ev.update_rank(base, tuned)["update_rank_pct"] == 50.0


def test_authors_rank_counts_bf16_rounding_noise():
    # A rank-1 fp32 update that moves every weight across the bf16 grid: the rounding errors of
    # base and tuned are not low-rank, so the authors' rank is full while the energy rank is 1.
    g = torch.Generator().manual_seed(0)
    base = {"model.layers.0.w": torch.randn(16, 8, generator=g)}
    update = 0.5 * torch.outer(torch.randn(16, generator=g), torch.randn(8, generator=g))
    tuned = {"model.layers.0.w": base["model.layers.0.w"] + update}
    assert ev.update_rank(base, tuned)["update_rank_pct"] == 100.0
    assert ev.energy_ranks(base, tuned, 0.99)["effective_rank_mean"] == 1


def test_authors_rank_counts_a_tied_output_embedding_once(tmp_path):
    base = {k: v for k, v in integer_base().items() if k != "lm_head.weight"}
    tuned = {k: v.clone() for k, v in base.items()}
    tuned["model.embed_tokens.weight"] += planted_rank(10, 8, 2)
    tuned["model.layers.0.mlp.up_proj.weight"] += planted_rank(16, 8, 3)
    for name, weights_ in (("base", base), ("tuned", tuned)):
        (tmp_path / name).mkdir()
        tied = dict(weights_, **{"lm_head.weight": weights_["model.embed_tokens.weight"].clone()})
        save_file(tied, str(tmp_path / name / "model.safetensors"))
    settings = {"atol": 1e-5, "rank_energy": 0.99}
    result = ev.weight_update(tmp_path / "base", tmp_path / "tuned", settings)
    # embed 2/8, layer 0 3/8, layer 1 0/8; the tied head is not a fourth tensor: 5/24 = 20.83%.
    assert "lm_head.weight" not in result["update_rank_per_tensor"]
    assert len(result["update_rank_per_tensor"]) == 3
    assert result["update_rank_pct"] == pytest.approx(100 * 5 / 24)
    # The energy rank is kept beside it, over the layers' matrices only: layer 0's update has
    # rank 3 (its 99%-energy rank is 1 to 3), layer 1's none, so at most (3/8 + 0) / 2.
    assert 1 / 16 <= result["effective_rank_fraction"] <= 3 / 16
    # Without ranks (SFT arms at tiny): the same sparsity, no SVD-based keys.
    sparse_only = ev.weight_update(tmp_path / "base", tmp_path / "tuned", settings, ranks=False)
    assert sparse_only["updated_fraction_bf16"] == result["updated_fraction_bf16"]
    assert not {"update_rank_pct", "effective_rank_mean"} & set(sparse_only)


def test_authors_rank_refuses_tensors_beyond_two_dimensions():
    base = {"model.conv.weight": torch.zeros(2, 3, 4)}
    with pytest.raises(ValueError, match="3-D"):
        ev.update_rank(base, {"model.conv.weight": torch.ones(2, 3, 4)})


def test_summarize_derives_the_paper_comparisons():
    evals = {
        "grpo_sgd": {
            "accuracy": 0.5,
            "updated_fraction_bf16": 0.0,
            "parameters": 1000,
            "effective_rank_mean": 2,
            "update_rank_pct": 12.5,
        },
        "grpo_adamw": {
            "accuracy": 0.4,
            "updated_fraction_bf16": 0.5,
            "parameters": 1000,
            "effective_rank_mean": 7,
            "update_rank_pct": 87.5,
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
    assert metrics["update_rank_gap_adamw_minus_sgd"] == 75.0  # percentage points
    # Each optimizer feature over plain SGD, where the arm ran.
    evals["sft_sgd_momentum"] = {"accuracy": 0.4}
    metrics = ev.summarize(evals)
    assert metrics["sft_accuracy_gap_sgd_momentum_minus_sgd"] == pytest.approx(0.3)
    assert "grpo_accuracy_gap_sgd_momentum_minus_sgd" not in metrics


def grid_results(sgd_x1, sgd_x3, adamw_x1, adamw_x3):
    return {
        "grpo_sgd": {"accuracy": sgd_x1, "lr": 0.01},
        "grpo_sgd_lr1": {"accuracy": sgd_x3, "lr": 0.03},
        "grpo_adamw": {"accuracy": adamw_x1, "lr": 5e-6},
        "grpo_adamw_lr1": {"accuracy": adamw_x3, "lr": 1.5e-5},
    }


GRID = {"factors": [1, 3], "arms": ["grpo_sgd", "grpo_adamw"]}


def test_grid_picks_the_best_validation_accuracy_and_ties_keep_the_config():
    chosen = ev.select_learning_rates(grid_results(0.5, 0.6, 0.4, 0.4), GRID)
    assert chosen["grpo_sgd"]["selected_lr"] == 0.03
    assert chosen["grpo_sgd"]["config_is_selected"] is False
    assert chosen["grpo_adamw"]["selected_lr"] == 5e-6  # a tie keeps the configured rate
    assert chosen["grpo_adamw"]["config_is_selected"] is True
    flat = ev.grid_metrics(chosen)
    assert flat["grid.grpo_sgd.x3.val_accuracy"] == 0.6
    assert flat["grid.grpo_sgd.x1.val_accuracy"] == 0.5
    assert flat["grid.grpo_sgd.selected_factor"] == 3.0
    assert flat["grid.grpo_sgd.config_is_selected"] == 0.0
    assert flat["grid.grpo_adamw.config_is_selected"] == 1.0


def test_grid_needs_every_point_and_the_configured_rate():
    results = grid_results(0.5, 0.6, 0.4, 0.4)
    del results["grpo_adamw_lr1"]
    with pytest.raises(ValueError, match="grpo_adamw_lr1"):
        ev.select_learning_rates(results, GRID)
    with pytest.raises(ValueError, match="must hold 1"):
        ev.select_learning_rates(grid_results(0.5, 0.6, 0.4, 0.4), dict(GRID, factors=[3]))


def test_grid_points_and_seeded_arms_by_name():
    from reprolab.config import load_config
    from reprolab.papers.sgd_rlvr.steps import arms, grid_arms, optimizer_of

    cfg = load_config("sgd_rlvr", "tiny")
    assert grid_arms(cfg) == ["grpo_sgd_lr1", "grpo_adamw_lr1", "sft_sgd_lr1"]
    kind, name, optimizer = optimizer_of(cfg, "grpo_sgd_lr1")
    assert (kind, name) == ("grpo", "sgd")
    assert optimizer["lr"] == pytest.approx(3 * cfg["grpo"]["arms"]["sgd"]["lr"])
    assert optimizer_of(cfg, "sft_sgd_lr1")[2]["lr"] == 0.3  # no float residue
    assert optimizer_of(cfg, "grpo_sgd_momentum")[2] == cfg["grpo"]["arms"]["sgd_momentum"]
    assert "grpo_sgd_momentum" in arms(cfg, first_seed=True)
    assert arms(cfg, first_seed=False) == ["grpo_adamw", "grpo_sgd", "sft_adamw", "sft_sgd"]


def test_skipped_arms_run_nowhere_and_the_base_is_scored_only_on_trained_tasks():
    from reprolab.papers.sgd_rlvr.steps import seed_arms

    arms_cfg = {"sgd": {}, "adamw": {}}
    cfg = {"grpo": {"arms": arms_cfg}, "sft": {"arms": arms_cfg}, "first_seed_only": ["sft_sgd"]}
    assert seed_arms(cfg, "", scored=True) == [
        "base", "base_sft", "grpo_sgd", "grpo_adamw", "sft_sgd", "sft_adamw"
    ]  # fmt: skip
    assert seed_arms(cfg, "seeds/1") == ["grpo_sgd", "grpo_adamw", "sft_adamw"]
    rl_only = {**cfg, "skip_arms": ["sft_sgd", "sft_adamw"]}
    assert seed_arms(rl_only, "", scored=True) == ["base", "grpo_sgd", "grpo_adamw"]
    sft_only = {**cfg, "skip_arms": ["grpo_sgd", "grpo_adamw"]}
    assert seed_arms(sft_only, "seeds/1", scored=True) == ["base_sft", "sft_adamw"]


def test_sgd_is_recorded_again_only_where_an_ablation_of_its_kind_ran():
    rows = [{"id": 0, "correct": True}, {"id": 1, "correct": False}]
    preds = {"grpo_sgd": rows, "grpo_rmsprop": rows[::-1], "sft_sgd": rows}
    units = ev.evidence({}, preds, seed=0)
    where = units.samples["grpo_sgd.correct_where_ablated"]
    assert where.ids == units.samples["grpo_sgd.correct"].ids and where.values == (1.0, 0.0)
    assert "sft_sgd.correct_where_ablated" not in units.samples  # no SFT ablation ran
    assert "grpo_sgd.correct_where_ablated" not in ev.evidence({}, {"grpo_sgd": rows}, 0).samples
