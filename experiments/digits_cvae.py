"""A conditional VAE on the 8x8 digits: the label is embedded and given to encoder and decoder.

    jaxsynth train --config experiments/digits_cvae.py --workdir runs/digits_cvae
    jaxsynth sample --workdir runs/digits_cvae -n 64 --label 7 --out runs/digits_cvae/sevens.npz --png
    jaxsynth interpolate --workdir runs/digits_cvae --label 7 --out runs/digits_cvae/walk.png
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_vae.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.model.num_classes = 10
    c.objective.label_key = "label"
    return c
