"""A small convolutional classifier whose penultimate layer serves as the feature space of the
image metrics (:mod:`jaxsynth.eval.images`)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


def _groups(channels: int) -> int:
    g = min(8, max(channels // 4, 1))
    while channels % g:
        g -= 1
    return g


class ConvClassifier(nnx.Module):
    """Images ``[batch, H, W, C]`` in ``[0, 1]`` -> logits ``[batch, num_classes]``.

    Each level is a 3x3 convolution, GroupNorm and SiLU, then a stride-2 convolution; global
    average pooling and a dense layer give the ``feature_dim`` features (:meth:`features`), and
    a last dense layer the logits. Pixels are mapped to ``[-1, 1]`` inside.
    """

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (32, 64),
                 feature_dim: int = 64, num_classes: int = 10, rngs: nnx.Rngs):
        height, width, in_ch = (int(v) for v in image_shape)
        self.image_shape = (height, width, in_ch)
        convs, norms, downs, ch = [], [], [], in_ch
        for out in channels:
            convs.append(nnx.Conv(ch, out, (3, 3), padding="SAME", rngs=rngs))
            norms.append(nnx.GroupNorm(out, num_groups=_groups(out), rngs=rngs))
            downs.append(nnx.Conv(out, out, (3, 3), strides=2, padding="SAME", rngs=rngs))
            ch = out
        self.convs, self.norms, self.downs = nnx.List(convs), nnx.List(norms), nnx.List(downs)
        self.feature = nnx.Linear(ch, feature_dim, rngs=rngs)
        self.head = nnx.Linear(feature_dim, num_classes, rngs=rngs)

    def features(self, x: jax.Array) -> jax.Array:
        """``[batch, feature_dim]`` penultimate activations."""
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"classifier built for images of shape {self.image_shape}, got a "
                             f"batch of shape {tuple(x.shape)}")
        h = 2.0 * x - 1.0
        for conv, norm, down in zip(self.convs, self.norms, self.downs, strict=True):
            h = nnx.silu(down(nnx.silu(norm(conv(h)))))
        return nnx.silu(self.feature(jnp.mean(h, axis=(1, 2))))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(self.features(x))
