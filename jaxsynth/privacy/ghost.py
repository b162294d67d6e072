"""The fast DP-SGD path for models built of dense and convolutional layers: per-example gradient
norms without
per-example gradients ("ghost norms", Goodfellow 2015; Li et al. 2022), then the clipped sum
formed directly from activations and clip-weighted output gradients (book-keeping, Bu et al.
2023).

For a dense layer ``y = a W + b`` and example ``i`` with inputs ``a_i: [T, in]`` and output
gradients ``g_i: [T, out]`` (``T = 1`` for plain vectors), the per-example gradient is
``a_i^T g_i`` with squared Frobenius norm ``sum_{t,s} (a_it . a_is)(g_it . g_is)`` (for ``T = 1``
simply ``|a_i|^2 |g_i|^2``), and the bias gradient is ``sum_t g_it``. The clipped sum is
``sum_i c_i a_i^T g_i`` with ``c_i = mask_i * min(1, C / |grad_i|)``: one contraction per layer,
no ``[batch, parameters]`` array.

A convolution is a dense layer on image patches: its input is unfolded into
``a_i: [T, k_h k_w C_in]`` (``T`` output positions) and the same formulas apply, the kernel
gradient reshaped to ``(k_h, k_w, C_in, C_out)``. Per layer,
the norm uses the ``T x T`` Gram matrices when ``T (in + out) <= in * out`` and otherwise forms
that layer's per-example gradients ``[B, in, out]`` directly (the mixed ghost clipping of Bu et
al. 2022), whichever costs less.

Output gradients come from one backward pass with respect to zero perturbations added to every
layer's output. The path applies when every parameter of the model belongs to an ``nnx.Linear``
or a plain 1-D/2-D ``nnx.Conv`` (no dilation, groups, mask or circular/reflect/causal padding)
that runs once per forward pass; :func:`supports_ghost` tells, and the training step falls back
to the ``vmap`` path otherwise. The per-example loss must depend only on its own
example (true of every objective here, whose batch losses are means over examples).
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn.linear import canonicalize_padding

_RECORDERS: list[_Recorder] = []


class _Recorder:
    def __init__(self, paths: dict[int, tuple], perturb: dict[tuple, jax.Array] | None):
        self.paths, self.perturb = paths, perturb
        self.inputs: dict[tuple, jax.Array] = {}
        self.calls: dict[tuple, int] = {}


class _RecordingLinear(nnx.Linear):
    """``nnx.Linear`` that records its input and adds the recorder's perturbation."""

    def __call__(self, x):
        y = super().__call__(x)
        rec = _RECORDERS[-1]
        path = rec.paths[id(self)]
        rec.calls[path] = rec.calls.get(path, 0) + 1
        rec.inputs[path] = x
        if rec.perturb is not None:
            y = y + rec.perturb[path]
        return y


class _RecordingConv(nnx.Conv):
    """``nnx.Conv`` that records its input as patches ``[B, *out_spatial, in]`` and adds the
    recorder's perturbation to its output."""

    def __call__(self, x):
        y = super().__call__(x)
        rec = _RECORDERS[-1]
        path = rec.paths[id(self)]
        rec.calls[path] = rec.calls.get(path, 0) + 1
        n = len(self.kernel_size)
        strides = (self.strides,) * n if isinstance(self.strides, int) else tuple(self.strides or (1,) * n)
        rec.inputs[path] = _patches(x, tuple(self.kernel_size), strides,
                                    canonicalize_padding(self.padding, n))
        if rec.perturb is not None:
            y = y + rec.perturb[path]
        return y


def _patches(x: jax.Array, window: tuple[int, ...], strides: tuple[int, ...], padding) -> jax.Array:
    """``[B, *out_spatial, prod(window) * C]``: each output position's input window, ordered
    (window..., channel) like a flattened ``(*window, C_in, C_out)`` kernel. Strided slices of
    the padded input, one per window offset (no identity convolution: that costs
    ``(prod(window) C)^2`` per position)."""
    n = len(window)
    if isinstance(padding, str):
        pads = jax.lax.padtype_to_pads(x.shape[1:1 + n], window, strides, padding)
    else:
        pads = [tuple(p) for p in padding]
    x = jnp.pad(x, [(0, 0), *pads, (0, 0)])
    out = [(x.shape[1 + d] - window[d]) // strides[d] + 1 for d in range(n)]
    pieces = []
    for offset in itertools.product(*(range(k) for k in window)):
        index = tuple(slice(o, o + s * (m - 1) + 1, s) for o, s, m in zip(offset, strides, out,
                                                                           strict=True))
        pieces.append(x[(slice(None), *index, slice(None))])
    p = jnp.stack(pieces, axis=-2)
    return p.reshape(p.shape[:-2] + (-1,))


def _plain_conv(node) -> bool:
    def ones(v):
        return v is None or v == 1 or (not isinstance(v, int) and all(int(d) == 1 for d in v))

    if type(node) is not nnx.Conv:
        return False
    pad = node.padding
    return (len(node.kernel_size) in (1, 2) and node.mask is None
            and node.feature_group_count == 1 and ones(node.input_dilation)
            and ones(node.kernel_dilation)
            and not (isinstance(pad, str) and pad.upper() in ("CIRCULAR", "REFLECT", "CAUSAL")))


def _linear_paths(model: nnx.Module) -> dict[tuple, nnx.Module]:
    return {path: node for path, node in nnx.iter_graph(model)
            if type(node) is nnx.Linear or _plain_conv(node)}


def supports_ghost(model: nnx.Module) -> bool:
    """True when every ``nnx.Param`` of ``model`` is the kernel or bias of an ``nnx.Linear`` or
    of a plain ``nnx.Conv`` (see the module docstring)."""
    linears = set(_linear_paths(model))
    params = [path for path, node in nnx.iter_graph(model) if isinstance(node, nnx.Param)]
    return bool(params) and all(p[:-1] in linears and p[-1] in ("kernel", "bias") for p in params)


def _node(tree: Any, path: tuple):
    for key in path:
        tree = tree[key]
    return tree


def _set(tree: dict, path: tuple, value: Any) -> None:
    _node(tree, path[:-1])[path[-1]] = value


def ghost_clipped_grad_sum(
    graphdef: nnx.GraphDef,
    params: nnx.State,
    model_state: nnx.State,
    batch_loss,
    batch: Any,
    mask: jax.Array,
    key: jax.Array,
    *,
    l2_clip_norm: float,
    per_layer: bool = False,
) -> tuple[nnx.State, dict[str, jax.Array]]:
    """``sum_i mask_i * clip(grad_i)`` for a dense/convolutional model, as
    :func:`clipped_grad_sum` gives.

    ``batch_loss(model, batch, key) -> (mean loss over the batch, metrics)``; ``mask: [B]``.
    ``per_layer`` clips each parameter array to ``l2_clip_norm / sqrt(number of arrays)``.
    Raises ``ValueError`` if a dense layer runs more than once in a forward pass.
    """
    size = mask.shape[0]

    def run(perturb):
        model = nnx.merge(graphdef, params, model_state)
        linears = _linear_paths(model)
        for node in linears.values():
            node.__class__ = _RecordingLinear if type(node) is nnx.Linear else _RecordingConv
        rec = _Recorder({id(n): p for p, n in linears.items()}, perturb)
        _RECORDERS.append(rec)
        try:
            loss, metrics = batch_loss(model, batch, key)
        finally:
            _RECORDERS.pop()
        shared = [p for p, n in rec.calls.items() if n > 1]
        if shared:
            raise ValueError(f"dense layer(s) {shared} run more than once per forward pass; "
                             "the ghost-norm path needs each layer once (use the vmap path)")
        # The batch loss is a mean: scale to a sum so output grads are per-example grads.
        return loss * size, (rec.inputs, loss, metrics)

    shapes = jax.eval_shape(lambda: run(None)[1][0])
    zeros = {p: jnp.zeros(a.shape[:-1] + (_out_features(params, p),), a.dtype)
             for p, a in shapes.items()}
    out_grads, (inputs, loss, metrics) = jax.grad(run, has_aux=True)(zeros)

    # Squared per-example norms of each parameter array: {(path, "kernel"|"bias"): [B]}.
    sq = {}
    flat = {}
    for path, a in inputs.items():
        g = out_grads[path]
        a2, g2 = a.reshape(size, -1, a.shape[-1]), g.reshape(size, -1, g.shape[-1])
        t, d_in, d_out = a2.shape[1], a2.shape[2], g2.shape[2]
        if t == 1:
            sq[path, "kernel"] = jnp.sum(a2[:, 0] ** 2, -1) * jnp.sum(g2[:, 0] ** 2, -1)
        elif t * (d_in + d_out) > d_in * d_out:  # this layer's per-example gradients are smaller
            sq[path, "kernel"] = jnp.sum(jnp.einsum("bti,bto->bio", a2, g2) ** 2, axis=(1, 2))
        else:
            sq[path, "kernel"] = jnp.einsum("bts,bts->b", jnp.einsum("bti,bsi->bts", a2, a2),
                                            jnp.einsum("bto,bso->bts", g2, g2))
        if _has_bias(params, path):
            sq[path, "bias"] = jnp.sum(jnp.sum(g2, axis=1) ** 2, -1)
        flat[path] = (a2, g2)
    norms = jnp.sqrt(sum(sq.values()))
    if per_layer:
        bound = l2_clip_norm / jnp.sqrt(float(len(sq)))
        weights = {k: mask * jnp.minimum(1.0, bound / jnp.maximum(jnp.sqrt(v), 1e-12))
                   for k, v in sq.items()}
    else:
        w = mask * jnp.minimum(1.0, l2_clip_norm / jnp.maximum(norms, 1e-12))
        weights = dict.fromkeys(sq, w)

    grads = jax.tree.map(jnp.zeros_like, params.to_pure_dict())
    for path, (a2, g2) in flat.items():
        kernel = jnp.einsum("b,bti,bto->io", weights[path, "kernel"], a2, g2)
        _set(grads, path + ("kernel",), kernel.reshape(_node(params, path)["kernel"].shape))
        if _has_bias(params, path):
            _set(grads, path + ("bias",), jnp.einsum("b,bto->o", weights[path, "bias"], g2))
    out = jax.tree.map(lambda x: x, params)
    nnx.replace_by_pure_dict(out, grads)
    real = jnp.maximum(mask.sum(), 1.0)
    return out, {
        "loss": loss,
        "clip_fraction": jnp.sum((norms > l2_clip_norm) * mask) / real,
        "grad_norm_mean": jnp.sum(norms * mask) / real,
    }


def _has_bias(params: nnx.State, path: tuple) -> bool:
    return "bias" in _node(params, path)


def _out_features(params: nnx.State, path: tuple) -> int:
    return int(_node(params, path)["kernel"].shape[-1])
