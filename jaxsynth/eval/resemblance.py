"""Resemblance: how alike the real and synthetic columns (and pairs of columns) are.

Scores are in ``[0, 1]``, 1 meaning identical; they follow SDMetrics' definitions (KSComplement,
TVComplement, CorrelationSimilarity) so figures can be compared with that library's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)) \
        or pd.api.types.is_datetime64_any_dtype(s.dtype)


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dropna().astype("int64").to_numpy(np.float64)
    return pd.to_numeric(s, errors="coerce").dropna().to_numpy(np.float64)


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - D``, ``D`` the two-sample Kolmogorov-Smirnov statistic (largest gap between the
    empirical CDFs) of a numerical or datetime column, missing values dropped. 1: same
    distribution; 0: disjoint supports.

    >>> ks_complement(pd.Series([1.0, 2.0, 3.0]), pd.Series([1.0, 2.0, 3.0]))
    1.0
    >>> ks_complement(pd.Series([1.0, 2.0]), pd.Series([5.0, 6.0]))
    0.0
    """
    from scipy.stats import ks_2samp
    a, b = _numbers(real), _numbers(synthetic)
    if a.size == 0 or b.size == 0:
        return float(a.size == b.size)
    return float(1.0 - ks_2samp(a, b).statistic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - TV``, ``TV = 1/2 sum_k |p_real(k) - p_synthetic(k)|`` the total variation distance
    between the category frequencies (missing is a category). 1: same frequencies; 0: disjoint.

    >>> tv_complement(pd.Series(["a", "b"]), pd.Series(["b", "a"]))
    1.0
    """
    p = real.astype(object).where(real.notna(), "<NA>").value_counts(normalize=True)
    q = synthetic.astype(object).where(synthetic.notna(), "<NA>").value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    """Per column: KS complement (numerical, datetime) or TV complement (categorical, boolean)."""
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic data lacks column(s) {missing}")
    return {c: (ks_complement if _is_numeric(real[c]) else tv_complement)(real[c], synthetic[c])
            for c in real.columns}


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Mean over pairs of numerical columns of ``1 - |r_real - r_synthetic| / 2``, ``r`` the
    Pearson correlation. 1: every pairwise correlation reproduced; 0: every one inverted. NaN if
    fewer than two numerical columns."""
    cols = [c for c in real.columns if _is_numeric(real[c])]
    if len(cols) < 2:
        return float("nan")

    def corr(df):
        return df[cols].apply(lambda s: pd.to_numeric(
            s.astype("int64") if pd.api.types.is_datetime64_any_dtype(s.dtype) else s,
            errors="coerce")).astype(float).corr().to_numpy()

    a, b = corr(real), corr(synthetic)
    iu = np.triu_indices(len(cols), 1)
    scores = 1.0 - np.abs(np.nan_to_num(a[iu]) - np.nan_to_num(b[iu])) / 2.0
    return float(scores.mean())
