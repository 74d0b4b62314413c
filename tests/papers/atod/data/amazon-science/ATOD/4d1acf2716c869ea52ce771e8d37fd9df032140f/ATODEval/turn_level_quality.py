# ruff: noqa
# A stand-in of the same shape as the authors' file (this project's text, not theirs).


def compute_turn_level_quality(dialogue, model_id=None, verbose=False):
    scores = []
    for turn in [t for t in dialogue["turns"] if t["speaker"] == "SYSTEM"]:
        utterance = turn["utterance"]
        prompt = f"""RATE TURN {{0-10}}: "{utterance}"
Score:"""
        scores.append(prompt)
    return scores
