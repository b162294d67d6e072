"""Latent diffusion on scikit-learn's 8x8 digits: a DDPM over the 16-dimensional latents of
the VAE from ``digits_vae.py``, decoded by that VAE at the end, class-conditional with
classifier-free guidance.

    jaxsynth train --config experiments/digits_vae.py --workdir runs/digits_vae
    jaxsynth train --config experiments/digits_latent_ddpm.py --workdir runs/digits_latent \\
        --config.data.autoencoder=runs/digits_vae
    jaxsynth sample --workdir runs/digits_latent -n 64 --sampler dpmpp_2m --steps 20 \\
        --label 3 --guidance 2 --out runs/digits_latent/threes.npz --png

The data are the VAE's posterior means of every image, standardised per dimension
(:class:`jaxsynth.data.latents.LatentSource`); the denoiser is a residual MLP trained with
v-prediction. Latents are unbounded, so the ``x0`` estimates cannot be clipped as pixels are; an
epsilon-predicting model's ``x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab)`` multiplies its errors by
about 300 at the cosine schedule's last step, and its samples measured latent standard
deviations of 10-200 instead of 1. Sampling needs the autoencoder's workdir where training
found it.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="latents", autoencoder="runs/digits_vae", key="latent", scale="none"))
    c.model = ml_collections.ConfigDict(
        dict(name="vector_denoiser", width=256, depth=3, num_classes=10))
    c.objective = ml_collections.ConfigDict(
        dict(name="denoising", schedule="cosine", timesteps=1000, prediction="v",
             data_key="latent", clip_denoised=False, label_key="label", label_dropout=0.1))
    c.train = ml_collections.ConfigDict(
        dict(steps=4000, batch_size=128, learning_rate=1e-3, warmup_steps=200, grad_clip_norm=1.0,
             weight_decay=0.0, ema_decay=0.999, log_every=100, checkpoint_every=1000, num_devices=0))
    if c.smoke:
        c.model.width = 16
        c.model.depth = 1
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
