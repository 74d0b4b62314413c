# ruff: noqa
# A stand-in of the same shape as the authors' file (this project's text, not theirs).


def format_dialogue(turns) -> str:
    return "\n".join(f"{turn['speaker']}: {turn['utterance']}" for turn in turns)


def one_word_verdict(response: str, positive: str = "PASS") -> bool:
    return positive.upper() in response.upper()
