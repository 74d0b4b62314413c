"""GRPO, SFT and DPO through TRL, driven by config, resumable, logged to files and MLflow.

`train` is the single entry point: the trainer kind, its TRL arguments and the optimizer all come
from the config. Checkpoints go to a folder that is not a Snakemake output, so that a failed or
killed job keeps them and a rerun resumes from the last one.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from reprolab.inference import is_prefilled, render_chat
from reprolab.io import append_jsonl, building_dir, read_jsonl, write_json, write_jsonl
from reprolab.models import load_model
from reprolab.progress import format_duration
from reprolab.training.optimizers import build_optimizer, describe, optimizer_state_bytes

log = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]
TRAINER_KINDS = ("grpo", "sft", "dpo")
# TRL's GRPOTrainer arguments for tool use and custom rollouts, passed through as they are.
GRPO_AGENTIC_OPTIONS = ("tools", "environment_factory", "rollout_func")


class ModelReward:
    """A GRPO reward that asks a model: the backend is loaded once per job, on first use, and
    each call scores the whole batch of completions in one request.

        reward = ModelReward("judge", lambda backend, prompts, completions, **cols: [...],
                             backend="transformers", model_path="models/smollm2")

    `score(backend, prompts, completions, **columns)` returns one float (or None) a completion;
    TRL calls the instance like any reward function and logs it under `__name__`.
    """

    def __init__(self, name: str, score: Callable, backend: str, model_path: str, **options):
        self.__name__ = name
        self.score, self.backend_name, self.model_path = score, backend, model_path
        self.options = options
        self._backend = None
        self.calls = 0

    @property
    def backend(self):
        if self._backend is None:
            from reprolab.inference import get_backend

            self._backend = get_backend(self.backend_name, self.model_path, **self.options)
        return self._backend

    def __call__(self, prompts, completions, **columns) -> list[float | None]:
        self.calls += 1
        rewards = self.score(self.backend, prompts, completions, **columns)
        if len(rewards) != len(completions):
            raise ValueError(f"{self.__name__}: {len(rewards)} rewards for {len(completions)}")
        return rewards


class LogCallback(TrainerCallback):
    """Each logging step: a progress line in the log (step, rate, ETA, loss and rewards), a row
    in train_log.jsonl, metrics in MLflow."""

    def __init__(self, log_path: Path, tracker=None):
        self.log_path = log_path
        self.tracker = tracker
        self.started = time.monotonic()
        self.first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        # A resumed run starts at its checkpoint's step: the rate counts this process's steps.
        self.started, self.first_step = time.monotonic(), state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero:
            return  # with several processes, the main one reports (the loss is their mean)
        numeric = {
            k: float(v)
            for k, v in (logs or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        append_jsonl(self.log_path, {"step": state.global_step, **numeric})
        if self.tracker is not None:
            self.tracker.log_metrics(
                {f"train/{k.replace('/', '_')}": v for k, v in numeric.items()},
                step=state.global_step,
            )
        shown = ", ".join(
            f"{k}={v:.4g}" for k, v in numeric.items() if "reward" in k or k == "loss"
        )
        elapsed = time.monotonic() - self.started
        rate = (state.global_step - self.first_step) / elapsed if elapsed > 0 else 0.0
        left = max(state.max_steps - state.global_step, 0)
        eta = format_duration(left / rate) if rate > 0 else "?"
        log.info(
            "step %d/%d (%s, %.2f steps/s, ETA %s): %s",
            state.global_step,
            state.max_steps,
            format_duration(elapsed),
            rate,
            eta,
            shown,
        )


def is_complete_checkpoint(folder: Path) -> bool:
    """Whether a checkpoint folder was written to the end: the Trainer writes trainer_state.json
    last (after the weights, optimizer and RNG state), so it must exist and parse, and the
    weights must be there."""
    state = folder / "trainer_state.json"
    try:
        json.loads(state.read_text())
    except (OSError, ValueError):
        return False
    return any(folder.glob("*.safetensors")) or (folder / "pytorch_model.bin").exists()


def last_complete_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest complete checkpoint; newer ones cut mid-write (a job killed while saving) are
    removed, with a log line naming each, so the rerun resumes from the last good step."""
    found = []
    for folder in Path(checkpoint_dir).glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = folder.name.rsplit("-", 1)[-1]
        if folder.is_dir() and step.isdigit():
            found.append((int(step), folder))
    for _, folder in sorted(found, reverse=True):
        if is_complete_checkpoint(folder):
            return folder
        log.warning("%s was cut mid-write (no readable trainer_state.json): removed", folder)
        shutil.rmtree(folder, ignore_errors=True)
    return None


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop rows an interrupted run logged after the checkpoint it resumes from."""
    if log_path.exists():
        write_jsonl(log_path, [r for r in read_jsonl(log_path) if r["step"] <= step])


def continue_prefills(rows: Sequence[dict], tokenizer) -> list[dict]:
    """GRPO rows with a prefilled reply turned into text prompts that TRL continues as they are.

    TRL renders chat prompts with a fresh assistant header, which would close the prefill; a
    text prompt is only tokenized. Rendering goes through `render_chat`, as in every backend;
    a BOS the template writes is dropped when the tokenizer adds its own. Completions are then
    plain strings: the continuation after the prefill.
    """
    if not any(isinstance(r.get("prompt"), list) and is_prefilled(r["prompt"]) for r in rows):
        return list(rows)
    bos = tokenizer.bos_token
    adds_bos = bos is not None and tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]
    out = []
    for row in rows:
        text = render_chat(tokenizer, row["prompt"])
        if adds_bos and text.startswith(bos):
            text = text[len(bos) :]
        out.append({**row, "prompt": text})
    return out


def train(
    kind: str,
    model_path: Path,
    rows: Sequence[dict],
    out_dir: Path,
    checkpoint_dir: Path,
    trainer_args: dict,
    optimizer: dict,
    seed: int,
    reward_funcs: Sequence[RewardFunc] = (),
    tracker=None,
    callbacks: Sequence[TrainerCallback] = (),
    grpo_options: dict | None = None,
) -> dict:
    """Train model_path on rows with TRL's GRPO, SFT or DPO trainer; save the result to out_dir.

    Rows: GRPO `prompt` (+ columns the rewards read), SFT `prompt` + `completion`, DPO `prompt` +
    `chosen` + `rejected` (DPO's reference model is TRL's frozen copy of the starting model).

    `grpo_options` pass TRL's agentic GRPO arguments through unchanged: `tools` (callables the
    policy may call during rollouts), `environment_factory`, `rollout_func`.

    Returns a summary (steps, resume point, optimizer really used and its state size) that is also
    written to out_dir/train_summary.json.
    """
    from datasets import Dataset

    if kind not in TRAINER_KINDS:
        raise ValueError(f"trainer kind '{kind}': expected one of {TRAINER_KINDS}")
    unknown = set(grpo_options or {}) - set(GRPO_AGENTIC_OPTIONS)
    if unknown or (grpo_options and kind != "grpo"):
        raise ValueError(
            f"grpo_options {sorted(grpo_options or {})}: only for kind grpo, "
            f"and only {GRPO_AGENTIC_OPTIONS}"
        )
    torch.manual_seed(seed)
    model, tokenizer = load_model(model_path)
    opt = build_optimizer(model.parameters(), optimizer)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    log_path = checkpoint_dir / "train_log.jsonl"
    common = {
        "output_dir": str(checkpoint_dir),
        "use_cpu": not torch.cuda.is_available(),
        "bf16": False,
        "seed": seed,
        "data_seed": seed,
        "save_strategy": "steps",
        "save_total_limit": 1,
        "logging_steps": 1,
        "report_to": [],
        "disable_tqdm": True,
        **trainer_args,
    }
    if kind == "grpo":
        rows = continue_prefills(rows, tokenizer)
    dataset = Dataset.from_list(list(rows))
    hooks = [LogCallback(log_path, tracker), *callbacks]
    if kind == "grpo":
        from trl import GRPOConfig, GRPOTrainer

        trainer = GRPOTrainer(
            model=model,
            reward_funcs=list(reward_funcs),
            args=GRPOConfig(**common),
            train_dataset=dataset,
            processing_class=tokenizer,
            optimizers=(opt, None),
            callbacks=hooks,
            **(grpo_options or {}),
        )
    elif kind == "dpo":
        from trl import DPOConfig, DPOTrainer

        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(**common),
            train_dataset=dataset,
            processing_class=tokenizer,
            optimizers=(opt, None),
            callbacks=hooks,
        )
    else:
        from trl import SFTConfig, SFTTrainer

        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(**common),
            train_dataset=dataset,
            processing_class=tokenizer,
            optimizers=(opt, None),
            callbacks=hooks,
        )
    trainer.remove_callback(PrinterCallback)  # LogCallback already reports each step
    main = trainer.accelerator.is_main_process  # with several processes, the one that writes
    newest = last_complete_checkpoint(checkpoint_dir)
    last = str(newest) if newest else None
    resumed_from = 0
    if last:
        resumed_from = int(Path(last).name.split("-")[-1])
        log.info("resuming from %s, the newest complete checkpoint", last)
        if main:
            _truncate_log(log_path, resumed_from)
    elif log_path.exists() and main:
        log_path.unlink()
    trainer.accelerator.wait_for_everyone()
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=last)
    seconds = time.monotonic() - started

    n_params = sum(p.numel() for p in model.parameters())  # tied weights appear once
    summary = {
        "kind": kind,
        "steps": trainer.state.global_step,
        "resumed_from_step": resumed_from,
        "train_seconds": seconds,
        "optimizer": describe(opt),
        "optimizer_state_bytes": optimizer_state_bytes(opt),
        "parameter_count": n_params,
        "parameter_bytes": n_params * 4,
        "processes": trainer.accelerator.num_processes,
    }
    out_dir = Path(out_dir)
    if main:
        with building_dir(out_dir) as tmp:
            trainer.model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        write_json(out_dir / "train_summary.json", summary)
        shutil.copy(log_path, out_dir / "train_log.jsonl")
        # The finished model is the output; checkpoints only served resumption and are large.
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
        log.info(
            "trained %s for %d steps in %.0f s -> %s", kind, summary["steps"], seconds, out_dir
        )
    # Every process returns once the model is saved, so that none reads it early.
    trainer.accelerator.wait_for_everyone()
    return summary
