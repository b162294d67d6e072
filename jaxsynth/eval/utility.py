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


def _labels(s: pd.Series) -> np.ndarray:
    """Class labels as strings, missing as the class ``"<NA>"``."""
    return s.astype(object).where(s.notna(), "<NA>").map(str).to_numpy(dtype=object)


def _macro_auc(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """One-vs-rest ROC AUC averaged over the test classes (a class the model never saw scores
    from a zero probability column)."""
    from sklearn.metrics import roc_auc_score
    aucs = []
    for c in np.unique(y_true):
        pos = y_true == c
        if pos.all():
            continue
        col = np.flatnonzero(classes == c)
        score = proba[:, col[0]] if col.size else np.zeros(len(y_true))
        aucs.append(roc_auc_score(pos, score))
        if len(np.unique(y_true)) == 2:
            break  # binary: both classes give the same AUC
    return float(np.mean(aucs)) if aucs else float("nan")


MODELS = ("gbm", "linear")


def tstr(real_train: pd.DataFrame, synthetic: pd.DataFrame, real_test: pd.DataFrame, target: str,
         *, models: tuple[str, ...] = MODELS, seed: int = 0) -> dict[str, float | str]:
    """Train-on-synthetic / test-on-real (TSTR) against train-on-real / test-on-real (TRTR).

    Each model in ``models`` (``"gbm"``: scikit-learn's histogram gradient boosting;
    ``"linear"``: standardised logistic regression, or ridge regression) is trained once on
    ``synthetic`` and once on ``real_train`` and scored on ``real_test``. Classification
    (the target is categorical, boolean, or numerical with at most 20 values): ``accuracy``,
    ``f1`` (macro) and ``roc_auc`` (one-vs-rest, macro); regression: ``r2``. Every figure is
    returned as ``"{model}.{metric}.tstr"``, ``".trtr"`` and ``".ratio"`` (``tstr / trtr``:
    1 means synthetic rows are as useful as real ones; higher is better). The headline
    ``tstr``, ``trtr`` and ``ratio`` are the first model's accuracy (or R²), named in
    ``metric``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {models!r}")
    for name, f in (("real_train", real_train), ("synthetic", synthetic), ("real_test", real_test)):
        if target not in f.columns:
            raise ValueError(f"target {target!r} is not a column of {name}")
    y_real = real_train[target]
    regression = (pd.api.types.is_numeric_dtype(y_real.dtype)
                  and not pd.api.types.is_bool_dtype(y_real.dtype) and y_real.nunique() > 20)
    x_train, x_syn, x_test = _design([real_train, synthetic, real_test], target)
    y_test = real_test[target].astype(float) if regression else _labels(real_test[target])
    scores: dict[str, float | str] = {}
    for model_name in models:
        for name, x, y in (("trtr", x_train, real_train[target]), ("tstr", x_syn, synthetic[target])):
            if regression:
                model = (HistGradientBoostingRegressor(random_state=seed) if model_name == "gbm"
                         else make_pipeline(StandardScaler(), Ridge(alpha=1.0)))
                model.fit(x, y.astype(float))
                scores[f"{model_name}.r2.{name}"] = float(r2_score(y_test, model.predict(x_test)))
                continue
            y = _labels(y)
            if len(np.unique(y)) < 2:  # one class: predict it everywhere
                pred, classes = np.full(len(y_test), y[0]), np.unique(y)
                proba = np.ones((len(y_test), 1))
            else:
                model = (HistGradientBoostingClassifier(random_state=seed) if model_name == "gbm"
                         else make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)))
                model.fit(x, y)
                pred, proba, classes = model.predict(x_test), model.predict_proba(x_test), model.classes_
            scores[f"{model_name}.accuracy.{name}"] = float(accuracy_score(y_test, pred))
            f1 = f1_score(y_test, pred, average="macro", zero_division=0)
            scores[f"{model_name}.f1.{name}"] = float(f1)
            scores[f"{model_name}.roc_auc.{name}"] = _macro_auc(y_test, proba, classes)
    for key in [k for k in scores if k.endswith(".trtr")]:
        base = key[:-len(".trtr")]
        trtr = scores[key]
        scores[f"{base}.ratio"] = scores[f"{base}.tstr"] / trtr if trtr and trtr > 0 else float("nan")
    metric = "r2" if regression else "accuracy"
    head = f"{models[0]}.{metric}"
    scores.update(tstr=scores[f"{head}.tstr"], trtr=scores[f"{head}.trtr"], ratio=scores[f"{head}.ratio"],
                  metric=metric)
    return scores
