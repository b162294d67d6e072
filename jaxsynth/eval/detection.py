"""Detection: can a classifier tell synthetic rows from real ones? And do the synthetic rows have
the real rows' share of outliers (local outlier factor)?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jaxsynth.eval.distance import row_features


def _balanced(real: pd.DataFrame, synthetic: pd.DataFrame, max_rows: int, seed: int):
    n = min(len(real), len(synthetic), max_rows)
    return (real.sample(n, random_state=seed) if len(real) > n else real,
            synthetic.sample(n, random_state=seed + 1) if len(synthetic) > n else synthetic)


def detection(real: pd.DataFrame, synthetic: pd.DataFrame, *, model: str = "logistic",
              max_rows: int = 5000, folds: int = 3, seed: int = 0) -> dict[str, float]:
    """ROC AUC of a classifier trained to tell real rows (label 0) from synthetic ones (label 1),
    averaged over stratified ``folds``, on equal numbers of rows of each (at most ``max_rows``).

    ``model``: ``"logistic"`` (logistic regression, as SDMetrics' LogisticDetection) or
    ``"gbm"`` (histogram gradient boosting, a stronger detector). Rows are embedded by
    :func:`jaxsynth.eval.distance.row_features`. Returns ``auc`` (0.5: indistinguishable; 1:
    every row told apart) and ``score = 1 - (2 max(auc, 0.5) - 1)`` (1 is best, 0 worst).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    if model not in ("logistic", "gbm"):
        raise ValueError(f"model must be 'logistic' or 'gbm', got {model!r}")
    if min(len(real), len(synthetic)) < folds:
        raise ValueError(f"detection needs at least {folds} rows in each table")
    r, s = _balanced(real, synthetic, max_rows, seed)
    xr, xs = row_features(real, r, s)
    x = np.concatenate([xr, xs])
    y = np.repeat([0, 1], [len(xr), len(xs)])
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        clf = (LogisticRegression(max_iter=2000) if model == "logistic"
               else HistGradientBoostingClassifier(random_state=seed))
        clf.fit(x[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1]))
    auc = float(np.mean(aucs))
    return {"auc": auc, "score": 1.0 - (2.0 * max(auc, 0.5) - 1.0)}


def outliers(real: pd.DataFrame, synthetic: pd.DataFrame, *, n_neighbors: int = 20,
             threshold: float = 1.5, max_rows: int = 5000, seed: int = 0) -> dict[str, float]:
    """Local outlier factor (LOF, Breunig et al. 2000) of synthetic rows measured against the real
    rows, compared with the real rows' own LOF.

    A row's LOF is about 1 inside the real data and grows the further it sits from its
    ``n_neighbors`` nearest real rows. Returns ``similarity``, the KS complement of the two LOF
    distributions (1: synthetic rows are as typical of the real data as real rows are), and
    ``share_real`` / ``share_synthetic``, the shares of rows with LOF above ``threshold``.
    At most ``max_rows`` rows of each table are used.
    """
    from scipy.stats import ks_2samp
    from sklearn.neighbors import LocalOutlierFactor
    r, s = _balanced(real, synthetic, max_rows, seed)
    k = min(n_neighbors, len(r) - 1)
    if k < 1:
        raise ValueError("outliers needs at least 2 real rows")
    xr, xs = row_features(real, r, s)
    lof = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(xr)
    lof_real = -lof.negative_outlier_factor_
    lof_syn = -lof.score_samples(xs)
    return {"similarity": float(1.0 - ks_2samp(lof_real, lof_syn).statistic),
            "share_real": float(np.mean(lof_real > threshold)),
            "share_synthetic": float(np.mean(lof_syn > threshold))}
