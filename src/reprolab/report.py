"""The suite's scorecard: every paper's science claims with their evidence, its sanity checks
apart, its key metrics, and a forest plot of its claims."""

from __future__ import annotations

from pathlib import Path

from reprolab.claims import SANITY_VERDICTS, SCIENCE_VERDICTS
from reprolab.config import load_yaml
from reprolab.io import read_json


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def key_metrics(card: dict, metrics: dict[str, float]) -> list[tuple[str, float | None]]:
    """The card's `key_metrics` with their values; a name missing from metrics.json shows as —."""
    return [(name, metrics.get(name)) for name in card.get("key_metrics", [])]


def _provenance(spec: dict) -> str:
    text = f"{_fmt(spec['value'])} ({spec['source']}"
    return text + (f": {spec['reason']})" if spec.get("reason") else ")")


def evidence_text(c: dict) -> str:
    """'0.0625 [0.02, 0.11] paired bootstrap over 64 items' or the permutation p."""
    if "p" in c:
        return f"{_fmt(c['estimate'])}, p = {_fmt(c['p'])} ({c['method']})"
    if "ci" not in c:
        return "—"
    low, high = c["ci"]
    return f"{_fmt(c['estimate'])} [{_fmt(low)}, {_fmt(high)}] ({c['method']})"


def test_text(c: dict) -> str:
    """What the estimate is compared with, every threshold and margin with its source."""
    test = c.get("test")
    if test is None:
        return "—"
    if test == "direction" and "threshold" in c:
        text = f"direction {c['op']} {_provenance(c['threshold'])}"
        if "magnitude" in c:
            low, high = c["magnitude"]["range"]
            text += f"; paper range [{_fmt(low)}, {_fmt(high)}]"
        return text
    if test in ("equivalence", "noninferiority") and "margin" in c:
        return f"{test}, margin ±{_provenance(c['margin'])}"
    if test == "permutation" and "threshold" in c:
        return f"permutation {c['op']} null, p < {_fmt(c['threshold']['value'])}"
    return test


def verdict_text(c: dict) -> str:
    verdict = c["verdict"]
    if c.get("why"):
        verdict += f": {c['why']}"
    if "detectable" in c:
        verdict += f" (detectable effect ≈ {_fmt(c['detectable'])})"
    return verdict


def paper_section(results: Path, paper: str, card: dict, links_from: Path) -> list[str]:
    """A paper's scorecard section (claims, sanity checks, key metrics, figure links relative to
    the folder `links_from`): in scorecard.md, and alone on the paper's MLflow parent run."""
    claims = read_json(results / paper / "claims.json")
    metrics_path = results / paper / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    title = card.get("title")
    lines = [f"## {paper}", ""] + ([f"*{title}*", ""] if title else [])
    science = [c for c in claims["claims"] if c["kind"] == "science"]
    sanity = [c for c in claims["claims"] if c["kind"] == "sanity"]
    lines += ["Science claims:", ""]
    lines += [
        "| claim | paper | estimate [CI] (method) | test | verdict |",
        "|---|---|---|---|---|",
    ]
    for c in science:
        lines.append(
            f"| {c['text']} | {_fmt(c.get('paper_value'))} | {evidence_text(c)} | "
            f"{test_text(c)} | {verdict_text(c)} |"
        )
    if sanity:
        lines += ["", "Sanity checks (not counted as reproductions):", ""]
        lines += ["| check | metric | measured | verdict |", "|---|---|---|---|"]
        for c in sanity:
            metric = f"`{c['metric']}` {c['op']} {_fmt(c['value'])}" if "metric" in c else "—"
            lines.append(
                f"| {c['text']} | {metric} | {_fmt(c.get('measured'))} | {verdict_text(c)} |"
            )
    chosen = key_metrics(card, metrics)
    if chosen:
        lines += ["", "Key metrics:", "", "| metric | value |", "|---|---|"]
        lines += [f"| `{name}` | {_fmt(value)} |" for name, value in chosen]
    figures = sorted((results / paper / "figures").glob("*.png"))
    if figures:
        links = ", ".join(f"[{f.stem}]({f.relative_to(links_from)})" for f in figures)
        lines += ["", f"Figures: {links}"]
    return lines + [""]


HOW_TO_READ = """\
How to read a verdict: a science claim's estimate carries a {level:.0%} interval over the unit
that was sampled (items, episodes, seeds). `reproduced`: the interval lies on the paper's side of
the threshold (and inside its range where the card gives one); `contradicted`: it lies on the
other side, or outside the paper's range or equivalence margin; `inconclusive`: it spans both
(the detectable effect says how large an effect this design could have found); `not testable`: a
precondition of the claim failed in this run. Sanity checks (identities, implementation facts)
are listed apart and never counted as reproductions."""


def write_scorecard(
    results: Path, scale: str, papers: list[str], out: Path, seeds: Path = Path("seeds")
) -> Path:
    """results/<scale>/scorecard.md: a summary table, then per paper its science claims with
    evidence, its sanity checks, its key metrics and links to its figures."""
    runs = {paper: read_json(results / paper / "claims.json") for paper in papers}
    first = next(iter(runs.values()), {})
    settings = first.get("settings", {"level": 0.95})
    provenance = first.get("provenance", {})
    lines = [f"# reprolab scorecard — scale `{scale}`", ""]
    if provenance:
        packages = ", ".join(f"{k} {v}" for k, v in sorted(provenance.get("packages", {}).items()))
        lines += [f"Commit `{provenance.get('commit', '?')}`; {packages}.", ""]
    lines += [HOW_TO_READ.format(level=settings["level"]), ""]
    science_cols = [v for v in SCIENCE_VERDICTS]
    sanity_cols = [v for v in SANITY_VERDICTS if v in ("pass", "fail")]
    lines += [
        "| paper | seeds | "
        + " | ".join(science_cols)
        + " | sanity "
        + " | sanity ".join(sanity_cols)
        + " |",
        "|---" * (2 + len(science_cols) + len(sanity_cols)) + "|",
    ]
    sections: list[str] = []
    for paper, claims in runs.items():
        counts = claims["summary"]
        row = [str(counts["science"].get(v, 0)) for v in science_cols]
        row += [str(counts["sanity"].get(v, 0)) for v in sanity_cols]
        seeds_run = ", ".join(map(str, claims.get("provenance", {}).get("seeds", [])))
        lines.append(f"| [{paper}](#{paper}) | {seeds_run or '?'} | " + " | ".join(row) + " |")
        card_path = seeds / f"{paper}.yaml"
        card = load_yaml(card_path) if card_path.exists() else {}
        sections += paper_section(results, paper, card, out.parent)
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
