"""Privacy: how close synthetic rows come to copying training rows."""

from __future__ import annotations

import pandas as pd


def _row_keys(df: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(df.astype(object).where(df.notna(), None), index=False)


def identical_match_share(train: pd.DataFrame, synthetic: pd.DataFrame,
                          holdout: pd.DataFrame | None = None) -> dict[str, float]:
    """Share of ``synthetic`` rows identical (every column equal, missing equal to missing) to
    some ``train`` row; lower is more private. With ``holdout`` (real rows not trained on), the
    same share for the holdout rows is the baseline: chance matches in data this coarse.

    >>> t = pd.DataFrame({"a": [1, 2, 3]})
    >>> identical_match_share(t, pd.DataFrame({"a": [1, 5]}))["synthetic"]
    0.5
    """
    cols = list(train.columns)
    seen = set(_row_keys(train[cols]))
    out = {"synthetic": float(_row_keys(synthetic[cols]).isin(seen).mean())}
    if holdout is not None:
        out["holdout_baseline"] = float(_row_keys(holdout[cols]).isin(seen).mean())
    return out
