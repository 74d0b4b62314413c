"""Data steps split so that a setting only evaluation reads never reruns what trains or
simulates: the job config (whose hash Snakemake compares, `params`) of the step that makes the
training (or simulated) inputs stays the same when such a setting changes."""

from __future__ import annotations

import copy

import pytest

from reprolab.config import load_config
from reprolab.steps import job_config, load_paper
from tests.conftest import REPO

# (paper, step making what training or simulation reads, step making what only evaluation
# reads, a key path only the evaluation set depends on, a key path both depend on)
SPLITS = [
    ("sgd_rlvr", "data", "data_test", ("data", "n_test"), ("data", "n_train")),
    ("sgd_rlvr", "data", "data_val", ("data", "n_val"), ("data", "n_train")),
    # The validation size never rescores the test set; the test size moves the validation set.
    ("sgd_rlvr", "data_test", "data_val", ("data", "n_val"), ("data", "n_test")),
    ("dialdefer", "data_train", "data", None, ("data", "n_eval_per_domain")),
    ("psibench", "data", "data_controls", ("controls", "diverse_fraction"), ("data", "n_sessions")),
]


def changed(cfg: dict, path: tuple[str, ...]) -> dict:
    """The config with the value at `path` changed (a number bumped, anything else replaced)."""
    out = copy.deepcopy(cfg)
    *parents, key = path
    node = out
    for name in parents:
        node = node[name]
    value = node.get(key)
    node[key] = value + 1 if isinstance(value, int | float) else 3
    return out


@pytest.mark.parametrize("scale", ["smoke", "tiny"])
@pytest.mark.parametrize(("paper", "trains", "evaluates", "eval_only", "shared"), SPLITS)
def test_an_evaluation_setting_keeps_the_training_inputs(
    paper, trains, evaluates, eval_only, shared, scale
):
    cfg = load_config(paper, scale, REPO / "config")
    steps = load_paper(paper).steps
    before = job_config(cfg, steps[trains], {})
    if eval_only is not None:
        other = changed(cfg, eval_only)
        assert job_config(other, steps[trains], {}) == before
        assert job_config(other, steps[evaluates], {}) != job_config(cfg, steps[evaluates], {})
    # A setting both sets depend on reruns both (the training inputs' job sees it).
    assert job_config(changed(cfg, shared), steps[trains], {}) != before


@pytest.mark.parametrize("scale", ["smoke", "tiny"])
def test_dialdefer_train_split_size_rescores_nothing(scale):
    """dialdefer's judged items come first in each domain's stream, the split after them: the
    split's size is not in the eval items' job config, so it reruns no base-judge score."""
    cfg = load_config("dialdefer", scale, REPO / "config")
    steps = load_paper("dialdefer").steps
    other = changed(cfg, ("data", "n_train_per_domain"))
    assert job_config(other, steps["data"], {}) == job_config(cfg, steps["data"], {})
    assert job_config(other, steps["data_train"], {}) != job_config(cfg, steps["data_train"], {})
