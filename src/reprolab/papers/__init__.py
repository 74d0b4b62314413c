"""One package per paper. The manifest is the set of packages here with a `steps` module
(reprolab.steps declares its steps and figures); config/config.yaml's `papers` picks which the
workflow builds, and a test keeps the two equal."""

from __future__ import annotations

import pkgutil
from pathlib import Path


def manifest() -> list[str]:
    """Every paper of the suite, in name order."""
    here = Path(__file__).parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(here)])
        if info.ispkg and (here / info.name / "steps.py").is_file()
    )
