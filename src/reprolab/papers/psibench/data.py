"""psibench's sessions: the shipped non-clinical reference set (smoke, tiny) or the Eeyore
sessions through `datasets` (full), and the control systems made from the held-out sessions.

A session: {"id", "split" (reference | heldout), "source", "style", "profile": {"ccd": {...},
"principles": [...]}, "messages": [{"role": "user" (therapist) | "assistant" (patient),
"content"}]}.
"""

from __future__ import annotations

import functools
import math
import random
import re
from importlib import resources

from reprolab.papers.psibench import labels as lab
from reprolab.papers.psibench import measures

CONTROLS = ("replay", "verbose", "diverse", "trajectory", "low_variability")


def shipped_sessions() -> list[dict]:
    """The hand-written reference set shipped in the package (not clinical data)."""
    import yaml

    text = resources.files("reprolab.papers.psibench").joinpath("reference_sessions.yaml")
    out = []
    for s in yaml.safe_load(text.read_text())["sessions"]:
        messages = []
        for turn in s["turns"]:
            messages.append({"role": "user", "content": turn["T"]})
            messages.append({"role": "assistant", "content": turn["P"]})
        out.append(
            {
                "id": s["id"],
                "split": s["split"],
                "source": "shipped",
                "style": s["style"],
                "profile": {"ccd": s["ccd"], "principles": s["principles"]},
                "messages": messages,
            }
        )
    return out


def hub_sessions(hub: dict, seed: int) -> list[dict]:
    """Eeyore (liusiyang/eeyore_profile) through `datasets`: the ESC, HOPE and AnnoMI sessions,
    consecutive messages of one role merged (as the authors' loader does), a seeded half of them
    held out. Profiles come from the columns named in `hub.profile_columns` where present.
    Not run in this environment (no hub access)."""
    from datasets import load_dataset

    rows = load_dataset(
        hub["dataset"], split=hub.get("split", "train"), revision=hub.get("revision")
    )
    rows = [r for r in rows if r.get("source") in hub["sources"]]
    rng = random.Random(seed)
    rng.shuffle(rows)
    rows = rows[: hub.get("n_sessions", len(rows))]
    columns = hub.get("profile_columns", {})
    out = []
    for i, r in enumerate(rows):
        merged: list[dict] = []
        for m in r["messages"]:
            if m["role"] not in ("user", "assistant"):
                continue
            if merged and merged[-1]["role"] == m["role"]:
                merged[-1]["content"] += "\n" + m["content"]
            else:
                merged.append({"role": m["role"], "content": m["content"]})
        out.append(
            {
                "id": f"e{i:04d}",
                "split": "reference" if i % 2 == 0 else "heldout",
                "source": r["source"],
                "style": r.get(columns.get("style", "style"), "plain") or "plain",
                "profile": {
                    "ccd": r.get(columns.get("ccd", "ccd")) or {},
                    "principles": r.get(columns.get("principles", "principles")) or [],
                },
                "messages": merged,
            }
        )
    return out


def load_sessions(cfg: dict, seed: int) -> list[dict]:
    if cfg["source"] == "shipped":
        return shipped_sessions()
    return hub_sessions(cfg["hub"], seed)


def split_sessions(cfg: dict, seed: int, split: str) -> list[dict]:
    """One split's sessions (reference or heldout), the first `n_sessions` of it when set."""
    rows = [s for s in load_sessions(cfg, seed) if s["split"] == split]
    return rows[: cfg.get("n_sessions", len(rows))]


def patient_messages(session: dict, max_turns: int = measures.MAX_TURNS) -> list[str]:
    """The non-empty patient (assistant) messages in order, the first `max_turns`."""
    msgs = [m["content"].strip() for m in session["messages"] if m["role"] == "assistant"]
    return [m for m in msgs if m][:max_turns]


def n_patient_turns(session: dict, cap: int = measures.MAX_TURNS) -> int:
    return min(len(patient_messages(session, cap)), cap)


# --- control systems ---------------------------------------------------------------------------


def _with_patient(session: dict, name: str, patient: list[str]) -> dict:
    """The session with its patient messages replaced in order (therapist turns kept)."""
    out, k = [], 0
    for m in session["messages"]:
        if m["role"] == "assistant" and m["content"].strip() and k < len(patient):
            out.append({"role": "assistant", "content": patient[k]})
            k += 1
        elif m["role"] == "user":
            out.append(dict(m))
    return {**session, "system": f"control_{name}", "messages": out}


def _pseudo_words(rng: random.Random):
    """Made-up words of a requested length (consonant-vowel pairs), each used once."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    seen: set[str] = set()
    lexicon = lab.vader().lexicon

    def word(length: int) -> str:
        for _ in range(1000):
            w = "".join(rng.choice(consonants if k % 2 == 0 else vowels) for k in range(length))
            if w not in seen and w not in lexicon and not any(measures.marker_counts(w).values()):
                seen.add(w)
                return w
        raise RuntimeError(f"no fresh made-up word of length {length}")

    return word


def diversify(messages: list[str], fraction: float, rng: random.Random, word, keep=()) -> list[str]:
    """Each repeat of a word already used in the conversation replaced, with probability
    `fraction`, by a fresh made-up word of the same length. Words of under three letters,
    marker words, every word VADER reads (`sentiment_words`) and the PTC proxy's cue words
    stay, so word counts, sentences, characters, markers and both stand-in labels stay while
    lexical diversity rises."""
    protected = sentiment_words() | set(keep)
    seen: set[str] = set()
    out = []
    for message in messages:
        tokens = []
        for token in message.split(" "):
            core, low, replaceable = _replaceable(token, protected)
            if replaceable and low in seen and rng.random() < fraction:
                token = token.replace(core, word(len(core)), 1)
            seen.add(low)
            tokens.append(token)
        out.append(" ".join(tokens))
    return out


def _replaceable(token: str, protected: frozenset[str] | set[str]) -> tuple[str, str, bool]:
    """The token's letters, lower-cased, and whether a word-replacing control may swap them:
    three letters or more, no apostrophe, not protected, not a marker."""
    core = re.sub(r"[^A-Za-z]", "", token)
    low = core.lower()
    ok = (
        len(core) >= 3
        and "'" not in token
        and low not in protected
        and not any(measures.marker_counts(low).values())
    )
    return core, low, ok


@functools.cache
def sentiment_words() -> frozenset[str]:
    """Every word VADER reads (its lexicon, negations, boosters, idioms' words, 'but') and the
    words of multi-word markers: the word-replacing controls never touch them, so the valence
    label and the marker counts stay."""
    from vaderSentiment import vaderSentiment as v

    phrases = (*v.NEGATE, *v.BOOSTER_DICT, *v.SENTIMENT_LADEN_IDIOMS, *v.SPECIAL_CASES, "but")
    words = {w.lower() for p in phrases for w in p.split()}
    return frozenset(lab.vader().lexicon) | words | marker_phrase_words()


@functools.cache
def marker_phrase_words() -> frozenset[str]:
    """The words of the multi-word markers ('give up', 'you know'): one of them replaced would
    break the marker, so the word-replacing controls keep them."""
    found = set()
    for patterns in measures.MARKERS.values():
        for pattern in patterns:
            for alt in re.findall(r"[a-z' ]+", pattern.lower()):
                if " " in alt.strip():
                    found |= set(alt.split())
    return frozenset(found)


def repeat_words(messages: list[str], fraction: float, rng: random.Random, keep=()) -> list[str]:
    """The inverse of `diversify`: each eligible word (three letters or more, no apostrophe, not a
    VADER lexicon, negation or booster word, marker or PTC cue word) replaced, with probability
    `fraction`, by an eligible word already used in the conversation. Word counts, sentences,
    markers and both stand-in labels stay while lexical diversity falls."""
    protected = sentiment_words() | set(keep)
    seen: list[str] = []
    out = []
    for message in messages:
        tokens = []
        for token in message.split(" "):
            core, low, eligible = _replaceable(token, protected)
            if eligible and seen and rng.random() < fraction:
                other = seen[rng.randrange(len(seen))]
                token = token.replace(core, other.capitalize() if core[0].isupper() else other, 1)
            elif eligible and low not in seen:
                seen.append(low)
            tokens.append(token)
        out.append(" ".join(tokens))
    return out


# The replacement shares tried (fine steps first: MTLD jumps with a few repeats), each with
# three seeded draws.
FRACTIONS = tuple(k / 100 for k in range(21)) + tuple(k / 20 for k in range(5, 21))
DRAWS = 3


def homogenize(
    patients: list[list[str]], shrink: float, mtld: dict, seed: int, keep=()
) -> list[list[str]]:
    """Each session's MTLD pulled toward the sessions' median by `shrink` of its distance to it:
    sessions above the median repeat words (`repeat_words`), sessions below it take made-up
    words for repeats (`diversify`): of the `FRACTIONS` x `DRAWS` seeded candidates, the one
    whose MTLD lands nearest its target. Only words change, so lengths, sentences, markers and
    both stand-in labels stay, and sessions under the MTLD minimum stay as they are: a planted
    population that varies less (SD of session MTLD x ~(1 - shrink))."""
    import numpy as np

    def value(messages: list[str]) -> float:
        return measures.session_mtld(messages, mtld["threshold"], mtld["min_tokens"])

    values = [value(p) for p in patients]
    defined = [v for v in values if not math.isnan(v)]
    center = float(np.median(defined)) if defined else float("nan")
    out = []
    for i, (p, v) in enumerate(zip(patients, values, strict=True)):
        if math.isnan(v) or v == center:
            out.append(list(p))
            continue
        target = center + (1 - shrink) * (v - center)
        candidates = []
        for f in FRACTIONS:
            for draw in range(DRAWS):
                rng = random.Random(f"{seed}/{i}/{f}/{draw}")
                if v > target:
                    moved = repeat_words(p, f, rng, keep)
                else:
                    moved = diversify(p, f, rng, _pseudo_words(rng), keep)
                candidates.append((abs(value(moved) - target), f, draw, moved))
        out.append(min(candidates, key=lambda c: c[:3])[3])
    return out


def controls(heldout: list[dict], cfg: dict, proxy_cfg: dict, seed: int, mtld: dict) -> list[dict]:
    """The null control (replay the held-out sessions) and the planted positive controls, each
    with one deviation the paper reports (config `controls`):
    - verbose: each patient message followed by another held-out session's message with the
      same PTC proxy label, VADER label and marker presence (seeded, each used once where
      possible): longer turns of the same register, the same labels and marker rates;
    - diverse: repeated words replaced by made-up words (`diverse_fraction`);
    - trajectory: each session's patient messages reordered from most negative to most positive
      by VADER compound: a uniform negative-to-positive arc (the PTC proxy's C cues are
      mostly positive, so P moves early and C late);
    - low_variability: each session's MTLD pulled halfway (`low_variability_shrink`) toward the
      sessions' median by repeating or replacing words (`homogenize`): every length, label and
      marker stays and only lexical diversity changes, so session MTLD varies less.
      (A turn-by-turn rotation of messages across sessions, used before, does not lower the SD
      with 32 sessions: mixing raises every session's MTLD and lets short sessions reach the
      MTLD minimum.)"""
    rng = random.Random(seed)
    patients = [patient_messages(s) for s in heldout]
    proxy = lab.PTCProxy(**proxy_cfg)
    out = [_with_patient(s, "replay", p) for s, p in zip(heldout, patients, strict=True)]

    def signature(m: str) -> tuple:
        counts = measures.marker_counts(m)
        return (proxy(m), lab.valence_label(m), any(counts[k] for k in measures.COMBINED))

    pool = [(i, m, signature(m)) for i, p in enumerate(patients) for m in p]
    used: set[int] = set()
    for i, (s, p) in enumerate(zip(heldout, patients, strict=True)):
        longer = []
        for m in p:
            sig = signature(m)
            match = [k for k, (j, _, g) in enumerate(pool) if j != i and g == sig]
            fresh = [k for k in match if k not in used] or match
            if fresh:
                k = fresh[rng.randrange(len(fresh))]
                used.add(k)
                longer.append(m + " " + pool[k][1])
            else:
                longer.append(m + " " + m)
        out.append(_with_patient(s, "verbose", longer))
    words = _pseudo_words(rng)
    keep = {
        w.lower() for cue in (*proxy_cfg["change"], *proxy_cfg["transition"]) for w in cue.split()
    }
    for s, p in zip(heldout, patients, strict=True):
        changed = diversify(p, cfg["diverse_fraction"], rng, words, keep)
        out.append(_with_patient(s, "diverse", changed))
    for s, p in zip(heldout, patients, strict=True):
        ordered = sorted(p, key=lambda m: lab.compound(m))
        out.append(_with_patient(s, "trajectory", ordered))
    shrunk = homogenize(patients, cfg["low_variability_shrink"], mtld, seed, keep)
    for s, p in zip(heldout, shrunk, strict=True):
        out.append(_with_patient(s, "low_variability", p))
    return out
