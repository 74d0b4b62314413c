"""The status lifecycle: not_mentioned -> open -> pending -> {completed, failed, abandoned}."""

from __future__ import annotations

import pytest

from reprolab.papers.atod import lifecycle as lc


def test_allowed_transitions():
    assert lc.allowed(lc.NOT_MENTIONED, lc.OPEN)
    assert lc.allowed(lc.OPEN, lc.PENDING) and lc.allowed(lc.OPEN, lc.ABANDONED)
    for end in lc.TERMINAL:
        assert lc.allowed(lc.PENDING, end)
        assert not any(lc.allowed(end, s) for s in lc.STATUSES)  # terminal stays
    assert not lc.allowed(lc.NOT_MENTIONED, lc.PENDING)
    assert not lc.allowed(lc.OPEN, lc.COMPLETED)  # completion needs the system to start


def test_check_history():
    lc.check_history([{"turn": 0, "status": "open"}, {"turn": 1, "status": "pending"},
                      {"turn": 4, "status": "failed"}])  # fmt: skip
    with pytest.raises(ValueError, match="illegal"):
        lc.check_history([{"turn": 0, "status": "open"}, {"turn": 2, "status": "completed"}])
    with pytest.raises(ValueError, match="back in time"):
        lc.check_history([{"turn": 3, "status": "open"}, {"turn": 1, "status": "pending"}])
