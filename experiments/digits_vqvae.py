"""A VQ-VAE on scikit-learn's 8x8 digits: a 4x4 grid of codes from a 128-entry EMA codebook.

    jaxsynth train --config experiments/digits_vqvae.py --workdir runs/digits_vqvae
    jaxsynth sample --workdir runs/digits_vqvae -n 64 --out runs/digits_vqvae/samples.npz --png

The log shows ``perplexity`` (effective number of codes in use) and ``codes_used`` (share of
the codebook chosen in a batch) beside the reconstruction and commitment terms. Sampling draws
each position's code independently from its training frequency, a crude prior: the VQ-VAE is
here to compress, and its samples show what the codebook holds. ``:smoke`` is the one-step
test version.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="embedded", name="digits", key="image", scale="none"))
    c.model = ml_collections.ConfigDict(
        dict(name="vqvae", channels=(64,), embedding_dim=16, num_codes=128, decay=0.99))
    c.objective = ml_collections.ConfigDict(
        dict(name="vq", commitment=0.25, likelihood="bernoulli", sigma=0.1))
    c.train = ml_collections.ConfigDict(
        dict(steps=3000, batch_size=64, learning_rate=2e-3, warmup_steps=100, grad_clip_norm=1.0,
             weight_decay=0.0, ema_decay=0.999, log_every=100, checkpoint_every=1000, num_devices=0))
    if c.smoke:
        c.model.channels = (8,)
        c.model.embedding_dim = 4
        c.model.num_codes = 8
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
