"""The additive 4D attention mask of the closure experiments.

Transformers adds a 4D float mask to the attention scores as it is (eager attention), so one
builder covers full attention, a sliding window of width W, sink tokens kept visible, a span
hidden from later queries (the random-span control), and the padding of batched episodes. Keys
and queries carry logical positions (padding does not count), so the window is measured in
tokens of the conversation, not in slots of the cache.
"""

from __future__ import annotations

import torch

# A key visible to every later query; used as "never hidden" in hidden_from.
NEVER = 2**62


def allowed_keys(
    key_pos: torch.Tensor,
    key_valid: torch.Tensor,
    query_pos: torch.Tensor,
    window: int | torch.Tensor | None = None,
    key_sink: torch.Tensor | None = None,
    hidden_from: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, Q, K) bool: may query q of row b attend to key k.

    key_pos (B, K) and query_pos (B, Q) are logical positions; the queries are the last Q keys.
    A key is seen when it is a real token (key_valid), not in the future, inside the window
    (0 <= i - j < W; window is one W for all rows or a (B,) tensor, one per row) or a sink,
    and not hidden from the query's position on (hidden_from: the first query position that
    may not see it). Every query sees itself, so no row is empty
    (padding rows would otherwise softmax to NaN).
    """
    batch, n_keys = key_pos.shape
    n_queries = query_pos.shape[1]
    if window is not None:
        window = torch.as_tensor(window, device=key_pos.device).reshape(-1)
        if bool((window < 1).any()):
            raise ValueError(f"window must be >= 1 token, got {window.tolist()}")
        if window.numel() not in (1, batch):
            raise ValueError(f"window: one value or one per row ({batch}), got {window.numel()}")
    if key_valid.shape != key_pos.shape:
        raise ValueError(f"key_valid {tuple(key_valid.shape)} != key_pos {tuple(key_pos.shape)}")
    distance = query_pos[:, :, None] - key_pos[:, None, :]
    allowed = key_valid[:, None, :] & (distance >= 0)
    if window is not None:
        in_window = distance < window.reshape(-1, 1, 1)
        if key_sink is not None:
            in_window = in_window | key_sink[:, None, :]
        allowed = allowed & in_window
    if hidden_from is not None:
        allowed = allowed & (query_pos[:, :, None] < hidden_from[:, None, :])
    diagonal = torch.arange(n_queries, device=key_pos.device) + (n_keys - n_queries)
    allowed[:, torch.arange(n_queries), diagonal] = True
    return allowed


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, 1, Q, K) float: 0 where allowed, the dtype's minimum elsewhere.

    A float mask, never a boolean one: transformers adds the mask to the scores, and True/False
    added as 1/0 would silently leave every key visible.
    """
    if allowed.dtype != torch.bool:
        raise TypeError(f"allowed must be a bool tensor, got {allowed.dtype}")
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None, :, :]


def crossover_turn(response_starts: list[int], goal_end: int, window: int) -> int | None:
    """The first turn (1-based) at which no response token can see the goal.

    tau_cross = min{tau : R_min(tau) - G_max >= W}, with R_min(tau) the position of the first
    response token of turn tau and G_max the position of the last goal token; None when the
    channel never closes within the given turns.
    """
    for turn, start in enumerate(response_starts, 1):
        if start - goal_end >= window:
            return turn
    return None
