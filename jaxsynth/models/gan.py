"""Convolutional GAN players for small images (DCGAN-style), optionally class-conditional."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxsynth.models.classifier import _groups
from jaxsynth.models.vae import ConvVAE, check_divisible


class Generator(nnx.Module):
    """``z [B, latent_dim]`` (and labels ``[B]``) -> images ``[B, H, W, C]`` in ``[-1, 1]``.

    A dense layer to a ``(H / 2^L, W / 2^L, channels[0])`` grid, then ``L = len(channels)``
    levels of nearest-neighbour upsampling, a 3x3 convolution to ``channels[i]``, GroupNorm and
    ReLU, then a 3x3 convolution to ``C`` channels and ``tanh``. A conditional generator
    (``num_classes > 0``) concatenates a learned label embedding to ``z``.
    """

    def __init__(self, image_shape: Sequence[int], *, latent_dim: int = 64,
                 channels: Sequence[int] = (128, 64), num_classes: int = 0, label_dim: int = 32,
                 rngs: nnx.Rngs):
        height, width, out_ch = check_divisible(image_shape, channels)
        factor = 2 ** len(channels)
        self.latent_dim, self.num_classes = int(latent_dim), int(num_classes)
        self.bottom = (height // factor, width // factor, int(channels[0]))
        self.label_emb = nnx.Embed(num_classes, label_dim, rngs=rngs) if num_classes else None
        extra = label_dim if num_classes else 0
        self.inp = nnx.Linear(latent_dim + extra, self.bottom[0] * self.bottom[1] * self.bottom[2],
                              rngs=rngs)
        convs, norms, ch = [], [], self.bottom[2]
        for out in channels:
            convs.append(nnx.Conv(ch, out, (3, 3), padding="SAME", rngs=rngs))
            norms.append(nnx.GroupNorm(out, num_groups=_groups(out), rngs=rngs))
            ch = out
        self.convs, self.norms = nnx.List(convs), nnx.List(norms)
        self.out = nnx.Conv(ch, out_ch, (3, 3), padding="SAME", rngs=rngs)

    def __call__(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
        if self.label_emb is not None:
            if y is None:
                raise ValueError(f"this generator is conditional (num_classes={self.num_classes}): "
                                 "pass labels")
            z = jnp.concatenate([z, self.label_emb(jnp.asarray(y, jnp.int32).reshape(-1))], -1)
        h = nnx.relu(self.inp(z)).reshape((z.shape[0],) + self.bottom)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            b, hh, ww, c = h.shape
            h = jax.image.resize(h, (b, 2 * hh, 2 * ww, c), method="nearest")
            h = nnx.relu(norm(conv(h)))
        return jnp.tanh(self.out(h))


class Discriminator(nnx.Module):
    """Images ``[B, H, W, C]`` (and labels ``[B]``) -> one real-vs-fake score per image ``[B]``.

    ``len(channels)`` stride-2 3x3 convolutions with leaky ReLU (0.2) and no normalisation (so
    the WGAN-GP penalty, which is per example, stays meaningful), flattened into a linear
    score. A conditional discriminator adds the projection term ``<embed(y), h>`` of Miyato &
    Koyama (2018) to the score.
    """

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (64, 128),
                 num_classes: int = 0, rngs: nnx.Rngs):
        height, width, in_ch = check_divisible(image_shape, channels)
        self.image_shape = (height, width, in_ch)
        self.num_classes = int(num_classes)
        convs, ch = [], in_ch
        for out in channels:
            convs.append(nnx.Conv(ch, out, (3, 3), strides=2, padding="SAME", rngs=rngs))
            ch = out
        self.convs = nnx.List(convs)
        factor = 2 ** len(channels)
        flat = (height // factor) * (width // factor) * ch
        self.score = nnx.Linear(flat, 1, rngs=rngs)
        self.projection = nnx.Embed(num_classes, flat, rngs=rngs) if num_classes else None

    def __call__(self, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"discriminator built for images of shape {self.image_shape}, got a "
                             f"batch of shape {tuple(x.shape)}")
        h = x
        for conv in self.convs:
            h = nnx.leaky_relu(conv(h), 0.2)
        h = h.reshape(h.shape[0], -1)
        out = self.score(h)[:, 0]
        if self.projection is not None:
            if y is None:
                raise ValueError(f"this discriminator is conditional (num_classes={self.num_classes})"
                                 ": pass labels")
            out = out + jnp.sum(self.projection(jnp.asarray(y, jnp.int32).reshape(-1)) * h, -1)
        return out


class GAN(nnx.Module):
    """The two players, as the attributes ``generator`` and ``discriminator`` that the game
    step (:mod:`jaxsynth.train.game`) splits and updates in turn."""

    def __init__(self, image_shape: Sequence[int], *, latent_dim: int = 64,
                 generator_channels: Sequence[int] = (128, 64),
                 discriminator_channels: Sequence[int] = (64, 128), num_classes: int = 0,
                 rngs: nnx.Rngs):
        self.generator = Generator(image_shape, latent_dim=latent_dim, channels=generator_channels,
                                   num_classes=num_classes, rngs=rngs)
        self.discriminator = Discriminator(image_shape, channels=discriminator_channels,
                                           num_classes=num_classes, rngs=rngs)


class VAEWithDiscriminator(nnx.Module):
    """VAE-GAN's players: ``vae`` (a :class:`jaxsynth.models.ConvVAE`) and ``discriminator``
    (a :class:`Discriminator` on the VAE's images, conditional when the VAE is)."""

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (32, 64),
                 latent_dim: int = 16, num_classes: int = 0,
                 discriminator_channels: Sequence[int] = (64, 128), rngs: nnx.Rngs):
        self.vae = ConvVAE(image_shape, channels=channels, latent_dim=latent_dim,
                           num_classes=num_classes, rngs=rngs)
        self.discriminator = Discriminator(image_shape, channels=discriminator_channels,
                                           num_classes=num_classes, rngs=rngs)
