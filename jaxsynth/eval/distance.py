"""Distance-based privacy figures: distance to closest record (DCR) and nearest-neighbour distance
ratio (NNDR), as chunked exact nearest-neighbour searches in JAX.

Rows are embedded by :func:`row_features` (numbers min-max scaled by the *training* table's
range, one-hot categories, a missing indicator), then every query row's two nearest training rows
are found by scanning the reference in chunks inside one jitted program. Memory is
``query_chunk x reference_chunk`` floats whatever the table sizes, so a million synthetic rows
against a hundred thousand real ones fit in a few hundred megabytes.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxsynth.utils.arrays import pad_rows


def row_features(reference: pd.DataFrame, *frames: pd.DataFrame) -> list[np.ndarray]:
    """``[n_i, d]`` float32 embeddings of ``frames`` on the scale of ``reference``.

    Numerical and datetime columns: ``(x - min) / (max - min)`` with the reference's range, and
    a 0/1 missing indicator where the reference has missing values. Categorical and boolean
    columns: one-hot over the reference's categories (an unseen category is all zeros), each
    one-hot scaled by ``1/sqrt(2)`` so that two different categories are at distance 1, as two
    numbers at opposite ends of their range are.
    """
    out: list[list[np.ndarray]] = [[] for _ in frames]
    for c in reference.columns:
        s = reference[c]
        numeric = (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)) \
            or pd.api.types.is_datetime64_any_dtype(s.dtype)
        if numeric:
            ref = _as_float(s)
            lo, hi = np.nanmin(ref), np.nanmax(ref)
            span = hi - lo if hi > lo else 1.0
            for i, f in enumerate(frames):
                v = (_as_float(f[c]) - lo) / span
                out[i].append(np.nan_to_num(v, nan=0.0)[:, None])
                if np.isnan(ref).any():
                    out[i].append(np.isnan(v).astype(np.float64)[:, None])
        else:
            cats = pd.Index(s.astype(object).where(s.notna(), "<NA>").unique())
            for i, f in enumerate(frames):
                codes = cats.get_indexer(f[c].astype(object).where(f[c].notna(), "<NA>"))
                onehot = np.zeros((len(f), len(cats)))
                ok = codes >= 0
                onehot[np.flatnonzero(ok), codes[ok]] = 1.0 / np.sqrt(2.0)
                out[i].append(onehot)
    return [np.concatenate(parts, axis=1).astype(np.float32) for parts in out]


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return np.where(s.isna(), np.nan, s.astype("int64").to_numpy(np.float64))
    return pd.to_numeric(s, errors="coerce").to_numpy(np.float64)


@functools.partial(jax.jit, static_argnames=("reference_chunk",))
def _two_nearest(queries: jax.Array, reference: jax.Array, valid: jax.Array, *, reference_chunk: int):
    """Squared distances ``[q, 2]`` from each query row to its two nearest valid reference rows,
    and ``[q]`` the index of the nearest one."""
    d = reference.shape[1]
    chunks = reference.reshape(-1, reference_chunk, d)
    valid = valid.reshape(-1, reference_chunk)
    offsets = jnp.arange(chunks.shape[0], dtype=jnp.int32) * reference_chunk
    iota = jnp.arange(reference_chunk, dtype=jnp.int32)
    q_sq = jnp.sum(queries**2, axis=1, keepdims=True)

    def body(carry, inputs):
        best, best_idx = carry
        ref, ok, offset = inputs
        dist = q_sq - 2.0 * queries @ ref.T + jnp.sum(ref**2, axis=1)[None, :]
        dist = jnp.where(ok[None, :], jnp.maximum(dist, 0.0), jnp.inf)
        # The chunk's two smallest by plain reductions (top_k and argmin are several times
        # slower on CPU), ties counted so two equal nearest rows give m2 == m1; then merged
        # with the two best so far. The nearest's index is a min over a masked iota.
        # One materialised `dist` for every reduction below: left to itself XLA may fuse a
        # recomputation into each, with different rounding, and "equal to the minimum" fails.
        dist = jax.lax.optimization_barrier(dist)
        m1 = jnp.min(dist, axis=1)
        at_min = dist == m1[:, None]
        i1 = jnp.min(jnp.where(at_min, iota[None, :], reference_chunk), axis=1) + offset
        m2 = jnp.min(jnp.where(at_min, jnp.inf, dist), axis=1)
        m2 = jnp.where(jnp.sum(at_min, axis=1) > 1, m1, m2)
        b1, b2 = best[:, 0], best[:, 1]
        new1 = jnp.minimum(b1, m1)
        new2 = jnp.minimum(jnp.maximum(b1, m1), jnp.minimum(b2, m2))
        return (jnp.stack([new1, new2], axis=1), jnp.where(m1 < b1, i1, best_idx)), None

    init = (jnp.full((queries.shape[0], 2), jnp.inf, queries.dtype),
            jnp.zeros(queries.shape[0], jnp.int32))
    (best, idx), _ = jax.lax.scan(body, init, (chunks, valid, offsets))
    return best, idx


def _check_pair(queries, reference, min_reference: int):
    queries, reference = np.asarray(queries, np.float32), np.asarray(reference, np.float32)
    if queries.ndim != 2 or reference.ndim != 2 or queries.shape[1] != reference.shape[1]:
        raise ValueError(f"queries {queries.shape} and reference {reference.shape} must be "
                         "[rows, features] with the same features")
    if len(reference) < min_reference:
        raise ValueError(f"needs at least {min_reference} reference rows, got {len(reference)}")
    return queries, reference


def _scan_queries(fn, queries: np.ndarray, reference: np.ndarray, per_row: tuple[np.ndarray, ...],
                  *, query_chunk: int, reference_chunk: int, width: int) -> np.ndarray:
    """Runs ``fn(query_block, ref_chunks, valid, *per_row_chunks, reference_chunk=)`` over
    fixed-size query blocks (one compile), the reference padded to whole chunks."""
    rc = int(min(reference_chunk, len(reference)))
    pad = -len(reference) % rc
    ref = np.concatenate([reference, np.zeros((pad, reference.shape[1]), np.float32)])
    valid = np.arange(len(ref)) < len(reference)
    extras = [jnp.asarray(np.concatenate([a, np.zeros(pad, a.dtype)])) for a in per_row]
    ref_dev, valid_dev = jnp.asarray(ref), jnp.asarray(valid)
    qc = int(min(query_chunk, max(len(queries), 1)))
    out = []
    for start in range(0, len(queries), qc):
        block = queries[start:start + qc]
        n = len(block)
        block = pad_rows(block, qc)
        res = fn(jnp.asarray(block), ref_dev, valid_dev, *extras, reference_chunk=rc)
        out.append([np.asarray(r)[:n] for r in (res if isinstance(res, tuple) else (res,))])
    if not out:
        return np.zeros((0, width), np.float32)
    parts = [np.concatenate(p) for p in zip(*out, strict=True)]
    return parts[0] if len(parts) == 1 else tuple(parts)


def nearest_distances(queries: np.ndarray, reference: np.ndarray, *, query_chunk: int = 4096,
                      reference_chunk: int = 8192) -> np.ndarray:
    """``[len(queries), 2]`` Euclidean distances to the nearest and second-nearest reference rows.

    The search runs in float32 through ``|q|^2 - 2 q.r + |r|^2`` (matrix products), whose
    rounding is about ``1e-7 (|q|^2 + |r|^2)`` in squared distance; the nearest distance is
    then recomputed from the difference itself, so a copy scores exactly 0 unless another row
    lies within about ``4e-4`` of it (on unit-scale features).

    >>> ref = np.array([[0.0], [1.0], [5.0]], np.float32)
    >>> [round(float(v), 3) for v in nearest_distances(np.array([[0.9]], np.float32), ref)[0]]
    [0.1, 0.9]
    """
    queries, reference = _check_pair(queries, reference, 2)
    if len(queries) == 0:
        return np.zeros((0, 2), np.float32)
    centre = reference.mean(0)  # distances unchanged; smaller norms, smaller rounding
    queries, reference = queries - centre, reference - centre
    sq, idx = _scan_queries(_two_nearest, queries, reference, (), query_chunk=query_chunk,
                            reference_chunk=reference_chunk, width=2)
    # The search's |q|^2 - 2 q.r + |r|^2 loses digits to cancellation (a copy can show 3e-4
    # instead of 0); the nearest distance is recomputed from the difference itself.
    found = idx < len(reference)
    exact = np.sqrt(np.sum((queries - reference[np.where(found, idx, 0)]) ** 2, axis=1))
    d1 = np.where(found, exact, np.sqrt(sq[:, 0]))
    return np.stack([d1, np.maximum(np.sqrt(sq[:, 1]), d1)], axis=1)


@functools.partial(jax.jit, static_argnames=("k", "reference_chunk"))
def _k_nearest(queries, reference, valid, *, k: int, reference_chunk: int):
    d = reference.shape[1]
    chunks, valid = reference.reshape(-1, reference_chunk, d), valid.reshape(-1, reference_chunk)
    q_sq = jnp.sum(queries**2, axis=1, keepdims=True)

    def body(best, inputs):
        ref, ok = inputs
        dist = q_sq - 2.0 * queries @ ref.T + jnp.sum(ref**2, axis=1)[None, :]
        dist = jnp.where(ok[None, :], jnp.maximum(dist, 0.0), jnp.inf)
        neg, _ = jax.lax.top_k(-jnp.concatenate([best, dist], axis=1), k)
        return -neg, None

    init = jnp.full((queries.shape[0], k), jnp.inf, queries.dtype)
    best, _ = jax.lax.scan(body, init, (chunks, valid))
    return best


def k_nearest_distances(queries: np.ndarray, reference: np.ndarray, k: int, *,
                        query_chunk: int = 2048, reference_chunk: int = 4096) -> np.ndarray:
    """``[len(queries), k]`` Euclidean distances to the ``k`` nearest reference rows, ascending.

    >>> ref = np.array([[0.0], [1.0], [5.0]], np.float32)
    >>> [round(float(v), 3) for v in k_nearest_distances(np.array([[0.9]], np.float32), ref, 3)[0]]
    [0.1, 0.9, 4.1]
    """
    queries, reference = _check_pair(queries, reference, k)
    fn = functools.partial(_k_nearest, k=int(k))
    return np.sqrt(_scan_queries(fn, queries, reference, (), query_chunk=query_chunk,
                                 reference_chunk=reference_chunk, width=k))


@functools.partial(jax.jit, static_argnames=("reference_chunk",))
def _ball_hits(queries, reference, valid, radius, *, reference_chunk: int):
    d = reference.shape[1]
    chunks = reference.reshape(-1, reference_chunk, d)
    valid, radius = valid.reshape(-1, reference_chunk), radius.reshape(-1, reference_chunk)
    q_sq = jnp.sum(queries**2, axis=1, keepdims=True)

    def body(acc, inputs):
        ref, ok, rad = inputs
        dist = jnp.sqrt(jnp.maximum(q_sq - 2.0 * queries @ ref.T + jnp.sum(ref**2, axis=1)[None, :], 0.0))
        # float32 slack, so a row exactly on a ball's edge (its radius came from the same
        # distance computed in another program) counts as inside.
        gap_all = dist - rad[None, :] * (1.0 + 1e-5) - 1e-6
        inside = (gap_all <= 0) & ok[None, :]
        gap = jnp.min(jnp.where(ok[None, :], gap_all, jnp.inf), axis=1)
        return jnp.stack([jnp.minimum(acc[:, 0], gap), acc[:, 1] + jnp.sum(inside, axis=1)], axis=1), None

    init = jnp.stack([jnp.full(queries.shape[0], jnp.inf, queries.dtype),
                      jnp.zeros(queries.shape[0], queries.dtype)], axis=1)
    acc, _ = jax.lax.scan(body, init, (chunks, valid, radius))
    return acc


def ball_hits(queries: np.ndarray, reference: np.ndarray, radius: np.ndarray, *,
              query_chunk: int = 2048, reference_chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """For balls of ``radius[j]`` around each reference row ``j``: per query row, the smallest
    ``distance - radius`` (``<= 0``: inside at least one ball) and the number of balls it is in.
    """
    queries, reference = _check_pair(queries, reference, 1)
    radius = np.asarray(radius, np.float32)
    if radius.shape != (len(reference),):
        raise ValueError(f"radius has shape {radius.shape}, expected ({len(reference)},)")
    out = _scan_queries(_ball_hits, queries, reference, (radius,), query_chunk=query_chunk,
                        reference_chunk=reference_chunk, width=2)
    return out[:, 0], out[:, 1].astype(np.int64)


def distance_to_closest_record(train: pd.DataFrame, synthetic: pd.DataFrame,
                               holdout: pd.DataFrame | None = None) -> dict[str, float]:
    """DCR and NNDR of synthetic rows against the training rows, with the holdout baseline.

    ``dcr_synthetic_median``: the median distance from a synthetic row to its closest training
    row (0 = copies; larger is more private). ``nndr_synthetic_median``: the median ratio of the
    nearest to the second-nearest training distance (near 0: a synthetic row sits on one
    training row or a copy; near 1: between several). With ``holdout`` (real rows not trained
    on), the same figures for holdout rows are the baseline a good generator matches, and
    ``share_closer_to_train`` is the share of synthetic rows closer to the training set than the
    median holdout row is (about 0.5 for a generator that does not copy; 1 for copies).
    """
    return dcr_with_distances(train, synthetic, holdout)[0]


def dcr_with_distances(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None
                       ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """:func:`distance_to_closest_record`'s figures and the per-row nearest distances behind
    them (``{"synthetic": [n], "holdout": [m]}``), for histograms."""
    tables = [synthetic] + ([holdout] if holdout is not None else [])
    train_x, *others = row_features(train, train, *tables)
    out = {}
    names = ["synthetic", "holdout"][:len(others)]
    dists = {}
    for name, x in zip(names, others, strict=True):
        d = nearest_distances(x, train_x)
        dists[name] = d[:, 0]
        out[f"dcr_{name}_median"] = float(np.median(d[:, 0]))
        ratio = np.where(d[:, 1] > 0, d[:, 0] / np.maximum(d[:, 1], 1e-12), 0.0)  # 0/0: a copy
        out[f"nndr_{name}_median"] = float(np.median(ratio))
    if holdout is not None:
        out["share_closer_to_train"] = float(np.mean(dists["synthetic"] < np.median(dists["holdout"])))
    return out, dists
