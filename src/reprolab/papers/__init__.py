"""One package per paper, each with data, train, evaluate and plot modules and a CLI.

PAPERS maps a slug to its CLI module; the core CLI imports a paper only when it is called.
"""

PAPERS: dict[str, str] = {
    "sgd_rlvr": "reprolab.papers.sgd_rlvr.cli",
    "dialdefer": "reprolab.papers.dialdefer.cli",
    "gar": "reprolab.papers.gar.cli",
    "toolr0": "reprolab.papers.toolr0.cli",
    "partnr_dialogue": "reprolab.papers.partnr_dialogue.cli",
}
