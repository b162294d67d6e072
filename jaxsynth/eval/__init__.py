"""Evaluation of synthetic data: resemblance, utility, privacy and diversity figures, and a report.

Every figure is documented in its function (definition, range, which direction is better) and
in :data:`jaxsynth.eval.report.METRICS`, which the HTML report prints beside the values.
"""

from jaxsynth.eval.detection import detection, outliers
from jaxsynth.eval.distance import (
    distance_to_closest_record,
    k_nearest_distances,
    nearest_distances,
    row_features,
)
from jaxsynth.eval.diversity import prdc, table_prdc, text_diversity
from jaxsynth.eval.privacy import (
    identical_match_share,
    k_anonymity,
    membership_inference,
    quasi_identifier_risk,
)
from jaxsynth.eval.report import METRICS, Report, evaluate
from jaxsynth.eval.resemblance import (
    column_details,
    column_shapes,
    contingency_similarity,
    correlation_similarity,
    frequency_test,
    jensen_shannon,
    ks_complement,
    mean_test,
    missing_rate_agreement,
    tv_complement,
    wasserstein,
)
from jaxsynth.eval.utility import tstr

__all__ = [
    "METRICS",
    "Report",
    "column_details",
    "column_shapes",
    "contingency_similarity",
    "correlation_similarity",
    "detection",
    "distance_to_closest_record",
    "evaluate",
    "frequency_test",
    "identical_match_share",
    "jensen_shannon",
    "k_anonymity",
    "k_nearest_distances",
    "ks_complement",
    "mean_test",
    "membership_inference",
    "missing_rate_agreement",
    "nearest_distances",
    "outliers",
    "prdc",
    "quasi_identifier_risk",
    "row_features",
    "table_prdc",
    "text_diversity",
    "tstr",
    "tv_complement",
    "wasserstein",
]
