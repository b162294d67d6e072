"""DDPM on scikit-learn's 8x8 digits (embedded, no download).

    jaxsynth train --config experiments/digits_ddpm.py --workdir runs/digits
    jaxsynth sample --workdir runs/digits -n 64 --out runs/digits/samples.npz --png

Expected: about 5 minutes on 2 CPU cores; a final loss near 0.15 (the per-interval mean of
the noise-prediction MSE; the same before and after the U-Net's scale-shift change) and a grid
of legible digits from 50 DDIM steps. ``experiments/digits_ddpm.py:v`` trains with
v-prediction (Salimans & Ho, 2022) instead of noise prediction; ``:smoke`` is a one-step tiny
variant for tests.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="embedded", name="digits", key="image", scale="minus_one_one")
    )
    c.model = ml_collections.ConfigDict(
        dict(name="unet", channels=16, channel_mults=(1, 2), num_res_blocks=1,
             attn_resolutions=(4,), num_heads=4)
    )
    c.objective = ml_collections.ConfigDict(
        dict(name="denoising", schedule="cosine", timesteps=1000, prediction="epsilon")
    )
    c.train = ml_collections.ConfigDict(
        dict(steps=2500, batch_size=64, learning_rate=2e-3, warmup_steps=200,
             grad_clip_norm=1.0, weight_decay=0.0, ema_decay=0.999, log_every=100,
             checkpoint_every=1000, num_devices=0)
    )
    if arg == "v":
        c.objective.prediction = "v"
    if c.smoke:
        # One level, attention only in the middle block: the smallest real U-Net (its compile,
        # not its steps, is what the smoke test pays for, above all under DP's per-example vmap).
        c.model.channels = 8
        c.model.channel_mults = (1,)
        c.model.attn_resolutions = ()
        c.model.num_heads = 2
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
