"""A small U-Net for diffusion: residual blocks with a time embedding and self-attention.

Images are ``[batch, height, width, channels]`` (NHWC); timesteps ``t: [batch]`` (int or float).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


def timestep_embedding(t: jax.Array, dim: int, max_period: float = 10_000.0) -> jax.Array:
    """Sinusoidal embedding ``[batch] -> [batch, dim]`` (Vaswani et al.; DDPM's time encoding).

    >>> timestep_embedding(jnp.array([0, 10]), 8).shape
    (2, 8)
    """
    half = dim // 2
    freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
    args = jnp.asarray(t, jnp.float32)[:, None] * freqs[None, :]
    emb = jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)
    if dim % 2:
        emb = jnp.pad(emb, ((0, 0), (0, 1)))
    return emb


def _groups(channels: int, max_groups: int = 8) -> int:
    g = min(max_groups, channels)
    while channels % g:
        g -= 1
    return g


class ResBlock(nnx.Module):
    """GroupNorm-SiLU-Conv twice plus a skip; the (time + label) embedding scales and shifts the
    second GroupNorm's output (Nichol & Dhariwal 2021's scale-shift norm). Adding it before that
    norm instead would let the norm subtract it away (entirely with one channel per group)."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, *, rngs: nnx.Rngs):
        self.norm1 = nnx.GroupNorm(in_ch, num_groups=_groups(in_ch), rngs=rngs)
        self.conv1 = nnx.Conv(in_ch, out_ch, (3, 3), padding="SAME", rngs=rngs)
        self.emb = nnx.Linear(emb_dim, 2 * out_ch, rngs=rngs)
        self.norm2 = nnx.GroupNorm(out_ch, num_groups=_groups(out_ch), rngs=rngs)
        self.conv2 = nnx.Conv(
            out_ch, out_ch, (3, 3), padding="SAME", kernel_init=nnx.initializers.zeros, rngs=rngs
        )
        self.skip = nnx.Conv(in_ch, out_ch, (1, 1), rngs=rngs) if in_ch != out_ch else None

    def __call__(self, x: jax.Array, emb: jax.Array) -> jax.Array:
        h = self.conv1(nnx.silu(self.norm1(x)))
        scale, shift = jnp.split(self.emb(nnx.silu(emb))[:, None, None, :], 2, axis=-1)
        h = self.conv2(nnx.silu(self.norm2(h) * (1.0 + scale) + shift))
        return h + (self.skip(x) if self.skip is not None else x)


class AttentionBlock(nnx.Module):
    """Multi-head self-attention over the ``height * width`` positions, residual."""

    def __init__(self, channels: int, num_heads: int = 4, *, rngs: nnx.Rngs):
        self.norm = nnx.GroupNorm(channels, num_groups=_groups(channels), rngs=rngs)
        self.attn = nnx.MultiHeadAttention(
            num_heads=num_heads, in_features=channels, decode=False, rngs=rngs
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        b, h, w, c = x.shape
        tokens = self.norm(x).reshape(b, h * w, c)
        return x + self.attn(tokens).reshape(b, h, w, c)


class UNet(nnx.Module):
    """U-Net denoiser ``(x_t, t) -> prediction`` with the shape of ``x_t``.

    Args:
      image_shape: ``(height, width, channels)`` of the data; height and width must be divisible
        by ``2 ** (len(channel_mults) - 1)``.
      channels: base width; level ``i`` has ``channels * channel_mults[i]`` channels.
      num_res_blocks: residual blocks per level.
      attn_resolutions: spatial sizes (height) at which a self-attention block follows each
        residual block; the middle of the U-Net always has one.
      num_classes: with ``K > 0`` the net is class-conditional: a learned embedding of the label
        ``y`` in ``0..K-1`` (or ``-1``, "no label", its own learned vector) is added to the time
        embedding. Classifier-free guidance trains with labels dropped to ``-1``.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        *,
        channels: int = 32,
        channel_mults: Sequence[int] = (1, 2),
        num_res_blocks: int = 1,
        attn_resolutions: Sequence[int] = (4,),
        num_heads: int = 4,
        num_classes: int = 0,
        rngs: nnx.Rngs,
    ):
        height, width, in_ch = (int(v) for v in image_shape)
        factor = 2 ** (len(channel_mults) - 1)
        if height % factor or width % factor:
            raise ValueError(
                f"image_shape {tuple(image_shape)}: height and width must be divisible by "
                f"{factor} for channel_mults={tuple(channel_mults)}; pad the images or use fewer "
                "levels"
            )
        self.image_shape = (height, width, in_ch)
        self.channels = channels
        emb_dim = 4 * channels
        self.time1 = nnx.Linear(channels, emb_dim, rngs=rngs)
        self.time2 = nnx.Linear(emb_dim, emb_dim, rngs=rngs)
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {num_classes}")
        self.num_classes = int(num_classes)
        self.label_emb = nnx.Embed(num_classes + 1, emb_dim, rngs=rngs) if num_classes else None
        self.conv_in = nnx.Conv(in_ch, channels, (3, 3), padding="SAME", rngs=rngs)

        down, skips_ch, ch, res = [], [channels], channels, height
        for level, mult in enumerate(channel_mults):
            out = channels * mult
            for _ in range(num_res_blocks):
                attn = AttentionBlock(out, num_heads, rngs=rngs) if res in attn_resolutions else None
                down.append(("res", ResBlock(ch, out, emb_dim, rngs=rngs), attn))
                ch = out
                skips_ch.append(ch)
            if level != len(channel_mults) - 1:
                down.append(("down", nnx.Conv(ch, ch, (3, 3), strides=2, padding="SAME",
                                              rngs=rngs), None))
                skips_ch.append(ch)
                res //= 2
        self.down_kinds = tuple(kind for kind, _, _ in down)
        self.down = nnx.List([m for _, m, _ in down])
        self.down_attn = nnx.List([a for _, _, a in down])

        self.mid1 = ResBlock(ch, ch, emb_dim, rngs=rngs)
        self.mid_attn = AttentionBlock(ch, num_heads, rngs=rngs)
        self.mid2 = ResBlock(ch, ch, emb_dim, rngs=rngs)

        up = []
        for level, mult in reversed(list(enumerate(channel_mults))):
            out = channels * mult
            for _ in range(num_res_blocks + 1):
                attn = AttentionBlock(out, num_heads, rngs=rngs) if res in attn_resolutions else None
                up.append(("res", ResBlock(ch + skips_ch.pop(), out, emb_dim, rngs=rngs), attn))
                ch = out
            if level != 0:
                up.append(("up", nnx.Conv(ch, ch, (3, 3), padding="SAME", rngs=rngs), None))
                res *= 2
        self.up_kinds = tuple(kind for kind, _, _ in up)
        self.up = nnx.List([m for _, m, _ in up])
        self.up_attn = nnx.List([a for _, _, a in up])

        self.norm_out = nnx.GroupNorm(ch, num_groups=_groups(ch), rngs=rngs)
        self.conv_out = nnx.Conv(
            ch, in_ch, (3, 3), padding="SAME", kernel_init=nnx.initializers.zeros, rngs=rngs
        )

    def __call__(self, x: jax.Array, t: jax.Array, y: jax.Array | None = None) -> jax.Array:
        """``x: [batch, height, width, channels]``, ``t: [batch]``, ``y: [batch]`` int labels
        (``-1``: none; ``None``: none for the whole batch) -> same shape as ``x``."""
        if x.shape[1:] != self.image_shape:
            raise ValueError(
                f"UNet built for images of shape {self.image_shape}, got a batch of shape "
                f"{tuple(x.shape)}"
            )
        emb = self.time2(nnx.silu(self.time1(timestep_embedding(t, self.channels))))
        if self.label_emb is not None:
            y = jnp.full(x.shape[:1], -1, jnp.int32) if y is None else jnp.asarray(y, jnp.int32)
            emb = emb + self.label_emb(jnp.where(y < 0, self.num_classes, y))
        elif y is not None:
            raise ValueError("this UNet has no labels (num_classes=0); build it with num_classes=K "
                             "to condition on classes")
        h = self.conv_in(x)
        skips = [h]
        for kind, block, attn in zip(self.down_kinds, self.down, self.down_attn, strict=True):
            h = block(h, emb) if kind == "res" else block(h)
            if attn is not None:
                h = attn(h)
            skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for kind, block, attn in zip(self.up_kinds, self.up, self.up_attn, strict=True):
            if kind == "res":
                h = block(jnp.concatenate([h, skips.pop()], axis=-1), emb)
                if attn is not None:
                    h = attn(h)
            else:
                b, hh, ww, c = h.shape
                h = block(jax.image.resize(h, (b, 2 * hh, 2 * ww, c), method="nearest"))
        return self.conv_out(nnx.silu(self.norm_out(h)))
