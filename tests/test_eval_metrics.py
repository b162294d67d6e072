"""Each evaluation metric on constructed cases whose answer is known."""

import numpy as np
import pandas as pd
import pytest
from tables import dependent_frame

from jaxsynth.eval.detection import detection, outliers
from jaxsynth.eval.distance import ball_hits, k_nearest_distances
from jaxsynth.eval.diversity import is_text, prdc, text_diversity
from jaxsynth.eval.privacy import k_anonymity, membership_inference, quasi_identifier_risk
from jaxsynth.eval.resemblance import (
    column_details,
    contingency_similarity,
    frequency_test,
    jensen_shannon,
    mean_test,
    missing_rate_agreement,
    wasserstein,
)
from jaxsynth.eval.utility import tstr


def test_column_distances_and_tests_on_known_cases():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.uniform(0, 1, 2000))
    assert wasserstein(x, x) == 0.0
    assert wasserstein(x, x + 1.0) == pytest.approx(1.0, rel=1e-3)  # moved by the whole range
    assert jensen_shannon(x, x) == 0.0
    assert jensen_shannon(x, x + 5.0) == pytest.approx(1.0)
    assert mean_test(x, x) == 1.0
    assert mean_test(x, pd.Series(rng.uniform(0, 1, 2000))) > 1e-3
    assert mean_test(x, x + 0.2) < 1e-10
    cats = pd.Series(rng.choice(["a", "b", "c"], 2000))
    assert frequency_test(cats, cats) == 1.0
    assert frequency_test(cats, pd.Series(["a"] * 2000)) < 1e-10
    assert missing_rate_agreement(x, x.where(x > 0.5)) == pytest.approx(0.5, abs=0.05)
    details = column_details(dependent_frame(300, seed=0), dependent_frame(300, seed=1))
    assert details["value"]["kind"] == "numerical" and details["group"]["test"] == "chi_square"
    assert all(0.8 < d["shape"] <= 1.0 for d in details.values())


def test_contingency_similarity_sees_a_broken_joint_that_marginals_miss():
    real = dependent_frame(3000, seed=0)
    assert contingency_similarity(real, real) == 1.0
    shuffled = real.assign(value=real["value"].sample(frac=1.0, random_state=0).to_numpy())
    assert column_details(real, shuffled)["value"]["shape"] == 1.0  # marginal untouched
    assert contingency_similarity(real, shuffled) < 0.8
    disjoint = real.assign(group="none", flag=real["flag"].map({True: "x", False: "y"}))
    assert contingency_similarity(real, disjoint) == 0.0
    assert np.isnan(contingency_similarity(real[["value"]], real[["value"]]))


def test_detection_and_outliers_separate_shifted_rows_and_not_fresh_ones():
    real = dependent_frame(800, seed=0)
    fresh, far = dependent_frame(800, seed=1), dependent_frame(800, seed=2).assign(flag=True)
    far["value"] += 8.0
    same = detection(real, fresh)
    assert 0.4 < same["auc"] < 0.62 and same["score"] > 0.75
    assert detection(real, far, model="gbm")["auc"] > 0.95
    assert detection(real, far)["score"] < 0.1
    ok, bad = outliers(real, fresh), outliers(real, far)
    assert ok["similarity"] > 0.85 and abs(ok["share_real"] - ok["share_synthetic"]) < 0.05
    assert bad["similarity"] < 0.5 and bad["share_synthetic"] > 0.5
    with pytest.raises(ValueError, match="'logistic' or 'gbm'"):
        detection(real, fresh, model="svm")


def _prdc_brute(real, fake, k):
    def dist(a, b):
        return np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    rr, ff, fr = dist(real, real), dist(fake, fake), dist(fake, real)
    r_rad, f_rad = np.sort(rr, 1)[:, k], np.sort(ff, 1)[:, k]
    return {"precision": np.mean((fr <= r_rad[None]).any(1)),
            "recall": np.mean((fr.T <= f_rad[None]).any(1)),
            "density": (fr <= r_rad[None]).sum() / (k * len(fake)),
            "coverage": np.mean(fr.min(0) <= r_rad)}


def test_prdc_matches_the_published_formulas_and_scores_disjoint_data_zero():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(301, 3)).astype(np.float32)
    fake = (rng.normal(size=(257, 3)) * 1.3 + 0.4).astype(np.float32)
    got, want = prdc(real, fake, k=4), _prdc_brute(real, fake, 4)
    assert got == pytest.approx(want, abs=0.01)
    assert 0.2 < got["precision"] < 0.95 and 0.2 < got["coverage"] < 0.99
    assert prdc(real, fake + 100.0) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    got = k_nearest_distances(fake, real, 3, query_chunk=50, reference_chunk=64)
    full = np.sort(np.sqrt(((fake[:, None] - real[None]) ** 2).sum(-1)), 1)[:, :3]
    np.testing.assert_allclose(got, full, rtol=1e-4, atol=1e-4)
    gap, count = ball_hits(fake[:5], real, np.full(len(real), 0.5, np.float32), reference_chunk=64)
    d = np.sqrt(((fake[:5, None] - real[None]) ** 2).sum(-1))
    np.testing.assert_allclose(gap, d.min(1) - 0.5, atol=1e-4)
    np.testing.assert_array_equal(count, (d <= 0.5).sum(1))


def test_text_diversity_known_values():
    varied = ["the cat sat on the mat", "a dog ran in a park", "birds sing at dawn today"]
    repeated = ["the cat sat on the mat"] * 3
    v, r = text_diversity(varied), text_diversity(repeated)
    assert r["distinct_1"] == pytest.approx(5 / 18) and r["distinct_2"] == pytest.approx(5 / 15)
    assert v["distinct_2"] == 1.0 and v["entropy_2"] == pytest.approx(np.log2(14))  # 14 distinct bigrams
    assert r["compression_ratio"] > v["compression_ratio"]
    assert is_text(pd.Series(varied)) and not is_text(pd.Series(["a", "b", "a"]))
    with pytest.raises(ValueError, match="at least one text"):
        text_diversity([None])


def test_k_anonymity_and_quasi_identifier_risk():
    train = pd.DataFrame({"zip": [1, 1, 2, 3], "age": [30, 30, 40, 50], "x": [0, 1, 2, 3]})
    assert k_anonymity(train, ["zip", "age"]) == 1 and k_anonymity(train, ["zip"]) == 1
    assert k_anonymity(train.iloc[:2], ["zip", "age"]) == 2
    risk = quasi_identifier_risk(train, train.iloc[[0, 2]], ["zip", "age"], holdout=train.iloc[[3]])
    assert risk["unique_match_share"] == 0.5 and risk["unique_match_share.holdout_baseline"] == 1.0
    assert risk["k_train"] == 1.0 and risk["k_synthetic"] == 1.0
    with pytest.raises(ValueError, match=r"not columns \['zipcode'\]"):
        k_anonymity(train, ["zipcode"])


def test_membership_inference_finds_a_copy_and_not_fresh_rows():
    train, holdout = dependent_frame(500, seed=0), dependent_frame(500, seed=1)
    # Not exactly 1: the float32 search can pick a near-tie neighbour (within ~4e-4) over a copy.
    assert membership_inference(train, train, holdout)["auc"] > 0.97
    fresh = membership_inference(train, dependent_frame(500, seed=2), holdout)
    assert 0.4 < fresh["auc"] < 0.6 and fresh["advantage"] < 0.2


def test_tstr_reports_every_model_and_metric():
    train, test = dependent_frame(400, seed=0), dependent_frame(200, seed=1)
    s = tstr(train, train, test, target="group")
    for model in ("gbm", "linear"):
        for metric in ("accuracy", "f1", "roc_auc"):
            assert s[f"{model}.{metric}.ratio"] == 1.0 and s[f"{model}.{metric}.trtr"] > 0.85
    r = tstr(train, train, test, target="value", models=("linear",))
    assert r["metric"] == "r2" and r["linear.r2.trtr"] > 0.9 and "gbm.r2.tstr" not in r
    bad = tstr(train, train.assign(group="low"), test, target="group")
    assert bad["gbm.accuracy.tstr"] < 0.3 and bad["gbm.roc_auc.tstr"] == 0.5
    with pytest.raises(ValueError, match="subset of"):
        tstr(train, train, test, target="group", models=("svm",))
