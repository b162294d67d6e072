"""Resemblance: how alike the real and synthetic columns (and pairs of columns) are.

Similarity scores are in ``[0, 1]``, 1 meaning identical; they follow SDMetrics' definitions
(KSComplement, TVComplement, CorrelationSimilarity, ContingencySimilarity, MissingValueSimilarity)
so figures can be compared with that library's (``tests/test_sdmetrics_agreement.py`` checks
that). Distances (Wasserstein, Jensen-Shannon) are 0 for identical data; tests give p-values.
"""

from __future__ import annotations

from typing import Any

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
    between the category frequencies, missing values dropped (as SDMetrics' TVComplement; the
    missing share is :func:`missing_rate_agreement`'s). 1: same frequencies; 0: disjoint.

    >>> tv_complement(pd.Series(["a", "b"]), pd.Series(["b", "a"]))
    1.0
    """
    a, b = real.dropna(), synthetic.dropna()
    if a.empty or b.empty:
        return float(a.empty == b.empty)
    p = a.astype(object).value_counts(normalize=True)
    q = b.astype(object).value_counts(normalize=True)
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


def _categories(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "<NA>").astype(str)


def _binned(real: pd.Series, synthetic: pd.Series, bins: int, *, clip: bool = False
            ) -> tuple[pd.Series, pd.Series]:
    """Numbers as ``bins`` equal-width bins of the real range, values below or above it in a
    bin of their own on each side (``clip``: in the end bins, as SDMetrics does), missing in
    another; other columns as category strings."""
    if not _is_numeric(real):
        return _categories(real), _categories(synthetic)
    ref = _numbers(real)
    if ref.size == 0:
        return _categories(real), _categories(synthetic)
    edges = np.histogram_bin_edges(ref, bins=bins)

    def cut(s):
        v = (s.astype("int64").astype(float).where(s.notna()) if pd.api.types.is_datetime64_any_dtype(s.dtype)
             else pd.to_numeric(s, errors="coerce")).to_numpy(np.float64)
        idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, bins - 1).astype(str)
        if not clip:
            idx = np.where(v < edges[0], "<below>", np.where(v > edges[-1], "<above>", idx))
        return pd.Series(np.where(np.isnan(v), "<NA>", idx), index=s.index)

    return cut(real), cut(synthetic)


def wasserstein(real: pd.Series, synthetic: pd.Series) -> float:
    """Earth mover's (1-Wasserstein) distance between a numerical column's real and synthetic
    values, both divided by the real range ``max - min``, missing values dropped. 0: same
    distribution; 1: the mass moved across the whole real range (it can exceed 1 when the
    synthetic values leave that range). Lower is better.

    >>> wasserstein(pd.Series([0.0, 1.0]), pd.Series([0.0, 1.0]))
    0.0
    >>> wasserstein(pd.Series([0.0, 1.0]), pd.Series([1.0, 2.0]))
    1.0
    """
    from scipy.stats import wasserstein_distance
    a, b = _numbers(real), _numbers(synthetic)
    if a.size == 0 or b.size == 0:
        return float("nan")
    span = float(a.max() - a.min()) or 1.0
    return float(wasserstein_distance(a / span, b / span))


def jensen_shannon(real: pd.Series, synthetic: pd.Series, *, bins: int = 20) -> float:
    """Jensen-Shannon distance (base 2, so in ``[0, 1]``) between the real and synthetic
    frequencies of a column: categories as they are (missing is a category), numbers in
    ``bins`` equal-width bins of the real range (plus one below and one above it). 0: same
    frequencies; 1: disjoint. Lower is better.

    >>> jensen_shannon(pd.Series(["a", "b"]), pd.Series(["c", "d"]))
    1.0
    """
    from scipy.spatial.distance import jensenshannon
    a, b = _binned(real, synthetic, bins)
    p = a.value_counts(normalize=True)
    q = b.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(jensenshannon(p.to_numpy(), q.to_numpy(), base=2))


def mean_test(real: pd.Series, synthetic: pd.Series) -> float:
    """p-value of Welch's two-sample t test (Student's t without assuming equal variances) that
    a numerical column has the same mean in both tables. Near 0: the means differ more than
    sampling explains; higher is better. With large tables any small gap is significant: read it
    with :func:`ks_complement`."""
    from scipy.stats import ttest_ind
    a, b = _numbers(real), _numbers(synthetic)
    if a.size < 2 or b.size < 2:
        return float("nan")
    if a.std() == 0 and b.std() == 0:
        return float(a.mean() == b.mean())
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def frequency_test(real: pd.Series, synthetic: pd.Series) -> float:
    """p-value of Pearson's chi-square test of homogeneity on the ``2 x K`` table of category
    counts (missing is a category) in the real and synthetic column. Near 0: the frequencies
    differ more than sampling explains; higher is better."""
    from scipy.stats import chi2_contingency
    table = pd.crosstab(pd.concat([_categories(real), _categories(synthetic)], ignore_index=True),
                        np.repeat([0, 1], [len(real), len(synthetic)]))
    if table.shape[0] < 2:
        return 1.0
    return float(chi2_contingency(table.to_numpy().T, correction=False).pvalue)


def missing_rate_agreement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - |m_real - m_synthetic|``, ``m`` the share of missing values in the column (SDMetrics'
    MissingValueSimilarity). 1: same share; 0: one table all missing, the other none.

    >>> missing_rate_agreement(pd.Series([1.0, None]), pd.Series([1.0, 2.0]))
    0.5
    """
    return float(1.0 - abs(real.isna().mean() - synthetic.isna().mean()))


def contingency_similarity(real: pd.DataFrame, synthetic: pd.DataFrame, *, bins: int = 10,
                           max_pairs: int = 200, seed: int = 0) -> float:
    """Mean over column pairs of ``1 - TV``, ``TV = 1/2 sum |p_real(a, b) - p_synthetic(a, b)|``
    over the joint frequencies of the two columns, numbers in ``bins`` equal-width bins of the
    real range, values outside it in the end bins (SDMetrics' ContingencySimilarity). Pairs
    involving a categorical or boolean column are scored (pairs of two numbers are
    :func:`correlation_similarity`'s); at most ``max_pairs`` of them, chosen with ``seed``.
    1: every joint table reproduced; 0: disjoint. NaN if there is no such pair.
    """
    cols = list(real.columns)
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]
             if not (_is_numeric(real[a]) and _is_numeric(real[b]))]
    if not pairs:
        return float("nan")
    if len(pairs) > max_pairs:
        pick = np.random.default_rng(seed).choice(len(pairs), max_pairs, replace=False)
        pairs = [pairs[i] for i in sorted(pick)]
    binned = {c: _binned(real[c], synthetic[c], bins, clip=True) for c in {c for p in pairs for c in p}}
    scores = []
    for a, b in pairs:
        p = pd.crosstab(binned[a][0], binned[b][0], normalize=True).stack()
        q = pd.crosstab(binned[a][1], binned[b][1], normalize=True).stack()
        p, q = p.align(q, fill_value=0.0)
        scores.append(1.0 - 0.5 * float(np.abs(p - q).sum()))
    return float(np.mean(scores))


def column_details(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per column: ``kind`` (numerical or categorical), ``shape`` (KS or TV complement),
    ``wasserstein`` (numerical only), ``jensen_shannon``, ``test`` and ``test_pvalue`` (Welch's
    t test for numbers, chi-square for categories) and ``missing_agreement``."""
    out: dict[str, dict[str, Any]] = {}
    for c in real.columns:
        r, s = real[c], synthetic[c]
        if _is_numeric(r):
            row = {"kind": "numerical", "shape": ks_complement(r, s), "wasserstein": wasserstein(r, s),
                   "test": "welch_t", "test_pvalue": mean_test(r, s)}
        else:
            row = {"kind": "categorical", "shape": tv_complement(r, s), "wasserstein": float("nan"),
                   "test": "chi_square", "test_pvalue": frequency_test(r, s)}
        row["jensen_shannon"] = jensen_shannon(r, s)
        row["missing_agreement"] = missing_rate_agreement(r, s)
        out[c] = row
    return out
