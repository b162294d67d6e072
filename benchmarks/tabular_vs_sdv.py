"""jaxsynth's CTGAN / TVAE / TabDDPM against SDV's CTGAN and TVAE, side by side in one run.

Same training rows, same epochs and batch size; fit and sample wall time (jaxsynth's includes the
encoder fit and XLA compilation), and quality on the same held-out real rows: mean per-column
KS / TV complement, correlation similarity, train-on-synthetic/test-on-real accuracy against
train-on-real (histogram gradient boosting), and the share of synthetic rows identical to a
training row against the same share for real held-out rows.

    .venv/bin/pip install -e '.[bench]'     # statsmodels and palmerpenguins: the offline tables
    .venv/bin/python benchmarks/tabular_vs_sdv.py --sdv-python /tmp/sdvenv/bin/python \
        [--datasets fair,penguins,breast_cancer] [--models ctgan,tvae,tabddpm] [--epochs N]

The SDV side runs in its own environment (see benchmarks/sdv_tabular_fit.py); --skip-sdv runs
jaxsynth alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from jaxsynth import TabularSynthesizer
from jaxsynth.eval import column_shapes, correlation_similarity, identical_match_share, tstr

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name: str):
    """``(frame, target, metadata)`` for a table that ships inside a PyPI package."""
    if name == "fair":  # statsmodels: 6,366 marriages, mixed ordinal/categorical/numeric
        import statsmodels.api as sm
        df = sm.datasets.fair.load_pandas().data.copy()
        df["affair"] = np.where(df.pop("affairs") > 0, "yes", "no")
        cats = ["rate_marriage", "religious", "occupation", "occupation_husb"]
        for c in cats:
            df[c] = df[c].astype(int)
        for c in ["age", "yrs_married", "children", "educ"]:
            df[c] = df[c].astype(float)
        return df, "affair", {c: "categorical" for c in cats}
    if name == "penguins":
        import palmerpenguins
        df = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
        df["year"] = df["year"].astype(int)
        return df, "species", {}
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer
        data = load_breast_cancer(as_frame=True)
        df = data.frame.copy()
        df["target"] = np.where(df["target"] == 1, "benign", "malignant")
        return df, "target", {}
    raise ValueError(f"unknown dataset {name!r}")


def split(df: pd.DataFrame, train_rows: int | None, seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(df))
    n_train = train_rows or int(0.75 * len(df))
    return df.iloc[idx[:n_train]].reset_index(drop=True), df.iloc[idx[n_train:]].reset_index(drop=True)


def quality(train, synth, test, target):
    shapes = column_shapes(train, synth)
    util = tstr(train, synth, test, target)
    match = identical_match_share(train, synth, test)
    return {"shapes": float(np.mean(list(shapes.values()))),
            "corr": correlation_similarity(train, synth), "tstr": util["tstr"],
            "trtr": util["trtr"], "ratio": util["ratio"], "match": match["synthetic"],
            "match_holdout": match["holdout_baseline"]}


def run_jaxsynth(model, train, metadata, epochs, batch, n):
    start = time.perf_counter()
    synth = TabularSynthesizer(model, seed=0, metadata=metadata, epochs=epochs, batch_size=batch,
                               progress=False).fit(train)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    rows = synth.sample(n)
    return rows, fit, time.perf_counter() - start, synth.compile_seconds


def run_sdv(python, model, train, metadata, target, epochs, batch, n):
    discrete = sorted(set(metadata) | {c for c in train.columns if train[c].dtype.kind in "OSUb"}
                      | {target})
    with tempfile.TemporaryDirectory() as tmp:
        train_csv, out_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "out.csv")
        train.to_csv(train_csv, index=False)
        proc = subprocess.run([python, os.path.join(HERE, "sdv_tabular_fit.py"), model, train_csv,
                               json.dumps(discrete), str(epochs), str(batch), str(n), out_csv],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = pd.read_csv(out_csv)
    for c in train.columns:  # back to the training dtypes, so matches compare like with like
        if train[c].dtype.kind in "iu":
            rows[c] = pd.to_numeric(rows[c], errors="coerce").round().fillna(0).astype(train[c].dtype)
        elif train[c].dtype.kind == "b":
            rows[c] = rows[c].astype(str) == "True"
        elif train[c].dtype.kind == "f":
            rows[c] = pd.to_numeric(rows[c], errors="coerce")
        else:
            rows[c] = rows[c].astype(str).astype(train[c].dtype)
    return rows, timing["fit_seconds"], timing["sample_seconds"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="fair")
    p.add_argument("--models", default="ctgan,tvae,tabddpm")
    p.add_argument("--epochs", type=int, default=None, help="default: each model's default")
    p.add_argument("--batch-size", type=int, default=500, help="for ctgan and tvae (SDV's default)")
    p.add_argument("--n-samples", type=int, default=100_000,
                   help="rows sampled for the timing; quality uses as many as the training rows")
    p.add_argument("--train-rows", type=int, default=None, help="fair: 5000; others: 75%%")
    p.add_argument("--sdv-python", default="/tmp/sdvenv/bin/python")
    p.add_argument("--skip-sdv", action="store_true")
    args = p.parse_args()
    results = []
    for name in args.datasets.split(","):
        df, target, metadata = load(name)
        train, test = split(df, args.train_rows or (5000 if name == "fair" else None))
        n = len(train)
        print(f"\n## {name}: {len(train)} training rows, {len(test)} held out, {df.shape[1]} columns, "
              f"target {target!r}", flush=True)
        for model in args.models.split(","):
            epochs = args.epochs or (300 if model in ("ctgan", "tvae") else None)
            batch = args.batch_size if model in ("ctgan", "tvae") else None
            rows, fit, sample, compile_s = run_jaxsynth(model, train, metadata, epochs, batch,
                                                        args.n_samples)
            q = quality(train, rows.iloc[:n], test, target)
            results.append({"dataset": name, "model": model, "impl": "jaxsynth", "fit_s": fit,
                            "sample_s": sample, "compile_s": compile_s, **q})
            print(json.dumps(results[-1]), flush=True)
            if model in ("ctgan", "tvae") and not args.skip_sdv:
                rows, fit, sample = run_sdv(args.sdv_python, model, train, metadata, target,
                                            epochs, args.batch_size, args.n_samples)
                q = quality(train, rows.iloc[:n], test, target)
                results.append({"dataset": name, "model": model, "impl": "sdv", "fit_s": fit,
                                 "sample_s": sample, **q})
                print(json.dumps(results[-1]), flush=True)
    table = pd.DataFrame(results)
    pd.set_option("display.width", 200)
    print("\n", table.drop(columns=["compile_s"], errors="ignore").round(3).to_string(index=False))
    if not args.skip_sdv:
        print("\nratios (sdv / jaxsynth): fit time, sample time")
        for (name, model), g in table.groupby(["dataset", "model"]):
            if set(g["impl"]) == {"jaxsynth", "sdv"}:
                j, s = g.set_index("impl").loc["jaxsynth"], g.set_index("impl").loc["sdv"]
                print(f"  {name:14s} {model:6s} fit {s.fit_s / j.fit_s:5.1f}x   "
                      f"sample {s.sample_s / j.sample_s:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
