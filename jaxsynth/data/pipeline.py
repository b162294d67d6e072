"""The sharded input pipeline: source -> per-process slice -> shuffle/repeat -> batch ->
global ``jax.Array`` sharded over the mesh's ``data`` axis.

Each process reads only its own slice of the source (``index % process_count ==
process_index``) and contributes ``global_batch_size / process_count`` rows to every global
batch; on one machine that is the whole source. The iterator position is a small JSON-able dict
(:meth:`BatchIterator.get_state`) saved in every checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grain
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxsynth.data.sources import ArraySource

BatchTransform = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def process_slice(source: Any) -> grain.MapDataset:
    """This process's records: every ``process_count``-th one from ``process_index``."""
    ds = grain.MapDataset.source(source)
    n_proc = jax.process_count()
    return ds[jax.process_index()::n_proc] if n_proc > 1 else ds


def scale_images(key: str = "image") -> BatchTransform:
    """Map ``batch[key]`` from ``[0, 1]`` to ``[-1, 1]``, the scale diffusion models train in."""

    def fn(batch):
        return {**batch, key: (batch[key].astype(np.float32) * 2.0 - 1.0)}

    return fn


class BatchIterator:
    """Infinite iterator of global batches, reshuffled every epoch, with a restorable position."""

    def __init__(
        self,
        source: Any,
        *,
        global_batch_size: int,
        mesh: Mesh,
        seed: int = 0,
        transform: BatchTransform | None = None,
        data_axis: str = "data",
    ):
        n_proc = jax.process_count()
        n_data = mesh.shape[data_axis]
        if global_batch_size <= 0 or global_batch_size % n_data:
            raise ValueError(
                f"train.batch_size={global_batch_size} must be a positive multiple of the "
                f"{n_data} devices on the mesh's {data_axis!r} axis"
            )
        if global_batch_size % n_proc:
            raise ValueError(
                f"train.batch_size={global_batch_size} must divide evenly over {n_proc} processes"
            )
        local_batch = global_batch_size // n_proc
        ds = process_slice(source)
        if len(ds) < local_batch:
            raise ValueError(
                f"the data set has {len(ds)} records per process, fewer than one batch of "
                f"{local_batch}; lower train.batch_size"
            )
        ds = ds.shuffle(seed=seed).repeat().batch(local_batch, drop_remainder=True)
        self._iter = iter(ds)
        self._transform = transform
        self.sharding = NamedSharding(mesh, PartitionSpec(data_axis))

    def __iter__(self):
        return self

    def __next__(self) -> dict[str, jax.Array]:
        local = next(self._iter)
        if self._transform is not None:
            local = self._transform(local)
        return jax.tree.map(
            lambda x: jax.make_array_from_process_local_data(self.sharding, np.asarray(x)), local
        )

    def get_state(self) -> dict[str, Any]:
        return self._iter.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self._iter.set_state(state)


MASK_KEY = "_mask"


def poisson_padded_size(num_records: int, sampling_rate: float, multiple_of: int = 1,
                        num_std: float = 5.0) -> int:
    """A fixed batch shape that a Poisson(``q``) batch exceeds with negligible probability:
    ``q N + num_std * sqrt(q N (1 - q))``, rounded up to a multiple of ``multiple_of``.

    >>> poisson_padded_size(1000, 0.1, multiple_of=8)
    152
    """
    mean = sampling_rate * num_records
    bound = mean + num_std * np.sqrt(mean * (1.0 - sampling_rate)) + 1.0
    size = int(np.ceil(min(bound, num_records)))
    return -(-size // multiple_of) * multiple_of


class PoissonBatchIterator:
    """Poisson-sampled batches for DP-SGD: each record joins step ``s``'s batch independently
    with probability ``sampling_rate``. Batches are padded to one fixed shape, with
    ``batch[MASK_KEY]: [padded]`` float32 (1 real, 0 padding), so ``jit`` never recompiles.

    A batch larger than the padded size is truncated (counted in ``truncated_batches``); the
    default padded size makes that a 5-sigma event. The draw for step ``s`` depends only on
    ``(seed, process, s)``, so the position is just the step and resuming repeats it exactly.
    """

    def __init__(
        self,
        source: Any,
        *,
        sampling_rate: float,
        mesh: Mesh,
        seed: int = 0,
        padded_size: int | None = None,
        transform: BatchTransform | None = None,
        data_axis: str = "data",
    ):
        if not 0 < sampling_rate <= 1:
            raise ValueError(f"sampling rate must be in (0, 1], got {sampling_rate}")
        n_proc, proc = jax.process_count(), jax.process_index()
        n_data = mesh.shape[data_axis]
        ds = process_slice(source)
        self._ds, self._proc, self._seed = ds, proc, seed
        self._source, self._n_proc = source, n_proc
        self.sampling_rate = sampling_rate
        local = padded_size // n_proc if padded_size else poisson_padded_size(
            len(ds), sampling_rate, max(1, n_data // n_proc))
        if local * n_proc % n_data:
            raise ValueError(
                f"privacy.padded_batch_size={padded_size} must be a multiple of the {n_data} "
                f"devices on the {data_axis!r} axis"
            )
        self.padded_size = local * n_proc
        self._local = local
        self._transform = transform
        self._step = 0
        self.truncated_batches = 0
        self.sharding = NamedSharding(mesh, PartitionSpec(data_axis))

    def __iter__(self):
        return self

    def _local_batch(self, step: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self._seed, self._proc, step])
        chosen = np.flatnonzero(rng.random(len(self._ds)) < self.sampling_rate)
        if len(chosen) > self._local:
            self.truncated_batches += 1
            chosen = chosen[: self._local]
        mask = np.zeros(self._local, np.float32)
        mask[: len(chosen)] = 1.0
        # Padding rows repeat the slice's first record; the mask weights them 0.
        local_idx = np.concatenate([chosen, np.zeros(self._local - len(chosen), np.int64)])
        global_idx = self._proc + self._n_proc * local_idx
        if isinstance(self._source, ArraySource):  # one gather per array, no per-row loop
            batch = {k: v[global_idx] for k, v in self._source.arrays.items()}
        else:
            rows = [self._source[int(i)] for i in global_idx]
            batch = {k: np.stack([np.asarray(r[k]) for r in rows]) for k in rows[0]}
        if self._transform is not None:
            batch = self._transform(batch)
        batch[MASK_KEY] = mask
        return batch

    def __next__(self) -> dict[str, jax.Array]:
        local = self._local_batch(self._step)
        self._step += 1
        return jax.tree.map(
            lambda x: jax.make_array_from_process_local_data(self.sharding, np.asarray(x)), local
        )

    def get_state(self) -> dict[str, Any]:
        return {"step": self._step, "truncated_batches": self.truncated_batches}

    def set_state(self, state: dict[str, Any]) -> None:
        self._step = int(state["step"])
        self.truncated_batches = int(state.get("truncated_batches", 0))
