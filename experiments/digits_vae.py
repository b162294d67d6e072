"""A convolutional VAE on scikit-learn's 8x8 digits (Bernoulli likelihood on pixel intensities).

    jaxsynth train --config experiments/digits_vae.py --workdir runs/digits_vae
    jaxsynth sample --workdir runs/digits_vae -n 64 --out runs/digits_vae/samples.npz --png
    jaxsynth interpolate --workdir runs/digits_vae --out runs/digits_vae/walk.png

Variants: ``:beta`` is a beta-VAE (beta = 4, Gaussian likelihood), ``:gaussian`` a Gaussian
likelihood (sigma 0.1),
``:smoke`` the one-step test version. The conditional VAE is ``digits_cvae.py``.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="embedded", name="digits", key="image", scale="none"))
    c.model = ml_collections.ConfigDict(
        dict(name="conv_vae", channels=(32, 64), latent_dim=16, num_classes=0))
    c.objective = ml_collections.ConfigDict(
        dict(name="elbo", likelihood="bernoulli", beta=1.0, sigma=0.1, label_key=""))
    c.train = ml_collections.ConfigDict(
        dict(steps=3000, batch_size=64, learning_rate=2e-3, warmup_steps=100, grad_clip_norm=1.0,
             weight_decay=0.0, ema_decay=0.999, log_every=100, checkpoint_every=1000, num_devices=0))
    if arg == "beta":
        # On the Bernoulli likelihood, whose pixel entropy dwarfs what a latent can explain on
        # 8x8 grey levels, beta = 4 collapses the posterior (KL 0.001 nats, every sample the
        # mean digit); the Gaussian likelihood's sharper reconstruction term keeps it informative.
        c.objective.likelihood = "gaussian"
        c.objective.beta = 4.0
    elif arg == "gaussian":
        c.objective.likelihood = "gaussian"
    elif c.smoke:
        c.model.channels = (8,)
        c.model.latent_dim = 4
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
