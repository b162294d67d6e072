"""Discrete-time noise schedules for Gaussian diffusion.

A schedule holds, for integer timesteps ``t = 0 .. T-1``, the per-step noise ``betas[t]`` and the
cumulative signal level ``alphas_cumprod[t] = prod_{s<=t} (1 - betas[s])``. The forward process is
``x_t = sqrt(alphas_cumprod[t]) * x_0 + sqrt(1 - alphas_cumprod[t]) * eps``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

SCHEDULES = ("linear", "cosine")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NoiseSchedule:
    """Arrays of shape ``[T]`` (float32) indexed by integer timestep."""

    betas: jax.Array
    alphas_cumprod: jax.Array

    @property
    def num_timesteps(self) -> int:
        return int(self.betas.shape[0])

    def alpha_bar(self, t: jax.Array) -> jax.Array:
        """``alphas_cumprod[t]`` with the convention ``alpha_bar(-1) = 1`` (no noise)."""
        return jnp.where(t >= 0, self.alphas_cumprod[jnp.maximum(t, 0)], 1.0)

    def add_noise(self, x0: jax.Array, noise: jax.Array, t: jax.Array) -> jax.Array:
        """Sample ``q(x_t | x_0)``. ``x0, noise: [batch, ...]``, ``t: [batch]`` int."""
        ab = _expand(self.alpha_bar(t), x0.ndim)
        return jnp.sqrt(ab) * x0 + jnp.sqrt(1.0 - ab) * noise


def _expand(v: jax.Array, ndim: int) -> jax.Array:
    return v.reshape(v.shape + (1,) * (ndim - v.ndim))


def make_schedule(name: str = "cosine", num_timesteps: int = 1000) -> NoiseSchedule:
    """Build a schedule by name.

    ``linear``: betas from 1e-4 to 2e-2 (Ho et al. 2020), rescaled so that any ``num_timesteps``
    covers the same noise range. ``cosine``: Nichol & Dhariwal (2021), offset ``s = 0.008``,
    betas clipped at 0.999.

    >>> s = make_schedule("cosine", 100)
    >>> s.num_timesteps, bool(s.alphas_cumprod[0] > 0.99), bool(s.alphas_cumprod[-1] < 1e-3)
    (100, True, True)
    >>> make_schedule("quadratic")
    Traceback (most recent call last):
    ...
    ValueError: unknown noise schedule 'quadratic'; choose one of ('linear', 'cosine')
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown noise schedule {name!r}; choose one of {SCHEDULES}")
    if num_timesteps < 1:
        raise ValueError(f"num_timesteps must be >= 1, got {num_timesteps}")
    if name == "linear":
        scale = 1000.0 / num_timesteps
        betas = np.linspace(scale * 1e-4, scale * 2e-2, num_timesteps, dtype=np.float64)
    else:
        s = 0.008
        steps = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
        f = np.cos((steps + s) / (1 + s) * np.pi / 2) ** 2
        betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
    alphas_cumprod = np.cumprod(1.0 - betas)
    return NoiseSchedule(
        betas=jnp.asarray(betas, jnp.float32), alphas_cumprod=jnp.asarray(alphas_cumprod, jnp.float32)
    )
