"""DP-GAN: the digits DCGAN with its discriminator trained by DP-SGD (Poisson batches,
per-example clipping of the discriminator's loss, Gaussian noise), to epsilon = 10 at
delta = 1e-5.

    jaxsynth train --config experiments/digits_gan_dp.py --workdir runs/digits_gan_dp

Only the discriminator reads real images, so only its gradient is privatised; the generator
learns from the discriminator alone (and draws its own labels), which by post-processing costs
no budget. Each step is one private discriminator update (``n_critic = 1``).
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_gan.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.objective.n_critic = 1
    if arg == "smoke":
        c.objective.loss = "non_saturating"  # the DCGAN it is (smoke's WGAN-GP compiles slowly)
    c.privacy = ml_collections.ConfigDict(
        dict(epsilon=10.0, noise_multiplier=0.0, delta=1e-5, l2_clip_norm=1.0, accountant="rdp",
             microbatch_size=0))
    if arg != "smoke":
        c.train.steps = 2000
        c.train.batch_size = 128
    return c
