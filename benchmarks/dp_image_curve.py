"""Privacy-utility curve on images: one model trained at epsilon = 1, 3, 10 and without DP,
same steps and expected batch, scored by FID / precision / recall in the digits feature net.

    .venv/bin/python benchmarks/dp_image_curve.py [--config digits_vae.py] [--steps 1500]
        [--batch-size 256] [--clip 1.0] [--workdir runs/dp_curve] [--n 2000]

The config's model and objective are kept; ``config.privacy`` sets the target epsilon at
delta = 1e-5 (the noise multiplier is calibrated by the RDP accountant to spend it exactly at
``--steps``), with Poisson batches of expected size ``--batch-size``. The conv VAE takes the fast
DP path (ghost norms for its convolutions). Prints one row per epsilon: noise multiplier, epsilon
spent, training time, FID, KID, precision, recall.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import ml_collections

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxsynth.config import load_config  # noqa: E402
from jaxsynth.data.sources import embedded_arrays  # noqa: E402
from jaxsynth.eval.images import feature_net, image_metrics  # noqa: E402
from jaxsynth.train import sample_from_workdir, train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="digits_vae.py")
    p.add_argument("--epsilons", default="1,3,10,inf")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--workdir", default="runs/dp_curve")
    p.add_argument("--n", type=int, default=2000)
    args = p.parse_args()
    real = embedded_arrays("digits")["image"]
    net = feature_net("digits")
    rows = {}
    for text in args.epsilons.split(","):
        eps = float(text)
        config = load_config(os.path.join(ROOT, "experiments", args.config))
        config.train.steps = args.steps
        config.train.batch_size = args.batch_size
        config.train.checkpoint_every = args.steps
        if args.learning_rate:
            config.train.learning_rate = args.learning_rate
        if eps != float("inf"):
            config.privacy = ml_collections.ConfigDict(dict(
                epsilon=eps, noise_multiplier=0.0, delta=1e-5, l2_clip_norm=args.clip,
                accountant="rdp", microbatch_size=0))
        wd = os.path.join(args.workdir, args.config.replace(".py", "").replace(":", "_"), f"eps_{text}")
        summary = train(config, wd, progress=False)
        x = sample_from_workdir(wd, args.n, seed=0, batch_size=500)
        m = {k.split("[")[0]: float(v) for k, v in image_metrics(real, x, net).items()}
        ledger = summary.get("privacy") or {}
        rows[text] = {"noise_multiplier": ledger.get("noise_multiplier", 0.0),
                      "epsilon_spent": ledger.get("epsilon", float("inf")),
                      "train_s": summary["wall_time_s"], **m}
        print(text, json.dumps(rows[text]), flush=True)
    print(f"\n{args.config}: {args.steps} steps, expected batch {args.batch_size}, clip {args.clip}, "
          f"delta 1e-5; {args.n} samples vs {len(real)} real digits in {net.name}")
    print(f"{'epsilon':>8s} {'sigma':>6s} {'spent':>6s} {'train s':>8s} {'FID':>7s} {'prec':>5s} "
          f"{'recall':>6s}")
    for text, r in rows.items():
        print(f"{text:>8s} {r['noise_multiplier']:6.2f} {r['epsilon_spent']:6.2f} {r['train_s']:8.0f} "
              f"{r['fid']:7.2f} {r['precision']:5.2f} {r['recall']:6.2f}")


if __name__ == "__main__":
    main()
