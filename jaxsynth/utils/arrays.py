"""Array helpers shared by the chunked (fixed-shape, compile-once) loops."""

from __future__ import annotations

import numpy as np


def pad_rows(block: np.ndarray, size: int) -> np.ndarray:
    """``block`` padded with zero rows to ``size`` rows (unchanged if it has them), so the last
    chunk of a loop has the compiled shape; callers trim the result back.

    >>> pad_rows(np.ones((2, 3)), 4).shape
    (4, 3)
    """
    n = len(block)
    if n >= size:
        return block
    return np.concatenate([block, np.zeros((size - n,) + block.shape[1:], block.dtype)])
