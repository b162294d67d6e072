"""Per-example gradient clipping by ``jax.vmap(jax.grad(...))`` over the batch.

Guarantee: every example's gradient enters the sum with L2 norm at most ``l2_clip_norm`` (over all
parameters together: "flat" clipping), and an example whose mask is 0 enters with weight 0. So the
sum has L2 sensitivity ``l2_clip_norm`` to adding or removing one example, which is what the
Gaussian mechanism in :mod:`jaxsynth.privacy.dpsgd` is calibrated to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

# loss_fn(params, example, key) -> (scalar loss, metrics dict); ``example`` has no batch axis.
ExampleLoss = Callable[[Any, Any, jax.Array], tuple[jax.Array, dict[str, jax.Array]]]


def clip_to_norm(tree: Any, l2_clip_norm: float) -> tuple[Any, jax.Array]:
    """Scale ``tree`` so its global L2 norm is at most ``l2_clip_norm``; returns (tree, norm).

    >>> clipped, norm = clip_to_norm({"w": jnp.array([3.0, 4.0])}, 1.0)
    >>> float(norm), [round(float(v), 3) for v in clipped["w"]]
    (5.0, [0.6, 0.8])
    """
    norm = optax.global_norm(tree)
    scale = jnp.minimum(1.0, l2_clip_norm / jnp.maximum(norm, 1e-12))
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), tree), norm


def clip_per_parameter(tree: Any, l2_clip_norm: float) -> tuple[Any, jax.Array]:
    """Per-layer clipping: each of the ``J`` parameter arrays is clipped to ``C / sqrt(J)``, so
    the whole gradient still has norm at most ``C`` (same sensitivity, same accounting).
    Returns (tree, global norm before clipping).

    >>> clipped, norm = clip_per_parameter({"a": jnp.array([3.0, 4.0]), "b": jnp.array([0.1])}, 2.0)
    >>> round(float(optax.global_norm({"a": clipped["a"]})), 4), round(float(clipped["b"][0]), 4)
    (1.4142, 0.1)
    """
    leaves, treedef = jax.tree.flatten(tree)
    bound = l2_clip_norm / jnp.sqrt(float(len(leaves)))
    out = []
    for g in leaves:
        norm = jnp.sqrt(jnp.sum(g.astype(jnp.float32) ** 2))
        out.append(g * jnp.minimum(1.0, bound / jnp.maximum(norm, 1e-12)).astype(g.dtype))
    return jax.tree.unflatten(treedef, out), optax.global_norm(tree)


def clipped_grad_sum(
    loss_fn: ExampleLoss,
    params: Any,
    batch: Any,
    mask: jax.Array,
    keys: jax.Array,
    *,
    l2_clip_norm: float,
    microbatch_size: int | None = None,
    per_layer: bool = False,
) -> tuple[Any, dict[str, jax.Array]]:
    """``sum_i mask_i * clip(grad loss_fn(params, batch[i], keys[i]))`` over the batch.

    ``batch``: pytree of ``[B, ...]`` arrays; ``mask``: ``[B]`` of 0/1; ``keys``: ``[B]`` keys.
    ``microbatch_size`` (dividing ``B``) bounds memory: per-example gradients are materialised
    for one chunk at a time inside a ``lax.scan``. ``per_layer`` clips each parameter array to
    ``l2_clip_norm / sqrt(number of arrays)`` (:func:`clip_per_parameter`). Returns the summed
    clipped gradients and ``{"loss": masked mean loss, "clip_fraction": share of real examples
    whose whole gradient exceeded the bound, "grad_norm_mean": mean per-example norm before
    clipping}``.
    """
    grad_fn = jax.grad(loss_fn, has_aux=True)

    def one(example, key):
        g, metrics = grad_fn(params, example, key)
        clip = clip_per_parameter if per_layer else clip_to_norm
        g, norm = clip(g, l2_clip_norm)
        return g, norm, metrics["loss"]

    def chunk(args):
        ex, m, k = args
        g, norms, losses = jax.vmap(one)(ex, k)
        g = jax.tree.map(lambda x: jnp.tensordot(m.astype(x.dtype), x, axes=1), g)
        return g, norms, losses

    size = mask.shape[0]
    if microbatch_size is None or microbatch_size >= size:
        total, norms, losses = chunk((batch, mask, keys))
    else:
        if size % microbatch_size:
            raise ValueError(
                f"privacy.microbatch_size={microbatch_size} must divide the padded batch of {size}"
            )
        n = size // microbatch_size
        split = jax.tree.map(lambda x: x.reshape((n, microbatch_size) + x.shape[1:]),
                             (batch, mask, keys))
        zeros = jax.tree.map(jnp.zeros_like, params)

        def body(acc, args):
            g, norms, losses = chunk(args)
            return jax.tree.map(jnp.add, acc, g), (norms, losses)

        total, (norms, losses) = jax.lax.scan(body, zeros, split)
        norms, losses = norms.reshape(-1), losses.reshape(-1)
    real = jnp.maximum(mask.sum(), 1.0)
    metrics = {
        "loss": jnp.sum(losses * mask) / real,
        "clip_fraction": jnp.sum((norms > l2_clip_norm) * mask) / real,
        "grad_norm_mean": jnp.sum(norms * mask) / real,
    }
    return total, metrics
