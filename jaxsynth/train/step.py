"""The jitted, sharded training step. It knows objectives only through ``objective.loss(model,
batch, rng) -> (loss, metrics)`` and models only through ``nnx.merge``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import Mesh

from jaxsynth.data.pipeline import MASK_KEY
from jaxsynth.privacy import DPSGD
from jaxsynth.privacy.ghost import ghost_clipped_grad_sum, supports_ghost
from jaxsynth.train import rng as rng_lib
from jaxsynth.train.sharding import data_sharded, replicated
from jaxsynth.train.state import TrainState


def ema_decay_at(step: jax.Array, decay: float) -> jax.Array:
    """EMA decay with warm-up, ``min(decay, (1 + step) / (10 + step))``, so early averages are
    not dominated by the random initialisation."""
    step = jnp.asarray(step, jnp.float32)
    return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def make_train_step(
    graphdef: nnx.GraphDef,
    objective: Any,
    optimizer: optax.GradientTransformation,
    *,
    mesh: Mesh,
    root_key: jax.Array,
    ema_decay: float = 0.999,
    privacy: DPSGD | None = None,
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """Build ``step(state, batch) -> (state, metrics)``, jitted over ``mesh``: the donated,
    sharded ``jit`` of :func:`make_update`.
    """
    step = make_update(graphdef, objective, optimizer, root_key=root_key, ema_decay=ema_decay,
                       privacy=privacy)
    return jax.jit(
        step,
        in_shardings=(replicated(mesh), data_sharded(mesh)),
        out_shardings=(replicated(mesh), replicated(mesh)),
        donate_argnums=(0,),
    )


def make_update(
    graphdef: nnx.GraphDef,
    objective: Any,
    optimizer: optax.GradientTransformation,
    *,
    root_key: jax.Array,
    ema_decay: float = 0.999,
    privacy: DPSGD | None = None,
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """The pure update ``(state, batch) -> (state, metrics)``, to jit or to ``lax.scan`` over.

    The batch is sharded on the ``data`` axis, the state replicated and donated. A step whose loss
    or gradients are not finite leaves the state unchanged and reports ``metrics["nonfinite"] = 1``
    so the loop can stop with the last good state intact. Non-parameter variables the loss
    writes (an EMA codebook, running statistics) become the new ``model_state``; the private
    paths keep ``model_state`` fixed (an :class:`Experiment` refuses such objectives under DP).

    With ``privacy`` the gradient is DP-SGD's (per-example clipped, noised, divided by the expected
    batch size); the batch must then carry ``batch[MASK_KEY]: [B]`` marking real rows (Poisson
    batches padded to a fixed shape, see :class:`jaxsynth.data.PoissonBatchIterator`).
    """

    def loss_fn(params, model_state, batch, key):
        model = nnx.merge(graphdef, params, model_state)
        return objective.loss(model, batch, key)

    def loss_and_state(params, model_state, batch, key):
        # The loss may update non-parameter variables (an EMA codebook, running statistics):
        # their new values leave through the auxiliary output.
        model = nnx.merge(graphdef, params, model_state, copy=True)  # fresh variables: writable here
        loss, metrics = objective.loss(model, batch, key)
        return loss, (metrics, nnx.state(model, nnx.Not(nnx.Param)))

    def gradients(state: TrainState, batch):
        key = rng_lib.stream(root_key, state.step, "noise")
        if privacy is None:
            (loss, (metrics, model_state)), grads = jax.value_and_grad(
                loss_and_state, has_aux=True)(state.params, state.model_state, batch, key)
            return loss, metrics, grads, model_state
        data, mask = {k: v for k, v in batch.items() if k != MASK_KEY}, batch[MASK_KEY]
        dp_key = rng_lib.stream(root_key, state.step, "dp")
        # Chosen while tracing: the fast path when every layer supports it, else vmap.
        if privacy.fast_path and supports_ghost(nnx.merge(graphdef, state.params,
                                                          state.model_state)):
            total, metrics = ghost_clipped_grad_sum(
                graphdef, state.params, state.model_state, objective.loss, data, mask, key,
                l2_clip_norm=privacy.l2_clip_norm, per_layer=privacy.per_layer,
            )
            grads = privacy.noisy_mean(total, dp_key)
            metrics = {**metrics, "batch_size_realised": mask.sum()}
            return metrics["loss"], metrics, grads, state.model_state

        def example_loss(params, example, k):
            one = jax.tree.map(lambda x: x[None], example)
            return loss_fn(params, state.model_state, one, k)

        grads, metrics = privacy.private_grad(example_loss, state.params, data, mask, key, dp_key)
        return metrics["loss"], metrics, grads, state.model_state

    def step(state: TrainState, batch):
        loss, metrics, grads, model_state = gradients(state, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        d = ema_decay_at(state.step, ema_decay)
        ema = jax.tree.map(lambda e, p: d * e + (1.0 - d) * p, state.ema_params, params)
        grad_norm = optax.global_norm(grads)
        finite = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
        new = state.replace(step=state.step + 1, params=params, ema_params=ema, opt_state=opt_state,
                            model_state=model_state)
        new = jax.lax.cond(finite, lambda: new, lambda: state)
        metrics = {**metrics, "grad_norm": grad_norm,
                   "nonfinite": jnp.logical_not(finite).astype(jnp.int32)}
        return new, metrics

    return step
