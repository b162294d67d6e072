"""Class-conditional DDPM on scikit-learn's 8x8 digits with classifier-free guidance.

    jaxsynth train --config experiments/digits_ddpm_cfg.py --workdir runs/digits_cfg
    jaxsynth sample --workdir runs/digits_cfg -n 64 --label 3 --guidance 2 \\
        --sampler dpmpp_2m --steps 20 --out runs/digits_cfg/threes.npz --png

The U-Net gets a label embedding (10 classes plus "no label"); 10% of training labels are
dropped, so the same network predicts with and without its label and sampling mixes the two
(``--guidance 0``: unconditional, ``1``: conditional, more: stricter).
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_ddpm.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.model.num_classes = 10
    c.objective.label_key = "label"
    c.objective.label_dropout = 0.1
    return c
