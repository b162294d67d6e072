"""Privacy: how close synthetic rows come to copying training rows, and what an attacker learns."""

from __future__ import annotations

import numpy as np
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


def _groups(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    return _row_keys(df[columns])


def k_anonymity(df: pd.DataFrame, quasi_identifiers: list[str]) -> int:
    """The ``k`` of k-anonymity: the size of the smallest group of rows sharing one combination of
    the ``quasi_identifiers`` (missing equal to missing). 1: some row is unique on them; higher
    is more private.

    >>> k_anonymity(pd.DataFrame({"zip": [1, 1, 2, 2, 2], "age": [30, 30, 40, 40, 40]}), ["zip", "age"])
    2
    """
    missing = [c for c in quasi_identifiers if c not in df.columns]
    if missing or not quasi_identifiers:
        raise ValueError(f"quasi_identifiers {quasi_identifiers!r}: not columns {missing} of the table"
                         if missing else "quasi_identifiers must name at least one column")
    if df.empty:
        raise ValueError("k_anonymity needs at least one row")
    return int(_groups(df, list(quasi_identifiers)).value_counts().min())


def quasi_identifier_risk(train: pd.DataFrame, synthetic: pd.DataFrame, quasi_identifiers: list[str],
                          holdout: pd.DataFrame | None = None) -> dict[str, float]:
    """Re-identification risk through ``quasi_identifiers`` (columns an attacker may know).

    ``k_train`` / ``k_synthetic``: :func:`k_anonymity` of each table. ``unique_match_share``:
    share of synthetic rows whose combination belongs to exactly one training row (such a row
    points at one real person; lower is more private). With ``holdout``, the same share for
    holdout rows is the baseline a generator that does not copy would show.
    """
    cols = list(quasi_identifiers)
    k_train = k_anonymity(train, cols)
    counts = _groups(train, cols).value_counts()
    unique = set(counts.index[counts == 1])
    out = {"k_train": float(k_train), "k_synthetic": float(k_anonymity(synthetic, cols)),
           "unique_match_share": float(_groups(synthetic, cols).isin(unique).mean())}
    if holdout is not None:
        out["unique_match_share.holdout_baseline"] = float(_groups(holdout, cols).isin(unique).mean())
    return out


def membership_inference(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, *,
                         max_rows: int = 5000, seed: int = 0) -> dict[str, float]:
    """A distance-based membership-inference attack on the synthetic data.

    The attacker holds candidate rows, half of them training rows (members) and half holdout
    rows (non-members, up to ``max_rows`` of each), and guesses "member" for candidates close to
    some synthetic row: the score is minus the distance to the closest synthetic row (rows
    embedded by :func:`~jaxsynth.eval.distance.row_features`). Returns the attack's ROC
    ``auc`` (0.5: no better than chance, the private ideal; 1: every member found) and
    ``advantage = max(0, 2 auc - 1)`` (0 best).
    """
    from sklearn.metrics import roc_auc_score

    from jaxsynth.eval.distance import nearest_distances, row_features
    n = min(len(train), len(holdout), max_rows)
    if n < 1 or len(synthetic) < 2:
        raise ValueError("membership_inference needs training and holdout rows and 2+ synthetic rows")
    members = train.sample(n, random_state=seed) if len(train) > n else train
    others = holdout.sample(n, random_state=seed + 1) if len(holdout) > n else holdout
    xm, xo, xs = row_features(train, members, others, synthetic)
    d = nearest_distances(np.concatenate([xm, xo]), xs)[:, 0]
    auc = float(roc_auc_score(np.repeat([1, 0], [len(xm), len(xo)]), -d))
    return {"auc": auc, "advantage": max(0.0, 2.0 * auc - 1.0)}
