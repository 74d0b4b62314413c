"""The suite's scorecard: every paper's claims, verdicts and key metrics on one page."""

from __future__ import annotations

from pathlib import Path

from reprolab.config import load_yaml
from reprolab.io import read_json


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def key_metrics(card: dict, metrics: dict[str, float]) -> list[tuple[str, float | None]]:
    """The card's `key_metrics` with their values; a name missing from metrics.json shows as —."""
    return [(name, metrics.get(name)) for name in card.get("key_metrics", [])]


def _paper_section(results: Path, paper: str, card: dict, out: Path) -> list[str]:
    claims = read_json(results / paper / "claims.json")
    metrics_path = results / paper / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    title = card.get("title")
    lines = [f"## {paper}", ""] + ([f"*{title}*", ""] if title else [])
    lines += ["| claim | metric | expected | measured | verdict |", "|---|---|---|---|---|"]
    for c in claims["claims"]:
        lines.append(
            f"| {c['text']} | `{c['metric']}` {c['op']} | {_fmt(c['expected'])} | "
            f"{_fmt(c['measured'])} | {c['verdict']} |"
        )
    chosen = key_metrics(card, metrics)
    if chosen:
        lines += ["", "Key metrics:", "", "| metric | value |", "|---|---|"]
        lines += [f"| `{name}` | {_fmt(value)} |" for name, value in chosen]
    figures = sorted((results / paper / "figures").glob("*.png"))
    if figures:
        links = ", ".join(f"[{f.stem}]({f.relative_to(out.parent)})" for f in figures)
        lines += ["", f"Figures: {links}"]
    return lines + [""]


def write_scorecard(
    results: Path, scale: str, papers: list[str], out: Path, seeds: Path = Path("seeds")
) -> Path:
    """results/<scale>/scorecard.md: a summary table, then per paper its claims with verdicts,
    its key metrics (the card's `key_metrics`) and links to its figures."""
    lines = [f"# reprolab scorecard — scale `{scale}`", ""]
    lines += [
        "| paper | reproduced | not reproduced | not checked | missing |",
        "|---|---|---|---|---|",
    ]
    sections: list[str] = []
    for paper in papers:
        counts = read_json(results / paper / "claims.json")["summary"]
        lines.append(
            f"| [{paper}](#{paper}) | {counts.get('reproduced', 0)} | "
            f"{counts.get('not reproduced', 0)} | {counts.get('not checked at this scale', 0)} | "
            f"{counts.get('metric missing', 0)} |"
        )
        card_path = seeds / f"{paper}.yaml"
        card = load_yaml(card_path) if card_path.exists() else {}
        sections += _paper_section(results, paper, card, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines + [""] + sections))
    return out


def run_summary(results: Path, papers: list[str], tracking_uri: str) -> str:
    """What a finished run prints: where the results are and how to open MLflow on them."""
    lines = ["", "reprolab: done.", f"  scorecard: {results / 'scorecard.md'}"]
    for paper in papers:
        lines.append(f"  {paper}: {results / paper}/metrics.json, claims.json")
        for figure in sorted((results / paper / "figures").glob("*.png")):
            lines.append(f"    figure: {figure}")
    if tracking_uri.startswith("sqlite:"):
        lines.append(
            f"  MLflow UI: mlflow ui --backend-store-uri {tracking_uri}  (then open http://127.0.0.1:5000)"
        )
    else:
        lines.append(f"  MLflow UI: {tracking_uri}")
    return "\n".join(lines)
