"""Every image family on one data set: training time on this CPU and sample quality in the
shipped feature net's space (FID, KID, precision, recall; class accuracy for conditional models).

    .venv/bin/python benchmarks/image_families.py [--dataset digits|mnist] [--workdir runs/families]
        [--only dcgan,vae] [--n 2000] [--steps-scale 1.0]

Each family is its ``experiments/`` config trained to its default steps (times ``--steps-scale``)
into ``WORKDIR/DATASET/FAMILY`` unless a finished run is there already; the time is the run's own
``wall_time_s``. ``n`` samples (seeded) are scored against all real images of the data set.
Diffusion models sample with 20 DPM-Solver++(2M) steps; conditional models draw ``n / 10`` of
each class (guidance 1 for the guided ones). Results are appended to ``WORKDIR/DATASET.json``
as each family finishes, and the table is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxsynth.config import load_config  # noqa: E402
from jaxsynth.data.sources import embedded_arrays  # noqa: E402
from jaxsynth.eval.images import feature_net, image_metrics  # noqa: E402
from jaxsynth.train import sample_from_workdir, train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIFFUSION = dict(sampler="dpmpp_2m", steps=20)
# family -> (config spec, sampling settings)
FAMILIES = {
    "dcgan": ("digits_gan.py", {}),
    "wgan_gp": ("digits_gan.py:wgan_gp", {}),
    "hinge_gan": ("digits_gan.py:hinge", {}),
    "cgan": ("digits_cgan.py", {}),
    "vae": ("digits_vae.py", {}),
    "gaussian_vae": ("digits_vae.py:gaussian", {}),
    "beta_vae": ("digits_vae.py:beta", {}),
    "cvae": ("digits_cvae.py", {}),
    "vq_vae": ("digits_vqvae.py", {}),
    "vae_gan": ("digits_vae_gan.py", {}),
    "ddpm": ("digits_ddpm.py", DIFFUSION),
    "ddpm_v": ("digits_ddpm.py:v", DIFFUSION),
    "ddpm_cfg": ("digits_ddpm_cfg.py", DIFFUSION),
    "latent_ddpm": ("digits_latent_ddpm.py", DIFFUSION),
}


def run_family(name: str, dataset: str, workdir: str, steps_scale: float) -> float:
    spec, _ = FAMILIES[name]
    path, _, arg = spec.partition(":")
    config = load_config(os.path.join(ROOT, "experiments", path) + (f":{arg}" if arg else ""))
    if "name" in config.data:
        config.data.name = dataset
    if config.data.source == "latents":
        config.data.autoencoder = run_dir(workdir, dataset, "vae")
        ensure(workdir, dataset, "vae", steps_scale)
    config.train.steps = max(1, int(round(config.train.steps * steps_scale)))
    wd = run_dir(workdir, dataset, name)
    summary = train(config, wd, progress=False)
    return float(summary["wall_time_s"])


def run_dir(workdir, dataset, name):
    return os.path.join(workdir, dataset, name)


def ensure(workdir, dataset, name, steps_scale) -> float:
    metrics = os.path.join(run_dir(workdir, dataset, name), "metrics.json")
    if os.path.exists(metrics):
        with open(metrics) as f:
            done = json.load(f)
        if done.get("resumed_from", 1) == 0:
            return float(done["wall_time_s"])
    print(f"training {name} on {dataset} ...", flush=True)
    return run_family(name, dataset, workdir, steps_scale)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist"))
    p.add_argument("--workdir", default="runs/families")
    p.add_argument("--only", default="")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps-scale", type=float, default=1.0)
    args = p.parse_args()
    names = [s for s in args.only.split(",") if s] or list(FAMILIES)
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise SystemExit(f"unknown families {unknown}; known: {sorted(FAMILIES)}")
    real = embedded_arrays(args.dataset)["image"]
    net = feature_net(args.dataset)
    out_path = os.path.join(args.workdir, f"{args.dataset}.json")
    os.makedirs(args.workdir, exist_ok=True)
    results = json.load(open(out_path)) if os.path.exists(out_path) else {}
    for name in names:
        seconds = ensure(args.workdir, args.dataset, name, args.steps_scale)
        wd = run_dir(args.workdir, args.dataset, name)
        kw = FAMILIES[name][1]
        config = json.load(open(os.path.join(wd, "config.json")))
        classes = int(config["model"].get("num_classes", 0)) if config["objective"].get("label_key") else 0
        if classes:
            per = -(-args.n // classes)
            images = np.concatenate([sample_from_workdir(wd, per, seed=args.seed + k, label=k,
                                                         batch_size=per, **kw)
                                     for k in range(classes)])
            labels = np.repeat(np.arange(classes), per)
        else:
            images = sample_from_workdir(wd, args.n, seed=args.seed, batch_size=500, **kw)
            labels = None
        m = image_metrics(real, images, net, labels=labels)
        row = {"train_s": seconds, "steps": config["train"]["steps"],
               **{k.split("[")[0]: float(v) for k, v in m.items()}}
        results[name] = row
        with open(out_path, "w") as f:
            json.dump(results, f, indent=1)
        print(name, json.dumps(row), flush=True)
    print(f"\n{args.dataset}: {args.n} samples vs {len(real)} real images, feature net {net.name}")
    print(f"{'family':12s} {'train s':>8s} {'steps':>6s} {'FID':>7s} {'KID':>7s} {'prec':>5s} "
          f"{'recall':>6s} {'cls acc':>7s}")
    for name, r in results.items():
        acc = f"{r['class_accuracy']:.3f}" if "class_accuracy" in r else "-"
        print(f"{name:12s} {r['train_s']:8.0f} {r['steps']:6d} {r['fid']:7.2f} {r['kid']:7.4f} "
              f"{r['precision']:5.2f} {r['recall']:6.2f} {acc:>7s}")


if __name__ == "__main__":
    main()
