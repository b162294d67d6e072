"""Evaluation of synthetic data: resemblance, utility and privacy figures.

Every figure is documented in its function: definition, range, which direction is better.
"""

from jaxsynth.eval.privacy import identical_match_share
from jaxsynth.eval.resemblance import (
    column_shapes,
    correlation_similarity,
    ks_complement,
    tv_complement,
)
from jaxsynth.eval.utility import tstr

__all__ = [
    "column_shapes",
    "correlation_similarity",
    "identical_match_share",
    "ks_complement",
    "tstr",
    "tv_complement",
]
