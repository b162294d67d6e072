"""Diffusion samplers written as ``lax.scan`` loops, plus a step-by-step Python driver.

Every sampler is a *step function* ``x_t -> x_{t_prev}`` applied along a decreasing list of
timesteps. :func:`sample` runs the steps inside one ``lax.scan`` (one compiled program, no host
round-trips); :func:`sample_stepwise` drives the very same step from Python, one jitted call per
step, and exists as a reference and for benchmarks.

``model_fn(x_t, t) -> output`` takes ``x_t: [batch, ...]`` and integer ``t: [batch]`` and returns a
prediction of the same shape as ``x_t``: the noise ``eps`` (``prediction="epsilon"``) or the
velocity ``v = sqrt(ab) * eps - sqrt(1 - ab) * x0`` (``prediction="v"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth.diffusion.schedules import NoiseSchedule, _expand

SAMPLERS = ("ddpm", "ddim", "dpmpp_2m")
PREDICTIONS = ("epsilon", "v")
ModelFn = Callable[[jax.Array, jax.Array], jax.Array]


def model_predictions(
    model_out: jax.Array,
    x_t: jax.Array,
    t: jax.Array,
    schedule: NoiseSchedule,
    prediction: str = "epsilon",
    clip_denoised: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Turn a model output into ``(eps, x0)`` estimates at timestep ``t: [batch]``.

    With ``clip_denoised`` the ``x0`` estimate is clipped to ``[-1, 1]`` (the data range of images
    scaled for diffusion) and ``eps`` recomputed from it so both stay consistent with ``x_t``.
    """
    ab = _expand(schedule.alpha_bar(t), x_t.ndim)
    sqrt_ab, sqrt_1m_ab = jnp.sqrt(ab), jnp.sqrt(1.0 - ab)
    if prediction == "epsilon":
        eps = model_out
        x0 = (x_t - sqrt_1m_ab * eps) / sqrt_ab
    elif prediction == "v":
        x0 = sqrt_ab * x_t - sqrt_1m_ab * model_out
        eps = sqrt_ab * model_out + sqrt_1m_ab * x_t
    else:
        raise ValueError(f"unknown prediction {prediction!r}; choose one of {PREDICTIONS}")
    if clip_denoised:
        x0 = jnp.clip(x0, -1.0, 1.0)
        eps = (x_t - sqrt_ab * x0) / sqrt_1m_ab
    return eps, x0


def ddpm_step(model_fn, schedule, x, t, t_prev, key, *, prediction, clip_denoised, eta=1.0):
    """Ancestral step of Ho et al. (2020): sample the posterior ``q(x_{t-1} | x_t, x0_hat)``.

    The variance is the posterior one, ``beta_t (1 - ab_{t-1}) / (1 - ab_t)``. ``t_prev`` and
    ``eta`` are accepted for a uniform step signature; DDPM always steps to ``t - 1``.
    """
    del t_prev, eta
    tb = jnp.full((x.shape[0],), t, jnp.int32)
    _, x0 = model_predictions(model_fn(x, tb), x, tb, schedule, prediction, clip_denoised)
    ab_t, ab_prev = schedule.alpha_bar(t), schedule.alpha_bar(t - 1)
    beta = schedule.betas[t]
    coef_x0 = beta * jnp.sqrt(ab_prev) / (1.0 - ab_t)
    coef_xt = (1.0 - ab_prev) * jnp.sqrt(1.0 - beta) / (1.0 - ab_t)
    var = beta * (1.0 - ab_prev) / (1.0 - ab_t)
    noise = jax.random.normal(key, x.shape, x.dtype)
    return coef_x0 * x0 + coef_xt * x + jnp.sqrt(var) * noise


def ddim_step(model_fn, schedule, x, t, t_prev, key, *, prediction, clip_denoised, eta=0.0):
    """Song et al. (2021) step from ``t`` to ``t_prev`` (``-1`` means the clean data).

    ``eta = 0`` is the deterministic ODE-like sampler; ``eta = 1`` with every timestep has the
    DDPM posterior variance.
    """
    tb = jnp.full((x.shape[0],), t, jnp.int32)
    eps, x0 = model_predictions(model_fn(x, tb), x, tb, schedule, prediction, clip_denoised)
    ab_t, ab_prev = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    sigma = eta * jnp.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * jnp.sqrt(1.0 - ab_t / ab_prev)
    direction = jnp.sqrt(jnp.maximum(1.0 - ab_prev - sigma**2, 0.0)) * eps
    noise = jax.random.normal(key, x.shape, x.dtype)
    return jnp.sqrt(ab_prev) * x0 + direction + sigma * noise


def _half_log_snr(ab: jax.Array) -> jax.Array:
    """``lambda = log(alpha / sigma) = 1/2 log(ab / (1 - ab))``."""
    return 0.5 * (jnp.log(ab) - jnp.log1p(-ab))


def dpmpp_2m_step(model_fn, schedule, carry, t, t_prev, key, *, prediction, clip_denoised, eta=0.0):
    """One step of DPM-Solver++(2M) (Lu et al. 2022, multistep, second order, data prediction).

    ``carry = (x_t, x0_prev, h_prev, first)``: the previous step's ``x0`` estimate and log-SNR
    step ``h`` make the second-order correction ``D = x0 + (x0 - x0_prev) / (2r)`` with
    ``r = h_prev / h``; the first step, and the last (to clean data, where ``lambda`` is
    infinite), are first order. Then, with ``g = eta * h``,
    ``x_s = (sigma_s / sigma_t) e^{-g} x_t + alpha_s (1 - e^{-h - g}) D
    + sigma_s sqrt(1 - e^{-2g}) z``: ``eta = 0`` is the ODE solver, ``eta = 1`` the SDE variant
    (SDE-DPM-Solver++(2M), midpoint form), which injects fresh noise each step.
    """
    x, x0_prev, h_prev, first = carry
    tb = jnp.full((x.shape[0],), t, jnp.int32)
    _, x0 = model_predictions(model_fn(x, tb), x, tb, schedule, prediction, clip_denoised)
    final = t_prev < 0
    ab_t = schedule.alpha_bar(t)
    ab_s = jnp.where(final, 0.5, schedule.alpha_bar(t_prev))  # any finite value; unused if final
    h = _half_log_snr(ab_s) - _half_log_snr(ab_t)
    r = h_prev / jnp.where(h == 0, 1.0, h)
    corrected = x0 + (0.5 / r) * (x0 - x0_prev)
    d = jnp.where(first | final | (r <= 0), x0, corrected)
    g = eta * h
    x_s = (jnp.sqrt((1.0 - ab_s) / (1.0 - ab_t)) * jnp.exp(-g) * x
           - jnp.sqrt(ab_s) * jnp.expm1(-h - g) * d)
    if eta:
        noise = jax.random.normal(key, x.shape, x.dtype)
        x_s = x_s + jnp.sqrt(1.0 - ab_s) * jnp.sqrt(-jnp.expm1(-2.0 * g)) * noise
    x_s = jnp.where(final, x0, x_s)
    return x_s, x0, h, jnp.zeros_like(first)


_STEPS = {"ddpm": ddpm_step, "ddim": ddim_step}
# One jitted step per sampler, shared by every sample_stepwise call (keyed on model_fn identity).
_JITTED_STEPS = {
    name: jax.jit(fn, static_argnums=(0,), static_argnames=("prediction", "clip_denoised"))
    for name, fn in _STEPS.items()
}


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
    """Evenly spaced, strictly decreasing timesteps from ``T - 1`` down to ``0``.

    >>> ddim_timesteps(1000, 5).tolist()
    [999, 749, 500, 250, 0]
    """
    if not 1 <= steps <= num_timesteps:
        raise ValueError(f"steps must be in [1, {num_timesteps}] for this schedule, got {steps}")
    ts = np.unique(np.round(np.linspace(0, num_timesteps - 1, steps)).astype(np.int32))
    return ts[::-1].copy()


def logsnr_timesteps(schedule: NoiseSchedule, steps: int, *, lambda_min: float = -5.1) -> np.ndarray:
    """``steps`` strictly decreasing timesteps from ``T - 1`` to ``0``, evenly spaced in
    log-SNR ``lambda = 1/2 log(ab / (1 - ab))`` between ``lambda(0)`` and
    ``max(lambda(T - 1), lambda_min)`` (the cosine schedule's last steps reach -10 and below,
    which would crowd the grid there), then the first step moved to ``T - 1``. Rounded to the
    nearest timestep; where several round to one, the noisier ones move up one by one so all
    are distinct. The grid
    DPM-Solver wants: on a Gaussian test it made DPM-Solver++(2M) at 10 steps 10x closer to
    the ODE solution than on an evenly spaced grid.

    >>> from jaxsynth.diffusion import make_schedule
    >>> logsnr_timesteps(make_schedule("cosine", 1000), 5).tolist()
    [999, 950, 504, 44, 0]
    """
    T = schedule.num_timesteps
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in [1, {T}] for this schedule, got {steps}")
    ab = np.clip(np.asarray(schedule.alphas_cumprod, np.float64), 1e-12, 1 - 1e-12)
    lam = 0.5 * (np.log(ab) - np.log1p(-ab))  # decreasing in t
    targets = np.linspace(lam[0], max(lam[-1], lambda_min), steps)
    ts = np.searchsorted(-lam, -targets)  # first t with lam[t] <= target
    ts = np.clip(ts, 0, T - 1)
    prev_better = (ts > 0) & (np.abs(lam[np.maximum(ts - 1, 0)] - targets) < np.abs(lam[ts] - targets))
    ts = np.where(prev_better, ts - 1, ts)
    ts[0], ts[-1] = 0, T - 1
    for i in range(1, steps):  # ascending: make strictly increasing
        ts[i] = max(ts[i], ts[i - 1] + 1)
    return ts[::-1].astype(np.int32).copy()


def _plan(schedule: NoiseSchedule, sampler: str, steps: int | None):
    """Timesteps ``ts`` and their successors ``t_prevs`` (``-1`` after the last one)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    T = schedule.num_timesteps
    if sampler == "ddpm":
        if steps not in (None, T):
            raise ValueError(
                f"the ddpm sampler uses every one of the {T} timesteps (got steps={steps}); "
                "use --sampler ddim for fewer steps"
            )
        ts = np.arange(T - 1, -1, -1, dtype=np.int32)
    elif sampler == "dpmpp_2m":
        ts = logsnr_timesteps(schedule, T if steps is None else steps)
    else:
        ts = ddim_timesteps(T, T if steps is None else steps)
    t_prevs = np.append(ts[1:], -1).astype(np.int32)
    return ts, t_prevs


def sample(
    model_fn: ModelFn,
    schedule: NoiseSchedule,
    shape: tuple[int, ...],
    key: jax.Array,
    *,
    sampler: str = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    prediction: str = "epsilon",
    clip_denoised: bool = True,
) -> jax.Array:
    """Draw ``shape = (batch, ...)`` samples with one ``lax.scan`` over the sampler's steps.

    Pure and traceable: call it inside ``jax.jit`` with the model's parameters as jit arguments
    (closing ``model_fn`` over them), so one compiled program serves every call.

    ``steps`` is the number of model evaluations (``None``: every timestep). Returns ``x_0``
    estimates in the model's data scale (``[-1, 1]`` for images). ``sampler``: ``"ddpm"``
    (ancestral, every timestep), ``"ddim"`` (``eta`` sets its noise) or ``"dpmpp_2m"``
    (DPM-Solver++(2M); good samples in 10-20 steps; deterministic at ``eta = 0``, the SDE
    variant at ``eta = 1``).
    """
    ts, t_prevs = _plan(schedule, sampler, steps)
    if sampler == "dpmpp_2m":
        key_init, key_steps = jax.random.split(key)
        x = jax.random.normal(key_init, shape, jnp.float32)
        step2 = functools.partial(dpmpp_2m_step, model_fn, schedule, prediction=prediction,
                                  clip_denoised=clip_denoised, eta=eta)

        def body2(carry, inputs):
            t, t_prev, k = inputs
            return step2(carry, t, t_prev, k), None

        init = (x, jnp.zeros_like(x), jnp.float32(1.0), jnp.bool_(True))
        keys = jax.random.split(key_steps, len(ts))
        (x, *_), _ = jax.lax.scan(body2, init, (jnp.asarray(ts), jnp.asarray(t_prevs), keys))
        return x
    step = functools.partial(
        _STEPS[sampler], model_fn, schedule, prediction=prediction,
        clip_denoised=clip_denoised, eta=eta,
    )
    key_init, key_steps = jax.random.split(key)
    x = jax.random.normal(key_init, shape, jnp.float32)

    def body(x, inputs):
        t, t_prev, k = inputs
        return step(x, t, t_prev, k), None

    keys = jax.random.split(key_steps, len(ts))
    x, _ = jax.lax.scan(body, x, (jnp.asarray(ts), jnp.asarray(t_prevs), keys))
    return x


def ddpm_sample(model_fn: ModelFn, schedule: NoiseSchedule, shape, key, **kwargs) -> jax.Array:
    """Ancestral DDPM sampling over all ``T`` timesteps (see :func:`sample`)."""
    return sample(model_fn, schedule, tuple(shape), key, sampler="ddpm", **kwargs)


def ddim_sample(model_fn: ModelFn, schedule: NoiseSchedule, shape, key, **kwargs) -> jax.Array:
    """DDIM sampling (see :func:`sample`); ``eta=0`` is deterministic given the initial noise."""
    return sample(model_fn, schedule, tuple(shape), key, sampler="ddim", **kwargs)


def sample_stepwise(
    model_fn: ModelFn,
    schedule: NoiseSchedule,
    shape: tuple[int, ...],
    key: jax.Array,
    *,
    sampler: str = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    prediction: str = "epsilon",
    clip_denoised: bool = True,
) -> jax.Array:
    """The same sampler as :func:`sample`, driven from Python one jitted step at a time.

    Uses the same keys in the same order, so it returns the same samples; it is the reference the
    scanned version is tested against and the baseline it is benchmarked against.
    """
    if sampler not in _STEPS:
        raise ValueError(f"sample_stepwise drives {tuple(_STEPS)}, not {sampler!r}")
    ts, t_prevs = _plan(schedule, sampler, steps)
    step = _JITTED_STEPS[sampler]
    key_init, key_steps = jax.random.split(key)
    x = jax.random.normal(key_init, tuple(shape), jnp.float32)
    keys = jax.random.split(key_steps, len(ts))
    for i in range(len(ts)):
        x = step(model_fn, schedule, x, jnp.int32(ts[i]), jnp.int32(t_prevs[i]), keys[i],
                 prediction=prediction, clip_denoised=clip_denoised, eta=jnp.float32(eta))
    return x
