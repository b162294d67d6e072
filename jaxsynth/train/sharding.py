"""Device meshes and shardings. Scale comes from ``jax.sharding``: the same code runs on one CPU
and on a pod; batches are split over the ``data`` axis, parameters are replicated."""

from __future__ import annotations

from collections.abc import Sequence

import jax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with a ``data`` axis over ``devices`` (default: the first ``num_devices`` or all).

    >>> make_mesh(1).axis_names
    ('data',)
    """
    if devices is None:
        all_devices = jax.devices()
        n = len(all_devices) if num_devices in (None, 0) else num_devices
        if not 1 <= n <= len(all_devices):
            raise ValueError(f"mesh of {n} devices requested but {len(all_devices)} are available")
        devices = all_devices[:n]
    # Auto axes: shardings propagate through jit (GSPMD) rather than living in the types, so
    # per-example vmaps and freshly drawn keys mix freely with the sharded batch.
    return jax.make_mesh((len(devices),), (DATA_AXIS,), devices=list(devices),
                         axis_types=(AxisType.Auto,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def data_sharded(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))
