"""A convolutional variational autoencoder for small images, optionally class-conditional."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


def check_divisible(image_shape: Sequence[int], channels: Sequence[int]) -> tuple[int, int, int]:
    """``(height, width, channels)`` of ``image_shape``, checked divisible by ``2 ** len(channels)``
    (one stride-2 level per entry)."""
    height, width, in_ch = (int(v) for v in image_shape)
    factor = 2 ** len(channels)
    if height % factor or width % factor:
        raise ValueError(f"image_shape {tuple(image_shape)}: height and width must be divisible "
                         f"by {factor} for channels={tuple(channels)}")
    return height, width, in_ch


def down_convs(in_ch: int, channels: Sequence[int], rngs: nnx.Rngs) -> nnx.List:
    """One stride-2 3x3 convolution per entry of ``channels``."""
    convs, ch = [], in_ch
    for out in channels:
        convs.append(nnx.Conv(ch, out, (3, 3), strides=2, padding="SAME", rngs=rngs))
        ch = out
    return nnx.List(convs)


def up_convs(channels: Sequence[int], rngs: nnx.Rngs) -> nnx.List:
    """The mirror of :func:`down_convs`: 3x3 convolutions from ``channels[-1]`` back down to
    ``channels[0]``, one per level (run by :func:`upsample`)."""
    convs, ch = [], channels[-1]
    for out in list(reversed(channels))[1:] + [channels[0]]:
        convs.append(nnx.Conv(ch, out, (3, 3), padding="SAME", rngs=rngs))
        ch = out
    return nnx.List(convs)


def upsample(h: jax.Array, convs: nnx.List) -> jax.Array:
    """Per level: nearest-neighbour 2x upsampling, the level's convolution, SiLU."""
    for conv in convs:
        b, hh, ww, c = h.shape
        h = nnx.silu(conv(jax.image.resize(h, (b, 2 * hh, 2 * ww, c), method="nearest")))
    return h


class ConvVAE(nnx.Module):
    """Encoder ``x [B, H, W, C] -> (mu, log_var) [B, latent_dim]`` and decoder
    ``z [B, latent_dim] -> [B, H, W, C]`` (logits or means; the objective decides).

    The encoder is stride-2 convolutions (one per entry of ``channels``) and a dense layer; the
    decoder mirrors it with nearest-neighbour upsampling and convolutions. ``H`` and ``W`` must
    be divisible by ``2 ** len(channels)``. With ``num_classes = K > 0`` a learned label
    embedding is concatenated to the encoder's features and to ``z`` (a conditional VAE); labels
    are ints ``[B]`` in ``0..K-1``.
    """

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (32, 64),
                 latent_dim: int = 16, num_classes: int = 0, label_dim: int = 16, rngs: nnx.Rngs):
        height, width, in_ch = check_divisible(image_shape, channels)
        factor = 2 ** len(channels)
        self.image_shape = (height, width, in_ch)
        self.latent_dim, self.num_classes = int(latent_dim), int(num_classes)
        self.bottom = (height // factor, width // factor, channels[-1])
        self.enc = down_convs(in_ch, channels, rngs)
        flat = self.bottom[0] * self.bottom[1] * self.bottom[2]
        extra = label_dim if num_classes else 0
        self.label_emb = nnx.Embed(num_classes, label_dim, rngs=rngs) if num_classes else None
        self.to_stats = nnx.Linear(flat + extra, 2 * latent_dim, rngs=rngs)
        self.from_z = nnx.Linear(latent_dim + extra, flat, rngs=rngs)
        self.dec = up_convs(channels, rngs)
        self.out = nnx.Conv(channels[0], in_ch, (3, 3), padding="SAME", rngs=rngs)

    def _label(self, y, batch: int):
        if self.label_emb is None:
            if y is not None:
                raise ValueError("this VAE has no labels (num_classes=0)")
            return None
        if y is None:
            raise ValueError(f"this VAE is conditional (num_classes={self.num_classes}): pass labels")
        return self.label_emb(jnp.asarray(y, jnp.int32).reshape(batch))

    def encode(self, x: jax.Array, y: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"VAE built for images of shape {self.image_shape}, got {tuple(x.shape)}")
        h = 2.0 * x - 1.0
        for conv in self.enc:
            h = nnx.silu(conv(h))
        h = h.reshape(h.shape[0], -1)
        e = self._label(y, x.shape[0])
        if e is not None:
            h = jnp.concatenate([h, e], axis=-1)
        mu, log_var = jnp.split(self.to_stats(h), 2, axis=-1)
        return mu, jnp.clip(log_var, -12.0, 8.0)

    def decode(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
        e = self._label(y, z.shape[0])
        if e is not None:
            z = jnp.concatenate([z, e], axis=-1)
        h = nnx.silu(self.from_z(z)).reshape((z.shape[0],) + self.bottom)
        return self.out(upsample(h, self.dec))

    def __call__(self, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
        """Reconstruction from the posterior mean."""
        return self.decode(self.encode(x, y)[0], y)
