# ruff: noqa
# A stand-in of the same shape as the authors' file (this project's text, not theirs).


def compute_dialogue_level_quality(dialogue, model_id=None, verbose=False):
    dialogue_text = "\n".join(f"{t['speaker']}: {t['utterance']}" for t in dialogue["turns"])
    prompt = f"""RATE DIALOGUE (0-10):
{dialogue_text}
Score:"""
    return prompt
