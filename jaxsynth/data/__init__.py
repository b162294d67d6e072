"""Data sources and the sharded grain pipeline."""

from jaxsynth.data.pipeline import BatchIterator, scale_images
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
    "build_source",
    "embedded_source",
    "scale_images",
    "table_source",
    "tfds_source",
]
