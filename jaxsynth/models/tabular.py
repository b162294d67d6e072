"""Networks for tables: CTGAN's residual generator and packed critic, TVAE's encoder/decoder,
TabDDPM's time-conditioned MLP denoiser.

Rows are encoded by :class:`jaxsynth.data.TableEncoder`: ``x: [batch, width]``. A condition
vector ``cond: [batch, cond_width]`` (one-hot blocks of the categorical columns, zero where a
column is not conditioned on) is an input of every network; ``cond_width`` may be 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxsynth.models.unet import timestep_embedding


def dropout(x: jax.Array, rate: float, key: jax.Array | None) -> jax.Array:
    """Inverted dropout; the identity when ``key`` is None (evaluation) or ``rate`` is 0."""
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


class CTGANGenerator(nnx.Module):
    """``(z: [B, noise_dim], cond: [B, cond_width]) -> [B, width]`` raw outputs (before the span
    activations, which the objective applies). Residual blocks concatenate their input, as in
    CTGAN; LayerNorm stands in for BatchNorm so the step carries no batch statistics."""

    def __init__(self, noise_dim: int, cond_width: int, width: int, hidden: Sequence[int] = (256, 256),
                 *, rngs: nnx.Rngs):
        size = noise_dim + cond_width
        blocks, norms = [], []
        for h in hidden:
            blocks.append(nnx.Linear(size, h, rngs=rngs))
            norms.append(nnx.LayerNorm(h, rngs=rngs))
            size += h
        self.blocks, self.norms = nnx.List(blocks), nnx.List(norms)
        self.out = nnx.Linear(size, width, rngs=rngs)

    def __call__(self, z: jax.Array, cond: jax.Array) -> jax.Array:
        h = jnp.concatenate([z, cond], axis=-1)
        for block, norm in zip(self.blocks, self.norms, strict=True):
            h = jnp.concatenate([h, nnx.relu(norm(block(h)))], axis=-1)
        return self.out(h)


class PackedCritic(nnx.Module):
    """PacGAN critic: ``pac`` rows (with their conditions) are concatenated and scored together,
    ``[B, width + cond_width] -> [B // pac]``. Every parameter is an ``nnx.Linear`` (DP's fast
    path applies)."""

    def __init__(self, in_width: int, pac: int = 10, hidden: Sequence[int] = (256, 256),
                 dropout_rate: float = 0.5, *, rngs: nnx.Rngs):
        self.pac, self.dropout_rate = pac, dropout_rate
        sizes = (in_width * pac, *hidden)
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:],
                                                                            strict=True)])
        self.out = nnx.Linear(sizes[-1], 1, rngs=rngs)

    def __call__(self, x: jax.Array, key: jax.Array | None = None) -> jax.Array:
        if x.shape[0] % self.pac:
            raise ValueError(f"critic batch {x.shape[0]} is not a multiple of pac={self.pac}")
        h = x.reshape(x.shape[0] // self.pac, -1)
        keys = (jax.random.split(key, len(self.layers)) if key is not None
                else [None] * len(self.layers))
        for layer, k in zip(self.layers, keys, strict=True):
            h = dropout(nnx.leaky_relu(layer(h), 0.2), self.dropout_rate, k)
        return self.out(h)[:, 0]


class CTGAN(nnx.Module):
    """The two players, by name: ``generator`` and ``discriminator``."""

    def __init__(self, width: int, cond_width: int, *, noise_dim: int = 128,
                 generator_hidden: Sequence[int] = (256, 256),
                 discriminator_hidden: Sequence[int] = (256, 256), pac: int = 10,
                 rngs: nnx.Rngs):
        self.noise_dim = noise_dim
        self.generator = CTGANGenerator(noise_dim, cond_width, width, generator_hidden, rngs=rngs)
        self.discriminator = PackedCritic(width + cond_width, pac, discriminator_hidden, rngs=rngs)


def _mlp(sizes: Sequence[int], rngs: nnx.Rngs) -> nnx.List:
    return nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)])


class TVAE(nnx.Module):
    """Encoder ``(x, cond) -> (mu, log_var): [B, latent]`` and decoder ``(z, cond) -> [B, width]``
    (means of continuous values, logits of one-hot blocks), plus ``log_sigma: [width]``, the
    learned output scale of continuous values."""

    def __init__(self, width: int, cond_width: int, *, latent: int = 128,
                 hidden: Sequence[int] = (128, 128), rngs: nnx.Rngs):
        self.latent = latent
        self.encoder = _mlp((width + cond_width, *hidden), rngs)
        self.to_stats = nnx.Linear(hidden[-1], 2 * latent, rngs=rngs)
        self.decoder = _mlp((latent + cond_width, *reversed(hidden)), rngs)
        self.to_x = nnx.Linear(hidden[0], width, rngs=rngs)
        self.log_sigma = nnx.Param(jnp.full((width,), jnp.log(0.1)))

    def encode(self, x: jax.Array, cond: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = jnp.concatenate([x, cond], axis=-1)
        for layer in self.encoder:
            h = nnx.relu(layer(h))
        mu, log_var = jnp.split(self.to_stats(h), 2, axis=-1)
        return mu, log_var

    def decode(self, z: jax.Array, cond: jax.Array) -> jax.Array:
        h = jnp.concatenate([z, cond], axis=-1)
        for layer in self.decoder:
            h = nnx.relu(layer(h))
        return self.to_x(h)


class TabDenoiser(nnx.Module):
    """TabDDPM's MLP: ``(x_t: [B, width], t: [B], cond: [B, cond_width]) -> [B, width]`` (noise
    for continuous columns, ``x0`` logits for one-hot blocks). Time enters as a sinusoidal
    embedding through a small MLP, added to the projected input."""

    def __init__(self, width: int, cond_width: int, *, hidden: Sequence[int] = (256, 256, 256),
                 time_dim: int = 128, rngs: nnx.Rngs):
        self.time_dim = time_dim
        self.time1 = nnx.Linear(time_dim, time_dim, rngs=rngs)
        self.time2 = nnx.Linear(time_dim, hidden[0], rngs=rngs)
        self.proj = nnx.Linear(width + cond_width, hidden[0], rngs=rngs)
        self.layers = _mlp(tuple(hidden), rngs)
        self.out = nnx.Linear(hidden[-1], width, rngs=rngs)

    def __call__(self, x: jax.Array, t: jax.Array, cond: jax.Array) -> jax.Array:
        emb = self.time2(nnx.silu(self.time1(timestep_embedding(t, self.time_dim))))
        h = self.proj(jnp.concatenate([x, cond], axis=-1)) + emb
        for layer in self.layers:
            h = nnx.relu(layer(h))
        return self.out(h)
