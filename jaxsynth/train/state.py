"""The training state: plain pytrees of arrays, no modules inside."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx, struct


@struct.dataclass
class TrainState:
    """Everything a step reads and writes.

    ``params``/``ema_params``: the model's ``nnx.Param`` state (and its exponential moving
    average); ``model_state``: every other variable of the model (e.g. batch statistics);
    ``step``: int32 scalar, the number of updates applied so far.
    """

    step: jax.Array
    params: Any
    ema_params: Any
    model_state: Any
    opt_state: optax.OptState


def split_model(model: nnx.Module):
    """``(graphdef, params, model_state)``: the one split of a module into pure pytrees."""
    return nnx.split(model, nnx.Param, ...)


def init_state(params: Any, model_state: Any, optimizer: optax.GradientTransformation) -> TrainState:
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        ema_params=jax.tree.map(jnp.copy, params),
        model_state=model_state,
        opt_state=optimizer.init(params),
    )


def make_optimizer(
    learning_rate: float, *, warmup_steps: int = 0, grad_clip_norm: float | None = 1.0,
    weight_decay: float = 0.0, b1: float = 0.9, b2: float = 0.999,
) -> optax.GradientTransformation:
    """AdamW with linear warm-up, after optional global-norm gradient clipping."""
    if learning_rate <= 0:
        raise ValueError(f"train.learning_rate must be > 0, got {learning_rate}")
    lr = (optax.linear_schedule(0.0, learning_rate, warmup_steps) if warmup_steps > 0
          else learning_rate)
    chain = [optax.clip_by_global_norm(grad_clip_norm)] if grad_clip_norm else []
    chain.append(optax.adamw(lr, b1=b1, b2=b2, weight_decay=weight_decay))
    return optax.chain(*chain)
