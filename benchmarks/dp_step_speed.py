"""DP-SGD step time against the non-private step, same model, same batch, one run.

    .venv/bin/python benchmarks/dp_step_speed.py [--repeats 5] [--opacus-python /tmp/opv/bin/python]

With ``--opacus-python`` (a separate environment with torch and opacus, see
benchmarks/opacus_mlp_step.py) the same MLP step in PyTorch/Opacus is timed in the same run and
printed beside ours.

Models: an MLP 64-256-256-2 (tabular-sized) at batch 512 with a cross-entropy loss, and the
digits U-Net (experiments/digits_ddpm.py) at batch 64 with the denoising loss. The private step
is timed on both of jaxsynth.privacy's paths: "fast" (ghost norms + book-keeping, chosen
automatically for models of dense and plain convolutional layers such as the MLP and the conv
VAE of experiments/digits_vae.py, batch 64) and "vmap" (per-example gradients materialised);
the U-Net has GroupNorm and attention, so it always takes the vmap path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import optax
from flax import nnx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxsynth.config import load_config  # noqa: E402
from jaxsynth.models import MLP  # noqa: E402
from jaxsynth.privacy import DPSGD  # noqa: E402
from jaxsynth.train import Experiment, make_mesh, make_train_step  # noqa: E402
from jaxsynth.train.state import init_state, split_model  # noqa: E402


class Classification:
    """A minimal objective: softmax cross-entropy of ``model(batch['x'])`` against labels."""

    def loss(self, model, batch, rng):
        del rng
        logits = model(batch["x"])
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]).mean()
        return loss, {"loss": loss}


def time_steps(step, state, batch, repeats, n=10):
    state, m = step(state, batch)
    jax.block_until_ready(m)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            state, m = step(state, batch)
        jax.block_until_ready(m)
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def mlp_case(repeats):
    mesh, batch_size = make_mesh(1), 512
    model = MLP((64, 256, 256, 2), rngs=nnx.Rngs(0))
    graphdef, params, rest = split_model(model)
    opt = optax.adam(1e-3)
    k1, k2 = jax.random.split(jax.random.key(0))
    batch = {"x": jax.random.normal(k1, (batch_size, 64)),
             "y": jax.random.randint(k2, (batch_size,), 0, 2)}
    out = {}
    for name, dp in [("non-private", None),
                     ("DP-SGD (fast)", DPSGD(1.0, 1.0, float(batch_size), fast_path=True)),
                     ("DP-SGD (vmap)", DPSGD(1.0, 1.0, float(batch_size), fast_path=False))]:
        step = make_train_step(graphdef, Classification(), opt, mesh=mesh,
                               root_key=jax.random.key(1), privacy=dp)
        b = batch if dp is None else {**batch, "_mask": jnp.ones(batch_size)}
        fresh = jax.tree.map(jnp.copy, params)  # the step donates its state
        out[name] = time_steps(step, init_state(fresh, rest, opt), b, repeats)
    return out


def unet_case(repeats):
    return config_case("digits_ddpm.py", repeats, fast=False)


def config_case(name, repeats, fast, batch_size=None):
    config = load_config(os.path.join(os.path.dirname(__file__), "..", "experiments", name))
    if batch_size:
        config.train.batch_size = batch_size
    exp = Experiment(config)
    batch = next(exp.batches())
    b = int(config.train.batch_size)
    out = {}
    paths = [("non-private", None)]
    if fast:
        paths.append(("DP-SGD (fast)", DPSGD(1.0, 1.0, float(b), fast_path=True)))
    paths.append(("DP-SGD (vmap)", DPSGD(1.0, 1.0, float(b), fast_path=False)))
    for name, dp in paths:
        step = make_train_step(exp.graphdef, exp.objective, exp.optimizer, mesh=exp.mesh,
                               root_key=exp.root_key, privacy=dp)
        bb = batch if dp is None else {**batch, "_mask": jnp.ones(b)}
        out[name] = time_steps(step, exp.init_state(), bb, repeats, n=3)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--opacus-python", default=None, help="python of an env with opacus")
    ap.add_argument("--cases", default="mlp,conv_vae,unet", help="which models to time")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="batch of the conv VAE case (default: its config's 64)")
    args = ap.parse_args()
    wanted = set(args.cases.split(","))
    print(f"devices: {jax.device_count()} x {jax.devices()[0].platform}; jax {jax.__version__}")
    print(f"{'model':34s} {'step':16s} {'ms/step':>9s} {'ratio':>7s}")
    vae_batch = args.batch_size or 64
    for key, label, fn in [
        ("mlp", "MLP 64-256-256-2, batch 512", mlp_case),
        ("conv_vae", f"digits conv VAE, batch {vae_batch}",
         lambda r: config_case("digits_vae.py", r, fast=True, batch_size=args.batch_size)),
        ("unet", "digits U-Net, batch 64", unet_case),
    ]:
        if key not in wanted:
            continue
        times = fn(args.repeats)
        base = times["non-private"]
        for name, t in times.items():
            print(f"{label:34s} {name:16s} {t * 1e3:9.2f} {t / base:6.2f}x")
        if args.opacus_python and label.startswith("MLP"):
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opacus_mlp_step.py")
            out = subprocess.run([args.opacus_python, script], capture_output=True, text=True,
                                 check=True).stdout
            torch_times = dict(line.split("\t") for line in out.strip().splitlines())
            torch_base = float(torch_times["torch non-private"])
            for name, t in torch_times.items():
                t = float(t)
                print(f"{label:34s} {name:16s} {t * 1e3:9.2f} {t / torch_base:6.2f}x"
                      f"   (jaxsynth DP-SGD fast / this: {times['DP-SGD (fast)'] / t:.2f})")


if __name__ == "__main__":
    main()
