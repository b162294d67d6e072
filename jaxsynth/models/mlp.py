"""A multilayer perceptron: dense layers with ReLU between them (the tabular-sized network)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx


class MLP(nnx.Module):
    """``x: [..., sizes[0]] -> [..., sizes[-1]]``; ReLU after every layer but the last.

    Every parameter belongs to an ``nnx.Linear``, so DP-SGD takes its fast (ghost-norm) path.

    >>> import jax.numpy as jnp
    >>> MLP((4, 8, 2), rngs=nnx.Rngs(0))(jnp.ones((3, 4))).shape
    (3, 2)
    """

    def __init__(self, sizes: Sequence[int], *, use_bias: bool = True, rngs: nnx.Rngs):
        if len(sizes) < 2:
            raise ValueError(f"MLP sizes need an input and an output width, got {tuple(sizes)}")
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = nnx.List([nnx.Linear(a, b, use_bias=use_bias, rngs=rngs) for a, b in pairs])

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = nnx.relu(layer(x))
        return self.layers[-1](x)
