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

BatchTransform = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


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
        n_proc, proc = jax.process_count(), jax.process_index()
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
        ds = grain.MapDataset.source(source)
        if n_proc > 1:
            ds = ds[proc::n_proc]
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
