"""The lockstep decode loop: many episodes, one forward a step, attention to the goal recorded.

`generate()` cannot extend a custom 4D mask, so the loop is written here: each turn is a prefill
of the new user turn (left-padded within the batch) followed by greedy or sampled decoding with
the KV cache. Every forward gets the additive mask of `mask.py` and explicit position_ids, in
prefill and decoding alike. Attention weights are requested only while decoding, so only the
rows of response tokens are kept; the residual stream is kept at the last prompt position (the
position before the response) of the crossover turn, the first whose reply cannot see the goal.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from reprolab.inference.transformers_backend import ChatGlue, pad_left, stop_token_ids
from reprolab.papers.gar.mask import NEVER, additive_mask, allowed_keys

log = logging.getLogger(__name__)


@dataclass
class Script:
    """One episode under one condition: what the user says and how attention is closed."""

    episode: str
    condition: str
    system: str
    goal: str  # the substring of `system` whose tokens form the goal span G
    users: list[str]
    window: int | None = None  # None: full attention
    sinks: int = 0  # first tokens kept visible under the window
    # Random-span control: (skip, length, width). The `length` eligible tokens after the first
    # `skip` (eligible: after the goal, neither goal nor chat-template tokens) are closed as the
    # window closes the goal: key j is hidden from query i once i - j >= width.
    span: tuple[int, int, int] | None = None
    keep_crossover_state: bool = False  # keep the residual state at the crossover turn


@dataclass
class Turn:
    response: str
    n_tokens: int
    response_start: int  # logical position of the first response token (R_min)
    gar: float  # mean over response tokens, layers and heads of the attention mass on G
    gar_norm: float  # gar divided by G's share of the visible keys (NaN when G is invisible)
    ended: bool  # the reply closed itself (stop token) rather than hitting max_new_tokens


@dataclass
class Trace:
    script: Script
    goal_start: int
    goal_end: int  # last goal position (G_max)
    turns: list[Turn] = field(default_factory=list)
    hidden: dict[int, np.ndarray] = field(default_factory=dict)  # turn -> (layers + 1, d)
    span_keys: list[int] = field(default_factory=list)  # positions of the random span

    def crosses_at(self, response_start: int) -> bool:
        """Whether a turn whose reply starts at response_start is this trace's crossover turn.

        The same rule as `mask.crossover_turn`: R_min - G_max >= W, the first time only.
        """
        window = self.script.window
        return window is not None and not self.hidden and response_start - self.goal_end >= window


def goal_token_span(tokenizer, text: str, goal: str) -> tuple[list[int], int, int]:
    """Token ids of text and the [first, last] token indices covering goal (template excluded)."""
    start = text.find(goal)
    if start < 0:
        raise ValueError(f"goal text not found in the rendered prompt: {goal[:60]!r}")
    end = start + len(goal)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    inside = [i for i, (a, b) in enumerate(enc["offset_mapping"]) if a < end and b > start]
    return list(enc["input_ids"]), inside[0], inside[-1]


class _State:
    """Per-key bookkeeping of a batch: logical position, validity, sinks, hidden spans, goal."""

    def __init__(self, scripts: list[Script], device, template_ids: set[int] = frozenset()):
        n = len(scripts)
        self.next_pos = torch.zeros(n, dtype=torch.long, device=device)
        empty = torch.zeros((n, 0), dtype=torch.long, device=device)
        self.pos, self.hidden_from = empty, empty
        self.valid = self.sink = self.goal = empty.bool()
        self.window = torch.tensor([s.window or NEVER for s in scripts], device=device)
        self.sinks = torch.tensor([s.sinks for s in scripts], device=device)
        self.spans = _Spans([s.span for s in scripts], template_ids)

    def extend(
        self, ids: torch.Tensor, valid: torch.Tensor, goal: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Add Q new keys per row; return their position_ids."""
        offset = torch.cumsum(valid.long(), dim=1) - 1
        pos = (self.next_pos[:, None] + offset).clamp(min=0)
        self.next_pos = self.next_pos + valid.long().sum(1)
        new_goal = goal if goal is not None else torch.zeros_like(valid)
        hidden_from = self.spans.hidden_from(ids, valid, pos, new_goal)
        self.pos = torch.cat([self.pos, pos], 1)
        self.valid = torch.cat([self.valid, valid], 1)
        self.sink = torch.cat([self.sink, valid & (pos < self.sinks[:, None])], 1)
        self.hidden_from = torch.cat([self.hidden_from, hidden_from], 1)
        self.goal = torch.cat([self.goal, new_goal], 1)
        return pos

    def allowed(self, n_queries: int) -> torch.Tensor:
        return allowed_keys(
            self.pos,
            self.valid,
            self.pos[:, -n_queries:],
            window=self.window,
            key_sink=self.sink,
            hidden_from=self.hidden_from,
        )


class _Spans:
    """The random-span control, chosen as the tokens stream in (their positions are unknown
    before the replies are decoded): per row, after the goal, skip `skip` eligible tokens and
    close the next `length` ones. Eligible: a real token after the goal that is neither a goal
    token nor part of the chat template (a special token or one of the two tokens after one:
    the role name and its newline)."""

    TEMPLATE_TAIL = 2

    def __init__(self, spans: list[tuple[int, int, int] | None], template_ids: set[int]):
        self.spans = spans
        self.template_ids = set(template_ids)
        self.keys: list[list[int]] = [[] for _ in spans]
        self.seen = [0] * len(spans)
        self.since_template = [NEVER] * len(spans)
        self.after_goal = [False] * len(spans)

    def hidden_from(self, ids, valid, pos, goal) -> torch.Tensor:
        """(B, Q): the first query position that may not see each new key (NEVER: none)."""
        hidden = torch.full_like(pos, NEVER)
        rows = [i for i, span in enumerate(self.spans) if span is not None]
        if not rows:
            return hidden
        ids_l, valid_l, pos_l, goal_l = ids.tolist(), valid.tolist(), pos.tolist(), goal.tolist()
        for i in rows:
            skip, length, width = self.spans[i]
            for q in range(len(ids_l[i])):
                if not valid_l[i][q]:
                    continue
                special = ids_l[i][q] in self.template_ids
                self.since_template[i] = 0 if special else self.since_template[i] + 1
                if goal_l[i][q]:
                    self.after_goal[i] = True
                    continue
                template = self.since_template[i] <= self.TEMPLATE_TAIL
                if template or not self.after_goal[i] or len(self.keys[i]) >= length:
                    continue
                self.seen[i] += 1
                if self.seen[i] > skip:
                    self.keys[i].append(pos_l[i][q])
                    hidden[i, q] = pos_l[i][q] + width
        return hidden


class LockstepDecoder:
    """Runs a batch of scripts turn by turn, one model call per step for the whole batch."""

    def __init__(
        self,
        model,
        tokenizer,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
    ):
        self.model, self.tokenizer = model, tokenizer
        self.glue = ChatGlue(tokenizer)
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.generator = torch.Generator().manual_seed(seed)
        self.stops = stop_token_ids(model, tokenizer)
        self.template_ids = set(tokenizer.all_special_ids) | self.stops
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.dtype = next(model.parameters()).dtype
        self.device = next(model.parameters()).device

    def _forward(self, state, cache, ids, valid, goal=None, attentions=False, hidden=False):
        pos = state.extend(ids, valid, goal)
        allowed = state.allowed(ids.shape[1])
        out = self.model(
            input_ids=ids,
            attention_mask=additive_mask(allowed, self.dtype),
            position_ids=pos,
            past_key_values=cache,
            use_cache=True,
            output_attentions=attentions,
            output_hidden_states=hidden,
            logits_to_keep=1,
        )
        return out, allowed

    def _next_token(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits[:, -1, :].float()
        if self.temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits / self.temperature, -1).cpu()
        return torch.multinomial(probs, 1, generator=self.generator)[:, 0].to(logits.device)

    def _pad_left(self, rows: list[list[int]]):
        ids, valid = pad_left(rows, self.pad)
        return ids.to(self.device), valid.to(self.device)

    @torch.no_grad()
    def run(self, scripts: list[Script], label: str = "") -> list[Trace]:
        n_turns = {len(s.users) for s in scripts}
        if len(n_turns) != 1:
            raise ValueError(f"scripts of one batch need the same number of turns, got {n_turns}")
        state, cache = _State(scripts, self.device, self.template_ids), None
        traces, closed = [], [True] * len(scripts)
        started = time.monotonic()
        for turn in range(1, n_turns.pop() + 1):
            rows, goal_rows = [], []
            for i, script in enumerate(scripts):
                if turn == 1:
                    text = self.glue.first(script.system, script.users[0])
                    ids, g0, g1 = goal_token_span(self.tokenizer, text, script.goal)
                    traces.append(Trace(script, goal_start=g0, goal_end=g1))
                    goal_rows.append((g0, g1))
                else:
                    text = self.glue.next(script.users[turn - 1], closed[i])
                    ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                rows.append(ids)
            ids, valid = self._pad_left(rows)
            goal = None
            if turn == 1:  # goal positions equal token indices: nothing precedes the prompt
                goal = torch.zeros_like(valid)
                for i, (g0, g1) in enumerate(goal_rows):
                    shift = ids.shape[1] - len(rows[i])
                    goal[i, shift + g0 : shift + g1 + 1] = True
            # The reply of this turn starts after the prompt's real tokens.
            reply_starts = (state.next_pos + valid.long().sum(1)).tolist()
            keep = [
                i
                for i, s in enumerate(scripts)
                if s.keep_crossover_state and traces[i].crosses_at(reply_starts[i])
            ]
            out, _ = self._forward(state, cache, ids, valid, goal, hidden=bool(keep))
            cache = out.past_key_values
            if keep:
                stacked = torch.stack([h[:, -1, :] for h in out.hidden_states], 1).float()
                for i in keep:
                    traces[i].hidden[turn] = stacked[i].cpu().numpy().astype(np.float32)
            token = self._next_token(out.logits)
            active = torch.ones(len(scripts), dtype=torch.bool, device=self.device)
            replies = [[] for _ in scripts]
            mass = torch.zeros(len(scripts), dtype=torch.float64)
            mass_norm = torch.zeros(len(scripts), dtype=torch.float64)
            counted_norm = torch.zeros(len(scripts), dtype=torch.float64)
            ended = [False] * len(scripts)
            for _ in range(self.max_new_tokens):
                feed = torch.where(active, token, torch.full_like(token, self.pad))
                out, allowed = self._forward(
                    state, cache, feed[:, None], active[:, None], attentions=True
                )
                cache = out.past_key_values
                gar, gar_norm = self._goal_mass(out.attentions, allowed[:, -1, :], state.goal)
                now = active.cpu()
                mass += torch.where(now, gar, 0.0)
                defined = now & ~torch.isnan(gar_norm)
                mass_norm += torch.where(defined, gar_norm, 0.0)
                counted_norm += defined.double()
                fed = feed.tolist()  # one device-to-host copy a step, not one a row
                for i in torch.nonzero(now)[:, 0].tolist():
                    replies[i].append(fed[i])
                    if fed[i] in self.stops:
                        ended[i] = True
                        active[i] = False
                if not bool(active.any()):
                    break
                token = self._next_token(out.logits)
            for i, trace in enumerate(traces):
                text_ids = [t for t in replies[i] if t not in self.stops]
                n = max(len(replies[i]), 1)  # the response tokens GAR averages over
                trace.turns.append(
                    Turn(
                        response=self.tokenizer.decode(text_ids, skip_special_tokens=True),
                        n_tokens=len(replies[i]),
                        response_start=reply_starts[i],
                        gar=float(mass[i] / n),
                        gar_norm=float(mass_norm[i] / counted_norm[i])
                        if counted_norm[i] > 0
                        else float("nan"),
                        ended=ended[i],
                    )
                )
                closed[i] = ended[i]
                trace.span_keys = list(state.spans.keys[i])
            log.info(
                "%s turn %d/%d: %d episodes, context %d tokens (%.0f s)",
                label,
                turn,
                len(scripts[0].users),
                len(scripts),
                state.pos.shape[1],
                time.monotonic() - started,
            )
        return traces

    @staticmethod
    def _goal_mass(attentions, allowed_row: torch.Tensor, goal: torch.Tensor):
        """Per row: attention mass on goal keys, averaged over layers and heads, raw and normalised.

        The normalised value divides by G's share of the keys the query may see, so a GAR that
        only falls because the context grows stays flat; it is NaN when no goal key is visible.
        """
        weights = torch.stack([a[:, :, -1, :] for a in attentions], 0).float()  # (L, B, H, K)
        on_goal = (weights * goal[None, :, None, :]).sum(-1).mean(dim=(0, 2)).double().cpu()
        visible = allowed_row.sum(-1).double().cpu()
        visible_goal = (allowed_row & goal).sum(-1).double().cpu()
        share = visible_goal / visible
        normalised = torch.where(share > 0, on_goal / share.clamp(min=1e-12), float("nan"))
        return on_goal, normalised
