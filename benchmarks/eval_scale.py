"""Wall time and peak memory of a whole `jaxsynth.eval.evaluate` report as the synthetic table
grows, beside SDMetrics' distance metric (DCROverfittingProtection) and quality report on the same
tables.

    .venv/bin/python benchmarks/eval_scale.py [--real 100000] [--synthetic 30000,100000,1000000] \
        [--sdmetrics-python /tmp/sdmenv/bin/python --sdmetrics-sizes 10000,30000]

Rows are generated (6 numerical columns, 3 categorical ones and a boolean target; nothing is
downloaded); the holdout has 20,000 rows (or as many as the real table). Each run is a fresh
process, so its peak RSS (`ru_maxrss`) is its own. SDMetrics (pandas < 3) runs in its own
environment: `python3 -m venv /tmp/sdmenv && /tmp/sdmenv/bin/pip install sdmetrics==0.32.0`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {f"x{i}": rng.normal(i, 1 + i, n) for i in range(6)}
    for j, k in enumerate((3, 5, 8)):
        cols[f"c{j}"] = rng.integers(0, k, n).astype(str)
    cols["y"] = (cols["x0"] + cols["x1"] / 2 + rng.normal(0, 1, n)) > 0.5
    return pd.DataFrame(cols)


def tables(real: int, synthetic: int):
    return table(real, 0), table(synthetic, 2), table(min(real, 20_000), 1)


def run_jaxsynth(real: int, synthetic: int) -> dict:
    from jaxsynth.eval import evaluate
    train, synth, holdout = tables(real, synthetic)
    start = time.perf_counter()
    report = evaluate(train, synth, holdout, target="y", max_rows=100_000)
    return {"seconds": time.perf_counter() - start, "fidelity": report.scores["headline.fidelity"],
            "dcr_median": report.scores["privacy.dcr_synthetic_median"]}


def run_sdmetrics(real: int, synthetic: int) -> dict:
    from sdmetrics.reports.single_table import QualityReport
    from sdmetrics.single_table import DCROverfittingProtection
    train, synth, holdout = tables(real, synthetic)
    metadata = {"columns": {**{f"x{i}": {"sdtype": "numerical"} for i in range(6)},
                            **{f"c{j}": {"sdtype": "categorical"} for j in range(3)},
                            "y": {"sdtype": "boolean"}}}
    start = time.perf_counter()
    DCROverfittingProtection.compute(train, synth, holdout, metadata, None)
    dcr_s = time.perf_counter() - start
    report = QualityReport()
    report.generate(train, synth, metadata, verbose=False)
    return {"seconds": time.perf_counter() - start, "dcr_seconds": dcr_s, "fidelity": report.get_score()}


def child(kind: str, real: int, synthetic: int, python: str, timeout: float) -> dict:
    cmd = [python, __file__, "--one", kind, "--real", str(real), "--synthetic", str(synthetic)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--real", type=int, default=100_000)
    p.add_argument("--synthetic", default="30000,100000,1000000")
    p.add_argument("--sdmetrics-python", default=None)
    p.add_argument("--sdmetrics-sizes", default="10000,30000")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--one", choices=("jaxsynth", "sdmetrics"), default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        n = int(args.synthetic)
        r = (run_jaxsynth if args.one == "jaxsynth" else run_sdmetrics)(args.real, n)
        r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(r))
        return 0
    runs = [("jaxsynth", args.real, int(n), sys.executable) for n in args.synthetic.split(",")]
    if args.sdmetrics_python:
        for n in map(int, args.sdmetrics_sizes.split(",")):
            runs.insert(0, ("jaxsynth", n, n, sys.executable))
            runs.insert(1, ("sdmetrics", n, n, args.sdmetrics_python))
    seen = set()
    for kind, real, n, python in runs:
        if (kind, real, n) in seen:
            continue
        seen.add((kind, real, n))
        r = child(kind, real, n, python, args.timeout)
        if "error" in r:
            print(f"{kind:9s} real {real:>8,}  synthetic {n:>10,}  {r['error']}", flush=True)
            continue
        extra = f"  (DCR alone {r['dcr_seconds']:.1f} s)" if "dcr_seconds" in r else ""
        print(f"{kind:9s} real {real:>8,}  synthetic {n:>10,}  {r['seconds']:7.1f} s  peak RSS "
              f"{r['peak_rss_mb']:7.0f} MB  fidelity {r['fidelity']:.3f}{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
