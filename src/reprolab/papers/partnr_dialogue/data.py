"""Episodes: a seeded house, a task of one of the four types and the agents' start rooms."""

from __future__ import annotations

import random

from reprolab.papers.partnr_dialogue.house import generate_house
from reprolab.papers.partnr_dialogue.sim import AGENTS
from reprolab.papers.partnr_dialogue.tasks import TASK_TYPES, make_task


def make_episodes(settings: dict, seed: int) -> list[dict]:
    """n_per_type episodes of each task type; each from its own generator seeded by
    (seed, type, index), so adding episodes never changes the earlier ones."""
    types = settings.get("task_types", list(TASK_TYPES))
    episodes = []
    for index in range(settings["n_per_type"]):
        for task_type in types:
            rng = random.Random(f"partnr-{seed}-{task_type}-{index}")
            house = generate_house(rng, settings["n_rooms"], settings["n_objects"])
            task = make_task(rng, house, task_type)
            episodes.append(
                {
                    "id": f"{task_type}-{index}",
                    "seed": rng.randrange(2**31),
                    "house": house,
                    "task": task,
                    "start_rooms": {a: rng.choice(house["rooms"]) for a in AGENTS},
                }
            )
    return episodes
