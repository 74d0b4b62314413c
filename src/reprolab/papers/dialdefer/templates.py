"""The C1 (statement) and C2 (speaker) framings as chat prompts, from the config's templates.

A template is the whole user turn, structured as the authors' prompts (bench_prompts.py): a
framing-specific preamble, the claim between markers (<<<STATEMENT>>> or <<<CHATLOG>>>), the
question, the two numbered options between markers, and the JSON instruction. Its placeholders:
{question}, {answer}, {asker}, {answerer} (the speaker labels of the chat log), {option1},
{option2}. `yes` and `no` are the option texts (they may name {answerer}).

The paper's pair (the research note; the authors' text is read at full scale, `upstream`):
  C1: "The correct answer to '{question}' is '{answer}'" / "Is the above statement correct?"
      1 "Yes, the statement is correct." / 2 "No, the statement is incorrect."
  C2: "Speaker 1: {question}" / "Speaker 2: {answer}" / "Is Speaker 2 correct?"
      1 "Yes, Speaker 2 is correct." / 2 "No, Speaker 2 is incorrect."
The option order is counterbalanced: in the `no_first` order option 1 is the "No" text, so a
position bias cannot pass for a yes bias. A condition picks the template pair, the speaker
labels (the ablation) and an optional system prompt (the mitigations and the controls).
"""

from __future__ import annotations

ORDERS = ("yes_first", "no_first")
FRAMINGS = ("c1", "c2")


def option_texts(template: dict, order: str, speakers: dict) -> tuple[str, str]:
    """(option 1, option 2) for an order: which of yes/no is numbered 1."""
    yes, no = template["yes"].format(**speakers), template["no"].format(**speakers)
    if order == "yes_first":
        return yes, no
    if order == "no_first":
        return no, yes
    raise ValueError(f"option order '{order}': expected one of {ORDERS}")


def render_user(template: dict, question: str, answer: str, order: str, speakers: dict) -> str:
    """The user turn: preamble, the claim (statement or chat log), question, options, format."""
    first, second = option_texts(template, order, speakers)
    return template["text"].format(
        question=question, answer=answer, option1=first, option2=second, **speakers
    )


def conversation(
    item: dict, framing: str, truth: bool, order: str, condition: dict, cfg: dict
) -> list[dict]:
    """The chat the judge sees for one item, framing (c1/c2), answer (true/false) and order."""
    if framing not in FRAMINGS:
        raise ValueError(f"framing '{framing}': expected one of {FRAMINGS}")
    pair = cfg["templates"][condition.get("template", "paper")]
    # A condition may judge one framing with the other's template (the planted-zero control
    # shows the statement in both framings).
    template = pair[condition.get("framing_as", {}).get(framing, framing)]
    asker, answerer = condition.get("speakers", cfg["speakers"])
    speakers = {"asker": asker, "answerer": answerer}
    answer = item["true_answer"] if truth else item["false_answer"]
    user = render_user(template, item["question"], answer, order, speakers)
    messages = []
    system = condition.get("system_prompt")
    if system:
        messages.append({"role": "system", "content": cfg["system_prompts"][system]})
    messages.append({"role": "user", "content": user})
    return messages
