"""A residual MLP noise predictor for vectors: the denoiser of latent diffusion."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxsynth.models.unet import timestep_embedding


class VectorDenoiser(nnx.Module):
    """``(x_t [B, d], t [B], y [B] | None) -> [B, d]``.

    The input is projected to ``width``, then ``depth`` residual blocks
    ``h + W2 silu(W1 LayerNorm(h) + emb)`` where ``emb`` is the sinusoidal time embedding through
    a small MLP (plus a learned label embedding for ``num_classes > 0``; label ``-1`` is "no
    label", for classifier-free guidance). The output layer starts at zero.
    """

    def __init__(self, data_shape: Sequence[int], *, width: int = 256, depth: int = 3,
                 num_classes: int = 0, rngs: nnx.Rngs):
        if len(data_shape) != 1:
            raise ValueError(f"VectorDenoiser takes vectors (data shape (d,)), got {tuple(data_shape)}")
        (dim,) = (int(v) for v in data_shape)
        self.dim, self.width, self.num_classes = dim, int(width), int(num_classes)
        self.time1 = nnx.Linear(width, width, rngs=rngs)
        self.time2 = nnx.Linear(width, width, rngs=rngs)
        self.label_emb = nnx.Embed(num_classes + 1, width, rngs=rngs) if num_classes else None
        self.proj = nnx.Linear(dim, width, rngs=rngs)
        self.norms = nnx.List([nnx.LayerNorm(width, rngs=rngs) for _ in range(depth)])
        self.fc1 = nnx.List([nnx.Linear(width, width, rngs=rngs) for _ in range(depth)])
        self.fc2 = nnx.List([nnx.Linear(width, width, rngs=rngs) for _ in range(depth)])
        self.out = nnx.Linear(width, dim, kernel_init=nnx.initializers.zeros, rngs=rngs)

    def __call__(self, x: jax.Array, t: jax.Array, y: jax.Array | None = None) -> jax.Array:
        if x.shape[1:] != (self.dim,):
            raise ValueError(f"denoiser built for vectors of size {self.dim}, got {tuple(x.shape)}")
        emb = self.time2(nnx.silu(self.time1(timestep_embedding(t, self.width))))
        if self.label_emb is not None:
            y = jnp.full(x.shape[:1], -1, jnp.int32) if y is None else jnp.asarray(y, jnp.int32)
            emb = emb + self.label_emb(jnp.where(y < 0, self.num_classes, y))
        elif y is not None:
            raise ValueError("this denoiser has no labels (num_classes=0)")
        h = self.proj(x)
        for norm, fc1, fc2 in zip(self.norms, self.fc1, self.fc2, strict=True):
            h = h + fc2(nnx.silu(fc1(norm(h)) + emb))
        return self.out(h)
