import json

import numpy as np
import pandas as pd
import pytest
from tables import dependent_frame

from jaxsynth.eval import (
    column_shapes,
    correlation_similarity,
    evaluate,
    identical_match_share,
    tstr,
)
from jaxsynth.eval.distance import distance_to_closest_record, nearest_distances


def test_nearest_distances_match_brute_force_across_chunk_edges():
    rng = np.random.default_rng(0)
    ref, q = rng.normal(size=(203, 5)).astype(np.float32), rng.normal(size=(57, 5)).astype(np.float32)
    got = nearest_distances(q, ref, query_chunk=16, reference_chunk=50)
    full = np.sqrt(((q[:, None, :] - ref[None]) ** 2).sum(-1))
    np.testing.assert_allclose(got, np.sort(full, axis=1)[:, :2], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="same features"):
        nearest_distances(q[:, :3], ref)


def test_one_dimensional_data_copies_are_found():
    # One feature: XLA once lowered the distance twice with different rounding, so no row
    # "equalled" the minimum and the search returned an out-of-range index.
    x = np.random.default_rng(0).normal(size=(500, 1)).astype(np.float32)
    d = nearest_distances(x, x)
    assert np.isfinite(d).all() and d[:, 0].max() < 5e-4 and np.median(d[:, 0]) == 0.0
    report = evaluate(pd.DataFrame({"x": x[:, 0]}), pd.DataFrame({"x": x[::-1, 0]}))
    assert report.scores["privacy.dcr_synthetic_median"] == 0.0


def test_a_copy_of_the_training_set_shows_maximal_risk_and_fresh_rows_do_not():
    train, holdout = dependent_frame(600, seed=0), dependent_frame(600, seed=1)
    copy = distance_to_closest_record(train, train.sample(frac=1.0, random_state=0), holdout)
    assert copy["dcr_synthetic_median"] == 0.0 and copy["share_closer_to_train"] == 1.0
    assert copy["dcr_holdout_median"] > 0
    fresh = distance_to_closest_record(train, dependent_frame(600, seed=2), holdout)
    assert 0.3 < fresh["share_closer_to_train"] < 0.7
    assert identical_match_share(train, train, holdout)["synthetic"] == 1.0


def test_resemblance_scores_on_known_cases():
    a = dependent_frame(500, seed=0)
    same = column_shapes(a, a)
    assert all(v == 1.0 for v in same.values())
    shifted = a.assign(value=a["value"] + 100.0, group="other")
    far = column_shapes(a, shifted)
    assert far["value"] == 0.0 and far["group"] == 0.0
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    pos = pd.DataFrame({"x": x, "y": x + 0.1 * rng.normal(size=500)})
    assert correlation_similarity(pos, pos) == 1.0
    neg = pos.assign(y=-pos["y"])  # correlation near +1 becomes near -1
    assert correlation_similarity(pos, neg) < 0.01
    assert np.isnan(correlation_similarity(a, a))  # one numerical column: no pairs


def test_tstr_on_real_rows_equals_trtr():
    train, test = dependent_frame(400, seed=0), dependent_frame(200, seed=1)
    scores = tstr(train, train, test, target="group")
    assert scores["ratio"] == 1.0 and scores["metric"] == "accuracy" and scores["trtr"] > 0.9


def test_evaluate_gives_named_scores_and_json(tmp_path):
    train, holdout = dependent_frame(400, seed=0), dependent_frame(200, seed=1)
    report = evaluate(train, dependent_frame(400, seed=2), holdout, target="group")
    s = report.scores
    assert s["resemblance.column_shapes"] > 0.8 and 0.8 < s["utility.ratio"] <= 1.1
    assert s["privacy.identical_match_share"] == 0.0
    report.to_json(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["scores"] == pytest.approx(s, nan_ok=True)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['flag'\]"):
        evaluate(train, train.drop(columns=["flag"]))
    with pytest.raises(ValueError, match="target 'nope'"):
        evaluate(train, train, holdout, target="nope")


def test_evaluate_scores_text_columns_for_diversity_only():
    words = np.array(["red", "fox", "jumps", "over", "lazy", "dog", "quick", "brown", "cat", "sat"])

    def frame(n, seed, vocab):
        r = np.random.default_rng(seed)
        return dependent_frame(n, seed=seed).assign(
            note=[" ".join(r.choice(vocab, 6)) for _ in range(n)])

    real, holdout = frame(200, 0, words), frame(100, 1, words)
    dull = frame(200, 2, words[:2])  # two-word vocabulary: less diverse text
    report = evaluate(real, dull, holdout, quasi_identifiers=["group", "flag"])
    s = report.scores
    assert "note" not in report.columns and report.info["text_columns"] == ["note"]
    assert s["diversity.text.note.distinct_2.synthetic"] < s["diversity.text.note.distinct_2.real"]
    assert s["privacy.k_train"] >= 1 and "privacy.unique_match_share.holdout_baseline" in s
