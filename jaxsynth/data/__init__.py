"""Data sources and the sharded grain pipeline."""

from jaxsynth.data.pipeline import (
    MASK_KEY,
    BatchIterator,
    PoissonBatchIterator,
    poisson_padded_size,
    scale_images,
)
from jaxsynth.data.sources import (
    EMBEDDED,
    ArraySource,
    build_source,
    embedded_source,
    table_source,
    tfds_source,
)

__all__ = [
    "EMBEDDED",
    "ArraySource",
    "BatchIterator",
    "MASK_KEY",
    "PoissonBatchIterator",
    "build_source",
    "embedded_source",
    "poisson_padded_size",
    "scale_images",
    "table_source",
    "tfds_source",
]
