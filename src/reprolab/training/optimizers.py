"""Optimizers named in a config and built explicitly.

transformers' Trainer long ignored optim_args for optim="sgd"; building the optimizer here and
passing it to the trainer makes the optimizer of each run exactly the one the config names.
"""

from __future__ import annotations

import torch

# name -> (class, keyword arguments the config may set)
OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], set[str]]] = {
    "sgd": (torch.optim.SGD, {"momentum", "weight_decay", "nesterov", "dampening"}),
    "adamw": (torch.optim.AdamW, {"betas", "eps", "weight_decay"}),
    "adam": (torch.optim.Adam, {"betas", "eps", "weight_decay"}),
    # RMSprop is "Adam with beta1 = 0": adaptive scaling without momentum.
    "rmsprop": (torch.optim.RMSprop, {"alpha", "eps", "weight_decay", "momentum"}),
}


def build_optimizer(params, spec: dict) -> torch.optim.Optimizer:
    """Build the optimizer described by spec = {name, lr, ...extra keyword arguments}."""
    name = spec.get("name")
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer.name: '{name}' unknown; expected one of {sorted(OPTIMIZERS)}")
    cls, allowed = OPTIMIZERS[name]
    extra = {k: v for k, v in spec.items() if k not in ("name", "lr")}
    unknown = set(extra) - allowed
    if unknown:
        raise ValueError(
            f"optimizer '{name}': unknown keys {sorted(unknown)}; "
            f"expected some of {sorted(allowed)}"
        )
    if "betas" in extra:
        extra["betas"] = tuple(extra["betas"])
    return cls(params, lr=float(spec["lr"]), **extra)


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes held in the optimizer's per-parameter state (momentum, second moments...)."""
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if torch.is_tensor(value) and value.dim() > 0:
                total += value.numel() * value.element_size()
    return total


def describe(optimizer: torch.optim.Optimizer) -> dict:
    """What the run really used, for the log and MLflow."""
    group = optimizer.param_groups[0]
    hyper = {k: v for k, v in group.items() if k != "params" and isinstance(v, int | float | tuple)}
    return {"class": type(optimizer).__name__, **{k: str(v) for k, v in hyper.items()}}
