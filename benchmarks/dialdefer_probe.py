"""Probe (issue 17 follow-up): does SmolLM2-135M know easy items in some statement (C1) format?

In the authors' structure (numbered options between <<<...>>> markers, the option digit scored
after `{"chosen_answer": "`, both orders averaged) its P(yes) sits at ~0.5 on every item: a
position-biased model in a numbered-option format. This scores direct formats: the yes/no word
as the assistant's first token (or after a prefilled "Answer:"), the instruction's word order
counterbalanced ("Answer Yes or No" / "Answer No or Yes"), raw or calibrated (the log-odds of a
context-free prompt, the same template with "N/A" for question and answer, subtracted).

Criterion fixed before the first run (the claims' existing precondition): a format "knows" when
its C1 accuracy over the true and false statements, 95% bootstrap interval over items, has its
lower end above 0.5 on the held-out wording (the format's paraphrase); the main wording picks
the format, the paraphrase confirms it.

Measured 2026-12-01 (bf16, fp32 checked on two formats; 12 candidates in each of the 8 tiny
domains, 96 items, 192 statements; seed 101, the domain prior from seed 102; fresh items seed
201, prior from 202): no format passes on its held-out wording. The raw verdict is one word for
every statement in most formats (all "No"/"False": accuracy exactly 0.500); with the context-free
or the question-conditional prior accuracy is 0.46-0.57, the held-out wordings' interval lows
0.45-0.50 (the one main wording above, qa_prefill calibrated 0.573, low 0.521 on seed 101, is
0.464 on seed 201). The true statement's log-odds above the false one's within an item: 0.52-0.69
on seed 101, 0.50-0.55 on seed 201. A domain prior, tried last (after the planned scorings had
failed), passed on seed 101 (qa_prefill_para 0.604, low 0.547) and failed on fresh items (0.510,
low 0.458; qa_prefill 0.469): a pick among ~28 format x scoring pairs, not knowledge. Numbers in
the card (seeds/dialdefer.yaml, "Tiny-only direct formats probed").

    python benchmarks/dialdefer_probe.py --per-domain 12 --seed 101
    python benchmarks/dialdefer_probe.py --seed 201 --formats qa_prefill_para,qa_prefill
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time

PRIOR = {"question": "N/A", "answer": "N/A"}

# name -> (statement template, question line, yes word, no word, assistant prefill)
FORMATS = {
    "yesno": (
        "Statement: The correct answer to '{question}' is '{answer}'.",
        "Is the statement correct? Answer {first} or {second}.",
        "Yes",
        "No",
        None,
    ),
    "yesno_prefill": (
        "Statement: The correct answer to '{question}' is '{answer}'.",
        "Is the statement correct? Answer {first} or {second}.",
        " Yes",
        " No",
        "Answer:",
    ),
    "truefalse_prefill": (
        "Statement: The correct answer to '{question}' is '{answer}'.",
        "Is the statement true? Answer {first} or {second}.",
        " True",
        " False",
        "Answer:",
    ),
    # Two solved examples (one true, one false) before the statement: the format shown.
    "fewshot_prefill": (
        "Statement: The correct answer to 'What is 2 + 2?' is '4'.\nIs the statement correct? "
        "Answer: Yes\n\nStatement: The correct answer to 'What is the capital of France?' is "
        "'Berlin'.\nIs the statement correct? Answer: No\n\n"
        "Statement: The correct answer to '{question}' is '{answer}'.",
        "Is the statement correct? Answer {first} or {second}.",
        " Yes",
        " No",
        "Answer:",
    ),
    # The claim as a question and its proposed answer.
    "qa_prefill": (
        "Question: {question}\nProposed answer: {answer}",
        "Is the proposed answer correct? Answer {first} or {second}.",
        " Yes",
        " No",
        "Answer:",
    ),
    # Paraphrases (the held-out wording of each).
    "yesno_para": (
        "Claim: '{answer}' is the right answer to '{question}'.",
        "Is the claim right? Reply {first} or {second}.",
        "Yes",
        "No",
        None,
    ),
    "yesno_prefill_para": (
        "Claim: '{answer}' is the right answer to '{question}'.",
        "Is the claim right? Reply {first} or {second}.",
        " Yes",
        " No",
        "Answer:",
    ),
    "qa_prefill_para": (
        "Q: {question}\nSuggested answer: {answer}",
        "Is the suggested answer right? Reply {first} or {second}.",
        " Yes",
        " No",
        "Answer:",
    ),
    "truefalse_prefill_para": (
        "Claim: '{answer}' is the right answer to '{question}'.",
        "Is the claim true? Reply {first} or {second}.",
        " True",
        " False",
        "Answer:",
    ),
}


def chat(fmt: tuple, question: str, answer: str, yes_first: bool) -> list[dict]:
    statement, ask, yes, no, prefill = fmt
    first, second = (yes, no) if yes_first else (no, yes)
    user = (
        statement.format(question=question, answer=answer)
        + "\n"
        + ask.format(first=first.strip(), second=second.strip())
    )
    messages = [{"role": "user", "content": user}]
    if prefill:
        messages.append({"role": "assistant", "content": prefill})
    return messages


def log_odds(backend, fmt: tuple, rows: list[tuple[str, str]]) -> list[float]:
    """log P(yes) - log P(no) per (question, answer), averaged over both word orders."""
    _, _, yes, no, _ = fmt
    chats = [chat(fmt, q, a, o) for q, a in rows for o in (True, False)]
    scores = backend.choice_logprobs(chats, [yes, no])
    return [
        ((scores[2 * i][0] - scores[2 * i][1]) + (scores[2 * i + 1][0] - scores[2 * i + 1][1])) / 2
        for i in range(len(rows))
    ]


def ci_low(correct_by_item: list[float], seed: int = 42, draws: int = 2000) -> float:
    rng = random.Random(seed)
    n = len(correct_by_item)
    means = sorted(
        sum(correct_by_item[rng.randrange(n)] for _ in range(n)) / n for _ in range(draws)
    )
    return means[int(0.025 * draws)]


def against(raw: list[float], shift: list[float]) -> tuple[dict, list[bool], list[bool], list]:
    """Accuracy when item i's true statement (raw[i]) and false one (raw[n + i]) are read
    against shift[i]: a yes above it, a no below. Also each statement's rightness and each
    item's mean of the two."""
    n = len(shift)
    true_right = [raw[i] - shift[i] > 0 for i in range(n)]
    false_right = [raw[n + i] - shift[i] < 0 for i in range(n)]
    per_item = [(t + f) / 2 for t, f in zip(true_right, false_right, strict=True)]
    summary = {
        "acc": round(sum(per_item) / n, 3),
        "acc_ci_low": round(ci_low(per_item), 3),
        "acc_true": round(sum(true_right) / n, 3),
        "acc_false": round(sum(false_right) / n, 3),
    }
    return summary, true_right, false_right, per_item


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-domain", type=int, default=12)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--model", default="models/smollm2-135m-instruct")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--out", default=None, help="write the report as JSON here")
    args = parser.parse_args()

    from reprolab.inference import get_backend
    from reprolab.papers.dialdefer.data import generate

    domains = [
        "arithmetic",
        "comparison",
        "unit_conversion",
        "element_symbol",
        "atomic_number",
        "social_rules",
        "social_verdict",
        "social_judgment",
    ]
    items, _ = generate(
        {"domains": domains, "n_eval_per_domain": args.per_domain, "n_train_per_domain": 0},
        args.seed,
    )
    # A domain prior from other items (seed + 1, true and false statements alike): the mean
    # log-odds of the domain's statements subtracted, so a domain-wide lean cancels.
    others, _ = generate(
        {"domains": domains, "n_eval_per_domain": args.per_domain, "n_train_per_domain": 0},
        args.seed + 1,
    )
    other_rows = [(it["question"], it["true_answer"]) for it in others]
    other_rows += [(it["question"], it["false_answer"]) for it in others]
    backend = get_backend("transformers", args.model, batch_size=32, dtype=args.dtype)
    report = {}
    for name in args.formats.split(","):
        fmt = FORMATS[name]
        start = time.time()
        rows = [(it["question"], it["true_answer"]) for it in items]
        rows += [(it["question"], it["false_answer"]) for it in items]
        raw = log_odds(backend, fmt, rows)
        prior = log_odds(backend, fmt, [(PRIOR["question"], PRIOR["answer"])])[0]
        n = len(items)
        out = {"seconds": round(time.time() - start, 1), "prior_log_odds": round(prior, 3)}
        for kind, shift in (("raw", 0.0), ("calibrated", prior)):
            summary, true_right, false_right, per_item = against(raw, [shift] * n)
            by_domain = {}
            for d in domains:
                idx = [i for i, it in enumerate(items) if it["domain"] == d]
                by_domain[d] = round(sum(per_item[i] for i in idx) / len(idx), 2)
            out[kind] = {
                **summary,
                "both_right": sum(t and f for t, f in zip(true_right, false_right, strict=True)),
                "mean_p_yes": round(
                    sum(1 / (1 + math.exp(-(x - shift))) for x in raw) / len(raw), 3
                ),
                "by_domain": by_domain,
            }
        # Threshold-free: the true statement's log-odds above the false one's, per item; and a
        # question-conditional prior (the same question, answer "N/A") subtracted per item.
        qprior = log_odds(backend, fmt, [(it["question"], "N/A") for it in items])
        out["paired"] = round(sum(raw[i] > raw[n + i] for i in range(n)) / n, 3)
        out["paired_by_domain"] = {
            d: round(
                sum(raw[i] > raw[n + i] for i in range(n) if items[i]["domain"] == d)
                / sum(it["domain"] == d for it in items),
                2,
            )
            for d in domains
        }
        out["question_prior"] = against(raw, qprior)[0]
        other_raw = log_odds(backend, fmt, other_rows)
        m = len(others)
        centre = {
            d: sum(other_raw[i] + other_raw[m + i] for i in range(m) if others[i]["domain"] == d)
            / (2 * sum(it["domain"] == d for it in others))
            for d in domains
        }
        out["domain_prior"] = against(raw, [centre[it["domain"]] for it in items])[0]
        report[name] = out
        print(name, json.dumps(out), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"args": vars(args), "formats": report}, handle, indent=1)


if __name__ == "__main__":
    main()
