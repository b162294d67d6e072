"""Sample quality of the digits diffusion models by sampler and step count, in the digits
feature net's space, plus class accuracy of the class-conditional model under guidance.

    .venv/bin/python benchmarks/digits_sampler_fid.py [--workdir runs/bench_digits] [--n 1797]

Trains experiments/digits_ddpm.py and experiments/digits_ddpm_cfg.py (default settings) into
WORKDIR/uncond and WORKDIR/cfg unless checkpoints are already there, then draws n samples per
setting (same seed) and prints FID / KID / precision / recall against all 1,797 real digits:
1000-step DDPM as the reference, DDIM, DPM-Solver++(2M) and its SDE variant (eta = 1) at 10, 20
and 50 steps, and the
conditional model's class accuracy at guidance 0, 1, 2 and 4. Also the training time on this CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxsynth.config import load_config  # noqa: E402
from jaxsynth.data.sources import embedded_arrays  # noqa: E402
from jaxsynth.eval.images import feature_net, image_metrics  # noqa: E402
from jaxsynth.train import sample_from_workdir, train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_trained(config_name: str, workdir: str) -> float | None:
    if os.path.isdir(os.path.join(workdir, "checkpoints")):
        return None
    config = load_config(os.path.join(ROOT, "experiments", config_name))
    start = time.perf_counter()
    train(config, workdir, progress=False)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", default="runs/bench_digits")
    p.add_argument("--n", type=int, default=1797)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    real = embedded_arrays("digits")["image"]
    net = feature_net("digits")
    uncond, cfg = os.path.join(args.workdir, "uncond"), os.path.join(args.workdir, "cfg")
    for name, wd in (("digits_ddpm.py", uncond), ("digits_ddpm_cfg.py", cfg)):
        seconds = ensure_trained(name, wd)
        if seconds is not None:
            print(f"trained {name} in {seconds:.0f} s", flush=True)

    def row(label, **kw):
        start = time.perf_counter()
        x = sample_from_workdir(uncond, args.n, seed=args.seed, batch_size=600, **kw)
        s = time.perf_counter() - start
        m = image_metrics(real, x, net)
        vals = [m[f"{k}[{net.name}]"] for k in ("fid", "kid", "precision", "recall")]
        print(f"{label:22s} fid {vals[0]:8.3f}  kid {vals[1]:8.4f}  precision {vals[2]:.3f}  "
              f"recall {vals[3]:.3f}  ({s:.0f} s to sample)", flush=True)
        return vals[0]

    print(f"n = {args.n} samples vs {len(real)} real digits, feature net {net.name} "
          f"(test accuracy {net.info['test_accuracy']:.3f})")
    ref = row("ddpm 1000 steps", sampler="ddpm")
    for name, sampler, eta in (("ddim", "ddim", 0.0), ("dpmpp_2m", "dpmpp_2m", 0.0),
                               ("dpmpp_2m_sde", "dpmpp_2m", 1.0)):
        for steps in (10, 20, 50):
            fid = row(f"{name} {steps} steps", sampler=sampler, steps=steps, eta=eta)
            print(f"{'':22s} FID / DDPM-1000 FID = {fid / ref:.3f}", flush=True)
    per_class = max(args.n // 10, 1)
    for guidance in (0.0, 1.0, 2.0, 4.0):
        images, labels = [], []
        for k in range(10):
            images.append(sample_from_workdir(cfg, per_class, seed=args.seed + k, batch_size=per_class,
                                              sampler="dpmpp_2m", steps=20, label=k, guidance=guidance))
            labels.append(np.full(per_class, k))
        m = image_metrics(real, np.concatenate(images), net, labels=np.concatenate(labels))
        print(f"cfg guidance {guidance:3.1f} (dpmpp_2m 20) class accuracy "
              f"{m[f'class_accuracy[{net.name}]']:.3f}  fid {m[f'fid[{net.name}]']:.3f}", flush=True)


if __name__ == "__main__":
    main()
