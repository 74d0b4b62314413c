"""The action-choice probe: hand-placed states with one plainly right action, and how each
choice rule reads one batched call."""

from __future__ import annotations

from reprolab.papers.partnr_dialogue import probe
from reprolab.papers.partnr_dialogue.data import make_episodes

EPISODES = {
    "task_types": ["constraint_free", "spatial", "temporal", "heterogeneous"],
    "n_per_type": 2,
    "n_rooms": 3,
    "n_objects": 5,
}
SIM = {
    "action_budget": 14,
    "delivery": {"delay": 0, "scope": "any"},
    "merge_messages": True,
    "message_min_gap": 2,
    "llm": {"max_objects": 8, "history": 2},
}


def test_each_state_offers_its_right_action_where_the_human_was_placed():
    made = probe.states(make_episodes(EPISODES, 0), SIM, 3)
    assert [kind for _, kind, _, _ in made] == ["pick"] * 3 + ["place"] * 3 + ["navigate"] * 3
    for sid, kind, ep, right in made:
        me = ep.sim.agents[probe.AGENT]
        assert right in ep.valid_actions(probe.AGENT), sid
        obj = right[right.index("[") + 1 :].split(",")[0].rstrip("]")
        if kind == "place":
            rel = "inside" if ep.house["furniture"][me["at"]]["container"] else "on"
            assert me["holding"] == obj and ep.sim.objects[obj]["parent"] == probe.AGENT
            assert right == f"Place[{obj}, {rel}, {me['at']}]"
        elif kind == "pick":
            assert ep.sim.objects[obj]["parent"] == me["at"] and not me["holding"]
        else:  # navigate: obj is the furniture; the human stands in its room, not at it
            assert me["at"] is None and me["room"] == ep.house["furniture"][obj]["room"]
            held = [o for o, e in ep.graphs[probe.AGENT].objects.items() if e["parent"] == obj]
            assert held  # the human knows what lies there


class Planted:
    """Log-probability = a length prior (short is likely) everywhere, + 4 after a state prompt
    for the actions in `favoured`; the context-free prompt is the one-turn conversation."""

    def __init__(self, favoured: set[str]):
        self.favoured, self.calls = favoured, []

    def score_candidates(self, contexts, candidates):
        self.calls.append(len(contexts))
        return [
            [-float(len(c)) + (4.0 if len(ctx) > 1 and c in self.favoured else 0.0) for c in cands]
            for ctx, cands in zip(contexts, candidates, strict=True)
        ]


def test_every_rule_from_one_call_reads_the_planted_preference():
    specs = make_episodes(EPISODES, 0)
    made = probe.states(specs, SIM, 2)
    backend = Planted({right for _, _, _, right in made})
    rows = probe.run(backend, specs, SIM, 2)
    assert backend.calls == [len(made) + 1]  # every state, and the context-free prompt once
    for row in rows:
        # pmi: the prior cancels, the planted +4 wins (no other favoured action is offered).
        others = set(row["options"]) & backend.favoured - {row["right"]}
        if not others:
            assert row["pmi"] == row["right"]
        # sum: the prior alone unless the +4 beats it; by hand from the option lengths.
        best = max(row["options"], key=lambda o: -len(o) + 4.0 * (o in backend.favoured))
        assert row["sum"] == best
