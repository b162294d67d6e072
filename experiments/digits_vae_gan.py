"""VAE-GAN on scikit-learn's 8x8 digits: the VAE of ``digits_vae.py`` whose decoder is also
trained against a discriminator (on reconstructions and prior samples), which sharpens samples.

    jaxsynth train --config experiments/digits_vae_gan.py --workdir runs/digits_vae_gan
    jaxsynth sample --workdir runs/digits_vae_gan -n 64 --out runs/digits_vae_gan/samples.npz --png
    jaxsynth interpolate --workdir runs/digits_vae_gan --out runs/digits_vae_gan/walk.png
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_vae.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.model.name = "vae_gan"
    c.model.discriminator_channels = (8,) if c.smoke else (64, 128)
    c.objective.name = "vae_gan"
    c.objective.adversarial_weight = 1.0
    c.train.learning_rate = c.train.learning_rate if c.smoke else 1e-3
    c.train.b1 = 0.5
    return c
