"""The suite's scorecard: every paper's claims, verdicts and key metrics on one page."""

from __future__ import annotations

from pathlib import Path

from reprolab.io import read_json


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def write_scorecard(results: Path, scale: str, papers: list[str], out: Path) -> Path:
    lines = [f"# reprolab scorecard — scale `{scale}`", ""]
    lines += [
        "| paper | reproduced | not reproduced | not checked | missing |",
        "|---|---|---|---|---|",
    ]
    sections = []
    for paper in papers:
        claims = read_json(results / paper / "claims.json")
        counts = claims["summary"]
        lines.append(
            f"| [{paper}](#{paper}) | {counts.get('reproduced', 0)} | "
            f"{counts.get('not reproduced', 0)} | {counts.get('not checked at this scale', 0)} | "
            f"{counts.get('metric missing', 0)} |"
        )
        sections += [f"## {paper}", "", "| claim | metric | expected | measured | verdict |"]
        sections.append("|---|---|---|---|---|")
        for c in claims["claims"]:
            sections.append(
                f"| {c['text']} | `{c['metric']}` {c['op']} | {_fmt(c['expected'])} | "
                f"{_fmt(c['measured'])} | {c['verdict']} |"
            )
        figures = sorted((results / paper / "figures").glob("*.png"))
        if figures:
            links = ", ".join(f"[{f.stem}]({f.relative_to(out.parent)})" for f in figures)
            sections += ["", f"Figures: {links}"]
        sections.append("")
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
