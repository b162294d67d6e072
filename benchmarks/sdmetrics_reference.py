"""Record SDMetrics' values for the metrics jaxsynth shares with it, on fixed generated tables, so
`tests/test_sdmetrics_agreement.py` can check jaxsynth against them without SDMetrics installed.

SDMetrics needs pandas < 3, so it lives in its own environment, never in jaxsynth's:

    python3 -m venv /tmp/sdmenv && /tmp/sdmenv/bin/pip install sdmetrics==0.32.0
    /tmp/sdmenv/bin/python benchmarks/sdmetrics_reference.py --out tests/data/sdmetrics

Writes real.csv, synthetic.csv (generated with a fixed seed: numbers with missing values and
out-of-range synthetic values, categories with missing values, a boolean) and reference.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os

import numpy as np
import pandas as pd

NUMERIC = ["x", "y", "z"]
CATEGORICAL = ["colour", "size", "flag"]


def tables(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def make(n, shift, spread, p):
        x = rng.normal(shift, spread, n)
        colour = rng.choice(np.array(["red", "green", "blue", None], dtype=object), n, p=p)
        return pd.DataFrame({
            "x": x,
            "y": np.where(rng.random(n) < 0.1, np.nan, 2 * x + rng.normal(0, 1, n)),
            "z": rng.exponential(3.0, n).round(2),
            "colour": colour,
            "size": np.where(x > shift, "big", "small"),
            "flag": rng.random(n) < 0.3,
        })

    return make(400, 0.0, 1.0, [0.5, 0.3, 0.15, 0.05]), make(350, 0.3, 1.4, [0.4, 0.4, 0.2, 0.0])


def main() -> None:
    import sdmetrics
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.single_column import KSComplement, MissingValueSimilarity, TVComplement
    from sdmetrics.single_table import LogisticDetection

    p = argparse.ArgumentParser()
    p.add_argument("--out", default="tests/data/sdmetrics")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    real, synthetic = tables()
    real.to_csv(os.path.join(args.out, "real.csv"), index=False)
    synthetic.to_csv(os.path.join(args.out, "synthetic.csv"), index=False)
    real = pd.read_csv(os.path.join(args.out, "real.csv"))  # what the test will read
    synthetic = pd.read_csv(os.path.join(args.out, "synthetic.csv"))

    ref: dict = {"sdmetrics_version": sdmetrics.__version__, "KSComplement": {}, "TVComplement": {},
                 "MissingValueSimilarity": {}, "CorrelationSimilarity": {}, "ContingencySimilarity": {}}
    for c in NUMERIC:
        ref["KSComplement"][c] = KSComplement.compute(real[c], synthetic[c])
    for c in CATEGORICAL:
        ref["TVComplement"][c] = TVComplement.compute(real[c], synthetic[c])
    for c in NUMERIC + CATEGORICAL:
        ref["MissingValueSimilarity"][c] = MissingValueSimilarity.compute(real[c], synthetic[c])
    for a, b in itertools.combinations(NUMERIC, 2):
        ref["CorrelationSimilarity"][f"{a},{b}"] = CorrelationSimilarity.compute(
            real[[a, b]], synthetic[[a, b]], coefficient="Pearson")
    for a, b in itertools.combinations(NUMERIC + CATEGORICAL, 2):
        if a in NUMERIC and b in NUMERIC:
            continue
        ref["ContingencySimilarity"][f"{a},{b}"] = ContingencySimilarity.compute(
            real[[a, b]], synthetic[[a, b]], continuous_column_names=[c for c in (a, b) if c in NUMERIC])
    metadata = {"columns": {**{c: {"sdtype": "numerical"} for c in NUMERIC},
                            **{c: {"sdtype": "categorical"} for c in CATEGORICAL[:2]},
                            "flag": {"sdtype": "boolean"}}}
    ref["LogisticDetection"] = LogisticDetection.compute(real, synthetic, metadata)
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, default=float)
    print(json.dumps(ref, indent=1, default=float))


if __name__ == "__main__":
    main()
