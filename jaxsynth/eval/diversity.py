"""Diversity: do synthetic rows cover the real data, and are generated texts varied?

``prdc`` is precision, recall, density and coverage (Naeem et al. 2020, "Reliable Fidelity and
Diversity Metrics for Generative Models"), computed with the chunked JAX neighbour searches of
:mod:`jaxsynth.eval.distance`, so it runs on tables of any size in bounded memory.
"""

from __future__ import annotations

import collections
import math
import zlib

import numpy as np
import pandas as pd

from jaxsynth.eval.distance import ball_hits, k_nearest_distances, row_features


def prdc(real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` ``[M, d]`` against ``real`` ``[N, d]``.

    Each real row ``i`` gets a ball of radius ``r_i``, its distance to its ``k``-th nearest other
    real row (likewise each fake row among the fakes). Then:

    - ``precision``: share of fake rows inside some real ball (fidelity; 1 best);
    - ``recall``: share of real rows inside some fake ball (diversity; 1 best);
    - ``density``: ``1/(k M) sum_j #{i: fake j in ball i}`` (about 1 when fakes are spread like
      the reals, above 1 when they crowd dense regions, below 1 when they stray);
    - ``coverage``: share of real balls holding at least one fake row (diversity; 1 best).

    A row on a ball's edge counts as inside (float32 slack of 1e-5 relative). For ``fake`` equal
    to ``real`` every row is in its own ball and its ``k`` neighbours', so density is ``(k+1)/k``.

    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    >>> {m: round(v, 2) for m, v in prdc(x, x).items()}
    {'precision': 1.0, 'recall': 1.0, 'density': 1.2, 'coverage': 1.0}
    """
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"prdc with k={k} needs more than {k} rows in each table, got "
                         f"{len(real)} real and {len(fake)} fake")
    # k + 1 nearest including the row itself (distance 0): the k-th nearest *other* row.
    real_radius = k_nearest_distances(real, real, k + 1)[:, k]
    fake_radius = k_nearest_distances(fake, fake, k + 1)[:, k]
    gap_fake, count_fake = ball_hits(fake, real, real_radius)
    gap_real, _ = ball_hits(real, fake, fake_radius)
    nearest_fake = k_nearest_distances(real, fake, 1)[:, 0]
    return {"precision": float(np.mean(gap_fake <= 0)),  # gaps include the slack
            "recall": float(np.mean(gap_real <= 0)),
            "density": float(count_fake.sum() / (k * len(fake))),
            "coverage": float(np.mean(nearest_fake <= real_radius * (1.0 + 1e-5) + 1e-6))}


def table_prdc(real: pd.DataFrame, synthetic: pd.DataFrame, *, k: int = 5, max_rows: int = 10_000,
               seed: int = 0) -> dict[str, float]:
    """:func:`prdc` of the rows embedded by :func:`~jaxsynth.eval.distance.row_features`, on at
    most ``max_rows`` rows of each table (seeded subsample; the cost is quadratic in rows)."""
    r = real.sample(max_rows, random_state=seed) if len(real) > max_rows else real
    s = synthetic.sample(max_rows, random_state=seed + 1) if len(synthetic) > max_rows else synthetic
    xr, xs = row_features(real, r, s)
    return prdc(xr, xs, k=k)


def _tokens(text: str) -> list[str]:
    return text.lower().split()


def text_diversity(texts: pd.Series | list[str], *, n: int = 2) -> dict[str, float]:
    """Diversity of a column of short texts (whitespace tokens, lower-cased; missing dropped).

    - ``distinct_{m}`` for ``m = 1..n``: distinct m-grams / all m-grams (0: one m-gram
      repeated; 1: no m-gram repeats). Higher is more diverse.
    - ``entropy_{n}``: Shannon entropy in bits of the n-gram frequencies. Higher is more diverse.
    - ``compression_ratio``: raw bytes / zlib-compressed bytes of the texts joined by newlines
      (about 1 for varied text, large for repetitive text). Lower is more diverse.

    >>> text_diversity(["a b", "a b"])["distinct_2"]
    0.5
    """
    texts = [str(t) for t in pd.Series(texts).dropna()]
    if not texts:
        raise ValueError("text_diversity needs at least one text")
    out: dict[str, float] = {}
    grams: collections.Counter = collections.Counter()
    for m in range(1, n + 1):
        grams = collections.Counter(tuple(toks[i:i + m]) for toks in map(_tokens, texts)
                                    for i in range(len(toks) - m + 1))
        total = sum(grams.values())
        out[f"distinct_{m}"] = len(grams) / total if total else 0.0
    total = sum(grams.values())
    out[f"entropy_{n}"] = -sum(c / total * math.log2(c / total) for c in grams.values()) if total else 0.0
    raw = "\n".join(texts).encode()
    out["compression_ratio"] = len(raw) / len(zlib.compress(raw, 9))
    return out


def is_text(s: pd.Series, *, min_words: float = 3.0, min_unique: float = 0.5) -> bool:
    """A free-text column: strings averaging at least ``min_words`` words, at least
    ``min_unique`` of them distinct (so not a categorical column with long labels)."""
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return False
    v = s.dropna()
    if v.empty or not all(isinstance(x, str) for x in v.iloc[:100]):
        return False
    return bool(v.str.split().str.len().mean() >= min_words and v.nunique() / len(v) >= min_unique)
