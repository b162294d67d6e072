"""Empirical privacy audit: canaries, one training run, a membership-inference test, and the
epsilon lower bound it implies (Steinke, Nasr & Jagielski 2023, "Privacy Auditing with One (1)
Training Run").

Each of ``m`` canary records joins the training data independently with probability 1/2. After
training, an attacker scores every canary (a higher score: more likely trained on), guesses
"in" for the top ``k`` and "out" for the bottom ``k``, and abstains on the rest. Under
epsilon-DP the number of correct guesses among the ``r = 2k`` made is stochastically dominated
by ``Binomial(r, e^eps / (1 + e^eps))``, so observing ``v`` correct rules out, at confidence
``1 - beta``, every epsilon for which ``P[Binomial(r, p(eps)) >= v] <= beta``. The largest such
epsilon is the reported lower bound. It neglects delta (for delta around 1e-5 and a few hundred
canaries the difference is far below the bound's own resolution): a lower bound above the
accountant's epsilon would mean the accounting, or the implementation, is wrong.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def epsilon_lower_bound(correct: int, guesses: int, *, confidence: float = 0.95) -> float:
    """The largest epsilon that ``correct`` right guesses out of ``guesses`` rule out at
    ``confidence`` (0 when they are consistent with chance).

    >>> epsilon_lower_bound(50, 100)
    0.0
    >>> round(epsilon_lower_bound(100, 100), 2)
    3.49
    """
    from scipy.stats import binom
    if not 0 <= correct <= guesses:
        raise ValueError(f"correct={correct} must be between 0 and guesses={guesses}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    beta = 1.0 - confidence

    def tail(eps):  # P[Binomial(guesses, p(eps)) >= correct], increasing in eps
        p = 1.0 / (1.0 + math.exp(-eps))
        return binom.sf(correct - 1, guesses, p)

    if guesses == 0 or tail(0.0) > beta:
        return 0.0
    lo, hi = 0.0, 1.0
    while tail(hi) <= beta and hi < 64:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if tail(mid) <= beta else (lo, mid)
    return lo


@dataclasses.dataclass
class AuditReport:
    """``epsilon_lower_bound`` (empirical) beside ``accountant_epsilon`` (the guarantee, None for
    a non-private run); ``canaries``, ``included`` (how many joined), ``guesses``, ``correct``;
    ``scores`` and ``membership`` per canary."""

    epsilon_lower_bound: float
    accountant_epsilon: float | None
    canaries: int
    included: int
    guesses: int
    correct: int
    confidence: float
    scores: np.ndarray = dataclasses.field(repr=False)
    membership: np.ndarray = dataclasses.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ("scores", "membership")}


def guess_and_count(scores: np.ndarray, membership: np.ndarray, guesses: int) -> int:
    """Correct guesses when the top ``guesses // 2`` scores are guessed in and the bottom
    ``guesses // 2`` out."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    k = guesses // 2
    membership = np.asarray(membership, bool)
    return int(membership[order[:k]].sum() + (~membership[order[len(order) - k:]]).sum())


def tabular_canaries(data: pd.DataFrame, m: int, seed: int = 0) -> pd.DataFrame:
    """``m`` canary rows: every column drawn independently from the data's own values, so each
    value is plausible but the combinations are not (the rows stand out to a model that
    memorises them)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: data[c].to_numpy()[rng.integers(0, len(data), m)] for c in data.columns}
                        ).astype(data.dtypes.to_dict())


def audit_tabular(make_synthesizer: Callable[[], Any], data: pd.DataFrame, *, canaries: int = 200,
                  guess_fraction: float = 0.5, draws: int = 16, confidence: float = 0.95,
                  seed: int = 0) -> AuditReport:
    """Audit a :class:`~jaxsynth.TabularSynthesizer` (TVAE or TabDDPM): ``make_synthesizer()``
    returns an unfitted one; it is fitted once on ``data`` plus the included canaries, and
    each canary is scored by minus its loss under the fitted model (mean of ``draws``
    evaluations; lower loss: more likely trained on). ``guess_fraction`` of the canaries get a
    guess (half "in", half "out")."""
    if canaries < 2:
        raise ValueError(f"canaries must be at least 2, got {canaries}")
    if not 0 < guess_fraction <= 1:
        raise ValueError(f"guess_fraction must be in (0, 1], got {guess_fraction}")
    rng = np.random.default_rng(seed)
    probes = tabular_canaries(data, canaries, seed)
    membership = rng.random(canaries) < 0.5
    synth = make_synthesizer()
    synth.fit(pd.concat([data, probes[membership]], ignore_index=True))
    scores = -synth.example_losses(probes, draws=draws, seed=seed)
    guesses = max(2, 2 * int(guess_fraction * canaries / 2))
    correct = guess_and_count(scores, membership, guesses)
    report = getattr(synth, "privacy_report", None) or {}
    return AuditReport(epsilon_lower_bound=epsilon_lower_bound(correct, guesses, confidence=confidence),
                       accountant_epsilon=report.get("epsilon"), canaries=canaries,
                       included=int(membership.sum()), guesses=guesses, correct=correct,
                       confidence=confidence, scores=scores, membership=membership)
