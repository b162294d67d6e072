"""DP-diffusion: the digits DDPM trained with DP-SGD (Poisson batches, per-example clipping,
Gaussian noise), to epsilon = 10 at delta = 1e-5.

    jaxsynth train --config experiments/digits_ddpm_dp.py --workdir runs/digits_dp

The noise multiplier is calibrated so that the budget is spent exactly at ``train.steps``;
``train.batch_size`` is the expected Poisson batch size. Images need no data-dependent
preprocessing (pixels are scaled by the fixed range 0..16), so nothing else touches the data.
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_ddpm.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.privacy = ml_collections.ConfigDict(
        dict(epsilon=10.0, noise_multiplier=0.0, delta=1e-5, l2_clip_norm=1.0, accountant="rdp",
             microbatch_size=0)
    )
    if arg != "smoke":
        c.train.steps = 1000
        c.train.batch_size = 128
    return c
