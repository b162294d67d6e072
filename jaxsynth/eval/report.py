"""``evaluate``: one call from (real, synthetic, holdout) tables to a flat dict of named figures.

The HTML report with plots (issue 5) will render this same object; today it writes JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import pandas as pd

from jaxsynth.eval.distance import distance_to_closest_record
from jaxsynth.eval.privacy import identical_match_share
from jaxsynth.eval.resemblance import column_shapes, correlation_similarity
from jaxsynth.eval.utility import tstr


@dataclasses.dataclass
class Report:
    """``scores``: flat ``{name: float}``; ``columns``: per-column shape scores."""

    scores: dict[str, float]
    columns: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "columns": self.columns}

    def to_json(self, path: str | os.PathLike) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
             target: str | None = None, *, max_rows: int | None = None, seed: int = 0) -> Report:
    """Resemblance, utility and privacy of ``synthetic`` against ``real`` (the training rows).

    Scores (each in the function that defines it):

    - ``resemblance.column_shapes``: mean KS/TV complement over columns (1 = same marginals).
    - ``resemblance.correlation_similarity``: 1 = every pairwise correlation reproduced.
    - ``utility.tstr``, ``utility.trtr``, ``utility.ratio`` (needs ``target`` and ``holdout``):
      accuracy or R² on held-out real rows of a model trained on synthetic vs real rows.
    - ``privacy.identical_match_share`` (``.holdout_baseline``): share of rows equal to a
      training row; ``privacy.dcr_*``, ``privacy.nndr_*``, ``privacy.share_closer_to_train``:
      distance to closest record, see :func:`distance_to_closest_record`.

    ``max_rows`` subsamples (seeded) each table for the resemblance and utility figures.
    """
    for name, f in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if f is not None and not isinstance(f, pd.DataFrame):
            raise ValueError(f"{name} must be a pandas DataFrame, got {type(f).__name__}")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic data lacks column(s) {missing} of the real data")
    if target is not None and target not in real.columns:
        raise ValueError(f"target {target!r} is not a column; columns are {list(real.columns)}")
    synthetic = synthetic[list(real.columns)]

    def cap(f):
        if f is None or max_rows is None or len(f) <= max_rows:
            return f
        return f.sample(max_rows, random_state=seed)

    shapes = column_shapes(cap(real), cap(synthetic))
    scores = {"resemblance.column_shapes": float(np.mean(list(shapes.values()))),
              "resemblance.correlation_similarity": correlation_similarity(cap(real), cap(synthetic))}
    if target is not None and holdout is not None:
        util = tstr(cap(real), cap(synthetic), holdout, target, seed=seed)
        scores.update({f"utility.{k}": v for k, v in util.items() if k != "metric"})
    match = identical_match_share(real, synthetic, holdout)
    scores["privacy.identical_match_share"] = match["synthetic"]
    if "holdout_baseline" in match:
        scores["privacy.identical_match_share.holdout_baseline"] = match["holdout_baseline"]
    scores.update({f"privacy.{k}": v for k, v in
                   distance_to_closest_record(real, synthetic, holdout).items()})
    return Report(scores=scores, columns=shapes)
