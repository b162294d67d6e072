"""GANs on scikit-learn's 8x8 digits: DCGAN (default), WGAN-GP and hinge variants.

    jaxsynth train --config experiments/digits_gan.py --workdir runs/digits_gan
    jaxsynth train --config experiments/digits_gan.py:wgan_gp --workdir runs/digits_wgan
    jaxsynth sample --workdir runs/digits_gan -n 64 --out runs/digits_gan/samples.npz --png

Both players are small convolutional networks (``model.name = "gan"``); images are scaled to
``[-1, 1]`` for the generator's ``tanh``. Samples come from the generator's EMA weights.
Variants: ``:wgan_gp`` (Wasserstein loss, gradient penalty 10, five critic updates per generator
update inside one jitted step, Adam(0, 0.9)), ``:hinge`` (hinge loss), ``:smoke`` (one step).
For MNIST-5000 add ``--config.data.name=mnist``.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="embedded", name="digits", key="image", scale="minus_one_one"))
    c.model = ml_collections.ConfigDict(
        dict(name="gan", latent_dim=32, generator_channels=(128, 64),
             discriminator_channels=(64, 128), num_classes=0))
    c.objective = ml_collections.ConfigDict(
        dict(name="adversarial", loss="non_saturating", n_critic=1, gp_weight=10.0, label_key=""))
    c.train = ml_collections.ConfigDict(
        dict(steps=4000, batch_size=64, learning_rate=2e-4, b1=0.5, b2=0.999, warmup_steps=0,
             grad_clip_norm=0.0, weight_decay=0.0, ema_decay=0.999, log_every=100,
             checkpoint_every=1000, num_devices=0))
    if arg == "wgan_gp":
        c.objective.loss = "wgan_gp"
        c.objective.n_critic = 5
        c.train.steps = 2000
        c.train.learning_rate = 1e-4
        c.train.b1, c.train.b2 = 0.0, 0.9
    elif arg == "hinge":
        c.objective.loss = "hinge"
    elif c.smoke:
        c.objective.loss = "wgan_gp"  # the variant with the most moving parts: GP and n_critic
        c.objective.n_critic = 2
        c.model.latent_dim = 4
        c.model.generator_channels = (8,)
        c.model.discriminator_channels = (8,)
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
