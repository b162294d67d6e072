"""Utility: does a model trained on synthetic rows predict real rows as well as one trained on
real rows? (train-on-synthetic / test-on-real against train-on-real / test-on-real.)"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _design(frames: list[pd.DataFrame], target: str):
    """One-hot categorical features, numbers as they are (missing -> median of the first frame)."""
    feats = [f.drop(columns=[target]) for f in frames]
    both = pd.concat(feats, keys=range(len(feats)))
    for c in both.columns:
        s = both[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            both[c] = s.astype("int64").astype(float)
        elif pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            both[c] = s.astype(object).where(s.notna(), "<NA>").astype(str)
    numeric = [c for c in both.columns if pd.api.types.is_numeric_dtype(both[c].dtype)]
    both[numeric] = both[numeric].astype(float).fillna(both[numeric].astype(float).median())
    dummies = pd.get_dummies(both, dtype=float)
    return [dummies.xs(i).to_numpy() for i in range(len(feats))]


def tstr(real_train: pd.DataFrame, synthetic: pd.DataFrame, real_test: pd.DataFrame, target: str,
         *, seed: int = 0) -> dict[str, float]:
    """Accuracy (classification) or R² (regression) of scikit-learn's histogram gradient
    boosting on ``real_test``, trained on ``synthetic`` (TSTR) and on ``real_train`` (TRTR), and
    their ratio ``tstr / trtr`` (1: synthetic rows are as useful as real ones; higher is better).

    The target is a classification target unless it is numerical with more than 20 values.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score
    for name, f in (("real_train", real_train), ("synthetic", synthetic), ("real_test", real_test)):
        if target not in f.columns:
            raise ValueError(f"target {target!r} is not a column of {name}")
    y_real = real_train[target]
    regression = (pd.api.types.is_numeric_dtype(y_real.dtype)
                  and not pd.api.types.is_bool_dtype(y_real.dtype) and y_real.nunique() > 20)
    x_train, x_syn, x_test = _design([real_train, synthetic, real_test], target)
    scores = {}
    for name, x, y in (("trtr", x_train, real_train[target]), ("tstr", x_syn, synthetic[target])):
        if regression:
            model = HistGradientBoostingRegressor(random_state=seed).fit(x, y.astype(float))
            scores[name] = float(r2_score(real_test[target].astype(float), model.predict(x_test)))
        else:
            y = y.astype(str)
            if y.nunique() < 2:
                scores[name] = float(np.mean(real_test[target].astype(str) == y.iloc[0]))
                continue
            model = HistGradientBoostingClassifier(random_state=seed).fit(x, y)
            scores[name] = float(accuracy_score(real_test[target].astype(str), model.predict(x_test)))
    scores["ratio"] = scores["tstr"] / scores["trtr"] if scores["trtr"] else float("nan")
    scores["metric"] = "r2" if regression else "accuracy"
    return scores
