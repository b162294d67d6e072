"""Wall time and peak memory of the distance-to-closest-record search as the synthetic table grows.

    .venv/bin/python benchmarks/dcr_scale.py [--real 100000] [--synthetic 10000,100000,1000000]

Rows are generated (6 numerical columns, 3 categorical ones of 3-8 categories, 20 features after
one-hot), so nothing is downloaded. Each size runs in a fresh process, so its peak RSS
(`ru_maxrss`) is its own.
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
    return pd.DataFrame(cols)


def one(real: int, synthetic: int) -> dict:
    from jaxsynth.eval.distance import distance_to_closest_record
    train, holdout, synth = table(real, 0), table(min(real, 10_000), 1), table(synthetic, 2)
    start = time.perf_counter()
    scores = distance_to_closest_record(train, synth, holdout)
    return {"real": real, "synthetic": synthetic, "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "dcr_synthetic_median": scores["dcr_synthetic_median"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--real", type=int, default=100_000)
    p.add_argument("--synthetic", default="10000,100000,1000000")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.real, args.one)))
        return 0
    for n in map(int, args.synthetic.split(",")):
        out = subprocess.run([sys.executable, __file__, "--real", str(args.real), "--one", str(n)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"real {r['real']:>8,}  synthetic {r['synthetic']:>10,}  {r['seconds']:7.1f} s  "
              f"peak RSS {r['peak_rss_mb']:7.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
