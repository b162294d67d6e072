"""The empirical privacy audit: canaries, one run, membership inference, an epsilon lower bound."""

import numpy as np
import pandas as pd
import pytest

from jaxsynth import TabularSynthesizer
from jaxsynth.privacy.audit import audit_tabular, epsilon_lower_bound, guess_and_count, tabular_canaries


def test_epsilon_lower_bound_on_known_counts():
    assert epsilon_lower_bound(50, 100) == 0.0  # chance
    assert epsilon_lower_bound(100, 100) == pytest.approx(np.log(0.05 ** 0.01 / (1 - 0.05 ** 0.01)), abs=1e-6)
    assert 0 < epsilon_lower_bound(70, 100) < epsilon_lower_bound(90, 100)
    assert epsilon_lower_bound(70, 100, confidence=0.99) < epsilon_lower_bound(70, 100)
    assert guess_and_count(np.array([5.0, 4, 3, 2, 1, 0]), np.array([1, 1, 0, 1, 0, 0], bool), 4) == 4
    with pytest.raises(ValueError, match="between 0 and"):
        epsilon_lower_bound(5, 4)


def _table(n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({**{f"x{i}": rng.normal(size=n) for i in range(6)},
                         **{f"c{j}": rng.choice(list("abcdef"), n) for j in range(4)}})


def test_audit_finds_memorisation_without_dp_and_stays_under_the_accountant_with_it():
    data = _table()
    canaries = tabular_canaries(data, 5, seed=1)
    assert list(canaries.columns) == list(data.columns) and (canaries.dtypes == data.dtypes).all()
    # Trained long on 150 rows, a non-private TVAE memorises the canaries it saw.
    leaky = audit_tabular(lambda: TabularSynthesizer("tvae", seed=0, batch_size=64, epochs=400,
                                                     progress=False), data, canaries=100, draws=8)
    assert leaky.accountant_epsilon is None and leaky.epsilon_lower_bound > 0.5, leaky
    public = {**{f"x{i}": {"kind": "numerical", "min": -5.0, "max": 5.0} for i in range(6)},
              **{f"c{j}": {"kind": "categorical", "categories": list("abcdef")} for j in range(4)}}
    private = audit_tabular(lambda: TabularSynthesizer("tvae", seed=0, batch_size=64, epochs=10, epsilon=1.0,
                                                       delta=1e-5, metadata=public, progress=False),
                            data, canaries=100, draws=4)
    assert private.accountant_epsilon == pytest.approx(1.0, abs=1e-3)
    assert private.epsilon_lower_bound <= private.accountant_epsilon, private
