import json

import numpy as np
import pandas as pd
import pytest
from tables import mixed_frame

from jaxsynth.data.table_encoder import TableEncoder, detect_kind


def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame, rtol: float):
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        assert a[c].dtype == b[c].dtype, c
        assert (a[c].isna().to_numpy() == b[c].isna().to_numpy()).all(), c
        if a[c].dtype.kind == "f":
            np.testing.assert_allclose(a[c].dropna(), b[c].dropna(), rtol=rtol, err_msg=c)
        else:
            assert a[c].equals(b[c]), c


@pytest.mark.parametrize("numerical", ["gmm", "quantile"])
def test_round_trip_is_exact_on_mixed_frame(numerical):
    df = mixed_frame()
    enc = TableEncoder(numerical=numerical, seed=0).fit(df)
    x = enc.transform(df)
    assert x.dtype == np.float32 and x.shape == (len(df), enc.width)
    # Every one-hot block holds exactly one 1 per row.
    for s in enc.spans:
        if s.kind == "softmax":
            np.testing.assert_array_equal(x[:, s.start:s.start + s.width].sum(1), 1.0)
    # Discrete kinds, integers, dates and missing positions are exact; floats are exact up to the
    # float32 precision of the encoded value.
    assert_same_frame(df, enc.inverse_transform(x), rtol=1e-4)
    # The description survives JSON and rebuilds the same encoder.
    enc2 = TableEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    np.testing.assert_array_equal(enc2.transform(df), x)


def test_fit_is_reproducible_and_modes_separate_a_bimodal_column():
    df = mixed_frame(600)
    a, b = TableEncoder(seed=3).fit(df), TableEncoder(seed=3).fit(df)
    assert a.to_dict() == b.to_dict()
    means = sorted(a.column("x")["means"])
    assert means[0] < -3 and means[-1] > 7  # both modes of x were found


def test_generated_rows_are_clipped_to_the_fitted_range():
    df = mixed_frame()
    enc = TableEncoder(numerical="quantile").fit(df)
    x = enc.transform(df)
    x[:, enc.span("age", "value").start] = 50.0  # far beyond any quantile
    assert (enc.inverse_transform(x)["age"] == df["age"].max()).all()


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame(), "no columns"),
    (pd.DataFrame({"a": [1.0]}), "1 row"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}), "'b' is entirely missing"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 3.0]}), "'b' is constant"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "x"]}), "'b' has a single value"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", 2, "y"]}), "'b' mixes value types"),
    (pd.DataFrame({"a": [1.0, np.inf, 3.0]}), "'a' holds infinite values"),
    ([[1, 2], [3, 4]], "expected a pandas DataFrame"),
])
def test_bad_frames_raise_naming_the_problem(frame, message):
    with pytest.raises(ValueError, match=message):
        TableEncoder().fit(frame)


def test_bad_metadata_and_unseen_values_raise():
    df = mixed_frame(50)
    with pytest.raises(ValueError, match="'age'.*'ordinal' is not a column kind"):
        TableEncoder({"age": "ordinal"})
    with pytest.raises(ValueError, match=r"metadata names column\(s\) \['nope'\]"):
        TableEncoder({"nope": "numerical"}).fit(df)
    with pytest.raises(ValueError, match="'city' is declared|'city' is numerical"):
        TableEncoder({"city": "numerical"}).fit(df)
    enc = TableEncoder(numerical="quantile").fit(df)
    other = df.copy()
    other["tier"] = other["tier"].astype(object)
    other.loc[0, "tier"] = "bronze"
    with pytest.raises(ValueError, match="'tier' has category 'bronze', unseen in fit"):
        enc.transform(other)
    with pytest.raises(ValueError, match="'city' has no category 'z'"):
        enc.category_index("city", "z")


def test_metadata_overrides_detection():
    df = pd.DataFrame({"code": [1, 2, 3, 1, 2, 3], "v": [0.1, 0.5, 0.2, 0.9, 0.3, 0.4]})
    assert detect_kind(df["code"]) == "integer"
    enc = TableEncoder({"code": "categorical"}, numerical="quantile").fit(df)
    assert enc.discrete_columns == ["code"]
    back = enc.inverse_transform(enc.transform(df))
    assert back["code"].tolist() == [1, 2, 3, 1, 2, 3]


def test_numbers_with_few_distinct_values_snap_to_them():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"score": rng.choice([17.5, 22.0, 27.0, 32.0], 400),
                       "free": rng.normal(size=400)})
    for numerical in ("gmm", "quantile"):
        enc = TableEncoder(numerical=numerical).fit(df)
        x = enc.transform(df)
        col = enc.span("score", "value").start
        x[:, col] += rng.normal(0, 0.3, len(df)).astype(np.float32)  # what a generator might emit
        back = enc.inverse_transform(x)
        assert set(back["score"]) <= {17.5, 22.0, 27.0, 32.0}
        assert back["free"].nunique() > 300  # a continuous column is left continuous
