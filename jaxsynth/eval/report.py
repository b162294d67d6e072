"""``evaluate``: one call from (real, synthetic, holdout) tables to a report of named figures,
written as JSON (:meth:`Report.to_json`) or as a self-contained HTML page with plots
(:meth:`Report.to_html`).

Every figure in ``Report.scores`` is defined in :data:`METRICS` (definition, range, which
direction is better, reference); the HTML report prints that glossary beside the values.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from jaxsynth.eval.detection import detection, outliers
from jaxsynth.eval.distance import dcr_with_distances
from jaxsynth.eval.diversity import is_text, table_prdc, text_diversity
from jaxsynth.eval.privacy import identical_match_share, membership_inference, quasi_identifier_risk
from jaxsynth.eval.resemblance import (
    _is_numeric,
    column_details,
    contingency_similarity,
    correlation_similarity,
)
from jaxsynth.eval.utility import tstr

# name pattern -> (definition, range, better, reference)
METRICS: dict[str, tuple[str, str, str, str]] = {
    "headline.fidelity": ("mean of resemblance.column_shapes and the column-pair score (mean of "
                          "correlation and contingency similarity)", "0-1", "higher",
                          "SDMetrics Quality Report"),
    "headline.utility": ("utility.ratio clipped to [0, 1]: TSTR / TRTR of the first model",
                         "0-1", "higher", "Esteban et al. 2017 (TSTR)"),
    "headline.privacy": ("the worse of two attacks: min(2 (1 - share_closer_to_train), 1 - "
                         "membership advantage), clipped to [0, 1]; without holdout rows, 1 - "
                         "identical_match_share", "0-1", "higher", "SDMetrics DCROverfittingProtection"),
    "resemblance.column_shapes": ("mean over columns of the KS complement (numbers, dates) or TV "
                                  "complement (categories)", "0-1", "higher",
                                  "SDMetrics KSComplement/TVComplement"),
    "resemblance.correlation_similarity": ("mean over pairs of numerical columns of 1 - |r_real - "
                                           "r_synthetic| / 2, r Pearson's correlation", "0-1", "higher",
                                           "SDMetrics CorrelationSimilarity"),
    "resemblance.contingency_similarity": ("mean over column pairs with a categorical column of 1 - total "
                                           "variation between the joint frequencies (numbers in 10 bins)",
                                           "0-1", "higher", "SDMetrics ContingencySimilarity"),
    "resemblance.missing_agreement": ("mean over columns of 1 - |missing share real - missing share "
                                      "synthetic|", "0-1", "higher", "SDMetrics MissingValueSimilarity"),
    "resemblance.wasserstein": ("mean over numerical columns of the 1-Wasserstein distance, in units of "
                                "the real column's range", ">= 0", "lower", "Villani 2009"),
    "resemblance.jensen_shannon": ("mean over columns of the Jensen-Shannon distance (base 2) of the "
                                   "frequencies, numbers in 20 bins", "0-1", "lower", "Lin 1991"),
    "resemblance.tests_passed": ("share of columns whose Welch t test (numbers) or chi-square test "
                                 "(categories) gives p >= 0.05", "0-1", "higher", "Welch 1947; Pearson 1900"),
    "resemblance.detection.*.auc": ("ROC AUC of a classifier (logistic or gradient boosting) telling "
                                    "real from synthetic rows, 3-fold", "0.5-1", "lower (0.5 ideal)",
                                    "SDMetrics LogisticDetection"),
    "resemblance.detection.*.score": ("1 - (2 max(auc, 0.5) - 1)", "0-1", "higher",
                                      "SDMetrics LogisticDetection"),
    "resemblance.lof.similarity": ("KS complement between the local outlier factors of synthetic rows "
                                   "and of real rows, both against the real rows", "0-1", "higher",
                                   "Breunig et al. 2000"),
    "resemblance.lof.outlier_share.*": ("share of rows with local outlier factor above 1.5", "0-1",
                                        "close to the real share", "Breunig et al. 2000"),
    "utility.tstr": ("first model's accuracy (classification) or R² (regression) on holdout rows, "
                     "trained on synthetic rows", "0-1", "higher", "Esteban et al. 2017"),
    "utility.trtr": ("the same, trained on the real training rows", "0-1", "higher", ""),
    "utility.ratio": ("utility.tstr / utility.trtr", ">= 0", "higher (1: as useful as real)", ""),
    "utility.*.tstr": ("metric of the named model on holdout rows, trained on synthetic rows "
                       "(f1 is macro F1, roc_auc one-vs-rest macro)", "0-1", "higher", ""),
    "utility.*.trtr": ("the same, trained on real training rows", "0-1", "higher", ""),
    "utility.*.ratio": ("tstr / trtr of that model and metric", ">= 0", "higher", ""),
    "privacy.identical_match_share": ("share of synthetic rows equal to some training row", "0-1",
                                      "lower (compare with the holdout baseline)", "Zhao et al. 2021"),
    "privacy.identical_match_share.holdout_baseline": ("the same share for holdout rows: chance matches",
                                                       "0-1", "reference", ""),
    "privacy.dcr_*_median": ("median Euclidean distance from a row to its closest training row (numbers "
                             "scaled to the training range, categories one-hot / sqrt 2)", ">= 0",
                             "higher (compare with the holdout row)", "Park et al. 2018"),
    "privacy.nndr_*_median": ("median ratio of the nearest to the second-nearest training distance",
                              "0-1", "higher (compare with the holdout row)", "Lowe 2004"),
    "privacy.share_closer_to_train": ("share of synthetic rows closer to the training rows than the median "
                                      "holdout row", "0-1", "lower (0.5 for a generator that does not copy)",
                                      "SDMetrics DCROverfittingProtection"),
    "privacy.membership_inference.auc": ("ROC AUC of a distance attack guessing which candidate rows were "
                                         "trained on (closer to a synthetic row = member)", "0-1",
                                         "lower (0.5 ideal)", "Hayes et al. 2019"),
    "privacy.membership_inference.advantage": ("max(0, 2 auc - 1)", "0-1", "lower", "Yeom et al. 2018"),
    "privacy.k_*": ("k-anonymity on the quasi-identifiers: size of the smallest group sharing them",
                    ">= 1", "higher", "Sweeney 2002"),
    "privacy.unique_match_share*": ("share of rows whose quasi-identifiers match exactly one training row",
                                    "0-1", "lower (compare with the holdout baseline)", "Sweeney 2002"),
    "diversity.precision": ("share of synthetic rows inside some real row's 5-NN ball", "0-1", "higher",
                            "Naeem et al. 2020"),
    "diversity.recall": ("share of real rows inside some synthetic row's 5-NN ball", "0-1", "higher",
                         "Naeem et al. 2020"),
    "diversity.density": ("mean number of real 5-NN balls holding a synthetic row, / 5", ">= 0",
                          "about 1", "Naeem et al. 2020"),
    "diversity.coverage": ("share of real 5-NN balls holding a synthetic row", "0-1", "higher",
                           "Naeem et al. 2020"),
    "diversity.text.*.distinct_*": ("distinct n-grams / all n-grams of a text column", "0-1",
                                    "higher (compare with real)", "Li et al. 2016"),
    "diversity.text.*.entropy_*": ("Shannon entropy (bits) of the n-gram frequencies", ">= 0",
                                   "higher (compare with real)", "Zhang et al. 2018"),
    "diversity.text.*.compression_ratio": ("raw / zlib-compressed bytes of the texts", ">= 1",
                                           "lower (compare with real)", ""),
}


def describe(name: str) -> tuple[str, str, str, str]:
    """``(definition, range, better, reference)`` of a score name in :data:`METRICS`.

    >>> describe("privacy.dcr_holdout_median")[2]
    'higher (compare with the holdout row)'
    """
    if name in METRICS:
        return METRICS[name]
    for pattern, doc in METRICS.items():
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            return doc
    return ("", "", "", "")


@dataclasses.dataclass
class Report:
    """What :func:`evaluate` found.

    ``scores``: flat ``{name: float}`` (see :data:`METRICS`); ``columns``: per column the
    details of :func:`~jaxsynth.eval.resemblance.column_details`; ``info``: table sizes, target,
    the privacy budget of a DP-trained model if given. ``plots`` holds the data behind the HTML
    figures (samples of each column, correlation matrices, distances) and is not written to JSON.
    """

    scores: dict[str, float]
    columns: dict[str, dict[str, Any]]
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    plots: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def headline(self) -> dict[str, float]:
        """``{"fidelity", "utility", "privacy"}`` (each 0-1, higher is better) where computed."""
        return {k.split(".", 1)[1]: v for k, v in self.scores.items() if k.startswith("headline.")}

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "columns": self.columns, "info": self.info,
                "definitions": {k: dict(zip(("definition", "range", "better", "reference"),
                                            describe(k), strict=True)) for k in self.scores}}

    def to_json(self, path: str | os.PathLike) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1, default=float)

    def to_html(self, path: str | os.PathLike) -> None:
        """A self-contained HTML page (plots embedded as PNG): headline, DP budget, per-column
        table and distributions, correlation heatmaps, DCR histograms and the glossary."""
        from jaxsynth.eval.html import render
        with open(path, "w", encoding="utf-8") as f:
            f.write(render(self))


def _sample_values(s: pd.Series, n: int, seed: int) -> dict[str, Any]:
    if _is_numeric(s):
        v = s.dropna()
        dates = pd.api.types.is_datetime64_any_dtype(v.dtype)
        if dates:
            v = v.astype("int64") / 86_400e9  # days since 1970-01-01, matplotlib's date unit
        v = pd.to_numeric(v, errors="coerce").dropna().to_numpy(np.float64)
        if len(v) > n:
            v = np.random.default_rng(seed).choice(v, n, replace=False)
        return {"kind": "numerical", "values": v, "dates": dates}
    counts = s.astype(object).where(s.notna(), "<NA>").astype(str).value_counts(normalize=True)
    return {"kind": "categorical", "frequencies": counts}


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
             target: str | None = None, *, quasi_identifiers: list[str] | None = None,
             text_columns: list[str] | None = None, privacy_budget: dict[str, Any] | None = None,
             max_rows: int | None = None, seed: int = 0, progress: bool = False) -> Report:
    """Resemblance, utility, privacy and diversity of ``synthetic`` against ``real`` (the rows
    the generator was trained on), every figure named in :data:`METRICS`.

    ``holdout``: real rows the generator never saw; needed for utility (TSTR/TRTR on them),
    and the baselines of the privacy figures and membership inference. ``target``: the
    column to predict for utility. ``quasi_identifiers``: columns an attacker may know
    (k-anonymity figures). ``text_columns``: free-text columns for the diversity figures
    (default: detected by :func:`~jaxsynth.eval.diversity.is_text`). ``privacy_budget``: the
    DP guarantee to show (e.g. ``TabularSynthesizer.privacy_report``). ``max_rows``: a seeded
    subsample of each table for the resemblance and utility figures (distance figures use
    every row; detection, outliers and PRDC cap themselves at 5,000-10,000 rows).
    """
    for name, f in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if f is not None and not isinstance(f, pd.DataFrame):
            raise ValueError(f"{name} must be a pandas DataFrame, got {type(f).__name__}")
        if f is not None and f.empty:
            raise ValueError(f"{name} has no rows")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic data lacks column(s) {missing} of the real data")
    if holdout is not None:
        lacking = [c for c in real.columns if c not in holdout.columns]
        if lacking:
            raise ValueError(f"holdout data lacks column(s) {lacking} of the real data")
        holdout = holdout[list(real.columns)]
    if target is not None and target not in real.columns:
        raise ValueError(f"target {target!r} is not a column; columns are {list(real.columns)}")
    if target is not None and holdout is None:
        raise ValueError(f"target {target!r} needs holdout rows to test the utility models on")
    synthetic = synthetic[list(real.columns)]
    texts = list(text_columns) if text_columns is not None else [c for c in real.columns if is_text(real[c])]
    unknown = [c for c in texts if c not in real.columns]
    if unknown:
        raise ValueError(f"text_columns {unknown} are not columns of the real data")

    def cap(f):
        if f is None or max_rows is None or len(f) <= max_rows:
            return f
        return f.sample(max_rows, random_state=seed)

    tabular = [c for c in real.columns if c not in texts]
    r_cap, s_cap = cap(real), cap(synthetic)
    scores: dict[str, float] = {}
    plots: dict[str, Any] = {}
    stages: list[tuple[str, Callable[[], None]]] = []

    def resemblance():
        cols = column_details(r_cap[tabular], s_cap[tabular]) if tabular else {}
        columns.update(cols)
        shapes = [d["shape"] for d in cols.values()]
        scores["resemblance.column_shapes"] = float(np.mean(shapes)) if shapes else float("nan")
        scores["resemblance.correlation_similarity"] = correlation_similarity(r_cap[tabular], s_cap[tabular])
        scores["resemblance.contingency_similarity"] = contingency_similarity(r_cap[tabular], s_cap[tabular],
                                                                              seed=seed)
        scores["resemblance.missing_agreement"] = float(np.mean([d["missing_agreement"]
                                                                 for d in cols.values()]))
        wd = [d["wasserstein"] for d in cols.values() if d["kind"] == "numerical"]
        scores["resemblance.wasserstein"] = float(np.nanmean(wd)) if wd else float("nan")
        scores["resemblance.jensen_shannon"] = float(np.mean([d["jensen_shannon"] for d in cols.values()]))
        scores["resemblance.tests_passed"] = float(np.mean([d["test_pvalue"] >= 0.05 for d in cols.values()]))
        plots["marginals"] = {c: (_sample_values(r_cap[c], 5000, seed), _sample_values(s_cap[c], 5000, seed))
                              for c in tabular}
        num = [c for c in tabular if _is_numeric(real[c])]
        if len(num) >= 2:
            def number(s):
                if pd.api.types.is_datetime64_any_dtype(s.dtype):
                    return s.astype("int64").where(s.notna())
                return pd.to_numeric(s, errors="coerce")

            def corr(df):
                return df[num].apply(number).astype(float).corr().to_numpy()
            plots["correlation"] = {"columns": num, "real": corr(r_cap), "synthetic": corr(s_cap)}

    def detect():
        for model in ("logistic", "gbm"):
            d = detection(real[tabular], synthetic[tabular], model=model, seed=seed)
            scores[f"resemblance.detection.{model}.auc"] = d["auc"]
            scores[f"resemblance.detection.{model}.score"] = d["score"]
        lof = outliers(real[tabular], synthetic[tabular], seed=seed)
        scores["resemblance.lof.similarity"] = lof["similarity"]
        scores["resemblance.lof.outlier_share.real"] = lof["share_real"]
        scores["resemblance.lof.outlier_share.synthetic"] = lof["share_synthetic"]

    def utility():
        util = tstr(cap(real), cap(synthetic), holdout, target, seed=seed)
        scores.update({f"utility.{k}": v for k, v in util.items() if k != "metric"})
        info["utility_metric"] = util["metric"]

    def privacy():
        match = identical_match_share(real, synthetic, holdout)
        scores["privacy.identical_match_share"] = match["synthetic"]
        if "holdout_baseline" in match:
            scores["privacy.identical_match_share.holdout_baseline"] = match["holdout_baseline"]
        dcr, dists = dcr_with_distances(real[tabular], synthetic[tabular],
                                        None if holdout is None else holdout[tabular])
        scores.update({f"privacy.{k}": v for k, v in dcr.items()})
        plots["dcr"] = dists
        if holdout is not None:
            mia = membership_inference(real[tabular], synthetic[tabular], holdout[tabular], seed=seed)
            scores["privacy.membership_inference.auc"] = mia["auc"]
            scores["privacy.membership_inference.advantage"] = mia["advantage"]
        if quasi_identifiers:
            risk = quasi_identifier_risk(real, synthetic, list(quasi_identifiers), holdout)
            scores.update({f"privacy.{k}": v for k, v in risk.items()})

    def diversity():
        if len(tabular) and min(len(real), len(synthetic)) > 5:
            scores.update({f"diversity.{k}": v for k, v in
                           table_prdc(real[tabular], synthetic[tabular], seed=seed).items()})
        for c in texts:
            for who, frame in (("real", real), ("synthetic", synthetic)):
                if frame[c].notna().any():
                    for k, v in text_diversity(frame[c]).items():
                        scores[f"diversity.text.{c}.{k}.{who}"] = v

    columns: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {"rows": {"real": len(real), "synthetic": len(synthetic),
                                     "holdout": None if holdout is None else len(holdout)},
                            "target": target, "text_columns": texts,
                            "quasi_identifiers": list(quasi_identifiers or []),
                            "privacy_budget": privacy_budget,
                            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    stages.append(("resemblance", resemblance))
    if tabular and min(len(real), len(synthetic)) >= 3:
        stages.append(("detection", detect))
    if target is not None:
        stages.append(("utility", utility))
    if tabular:
        stages.append(("privacy", privacy))
    stages.append(("diversity", diversity))
    from tqdm.auto import tqdm
    bar = tqdm(stages, desc="evaluate", disable=not progress, unit="stage")
    for name, run in bar:
        bar.set_postfix_str(name)
        run()
    scores.update(_headline(scores, holdout is not None))
    return Report(scores=scores, columns=columns, info=info, plots=plots)


def _headline(s: dict[str, float], has_holdout: bool) -> dict[str, float]:
    out = {}
    pairs = [s.get(k) for k in ("resemblance.correlation_similarity", "resemblance.contingency_similarity")]
    pairs = [v for v in pairs if v is not None and not np.isnan(v)]
    parts = [s["resemblance.column_shapes"]] + ([float(np.mean(pairs))] if pairs else [])
    if not np.isnan(parts[0]):
        out["headline.fidelity"] = float(np.mean(parts))
    if "utility.ratio" in s and not np.isnan(s["utility.ratio"]):
        out["headline.utility"] = float(np.clip(s["utility.ratio"], 0.0, 1.0))
    if has_holdout and "privacy.share_closer_to_train" in s:
        dcr = 2.0 * (1.0 - s["privacy.share_closer_to_train"])
        out["headline.privacy"] = float(np.clip(min(dcr, 1.0 - s["privacy.membership_inference.advantage"]),
                                                0.0, 1.0))
    elif "privacy.identical_match_share" in s:
        out["headline.privacy"] = 1.0 - s["privacy.identical_match_share"]
    return out
