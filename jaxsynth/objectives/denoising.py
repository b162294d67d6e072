"""The denoising objective: train a network to predict the noise added to data (DDPM).

An objective is data, not a subclass of the training loop: a frozen dataclass of settings with
pure functions. The training core calls ``loss(model, batch, rng)``; ``sample(model, ...)`` draws
new data with a diffusion sampler.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from jaxsynth.diffusion import samplers
from jaxsynth.diffusion.schedules import NoiseSchedule, make_schedule


@dataclasses.dataclass(frozen=True)
class Denoising:
    """Gaussian diffusion with an epsilon- or v-prediction MSE loss.

    Attributes:
      schedule: the noise schedule (``T`` timesteps).
      prediction: ``"epsilon"`` (predict the noise) or ``"v"`` (predict the velocity).
      data_key: the batch entry holding the data, ``[batch, ...]`` scaled to about ``[-1, 1]``.
      clip_denoised: clip ``x0`` estimates to ``[-1, 1]`` while sampling (right for images).
      label_key: the batch entry holding int class labels ``[batch]`` for a class-conditional
        model (``model(x_t, t, y)``); ``None`` trains unconditionally.
      label_dropout: share of labels replaced by ``-1`` ("no label") in training, so one model
        learns both the conditional and the unconditional prediction that classifier-free
        guidance (Ho & Salimans 2022) combines.
    """

    schedule: NoiseSchedule
    prediction: str = "epsilon"
    data_key: str = "image"
    clip_denoised: bool = True
    label_key: str | None = None
    label_dropout: float = 0.1

    def __post_init__(self):
        if self.prediction not in samplers.PREDICTIONS:
            raise ValueError(
                f"objective.prediction={self.prediction!r}; choose one of {samplers.PREDICTIONS}"
            )
        if not 0.0 <= self.label_dropout < 1.0:
            raise ValueError(f"objective.label_dropout={self.label_dropout} must be in [0, 1)")

    def loss(self, model, batch: dict[str, jax.Array], rng: jax.Array):
        """Mean squared error of the model's prediction. Returns ``(loss, metrics)``."""
        x0 = batch[self.data_key]
        k_t, k_noise, k_drop = jax.random.split(rng, 3)
        t = jax.random.randint(k_t, (x0.shape[0],), 0, self.schedule.num_timesteps)
        noise = jax.random.normal(k_noise, x0.shape, x0.dtype)
        x_t = self.schedule.add_noise(x0, noise, t)
        if self.prediction == "epsilon":
            target = noise
        else:
            ab = self.schedule.alpha_bar(t).reshape((-1,) + (1,) * (x0.ndim - 1))
            target = jnp.sqrt(ab) * noise - jnp.sqrt(1.0 - ab) * x0
        if self.label_key is None:
            out = model(x_t, t)
        else:
            y = jnp.asarray(batch[self.label_key], jnp.int32).reshape(x0.shape[0])
            drop = jax.random.uniform(k_drop, y.shape) < self.label_dropout
            out = model(x_t, t, jnp.where(drop, -1, y))
        err = (out - target) ** 2
        loss = jnp.mean(err)
        return loss, {"loss": loss}

    def sample(self, model, shape, key, *, sampler="ddim", steps=None, eta=0.0, labels=None,
               guidance: float = 1.0) -> jax.Array:
        """``shape = (n, ...)`` samples in the data scale; call under ``jax.jit``.

        ``labels: [n]`` int (class-conditional models): classifier-free guidance with the
        prediction ``u + guidance * (c - u)`` from the unconditional ``u`` and conditional ``c``
        outputs (one batched call of size ``2n``): ``guidance=0`` is the unconditional model,
        ``1`` the plain conditional one, larger values follow the label more strictly.
        ``labels=None`` samples unconditionally.
        """
        model_fn = model if labels is None else guided(model, labels, guidance)
        return samplers.sample(
            model_fn, self.schedule, tuple(shape), key, sampler=sampler, steps=steps, eta=eta,
            prediction=self.prediction, clip_denoised=self.clip_denoised,
        )


def guided(model, labels: jax.Array, guidance: float):
    """``model_fn(x, t)`` for classifier-free guidance: ``u + guidance * (c - u)``, ``c`` the
    output for ``labels`` and ``u`` for no label (``-1``), from one batched call."""
    labels = jnp.asarray(labels, jnp.int32)

    def fn(x, t):
        n = x.shape[0]
        out = model(jnp.concatenate([x, x]), jnp.concatenate([t, t]),
                    jnp.concatenate([labels, jnp.full((n,), -1, jnp.int32)]))
        cond, uncond = out[:n], out[n:]
        return uncond + guidance * (cond - uncond)

    return fn


def build_denoising(
    schedule: str = "cosine",
    timesteps: int = 1000,
    prediction: str = "epsilon",
    data_key: str = "image",
    clip_denoised: bool = True,
    label_key: str | None = None,
    label_dropout: float = 0.1,
    **unknown: Any,
) -> Denoising:
    if unknown:
        raise ValueError(
            f"objective 'denoising' has no setting(s) {sorted(unknown)}; known: schedule, "
            "timesteps, prediction, data_key, clip_denoised, label_key, label_dropout"
        )
    return Denoising(
        schedule=make_schedule(schedule, timesteps), prediction=prediction, data_key=data_key,
        clip_denoised=clip_denoised, label_key=label_key or None, label_dropout=label_dropout,
    )
