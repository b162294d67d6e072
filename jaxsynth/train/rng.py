"""Named random streams: every random draw in a step comes from
``fold_in(fold_in(root, step), stream_id(name))``, so a resumed run repeats exactly."""

from __future__ import annotations

import zlib

import jax


def stream_id(name: str) -> int:
    """A stable 31-bit id for a stream name (the same in every process and every run).

    >>> stream_id("noise") == stream_id("noise"), stream_id("noise") == stream_id("dropout")
    (True, False)
    """
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def stream(root: jax.Array, step: jax.Array | int, name: str) -> jax.Array:
    """The key of stream ``name`` at training step ``step``."""
    return jax.random.fold_in(jax.random.fold_in(root, step), stream_id(name))
