"""Kendall tau, Mann-Kendall, AUC and the linear fit against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from reprolab.stats import kendall_tau, linear_fit, mann_kendall, roc_auc


def test_kendall_tau_by_hand():
    # Pairs of (1,2,3,4) with (1,3,2,4): 5 concordant, 1 discordant -> tau = 4/6.
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(kendall_tau([1], [1]))


def test_mann_kendall_by_hand():
    # 1..5: S = 10, Var S = 5*4*15/18 = 16.667, Z = (10-1)/sqrt(16.667) = 2.2045, p = 0.0275.
    result = mann_kendall([1, 2, 3, 4, 5])
    assert result["s"] == 10
    assert result["var_s"] == pytest.approx(50 / 3)
    assert result["z"] == pytest.approx(9 / math.sqrt(50 / 3))
    assert result["p"] == pytest.approx(0.02749, abs=1e-4)
    # With a tie: 1, 2, 2, 3 -> S = 5; Var = (4*3*13 - 2*1*9)/18 = 7.667.
    tied = mann_kendall([1, 2, 2, 3])
    assert tied["s"] == 5 and tied["var_s"] == pytest.approx(138 / 18)
    assert mann_kendall([5, 4, 3, 2, 1])["z"] < 0


def test_auc_by_hand():
    # Positives 0.9, 0.4; negatives 0.5, 0.1: pairs won 3 of 4.
    assert roc_auc([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1]) == pytest.approx(0.75)
    assert roc_auc([1, 0], [0.3, 0.3]) == pytest.approx(0.5)  # a tie counts half
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_linear_fit_by_hand():
    fit = linear_fit([1, 2, 3], [3, 5, 7])
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(1)
    assert fit["r2"] == pytest.approx(1.0)
    # (0,0), (1,1), (2,1): slope 0.5, R^2 = 0.75.
    assert linear_fit([0, 1, 2], [0, 1, 1])["r2"] == pytest.approx(0.75)
