"""Speed of the digits DDPM: training steps/s, and the scanned DDIM sampler against the same
sampler driven step by step from Python (ratio, same run, same model, same key).

    .venv/bin/python benchmarks/digits_ddpm_speed.py [--steps 50] [--batches 8,256] [--repeats 3]

Prints one table; copy it with the command into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np
from flax import nnx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxsynth.config import load_config  # noqa: E402
from jaxsynth.diffusion import sample_stepwise  # noqa: E402
from jaxsynth.train import Experiment  # noqa: E402


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps")
    ap.add_argument("--batches", default="8,256", help="images per sampling call, comma-separated")
    ap.add_argument("--train-steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    config = load_config(os.path.join(os.path.dirname(__file__), "..", "experiments",
                                      "digits_ddpm.py"))
    exp = Experiment(config)
    state, step, batches = exp.init_state(), exp.train_step(), exp.batches()
    batch = next(batches)
    t0 = time.perf_counter()
    state, m = step(state, batch)
    jax.block_until_ready(m)
    compile_s = time.perf_counter() - t0

    def run_train():
        nonlocal state
        for _ in range(args.train_steps):
            state, metrics = step(state, next(batches))
        return metrics

    train_s = best_of(run_train, args.repeats)
    steps_per_s = args.train_steps / train_s

    params, rest = state.ema_params, state.model_state
    model = nnx.merge(exp.graphdef, params, rest)
    g, p, r = nnx.split(model, nnx.Param, ...)

    def model_fn(x, t):
        return nnx.merge(g, p, r)(x, t)

    obj, key, rows = exp.objective, jax.random.key(0), []
    for batch_size in [int(b) for b in args.batches.split(",")]:
        scanned = exp.sampler(batch_size, sampler="ddim", steps=args.steps, eta=0.0)
        jax.block_until_ready(scanned(params, rest, key))  # compile
        scan_s = best_of(lambda s=scanned: s(params, rest, key), args.repeats)
        shape = (batch_size,) + exp.data_shape

        def stepwise(shape=shape):
            return sample_stepwise(model_fn, obj.schedule, shape, key, sampler="ddim",
                                   steps=args.steps, prediction=obj.prediction,
                                   clip_denoised=obj.clip_denoised)

        jax.block_until_ready(stepwise())  # compile
        step_s = best_of(stepwise, args.repeats)
        same = np.allclose(np.clip((np.asarray(stepwise()) + 1) / 2, 0, 1),
                           np.asarray(scanned(params, rest, key)), atol=1e-4)
        rows.append((batch_size, batch_size / scan_s, batch_size / step_s, step_s / scan_s, same))

    print(f"devices: {jax.device_count()} x {jax.devices()[0].platform}; jax {jax.__version__}")
    print(f"model: unet channels={config.model.channels}, train batch {config.train.batch_size}")
    print(f"{'measure':44s} {'value':>12s}")
    print(f"{'train step compile (s)':44s} {compile_s:12.1f}")
    print(f"{'train steps/s':44s} {steps_per_s:12.2f}")
    print(f"{'train images/s':44s} {steps_per_s * config.train.batch_size:12.0f}")
    print(f"\nDDIM, {args.steps} steps: images/s")
    print(f"{'batch':>6s} {'scanned':>10s} {'Python-driven':>14s} {'ratio':>7s} {'same samples':>13s}")
    for b, scan_ips, step_ips, ratio, same in rows:
        print(f"{b:6d} {scan_ips:10.1f} {step_ips:14.1f} {ratio:6.2f}x {str(same):>13s}")


if __name__ == "__main__":
    main()
