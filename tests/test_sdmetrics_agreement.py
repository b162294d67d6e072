"""jaxsynth's metrics agree with SDMetrics' where both define them.

SDMetrics (pandas < 3) cannot share this environment, so its values were recorded once on fixed
generated tables by `benchmarks/sdmetrics_reference.py` (SDMetrics 0.32.0, in its own venv) into
tests/data/sdmetrics/; this test recomputes jaxsynth's figures on the same CSV files.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from jaxsynth.eval import (
    contingency_similarity,
    correlation_similarity,
    detection,
    ks_complement,
    missing_rate_agreement,
    tv_complement,
)

DATA = Path(__file__).parent / "data" / "sdmetrics"


@pytest.fixture(scope="module")
def data():
    real, synthetic = pd.read_csv(DATA / "real.csv"), pd.read_csv(DATA / "synthetic.csv")
    return real, synthetic, json.loads((DATA / "reference.json").read_text())


def test_column_metrics_equal_sdmetrics(data):
    real, synthetic, ref = data
    for c, want in ref["KSComplement"].items():
        assert ks_complement(real[c], synthetic[c]) == pytest.approx(want, abs=1e-9), c
    for c, want in ref["TVComplement"].items():
        assert tv_complement(real[c], synthetic[c]) == pytest.approx(want, abs=1e-9), c
    for c, want in ref["MissingValueSimilarity"].items():
        assert missing_rate_agreement(real[c], synthetic[c]) == pytest.approx(want, abs=1e-9), c


def test_pair_metrics_equal_sdmetrics(data):
    real, synthetic, ref = data
    for pair, want in ref["CorrelationSimilarity"].items():
        cols = pair.split(",")
        assert correlation_similarity(real[cols], synthetic[cols]) == pytest.approx(want, abs=1e-9), pair
    for pair, want in ref["ContingencySimilarity"].items():
        cols = pair.split(",")
        assert contingency_similarity(real[cols], synthetic[cols]) == pytest.approx(want, abs=1e-9), pair


def test_logistic_detection_close_to_sdmetrics(data):
    # Same definition (3-fold logistic regression, 1 - (2 max(AUC, 0.5) - 1)); the row encodings
    # differ (SDMetrics: its HyperTransformer; jaxsynth: min-max scaling and one-hot), and so do
    # the fold splits, so the scores agree only approximately.
    real, synthetic, ref = data
    assert detection(real, synthetic)["score"] == pytest.approx(ref["LogisticDetection"], abs=0.08)
