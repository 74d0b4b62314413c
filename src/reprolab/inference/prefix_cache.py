"""Keys and values of conversations already read, so the next turn reads only what is new.

A multi-turn episode sends its whole history every turn; without reuse the model re-reads it
(prefill dominates the multi-turn papers' generation time on CPU, issue 29). After a batch is
generated, each row's keys and values (prompt and reply, padding dropped) are kept under its
token ids. A later prompt that starts with a kept row's tokens reuses that row's keys and values
for the common prefix and feeds only the rest. Rows of one batch reuse prefixes of different
lengths: each row's cached part is left-padded to the longest, its new part likewise, and the
attention mask marks both paddings, so positions (the mask's cumulative sum) stay what they were
when the keys were computed. Only full-attention decoders qualify (no sliding windows).

Kept rows are evicted least recently used first beyond `max_tokens`; a row whose whole token
list a newly kept row extends is dropped at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

# A shorter common prefix is not worth the bookkeeping: the row is read in full instead.
MIN_REUSE_TOKENS = 8


@dataclass
class Row:
    tokens: np.ndarray  # the token ids whose keys and values are kept, in order
    kv: list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (heads, tokens, dim)


@dataclass
class Prepared:
    """A batch ready for generate: ids and mask over [cached part | new part], and the cache."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    past_key_values: object | None


class PrefixCache:
    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens
        self.rows: OrderedDict[int, Row] = OrderedDict()
        self._next_key = 0
        self.reused_tokens = 0  # tokens not re-read, over the cache's life
        self.read_tokens = 0  # tokens fed to the model as new, over the cache's life

    @property
    def kept_tokens(self) -> int:
        return sum(len(row.tokens) for row in self.rows.values())

    def longest_prefix(self, ids: list[int]) -> tuple[int | None, int]:
        """The kept row sharing the longest prefix with ids, and that prefix's length (at most
        len(ids) - 1: the model must read at least one token to give the next one)."""
        target = np.asarray(ids)
        best, length = None, 0
        for key, row in self.rows.items():
            n = min(len(row.tokens), len(target) - 1)
            if n <= length:
                continue
            differ = np.flatnonzero(row.tokens[:n] != target[:n])
            common = int(differ[0]) if differ.size else n
            if common > length:
                best, length = key, common
        if length < MIN_REUSE_TOKENS:
            return None, 0
        self.rows.move_to_end(best)
        return best, length

    def prepare(self, rows: list[list[int]], pad: int, device) -> Prepared:
        """Inputs for generate over rows, reusing kept prefixes."""
        matches = [self.longest_prefix(r) for r in rows]
        cached = max(length for _, length in matches)
        fresh = max(len(r) - length for r, (_, length) in zip(rows, matches, strict=True))
        ids = torch.full((len(rows), cached + fresh), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), cached + fresh), dtype=torch.long)
        layers = None
        for i, (row, (key, length)) in enumerate(zip(rows, matches, strict=True)):
            new = row[length:]
            ids[i, cached - length : cached] = torch.tensor(row[:length], dtype=torch.long)
            ids[i, cached + fresh - len(new) :] = torch.tensor(new, dtype=torch.long)
            mask[i, cached - length : cached] = 1
            mask[i, cached + fresh - len(new) :] = 1
            if key is None:
                continue
            kept = self.rows[key].kv
            if layers is None:
                layers = [
                    (
                        k.new_zeros((len(rows), k.shape[0], cached, k.shape[2])),
                        v.new_zeros((len(rows), v.shape[0], cached, v.shape[2])),
                    )
                    for k, v in kept
                ]
            for (k_all, v_all), (k, v) in zip(layers, kept, strict=True):
                k_all[i, :, cached - length :] = k[:, :length]
                v_all[i, :, cached - length :] = v[:, :length]
        self.reused_tokens += sum(length for _, length in matches)
        self.read_tokens += sum(len(r) - n for r, (_, n) in zip(rows, matches, strict=True))
        past = None
        if layers is not None:
            from transformers import DynamicCache

            past = DynamicCache(ddp_cache_data=layers)
        return Prepared(ids.to(device), mask.to(device), past)

    def past_for(self, ids: list[int]) -> tuple[object | None, int]:
        """For one unpadded row: a cache holding the longest kept prefix of ids, and its
        length (None, 0 when nothing is kept for it)."""
        key, length = self.longest_prefix(ids)
        self.reused_tokens += length
        self.read_tokens += len(ids) - length
        if key is None:
            return None, 0
        from transformers import DynamicCache

        layers = [(k[None, :, :length], v[None, :, :length]) for k, v in self.rows[key].kv]
        return DynamicCache(ddp_cache_data=layers), length

    def keep_row(self, ids: list[int], past) -> None:
        """Keep a single unpadded row's keys and values (past holds exactly ids' positions)."""
        kv = [(layer.keys[0].clone(), layer.values[0].clone()) for layer in past.layers]
        self._add(np.asarray(ids), kv)
        self._evict()

    def _add(self, tokens: np.ndarray, kv: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Keep a row; a kept row whose whole token list the new one extends is dropped, as the
        new row answers every lookup it would (its conversation has moved on)."""
        for key in [
            k
            for k, row in self.rows.items()
            if len(row.tokens) <= len(tokens)
            and np.array_equal(row.tokens, tokens[: len(row.tokens)])
        ]:
            del self.rows[key]
        self.rows[self._next_key] = Row(tokens, kv)
        self._next_key += 1

    def _evict(self) -> None:
        while self.rows and self.kept_tokens > self.max_tokens:
            self.rows.popitem(last=False)

    def keep(self, sequences, mask, past, stops: set[int]) -> None:
        """Keep every row's keys and values after a generate call.

        sequences: generate's output ids (input width + new tokens); mask: the input's
        attention mask; past: the returned cache, which holds every position but the last
        generated one. A row keeps its real tokens up to its first stop token.
        """
        width = past.layers[0].keys.shape[2]
        new = sequences.shape[1] - mask.shape[1]
        full = torch.cat([mask.cpu(), torch.ones((mask.shape[0], new), dtype=mask.dtype)], 1)
        for i in range(sequences.shape[0]):
            tokens = sequences[i, :width].cpu()
            positions = torch.nonzero(full[i, :width])[:, 0]
            generated = positions[positions >= mask.shape[1]]
            ended = [int(p) for p in generated if int(tokens[p]) in stops]
            if ended:
                positions = positions[positions <= ended[0]]
            index = positions.to(past.layers[0].keys.device)
            kv = [
                (layer.keys[i][:, index].clone(), layer.values[i][:, index].clone())
                for layer in past.layers
            ]
            self._add(tokens[positions].numpy(), kv)
        self._evict()


def supports_prefix_cache(config) -> bool:
    """Whether every layer of the model attends to the full context (no sliding window)."""
    kinds = getattr(config, "layer_types", None) or []
    return all(kind == "full_attention" for kind in kinds) and not getattr(
        config, "use_sliding_window", False
    )
