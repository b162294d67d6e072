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
    """

    schedule: NoiseSchedule
    prediction: str = "epsilon"
    data_key: str = "image"
    clip_denoised: bool = True

    def __post_init__(self):
        if self.prediction not in samplers.PREDICTIONS:
            raise ValueError(
                f"objective.prediction={self.prediction!r}; choose one of {samplers.PREDICTIONS}"
            )

    def loss(self, model, batch: dict[str, jax.Array], rng: jax.Array):
        """Mean squared error of the model's prediction. Returns ``(loss, metrics)``."""
        x0 = batch[self.data_key]
        k_t, k_noise = jax.random.split(rng)
        t = jax.random.randint(k_t, (x0.shape[0],), 0, self.schedule.num_timesteps)
        noise = jax.random.normal(k_noise, x0.shape, x0.dtype)
        x_t = self.schedule.add_noise(x0, noise, t)
        if self.prediction == "epsilon":
            target = noise
        else:
            ab = self.schedule.alpha_bar(t).reshape((-1,) + (1,) * (x0.ndim - 1))
            target = jnp.sqrt(ab) * noise - jnp.sqrt(1.0 - ab) * x0
        err = (model(x_t, t) - target) ** 2
        loss = jnp.mean(err)
        return loss, {"loss": loss}

    def sample(self, model, shape, key, *, sampler="ddim", steps=None, eta=0.0) -> jax.Array:
        """``shape = (n, ...)`` samples in the data scale; call under ``jax.jit``."""
        return samplers.sample(
            model, self.schedule, tuple(shape), key, sampler=sampler, steps=steps, eta=eta,
            prediction=self.prediction, clip_denoised=self.clip_denoised,
        )


def build_denoising(
    schedule: str = "cosine",
    timesteps: int = 1000,
    prediction: str = "epsilon",
    data_key: str = "image",
    clip_denoised: bool = True,
    **unknown: Any,
) -> Denoising:
    if unknown:
        raise ValueError(
            f"objective 'denoising' has no setting(s) {sorted(unknown)}; known: schedule, "
            "timesteps, prediction, data_key, clip_denoised"
        )
    return Denoising(
        schedule=make_schedule(schedule, timesteps), prediction=prediction, data_key=data_key,
        clip_denoised=clip_denoised,
    )
