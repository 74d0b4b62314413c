"""Optimizers from config, their state sizes, and GRPO/SFT/DPO that resume after an interruption."""

from __future__ import annotations

import shutil

import pytest
import torch
from transformers import TrainerCallback

from reprolab.io import read_json, read_jsonl
from reprolab.papers.sgd_rlvr.answers import correctness_reward, make_format_reward
from reprolab.training.optimizers import build_optimizer, describe, optimizer_state_bytes
from reprolab.training.trainers import last_complete_checkpoint, train


@pytest.mark.parametrize(
    ("spec", "cls", "state_bytes"),
    [
        # Linear(3, 2): 8 float32 parameters = 32 bytes.
        ({"name": "sgd", "lr": 0.1}, torch.optim.SGD, 0),
        ({"name": "sgd", "lr": 0.1, "momentum": 0.9}, torch.optim.SGD, 32),
        ({"name": "rmsprop", "lr": 1e-3}, torch.optim.RMSprop, 32),
        ({"name": "adamw", "lr": 1e-3, "betas": [0.9, 0.99]}, torch.optim.AdamW, 64),
    ],
)
def test_optimizer_from_spec_and_its_state(spec, cls, state_bytes):
    layer = torch.nn.Linear(3, 2)
    opt = build_optimizer(layer.parameters(), spec)
    assert type(opt) is cls
    assert opt.param_groups[0]["lr"] == spec["lr"]
    layer(torch.ones(1, 3)).sum().backward()
    opt.step()
    assert optimizer_state_bytes(opt) == state_bytes
    assert describe(opt)["class"] == cls.__name__


def test_optimizer_errors_name_the_key():
    params = torch.nn.Linear(2, 2).parameters()
    with pytest.raises(ValueError, match="optimizer.name: 'lion' unknown"):
        build_optimizer(params, {"name": "lion", "lr": 1.0})
    with pytest.raises(ValueError, match=r"unknown keys \['betas'\]"):
        build_optimizer(params, {"name": "sgd", "lr": 1.0, "betas": [0.9, 0.9]})


class Interrupt(TrainerCallback):
    """Kill the run once a given step is done and saved, as a preempted job would be."""

    def __init__(self, step):
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt("simulated preemption")


GRPO_ARGS = {
    "max_steps": 3,
    "save_steps": 1,
    "per_device_train_batch_size": 4,
    "num_generations": 4,
    "max_completion_length": 6,
    "temperature": 1.0,
    "lr_scheduler_type": "constant",
}


def grpo_rows():
    return [
        {"prompt": [{"role": "user", "content": f"What is {i} + 1?"}], "answer": str(i + 1)}
        for i in range(8)
    ]


def run_grpo(tiny_model, tmp_path, name, callbacks=()):
    return train(
        "grpo",
        tiny_model,
        grpo_rows(),
        tmp_path / name / "model",
        tmp_path / name / "checkpoints",
        trainer_args=GRPO_ARGS,
        optimizer={"name": "sgd", "lr": 0.5},
        seed=0,
        reward_funcs=[correctness_reward, make_format_reward(0.1)],
        callbacks=callbacks,
    )


def test_grpo_resumes_from_its_last_checkpoint(tiny_model, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_grpo(tiny_model, tmp_path, "run", callbacks=[Interrupt(step=2)])
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir()
    assert not (tmp_path / "run" / "model").exists()

    summary = run_grpo(tiny_model, tmp_path, "run")
    assert summary["resumed_from_step"] == 2
    assert summary["steps"] == 3
    assert read_json(tmp_path / "run" / "model" / "train_summary.json") == summary
    log = read_jsonl(tmp_path / "run" / "model" / "train_log.jsonl")
    assert [row["step"] for row in log if "reward" in row] == [1, 2, 3]  # none logged twice
    assert not (tmp_path / "run" / "checkpoints").exists()  # cleaned once the model is saved


def test_a_checkpoint_cut_mid_write_is_skipped_and_the_last_complete_one_resumes(
    tiny_model, tmp_path
):
    with pytest.raises(KeyboardInterrupt):
        run_grpo(tiny_model, tmp_path, "cut", callbacks=[Interrupt(step=2)])
    checkpoints = tmp_path / "cut" / "checkpoints"
    complete = checkpoints / "checkpoint-2"
    # A job killed while writing checkpoint-3: weights written, trainer_state.json cut short.
    torn = checkpoints / "checkpoint-3"
    shutil.copytree(complete, torn)
    (torn / "trainer_state.json").write_text('{"global_step": 3, "log_hist')
    assert last_complete_checkpoint(checkpoints) == complete
    assert not torn.exists()
    shutil.copytree(complete, torn)
    (torn / "trainer_state.json").unlink()  # killed before the state was written at all
    summary = run_grpo(tiny_model, tmp_path, "cut")
    assert summary["resumed_from_step"] == 2 and summary["steps"] == 3


def test_grpo_logs_rewards_and_the_optimizer_it_used(tiny_model, tmp_path):
    summary = run_grpo(tiny_model, tmp_path, "plain")
    assert summary["optimizer"]["class"] == "SGD"
    assert summary["optimizer"]["lr"] == "0.5"
    assert summary["optimizer_state_bytes"] == 0
    log = read_jsonl(tmp_path / "plain" / "model" / "train_log.jsonl")
    assert "rewards/correctness_reward/mean" in log[0]


def test_sft_changes_the_weights_and_adamw_keeps_two_moments(tiny_model, tmp_path):
    from reprolab.papers.sgd_rlvr.evaluate import load_weights

    rows = [
        {
            "prompt": [{"role": "user", "content": f"What is {i} + 1?"}],
            "completion": [{"role": "assistant", "content": f"\\boxed{{{i + 1}}}"}],
        }
        for i in range(8)
    ]
    summary = train(
        "sft",
        tiny_model,
        rows,
        tmp_path / "sft" / "model",
        tmp_path / "sft" / "checkpoints",
        trainer_args={"max_steps": 2, "save_steps": 1, "per_device_train_batch_size": 4},
        optimizer={"name": "adamw", "lr": 1e-3},
        seed=0,
    )
    assert summary["optimizer_state_bytes"] == 2 * summary["parameter_bytes"]
    base, tuned = load_weights(tiny_model), load_weights(tmp_path / "sft" / "model")
    assert any(not torch.equal(base[k], tuned[k]) for k in base)


def test_dpo_raises_the_chosen_reply_over_the_rejected_one(tiny_model, tmp_path):
    """DPO's purpose, checked directly: after training, the preferred reply gains on the other."""
    from reprolab.inference import get_backend

    prompts = [[{"role": "user", "content": f"Is {i} even?"}] for i in range(8)]
    rows = [
        {
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": "yes"}],
            "rejected": [{"role": "assistant", "content": "no"}],
        }
        for prompt in prompts
    ]

    def margin(model) -> float:
        backend = get_backend("transformers", str(model))
        yes = backend.score(prompts, ["yes"] * len(prompts))
        no = backend.score(prompts, ["no"] * len(prompts))
        return sum(y - n for y, n in zip(yes, no, strict=True)) / len(prompts)

    out = tmp_path / "dpo" / "model"
    summary = train(
        "dpo",
        tiny_model,
        rows,
        out,
        tmp_path / "dpo" / "checkpoints",
        trainer_args={"max_steps": 4, "save_steps": 2, "per_device_train_batch_size": 4},
        optimizer={"name": "adamw", "lr": 1e-2},
        seed=0,
    )
    assert summary["kind"] == "dpo" and summary["steps"] == 4
    assert margin(out) > margin(tiny_model) + 1.0


def test_grpo_continues_a_prefilled_reply(tiny_model, tmp_path):
    seen = {}

    def record(prompts, completions, **kwargs):
        seen["prompts"], seen["completions"] = prompts, completions
        return [float(len(c)) for c in completions]

    rows = [
        {
            "prompt": [
                {"role": "user", "content": f"What is {i} + 1?"},
                {"role": "assistant", "content": "<think>"},
            ]
        }
        for i in range(4)
    ]
    train(
        "grpo",
        tiny_model,
        rows,
        tmp_path / "model",
        tmp_path / "checkpoints",
        trainer_args={**GRPO_ARGS, "max_steps": 1},
        optimizer={"name": "sgd", "lr": 0.1},
        seed=0,
        reward_funcs=[record],
    )
    # TRL saw the rendered prompt left open after the prefill, and returned only what follows.
    assert all(isinstance(p, str) and p.endswith("<think>") for p in seen["prompts"])
    assert all(isinstance(c, str) for c in seen["completions"])


def test_a_model_reward_is_loaded_once_and_scores_each_batch_in_one_request(tiny_model, tmp_path):
    """The reward asks the student model for the log-probability of each completion (as
    acqsynth's rewards do); it must equal scoring the same pairs directly."""
    from reprolab.inference import get_backend
    from reprolab.training.trainers import ModelReward

    seen = []

    def logprob(backend, prompts, completions, **columns):
        contexts = [[{"role": "user", "content": "Say anything."}] for _ in completions]
        texts = [c if isinstance(c, str) else c[0]["content"] for c in completions]
        scores = backend.score(contexts, texts)
        seen.append((texts, scores))
        return scores

    reward = ModelReward("student_logprob", logprob, "transformers", str(tiny_model))
    train(
        "grpo",
        tiny_model,
        grpo_rows()[:4],
        tmp_path / "model",
        tmp_path / "checkpoints",
        trainer_args={**GRPO_ARGS, "max_steps": 2},
        optimizer={"name": "sgd", "lr": 0.1},
        seed=0,
        reward_funcs=[reward],
    )
    assert reward.calls == 2 and len(seen) == 2  # one batched request per step
    first_backend = reward.backend
    assert reward.backend is first_backend  # loaded once
    direct = get_backend("transformers", str(tiny_model))
    texts, scores = seen[0]
    expected = direct.score([[{"role": "user", "content": "Say anything."}]] * len(texts), texts)
    assert scores == pytest.approx(expected, abs=1e-4)
    log = read_jsonl(tmp_path / "model" / "train_log.jsonl")
    assert "rewards/student_logprob/mean" in log[0]


def test_agentic_grpo_options_pass_through_and_others_are_refused(
    tiny_model, tmp_path, monkeypatch
):
    """TRL's tools / environment_factory / rollout_func reach GRPOTrainer as given (a random
    model's ChatML template cannot render tool calls, so TRL itself is stood in for here)."""
    import trl

    received = {}

    class Stop(Exception):
        pass

    class Recording:
        def __init__(self, **kwargs):
            received.update(kwargs)
            raise Stop

    def add(a: int, b: int) -> int:
        return a + b

    def rollout(prompts, trainer):
        raise AssertionError("not called")

    monkeypatch.setattr(trl, "GRPOTrainer", Recording)
    options = {"tools": [add], "rollout_func": rollout}
    with pytest.raises(Stop):
        train(
            "grpo",
            tiny_model,
            grpo_rows()[:4],
            tmp_path / "model",
            tmp_path / "checkpoints",
            trainer_args={**GRPO_ARGS, "max_steps": 1},
            optimizer={"name": "sgd", "lr": 0.1},
            seed=0,
            reward_funcs=[correctness_reward],
            grpo_options=options,
        )
    assert received["tools"] == [add] and received["rollout_func"] is rollout
    for kind, bad in (("sft", {"tools": [add]}), ("grpo", {"reward_model": "x"})):
        with pytest.raises(ValueError, match="only for kind grpo"):
            train(
                kind,
                tiny_model,
                [],
                tmp_path / "m2",
                tmp_path / "c2",
                trainer_args={},
                optimizer={"name": "sgd", "lr": 0.1},
                seed=0,
                grpo_options=bad,
            )
