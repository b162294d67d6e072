"""Evaluation of synthetic data: resemblance, utility and privacy figures.

Every figure is documented in its function: definition, range, which direction is better.
"""

from jaxsynth.eval.distance import distance_to_closest_record, nearest_distances
from jaxsynth.eval.privacy import identical_match_share
from jaxsynth.eval.report import Report, evaluate
from jaxsynth.eval.resemblance import (
    column_shapes,
    correlation_similarity,
    ks_complement,
    tv_complement,
)
from jaxsynth.eval.utility import tstr

__all__ = [
    "Report",
    "column_shapes",
    "distance_to_closest_record",
    "evaluate",
    "nearest_distances",
    "correlation_similarity",
    "identical_match_share",
    "ks_complement",
    "tstr",
    "tv_complement",
]
