"""Export a trained classifier workdir as a shipped feature network of the image metrics.

    .venv/bin/jaxsynth train --config experiments/digits_classifier.py --workdir runs/digits_net
    .venv/bin/python tools/export_feature_net.py --workdir runs/digits_net --dataset digits

Measures accuracy on the data set's held-out "test" split (never trained on) with the EMA
parameters, and writes jaxsynth/eval/weights/{dataset}_net_v1.npz and .json (settings,
accuracy, SHA-256).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from flax import nnx

from jaxsynth.data.sources import embedded_source
from jaxsynth.eval.images import WEIGHTS_DIR, save_classifier
from jaxsynth.train.loop import load_experiment


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", required=True)
    p.add_argument("--dataset", choices=("digits", "mnist"), required=True)
    p.add_argument("--out-dir", default=WEIGHTS_DIR)
    args = p.parse_args()
    exp, state = load_experiment(args.workdir)
    model = nnx.merge(exp.graphdef, state.ema_params, state.model_state)
    test = embedded_source(args.dataset, "test")
    images = np.stack([test[i]["image"] for i in range(len(test))])
    labels = np.array([test[i]["label"] for i in range(len(test))])
    accuracy = float(np.mean(np.argmax(np.asarray(model(images)), -1) == labels))
    cfg = exp.config
    meta = {"name": f"{args.dataset}-net-v1", "dataset": args.dataset, "version": 1,
            "image_shape": list(exp.data_shape), "model": cfg.model.to_dict(),
            "feature_dim": int(cfg.model.feature_dim), "train_split": "train", "test_split": "test",
            "test_accuracy": accuracy, "test_images": len(labels), "train_steps": int(cfg.train.steps),
            "config": f"experiments/{args.dataset}_classifier.py"}
    meta["model"] = {k: list(v) if isinstance(v, tuple) else v for k, v in meta["model"].items()}
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f"{args.dataset}_net_v1.npz")
    meta = save_classifier(model, path, meta)
    print(f"test accuracy {accuracy:.4f} on {len(labels)} held-out images; wrote {path} "
          f"({os.path.getsize(path) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
