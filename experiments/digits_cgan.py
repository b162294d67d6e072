"""A class-conditional GAN on scikit-learn's 8x8 digits: label embedding in the generator,
projection discriminator (Miyato & Koyama, 2018), hinge loss.

    jaxsynth train --config experiments/digits_cgan.py --workdir runs/digits_cgan
    jaxsynth sample --workdir runs/digits_cgan -n 64 --label 7 --out runs/digits_cgan/sevens.npz --png
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_gan.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ":hinge"))
    c.model.num_classes = 10
    c.objective.label_key = "label"
    return c
